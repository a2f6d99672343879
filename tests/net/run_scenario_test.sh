#!/usr/bin/env bash
# `swarm run-scenario` on a small scenario: the result folder has the
# simulator's four files, says "mode": "real", every leecher completed, and
# the join <= first piece <= completion order holds for every leecher.
# A polluter class corrupts on the wire and is caught. A swarm whose only
# seed leaves early stops once pieces are lost, and --max-wall stops a slow
# run. A class of count 0 has no peer. Also: a scenario too big for one
# machine is refused with exit code 2, as is --set seed=, and the simulator's scenario warnings
# are printed as `sim run` prints them, and a peer_timeout with no slack over
# the announce interval gets a note.
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
grep -q '"stopped": "leechers_done"' "$OUT/r/summary.json" || fail "full run: stop reason"
awk -F, 'NR > 1 && $2 == "leecher" {
  if ($3 == "" || $4 == "" || $5 == "" || !($3 <= $4 && $4 <= $5)) bad = 1
} END { exit bad }' "$OUT/r/peers.csv" || { cat "$OUT/r/peers.csv"; fail "bad leecher times"; }
[[ $(wc -l < "$OUT/r/timeline.csv") -ge 3 ]] || fail "timeline too short"
# Every timeline row counts the peers that peers.csv has present at its time
# (joined at or before it, not yet left), as the simulator's rows do.
present_matches() {
  /usr/bin/python3 - "$1/peers.csv" "$1/timeline.csv" <<'PY'
import csv, sys
peers = list(csv.DictReader(open(sys.argv[1])))
bad = []
for row in csv.DictReader(open(sys.argv[2])):
    t = float(row["time_s"])
    present = sum(1 for p in peers if p["join_s"] and float(p["join_s"]) <= t
                  and not (p["leave_s"] and float(p["leave_s"]) <= t))
    if present != int(row["leechers"]) + int(row["seeds"]):
        bad.append(f"t={t}: {present} present by peers.csv, timeline {row['leechers']}+{row['seeds']}")
print("\n".join(bad), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}
present_matches "$OUT/r" || fail "timeline rows disagree with peers.csv"

# A class of count 0 (switched off) has no peer on real sockets either: the
# run completes as before and summary.json lists the class with count 0.
sed 's/^sample_interval:/  - {class: rider, count: 0, upload: 16Mbit\/s, download: 64Mbit\/s, free_rider: true}\nsample_interval:/' \
  "$SCENARIO" > "$OUT/empty_class.yaml"
"$SWARM" run-scenario "$OUT/empty_class.yaml" --out "$OUT/e" > "$OUT/e.stdout" 2> "$OUT/e.stderr" \
  || { cat "$OUT/e.stderr"; fail "run-scenario with a class of count 0 exited with $?"; }
grep -q '"completed": 6' "$OUT/e/summary.json" || { cat "$OUT/e/summary.json"; fail "empty class: not 6/6"; }
grep -q '"rider": {"count": 0,' "$OUT/e/summary.json" \
  || { cat "$OUT/e/summary.json"; fail "empty class: not listed with count 0"; }
[[ $(grep -c ',rider,' "$OUT/e/peers.csv") == 0 ]] || fail "empty class: has peers"

# A polluter class on real sockets: its blocks are corrupted on the wire, the
# leechers' hash checks catch them, and every copy still ends up complete.
sed 's/^sample_interval:/  - {class: polluter, count: 1, upload: 40Mbit\/s, download: 100Mbit\/s,\n     start: complete, corrupt_uploads: true}\nsample_interval:/' \
  "$SCENARIO" > "$OUT/polluted.yaml"
"$SWARM" run-scenario "$OUT/polluted.yaml" --out "$OUT/p" > "$OUT/p.stdout" 2> "$OUT/p.stderr" \
  || { cat "$OUT/p.stderr"; fail "polluted run-scenario exited with $?"; }
grep -q '"completed": 6' "$OUT/p/summary.json" || { cat "$OUT/p/summary.json"; fail "polluted: not 6/6"; }
grep -Eq '"leecher": .*"pieces_failed": [1-9]' "$OUT/p/summary.json" \
  || { cat "$OUT/p/summary.json"; fail "polluted: no failed piece counted"; }
# bytes_downloaded counts what was delivered, as in the simulator: the six
# whole copies and every failed piece (256 KiB each) on top.
/usr/bin/python3 - "$OUT/p/summary.json" <<'PY' \
  || { cat "$OUT/p/summary.json"; fail "polluted: bytes_downloaded leaves out failed pieces"; }
import json, sys
leechers = json.load(open(sys.argv[1]))["per_class"]["leecher"]
sys.exit(leechers["bytes_downloaded"] < 6 * 4 * 2**20 + leechers["pieces_failed"] * 256 * 2**10)
PY

# A seed class's after_complete counts from its join (as in the simulator).
"$SWARM" run-scenario "$SCENARIO" --set 'peers.0.leave={after_complete: 1s}' \
  --set stop.max_time=4s --out "$OUT/s" > /dev/null 2> "$OUT/s.err" \
  || { cat "$OUT/s.err"; fail "seed-leave run exited with $?"; }
awk -F, '$1 == 0 { exit !($6 >= 1 && $6 < 2.5) }' "$OUT/s/peers.csv" \
  || { cat "$OUT/s/peers.csv"; fail "the seed did not leave 1 s after joining"; }
present_matches "$OUT/s" || fail "seed-leave run: timeline rows disagree with peers.csv"

# The only seed leaves at 0.5 s, having sent about one piece (4 Mbit/s):
# most of the 16 pieces are gone for good. The run ends a few seconds later
# with a note saying so, not at stop.max_time (2 min here), and still
# writes its results (exit 0).
START=$SECONDS
RC=0
timeout 60 "$SWARM" run-scenario "$SCENARIO" --set 'peers.0.leave={at: 0.5s}' \
  --set peers.0.upload=4Mbit/s --out "$OUT/lost" > "$OUT/lost.out" 2> "$OUT/lost.err" || RC=$?
[[ $RC == 0 ]] || { cat "$OUT/lost.err"; fail "lost-piece run exited with $RC"; }
(( SECONDS - START < 20 )) || fail "lost-piece run took $((SECONDS - START)) s"
grep -Eq "note: stopped at .*from [0-9.]* s on, 1[5-6] of the 16 pieces were held by no peer" \
  "$OUT/lost.err" || { cat "$OUT/lost.err"; fail "lost-piece run: no note naming the lost pieces"; }
grep -q '"completed": 0' "$OUT/lost/summary.json" || fail "lost-piece run: a leecher completed"
grep -q '"stopped": "pieces_lost"' "$OUT/lost/summary.json" || fail "lost-piece run: stop reason"

# --max-wall bounds the run too: with 1 s one-way latency the scenario takes
# over a minute of wall-clock time (its lower bound, 1.6 s, ignores latency);
# --max-wall 3s stops it after 3 s, with a note. (Its tracker.peer_timeout
# is checked below.)
START=$SECONDS
RC=0
timeout 60 "$SWARM" run-scenario "$SCENARIO" --max-wall 3s --set tracker.peer_timeout=30min \
  --set 'network.latency={constant: 1s}' --out "$OUT/wall" > "$OUT/wall.out" 2> "$OUT/wall.err" || RC=$?
[[ $RC == 0 ]] || { cat "$OUT/wall.err"; fail "max-wall run exited with $RC"; }
(( SECONDS - START < 15 )) || fail "max-wall run took $((SECONDS - START)) s"
grep -q "note: stopped by --max-wall at 3\.[0-9] s" "$OUT/wall.err" \
  || { cat "$OUT/wall.err"; fail "max-wall run: no note"; }
[[ -s "$OUT/wall/summary.json" ]] || fail "max-wall run: no results"
# Its peer_timeout equals its announce_interval (30 min): exact in the
# simulator, not on real sockets, and a note says so (other runs: none).
grep -q "note: tracker.peer_timeout is within a second of tracker.announce_interval" \
  "$OUT/wall.err" || { cat "$OUT/wall.err"; fail "peer_timeout = announce_interval: no note"; }
! grep -q "peer_timeout" "$OUT/lost.err" || fail "default peer_timeout: a note about it"
grep -q '"stopped": "max_wall"' "$OUT/wall/summary.json" || fail "max-wall run: stop reason"
! grep -q "stopped at max_time" "$OUT/wall.out" \
  || { cat "$OUT/wall.out"; fail "max-wall run: summary blames max_time"; }
# A budget too large to matter (meant as "no limit") is not one that has
# run out: the run goes on to completion. (1e300 s used to overflow the
# microsecond Duration and stop the run at 0.0 s.)
"$SWARM" run-scenario "$SCENARIO" --max-wall 1e300 --out "$OUT/huge" > /dev/null \
  2> "$OUT/huge.err" || { cat "$OUT/huge.err"; fail "--max-wall 1e300 run exited with $?"; }
grep -q '"completed": 6' "$OUT/huge/summary.json" \
  || { cat "$OUT/huge.err"; fail "--max-wall 1e300: not 6/6 completed"; }

# A TMPDIR that names no folder is said, not a crash (an uncaught
# filesystem error aborted the run, exit 134).
set +e
TMPDIR="$OUT/no_such_folder" timeout 20 "$SWARM" run-scenario "$SCENARIO" --out "$OUT/notmp" \
  > /dev/null 2> "$OUT/notmp.err"
RC=$?
set -e
[[ $RC == 1 ]] || { cat "$OUT/notmp.err"; fail "TMPDIR missing: exit $RC, want 1"; }
grep -q "no temporary folder: .*(check TMPDIR)" "$OUT/notmp.err" \
  || { cat "$OUT/notmp.err"; fail "TMPDIR missing: no reason given"; }
[[ ! -e "$OUT/notmp" ]] || fail "TMPDIR missing: wrote a result folder"

refused() {  # refused REASON ARGS...: must exit 2 quickly, naming REASON
  local reason=$1
  shift
  set +e
  timeout 20 "$SWARM" run-scenario "$SCENARIO" "$@" 2> "$OUT/refused.err"
  local rc=$?
  set -e
  [[ $rc == 2 ]] || { cat "$OUT/refused.err"; fail "$*: exit $rc, want 2"; }
  grep -q "$reason" "$OUT/refused.err" || { cat "$OUT/refused.err"; fail "$*: no '$reason'"; }
  ! grep -q "swarm: running " "$OUT/refused.err" || fail "$*: announced a run it then refused"
  [[ ! -e "$OUT/refused" ]] || fail "$*: wrote a result folder"
}
# The bound: Kumar-Ross (1.5 s here), or a leecher's arrival plus the file at
# its download rate when later (1.6 s); a late arrival counts too.
refused "1.6 s of wall-clock time.*--max-wall is 1.0 s" --max-wall 1 --out "$OUT/refused"
# Every peer writes the file under file.name in its folder: a path is refused
# before anything is written (it used to write ../NAME next to the peers'
# temporary folder, then abort).
refused "field 'file.name': '../escaped-$$' is not a plain file name" \
  --set "file.name=../escaped-$$" --out "$OUT/refused"
[[ ! -e "${TMPDIR:-/tmp}/escaped-$$" ]] || fail "file.name=../NAME wrote outside the peers' folder"
refused "field 'file.name': 'a/b' is not a plain file name: it contains '/'" --set file.name=a/b --out "$OUT/refused"
refused "20.6 s of wall-clock time on real sockets (a leecher's arrival" --max-wall 5 \
  --set 'peers.1.arrival={at: 20s}' --out "$OUT/refused"
# The run seed has its own flag: --set seed= is refused as by `sim run`,
# with or without --seed (next to it, it was unused yet listed in
# summary.json's overrides).
refused '^--set seed=\.\.\.: give the seed with --seed$' --set seed=4 --seed 5 --out "$OUT/refused"
refused '^--set seed=\.\.\.: give the seed with --seed$' --set seed=4 --out "$OUT/refused"
refused "max-wall: expected a positive number" --max-wall nan --out "$OUT/refused"
refused "max-wall: expected a positive number.*got .5 parsecs." --max-wall "5 parsecs" --out "$OUT/refused"
# In the format of every other error of swarm's.
grep -q "^swarm: error: --max-wall: " "$OUT/refused.err" || { cat "$OUT/refused.err"; fail "no 'swarm: error:'"; }
refused "seed: .-1. is not a non-negative whole number" --seed -1 --out "$OUT/refused"
touch "$OUT/a_file"
refused "out .*a_file is not a directory" --out "$OUT/a_file/sub"  # checked before running
refused "peers: 101 peers .*at most 64" --set peers.1.count=100 --out "$OUT/refused"
refused "file.size: 2GiB .*at most 1 GiB" --set file.size=2GiB --out "$OUT/refused"
# Interrupted mid-run (SIGTERM: a background job of a script ignores
# SIGINT; SIGHUP: the terminal closed): exit 130, nothing written, the
# peers' temporary folder (swarm_loopback_PID_*) removed.
interrupt_run() {
  local sig=$1
  "$SWARM" run-scenario "$SCENARIO" --set 'peers.1.arrival={at: 30s}' --out "$OUT/int" \
    2> "$OUT/int.err" &
  local P=$!
  # Wait for the run to be under way (its temporary folder exists: the
  # signal mask is set by then), not a fixed 3 s that a loaded machine may
  # not meet.
  for _ in $(seq 300); do
    compgen -G "${TMPDIR:-/tmp}/swarm_loopback_${P}_*" > /dev/null && break
    kill -0 "$P" 2> /dev/null || break
    sleep 0.1
  done
  compgen -G "${TMPDIR:-/tmp}/swarm_loopback_${P}_*" > /dev/null \
    || { cat "$OUT/int.err"; fail "no temporary folder while running"; }
  sleep 0.5  # into the run proper
  kill -"$sig" "$P"
  set +e
  wait "$P"
  local RC=$?
  set -e
  [[ $RC == 130 ]] || { cat "$OUT/int.err"; fail "run-scenario stopped by SIG$sig exited $RC, want 130"; }
  [[ ! -e "$OUT/int" ]] || fail "an interrupted run wrote a result folder"
  if compgen -G "${TMPDIR:-/tmp}/swarm_loopback_${P}_*" > /dev/null; then
    fail "a run stopped by SIG$sig left its temporary folder"
  fi
}
interrupt_run TERM

# The simulator's warnings come before anything runs: here a leecher class
# at 10Gbit/s down (a 16 KiB block under 200 us); --out under /dev/null
# then stops the command before any peer starts.
sed 's/download: 64Mbit\/s/download: 10Gbit\/s/' "$SCENARIO" > "$OUT/fast.yaml"
RC=0
"$SWARM" run-scenario "$OUT/fast.yaml" --out /dev/null/x > "$OUT/fast.out" 2> "$OUT/fast.err" || RC=$?
[[ $RC == 2 ]] || { cat "$OUT/fast.err"; fail "run-scenario with --out under /dev/null exited $RC, want 2"; }
grep -q "swarm: warning: $OUT/fast.yaml: class 'leecher': at its download rate (10Gbit/s)" "$OUT/fast.err" \
  || { cat "$OUT/fast.err"; fail "no warning for a block under 200 us"; }
# (Unless this shell was started with SIGHUP ignored, as under nohup: so is
# the run then, by design.)
if (( (0x$(sed -n 's/^SigIgn:\t*//p' /proc/$$/status) & 1) == 0 )); then
  interrupt_run HUP
fi
echo PASS
