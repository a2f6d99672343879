#!/bin/sh
# Scale runs for docs/performance.md: wall time, CPU time, peak RSS and
# events/s of the flash crowd at several sizes. Run from the source root
# after building (build/bin/sim). Each run uses one core.
#   bench/scale.sh [OUTDIR]
set -eu
out=${1:-/tmp/swarmlab-scale}
mkdir -p "$out"
run() {
  tag=$1; shift
  /usr/bin/time -v build/bin/sim run scenarios/flash_crowd.yaml --quiet \
    --out "$out/$tag" "$@" > "$out/$tag.txt" 2>&1
  printf '%-14s ' "$tag"
  grep -E 'events  |User time|Maximum resident' "$out/$tag.txt" | tr -s ' ' | tr '\n' ' '
  echo
}
run fc1k                                       # the main job: 1000 peers, 100 MiB
run fc1k_10MiB  --set file.size=10MiB          # same swarm, 40 pieces
run fc10k_10MiB --set file.size=10MiB --set peers.1.count=10000
run fc10k       --set peers.1.count=10000      # the 10k goal (slow, see doc)
