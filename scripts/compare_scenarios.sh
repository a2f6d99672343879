#!/usr/bin/env bash
# The byte-identity check: does a change leave the simulator's results alone?
#
#   scripts/compare_scenarios.sh run SIM_BINARY OUT_DIR
#       Runs every shipped scenario (scenarios/*.yaml and
#       scenarios/validation/*.yaml of this checkout, or of $SRC if set) with
#       SIM_BINARY at its own seed into OUT_DIR/NAME, stderr into
#       OUT_DIR/NAME.err. The two v2_* scenarios (steady states run for
#       20000 and 25000 simulated seconds) are cut to stop.max_time=3000s,
#       as in every such check in docs/performance.md, to keep the set
#       short. Exits 1 if a run failed.
#   scripts/compare_scenarios.sh compare REF_DIR NEW_DIR
#       Compares two such folders scenario by scenario: peers.csv,
#       timeline.csv and scenario.yaml byte for byte, summary.json without
#       its `wall_time_s` and `build` lines (the only two that may differ
#       between runs of the same code). Prints `DIFF NAME/FILE` for each
#       difference and then `IDENTICAL (N scenarios)` (exit 0) or
#       `DIFFERENT` (exit 1).
#
# Typical use (docs/contributing.md): build main and your branch, run both
# into two folders, compare. Each run takes the whole set one at a time, a
# few minutes on one core.
set -uo pipefail

usage() {
  sed -n '3,19p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

compare() {
  local ref=$1 new=$2 bad=0 n=0 name f
  [[ -d $ref && -d $new ]] || { echo "compare: no folder '$ref' or '$new'" >&2; exit 2; }
  strip() { grep -v '"wall_time_s"\|"build"' "$1"; }
  for d in "$ref"/*/; do
    name=$(basename "$d")
    n=$((n + 1))
    if [[ ! -d $new/$name ]]; then
      echo "DIFF $name: missing from $new"
      bad=1
      continue
    fi
    for f in peers.csv timeline.csv scenario.yaml; do
      cmp -s "$ref/$name/$f" "$new/$name/$f" || { echo "DIFF $name/$f"; bad=1; }
    done
    if [[ ! -f $ref/$name/summary.json || ! -f $new/$name/summary.json ]] ||
       ! diff -q <(strip "$ref/$name/summary.json") <(strip "$new/$name/summary.json") \
         > /dev/null; then
      echo "DIFF $name/summary.json"
      bad=1
    fi
  done
  ((n > 0)) || { echo "compare: no scenario folders in '$ref'" >&2; exit 2; }
  if ((bad == 0)); then echo "IDENTICAL ($n scenarios)"; else echo "DIFFERENT"; fi
  exit "$bad"
}

run() {
  local sim out failed=0 s name
  sim=$(realpath "$1") || exit 2
  [[ -x $sim ]] || { echo "run: '$1' is not an executable" >&2; exit 2; }
  mkdir -p "$2" && out=$(realpath "$2") || exit 2
  cd "${SRC:-$(dirname "$(realpath "$0")")/..}" || exit 2
  for s in scenarios/*.yaml scenarios/validation/*.yaml; do
    name=$(basename "$s" .yaml)
    local extra=()
    case $name in v2_*) extra=(--set stop.max_time=3000s) ;; esac
    if ! "$sim" run "$s" --quiet --no-memory-check --out "$out/$name" "${extra[@]}" \
         > /dev/null 2> "$out/$name.err"; then
      echo "FAIL $name (see $out/$name.err)"
      failed=1
    fi
  done
  echo "ran into $out"
  exit "$failed"
}

case ${1:-} in
  run) (($# == 3)) || usage; run "$2" "$3" ;;
  compare) (($# == 3)) || usage; compare "$2" "$3" ;;
  *) usage ;;
esac
