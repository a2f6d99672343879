#!/usr/bin/env bash
# `swarm run-scenario` on a small scenario: the result folder has the
# simulator's four files, says "mode": "real", every leecher completed, and
# the join <= first piece <= completion order holds for every leecher.
# Also: a scenario too big for one machine is refused with exit code 2.
set -euo pipefail
SWARM=$1
SCENARIO=$2
OUT=$(mktemp -d "${TMPDIR:-/tmp}/swarm_run_scenario.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$SWARM" run-scenario "$SCENARIO" --out "$OUT/r" > "$OUT/stdout" 2> "$OUT/stderr" \
  || { cat "$OUT/stderr"; fail "run-scenario exited with $?"; }
for f in peers.csv timeline.csv summary.json scenario.yaml; do
  [[ -s "$OUT/r/$f" ]] || fail "$f missing"
done
grep -q '"mode": "real"' "$OUT/r/summary.json" || fail "summary.json does not say mode real"
grep -q '"completed": 6' "$OUT/r/summary.json" || { cat "$OUT/r/summary.json"; fail "not 6/6 completed"; }
awk -F, 'NR > 1 && $2 == "leecher" {
  if ($3 == "" || $4 == "" || $5 == "" || !($3 <= $4 && $4 <= $5)) bad = 1
} END { exit bad }' "$OUT/r/peers.csv" || { cat "$OUT/r/peers.csv"; fail "bad leecher times"; }
[[ $(wc -l < "$OUT/r/timeline.csv") -ge 3 ]] || fail "timeline too short"

refused() {  # refused REASON ARGS...: must exit 2 quickly, naming REASON
  local reason=$1
  shift
  set +e
  timeout 20 "$SWARM" run-scenario "$SCENARIO" "$@" --out "$OUT/refused" 2> "$OUT/refused.err"
  local rc=$?
  set -e
  [[ $rc == 2 ]] || { cat "$OUT/refused.err"; fail "$*: exit $rc, want 2"; }
  grep -q "$reason" "$OUT/refused.err" || { cat "$OUT/refused.err"; fail "$*: no '$reason'"; }
}
refused "needs at least" --max-wall 1          # bound 1.5 s > 1 s of wall time
refused "at most 64" --set peers.1.count=100   # more peers than one machine runs
echo PASS
