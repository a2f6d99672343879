#!/usr/bin/env bash
# scripts/compare_scenarios.sh: `compare` tells identical result folders
# (all but summary.json's wall_time_s and build) from different ones, names
# each difference and exits 0 or 1; `run` hands every scenario of $SRC to
# the sim binary (the v2_* ones cut to 3000 s) and reports a failed run.
# Uses made-up folders and a stub sim, so it takes well under a second.
# Usage: compare_scenarios_test.sh SCRIPT
set -euo pipefail
script=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# A result folder of one scenario; $2 is its wall time, $3 its build.
result() {
  mkdir -p "$1"
  printf 'peer,class\n0,seed\n' > "$1/peers.csv"
  printf 'time_s,leechers\n0,1\n' > "$1/timeline.csv"
  printf 'name: x\n' > "$1/scenario.yaml"
  printf '{\n  "seed": 1,\n  "build": "%s",\n  "makespan_s": 9.5,\n  "wall_time_s": %s\n}\n' \
    "$3" "$2" > "$1/summary.json"
}
for side in ref new; do
  result "$work/$side/a" 1.5 abc
  result "$work/$side/b" 2.5 abc
done
result "$work/new/a" 7.25 def-dirty  # another run, another build: still identical

out=$(bash "$script" compare "$work/ref" "$work/new") || fail "identical folders: exit $?: $out"
[[ $out == "IDENTICAL (2 scenarios)" ]] || fail "identical folders: '$out'"

cp -r "$work/new" "$work/new2"
printf '1,leecher\n' >> "$work/new2/b/peers.csv"
sed -i 's/9.5/9.6/' "$work/new2/a/summary.json"
status=0
out=$(bash "$script" compare "$work/ref" "$work/new2") || status=$?
((status == 1)) || fail "different folders: exit $status"
[[ $out == $'DIFF a/summary.json\nDIFF b/peers.csv\nDIFFERENT' ]] ||
  fail "different folders: '$out'"

rm -r "$work/new2/b"
status=0
out=$(bash "$script" compare "$work/ref" "$work/new2") || status=$?
((status == 1)) && [[ $out == *"DIFF b: missing from"* ]] || fail "missing scenario: '$out'"

# `run`: a stub sim that records its arguments and fails for scenario c.
mkdir -p "$work/src/scenarios/validation" "$work/bin"
touch "$work/src/scenarios/c.yaml" "$work/src/scenarios/validation/v2_x.yaml"
cat > "$work/bin/sim" <<EOF
#!/bin/sh
echo "\$@" >> "$work/calls"
case "\$2" in *c.yaml) exit 2 ;; esac
EOF
chmod +x "$work/bin/sim"
status=0
out=$(SRC="$work/src" bash "$script" run "$work/bin/sim" "$work/out") || status=$?
((status == 1)) && [[ $out == *"FAIL c "* ]] || fail "run with a failing scenario: exit $status: '$out'"
grep -qx "run scenarios/c.yaml --quiet --no-memory-check --out $work/out/c" "$work/calls" ||
  fail "run: $(cat "$work/calls")"
grep -qx "run scenarios/validation/v2_x.yaml --quiet --no-memory-check --out $work/out/v2_x --set stop.max_time=3000s" \
  "$work/calls" || fail "run, v2 not cut: $(cat "$work/calls")"

status=0
bash "$script" compare "$work/ref" > /dev/null 2>&1 || status=$?
((status == 2)) || fail "usage: exit $status"
echo "compare_scenarios_test: ok"
