#!/usr/bin/env bash
# The honest heavy case for the gRPC memory quotas (docs/real-network.md):
#
#   many_seeds.sh SWARM_BINARY dialled|dialling [SEEDS]
#
# A tracker, SEEDS (default 50) `swarm share`s of one 64 MiB file, and a
# `swarm get` of it under --download-limit 4MiB/s (16 s at the limit) run
# with GRPC_TRACE=resource_quota (and GRPC_VERBOSITY=debug) under /usr/bin/time -v. "dialled": every
# seed has announced before the get starts, so the get dials them all.
# "dialling": one seed before, the others started once the get runs, so
# they dial the get (it cannot hear of them before its next announce).
# Prints the get's wall time, peak RSS, summary line and how many times
# gRPC reclaimed memory (cancelled streams) in the get. KEEP=1 keeps logs.
set -euo pipefail
SWARM=$(realpath "$1")
MODE=$2
SEEDS=${3:-50}
source "$(dirname "$(realpath "$0")")/bench_lib.sh"
bench_workdir many_seeds
seed() {
  "$SWARM" share file.bin --tracker "$TRACKER" --listen 127.0.0.1:0 > "seed$1.out" 2> "seed$1.err" &
  PIDS+=($!)
}
seeds_listed() {
  for _ in $(seq 600); do
    "$SWARM" list --tracker "$TRACKER" 2>/dev/null | grep -q "file.bin .* $1 " && return
    sleep 0.2
  done
  echo "the tracker never listed $1 seeds" >&2
  exit 1
}

cd "$WORK"
head -c $((64 * 1024 * 1024)) /dev/urandom > file.bin
"$SWARM" tracker --listen 127.0.0.1:0 > tracker.out 2> tracker.err &
PIDS+=($!)
TRACKER=127.0.0.1:$(port_of tracker.out 600)
BEFORE=1
[[ "$MODE" == dialled ]] && BEFORE=$SEEDS
for i in $(seq "$BEFORE"); do seed "$i"; done
seeds_listed "$BEFORE"
GRPC_TRACE=resource_quota GRPC_VERBOSITY=debug /usr/bin/time -v "$SWARM" get file.bin --tracker "$TRACKER" \
  --out dl --listen 127.0.0.1:0 --download-limit 4MiB/s > get.out 2> get.err &
GET=$!
if [[ "$MODE" != dialled ]]; then
  for i in $(seq $((BEFORE + 1)) "$SEEDS"); do seed "$i"; done
fi
GET_RC=0
wait "$GET" || GET_RC=$?
cmp -s file.bin dl/file.bin && GOT="complete, identical" || GOT="FAILED (exit $GET_RC)"
PEAK=$(awk -F': ' '/Maximum resident set size/ { print $2 }' get.err)
WALL=$(awk -F'): ' '/Elapsed \(wall clock\)/ { print $2 }' get.err)
printf '%s: %s in %s, peak RSS %.1f MiB\n' "$MODE" "$GOT" "$WALL" "$(echo "$PEAK / 1024" | bc -l)"
tr '\r' '\n' < get.out | grep '^summary' || true
echo "streams abandoned by gRPC: $(grep -c "abandon" get.err || true), reclaim lines: $(grep -ci "reclaim" get.err || true)"
