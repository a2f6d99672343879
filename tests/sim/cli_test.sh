#!/usr/bin/env bash
# `sim` command-line behaviour that needs no run to finish: refusals with
# exit code 2 and the message that says why.
# Usage: cli_test.sh SIM SOURCE_DIR
set -uo pipefail
sim=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# expect RC PATTERN CMD...: CMD exits with RC and its stderr matches PATTERN
# (is empty for an empty PATTERN).
expect() {
  local want=$1 pattern=$2
  shift 2
  local got
  timeout 60 "$@" >"$work/out" 2>"$work/err"
  got=$?
  [[ $got == "$want" ]] || fail "$*: exit $got, want $want; stderr: $(cat "$work/err")"
  if [[ -z $pattern ]]; then
    [[ ! -s $work/err ]] || fail "$*: stderr not empty: $(cat "$work/err")"
  else
    grep -qE -- "$pattern" "$work/err" || fail "$*: stderr lacks /$pattern/: $(cat "$work/err")"
  fi
}

small=$work/small.yaml
cat >"$small" <<'YAML'
name: small
stop: {all_complete: true, max_time: 1h}
file: {size: 2MiB, piece_size: 256KiB, block_size: 16KiB}
peers:
  - {class: seed, count: 1, upload: 10Mbit/s, download: 100Mbit/s, start: complete}
  - {class: leecher, count: 5, upload: 1Mbit/s, download: 8Mbit/s}
YAML

# An unknown subcommand is named (CLI11 said "A subcommand is required").
expect 2 "unknown subcommand 'frob' \(one of run, check, bounds, sweep, merge" "$sim" frob x.yaml

# --set seed= is refused as in sim sweep, with or without --seed, and
# nothing is written (it used to be ignored next to --seed, yet recorded).
expect 2 '^--set seed=\.\.\.: give the seed with --seed$' \
  "$sim" run "$small" --quiet --seed 3 --set seed=5 --out "$work/seeded"
expect 2 '^--set seed=\.\.\.: give the seed with --seed$' \
  "$sim" run "$small" --quiet --set seed=5 --out "$work/seeded"
[[ ! -e $work/seeded ]] || fail "--set seed: a result folder was made"

# --out on a dangling symbolic link: a clear refusal before the run (mkdir
# said "File exists", exit 1).
ln -s "$work/nowhere" "$work/dangling"
expect 2 "dangling is a symbolic link to $work/nowhere, which does not exist" \
  "$sim" run "$small" --quiet --out "$work/dangling"
expect 2 "which does not exist" "$sim" run "$small" --quiet --out "$work/dangling/sub"
# --out through a loop of symbolic links: named as a loop (it was called a
# link "which does not exist").
ln -s "$work/loopB" "$work/loopA"
ln -s "$work/loopA" "$work/loopB"
expect 2 "^--out $work/loopA/x: $work/loopA/x: Too many levels of symbolic links$" \
  "$sim" run "$small" --quiet --out "$work/loopA/x"
# A folder that cannot be made (under /proc): exit 2, nothing run. As root
# /proc passes the writability check and mkdir itself fails; as any other
# user the check refuses it first.
expect 2 '^--out /proc/swarmlab_x: (cannot create the folder: |/proc is not writable)' \
  "$sim" run "$small" --quiet --out /proc/swarmlab_x
grep -q "leechers completed" "$work/out" && fail "/proc: the run went ahead"

# Memory: sim check states the estimate; a run that cannot fit in this
# machine's memory (a million peers on a 1 TiB file: terabytes) is refused
# at once, naming the estimate and the machine's memory.
expect 0 '' "$sim" check "$small"
grep -qE '^.*small.yaml: ok \(small, 6 peers, 8 pieces, about [0-9]+ MB of memory\)$' "$work/out" ||
  fail "sim check: no memory estimate: $(cat "$work/out")"
huge=(--set peers.1.count=999999 --set file.size=1024GiB)
expect 0 "sim run refuses it without --no-memory-check" "$sim" check "$small" "${huge[@]}"
expect 2 "this run needs about [0-9.]+ [GT]B of memory .*more than the available [0-9.]+ GB \(physical memory\).*--no-memory-check" \
  "$sim" run "$small" --quiet "${huge[@]}" --out "$work/huge"
[[ ! -e $work/huge ]] || fail "a refused run made its folder"
expect 2 "every peer present at once" "$sim" run "$small" --quiet "${huge[@]}" --out "$work/huge"
# The estimate assumes every peer present at once. Peers that come and go
# (here one every 100 s, leaving when done) need far less: the same
# estimate is only warned about, and the run goes ahead (stopped after 3 s
# here; it holds a few peers at a time). sim used to refuse it.
leaving=("${huge[@]}" --set 'peers.1.arrival={poisson: {rate: 0.01/s}}'
         --set 'peers.1.leave={after_complete: {fixed: 0s}}')
expect 0 "its peers leave or fail, so sim run warns and runs it" \
  "$sim" check "$small" "${leaving[@]}"
timeout -s INT 3 "$sim" run "$small" --quiet "${leaving[@]}" --out "$work/leaving" \
  >"$work/out" 2>"$work/err"
rc=$?
[[ $rc == 124 ]] || fail "leaving peers: exit $rc, want 124 (still running); $(cat "$work/err")"
grep -q "this run may need up to [0-9.]* TB of memory, .*if its peers were all present at once" \
  "$work/err" || fail "leaving peers: no warning: $(cat "$work/err")"
# Notes respect --quiet: a 1 GB+ estimate that fits is noted only without it.
big=(--set peers.1.count=30000 --set 'peers.1.arrival={poisson: {rate: 0.01/s}}'
     --set 'peers.1.leave={after_complete: {fixed: 0s}}')
timeout -s INT 2 "$sim" run "$small" --quiet "${big[@]}" --out "$work/big" \
  >"$work/out" 2>"$work/err"
grep -q "note:" "$work/err" && fail "--quiet: the memory note was printed: $(cat "$work/err")"
timeout -s INT 2 "$sim" run "$small" "${big[@]}" --out "$work/big" >"$work/out" 2>"$work/err"
grep -q "sim: note: this run may need up to [0-9.]* GB of memory" "$work/err" ||
  fail "no memory note without --quiet: $(cat "$work/err")"

# Warnings on a valid scenario, from sim check and sim run alike (stderr;
# the run goes ahead): nobody can complete when the only seed uploads no
# good data (the Kumar-Ross bound is infinite, so the bound's own warning
# said nothing), and a block shorter than 200 us at a class's rate.
for cmd in check run; do
  extra=()
  [[ $cmd == run ]] && extra=(--quiet --out "$work/fr" --set stop.max_time=2s --set sample_interval=1s)
  expect 0 "^sim: warning: $small: no class that can upload good data holds the file: every class that starts complete is a free rider \(uploads nothing\) or a polluter \(corrupt_uploads\), so no leecher can ever complete" \
    "$sim" "$cmd" "$small" --set peers.0.free_rider=true "${extra[@]}"
done
expect 0 "^sim: warning: $small: class 'leecher': at its download rate \(10Gbit/s\) a 16KiB block lasts 13.1 us, under 200 us; a block not followed at once by the next on its connection \(no request waiting\) ends on a whole microsecond, so its transfers may take up to 7.63 % longer than the rate says" \
  "$sim" check "$small" --set peers.1.download=10Gbit/s
# ... and a request pipeline that holds a connection below its rate (5
# blocks per 50 ms round trip: 13.1 Mbit/s of a 1 Gbit/s seed's one
# leecher), and more pieces than picking scans cheaply.
for cmd in check run; do
  extra=()
  [[ $cmd == run ]] && extra=(--quiet --out "$work/pl" --set stop.max_time=2s --set sample_interval=1s)
  expect 0 "^sim: warning: $small: classes 'seed' -> 'leecher': a connection may carry 1Gbit/s \(upload 1Gbit/s over 1 at once, download 1Gbit/s\), but 5 requests of 16KiB in flight over a round trip of up to 50ms carry at most 13.1Mbit/s" \
    "$sim" "$cmd" "$small" --set peers.1.count=1 --set peers.0.upload=1Gbit/s \
    --set peers.1.download=1Gbit/s "${extra[@]}"
done
expect 0 "^sim: warning: $small: file: 20000 pieces of 1 block \(1KiB\): choosing a new piece scans every piece" \
  "$sim" check "$small" --set file.size=20000KiB --set file.piece_size=1KiB --set file.block_size=1KiB

# The piece-granular value is a lower bound only when no leecher downloads
# faster than the (equal) uploads (docs/theory.md, section 2): `sim bounds`
# calls it a reference otherwise.
bounds_line() { "$sim" bounds "$small" "$@" 2>&1 | grep 'piece-granular'; }
line=$(bounds_line --set peers.0.upload=1Mbit/s)
[[ $line == *"(a reference, not a bound: leechers download faster than they upload; docs/theory.md)" ]] ||
  fail "sim bounds, downloads above the upload: $line"
line=$(bounds_line --set peers.0.upload=1Mbit/s --set peers.1.download=1Mbit/s)
[[ $line =~ ^\ \ piece-granular\ +[0-9.]+\ s$ ]] || fail "sim bounds, download = upload: $line"

# sim sweep prints the same warnings, on stderr, each distinct one once
# (not once per run): the base scenario's (here a free-riding seed, with
# --set), then those only some combinations of --vary values give, naming
# them. It printed none. Neither goes into the sweep's files.
sweep=(sweep "$small" --seeds 2 --set peers.0.free_rider=true
       --vary peers.1.download=8Mbit/s,10Gbit/s,20Gbit/s --vary peers.1.count=4,5)
expect 0 "^sim sweep: warning: $small: no class that can upload good data holds the file" \
  "$sim" "${sweep[@]}" --emit-jobs --out "$work/sw"
[[ $(grep -c "no class that can upload" "$work/err") == 1 ]] ||
  fail "sweep: the base warning not printed once: $(cat "$work/err")"
grep -qE "^sim sweep: warning: $small with peers.1.download=10Gbit/s peers.1.count=4, or with peers.1.download=10Gbit/s peers.1.count=5: class 'leecher': at its download rate \(10Gbit/s\) a 16KiB block lasts 13.1 us" \
  "$work/err" || fail "sweep: no warning naming the 10Gbit/s runs: $(cat "$work/err")"
[[ $(grep -c "download rate (20Gbit/s)" "$work/err") == 1 ]] ||
  fail "sweep: the 20Gbit/s warning not printed once: $(cat "$work/err")"
[[ $(grep -c "warning" "$work/err") == 3 ]] || fail "sweep: not 3 warnings: $(cat "$work/err")"
grep -q "8Mbit/s.*warning\|warning.*8Mbit/s" "$work/err" && fail "sweep: a warning for 8Mbit/s"
grep -rq "warning" "$work/out" "$work/sw" && fail "sweep: a warning in stdout or the sweep folder"
# Also when the runs go ahead (and --quiet), and a base warning no run gets
# (every --vary value overrides it away) is not printed.
sed 's/download: 8Mbit\/s/download: 20Gbit\/s/' "$small" >"$work/fast.yaml"
expect 0 "^sim sweep: warning: $work/fast.yaml with peers.1.download=10Gbit/s: class 'leecher'" \
  "$sim" sweep "$work/fast.yaml" --seeds 1 --jobs 1 --quiet --out "$work/sw2" \
  --vary peers.1.download=8Mbit/s,10Gbit/s
grep -q "20Gbit/s" "$work/err" && fail "sweep: a warning of the base that no run has: $(cat "$work/err")"
[[ $(grep -c "warning" "$work/err") == 1 ]] || fail "sweep --quiet: not 1 warning: $(cat "$work/err")"
grep -rq "warning" "$work/out" "$work/sw2" && fail "sweep: a warning in stdout or the sweep folder"

# --plot of a window column is refused before any run when no run has a
# measure window (it failed in plot_sweep.py after the whole sweep), and
# accepted when --set gives one.
expect 2 "^--plot 'peers.1.count:mean_completion_s_in_window': no run of this sweep has a measure window" \
  "$sim" sweep "$small" --seeds 1 --vary peers.1.count=4,5 \
  --plot peers.1.count:mean_completion_s_in_window --out "$work/nowin"
[[ -e $work/nowin ]] && fail "sweep --plot without a window: $work/nowin written"
expect 0 "^sim sweep: 2 commands" "$sim" sweep "$small" --seeds 1 --vary peers.1.count=4,5 --emit-jobs \
  --set measure.joins_from=0s --plot peers.1.count:mean_completion_s_in_window --out "$work/win"

# Scenario errors a student makes, each refused with exit 2, one line, and
# nothing written. A misspelt field names the near one.
expect 2 "^$small: --set protocol.peice_selection=random: field 'protocol.peice_selection': unknown field 'peice_selection' \(did you mean 'piece_selection'\?\)$" \
  "$sim" run "$small" --quiet --set protocol.peice_selection=random --out "$work/typo"
[[ -e $work/typo ]] && fail "a misspelt field: $work/typo written"
# A class is named by its name as well as its index; an unknown one lists them.
expect 0 '' "$sim" check "$small" --set peers.leecher.count=7
grep -q "ok (small, 8 peers" "$work/out" || fail "peers.leecher.count=7: $(cat "$work/out")"
expect 2 "^$small: --set peers.leechers.count=5: field 'peers.leechers': no class named 'leechers' \(did you mean 'leecher'\?\): peers is a list of 2 classes: 0 = seed, 1 = leecher$" \
  "$sim" check "$small" --set peers.leechers.count=5
# A bracketed value left unquoted reaches sim as two words.
expect 2 "bad value: unknown token \(a value with \{ \} or \[ \] must be one shell word: quote the whole --set argument, e.g. --set 'peers.0.leave=\{at: 3s\}'\)$" \
  "$sim" run "$small" --quiet --set peers.0.leave={at: 3s} --out "$work/unquoted"
[[ -e $work/unquoted ]] && fail "an unquoted --set: $work/unquoted written"
# A tab in the indentation is named as such.
printf 'name: tabbed\npeers:\n  - class: seed\n\tcount: 1\n' >"$work/tab.yaml"
expect 2 "^$work/tab.yaml:4: bad YAML: .* \(line 4 contains a tab; YAML indentation must use spaces\)$" \
  "$sim" run "$work/tab.yaml" --quiet --out "$work/tabbed"
[[ -e $work/tabbed ]] && fail "a tab in the indentation: $work/tabbed written"
[[ $(wc -l <"$work/err") == 1 ]] || fail "a tab: not one line: $(cat "$work/err")"

# A scenario that cannot be opened says why (it said only "cannot open
# file"), and so do options sim run does not have: named with sim run's
# prefix, with the near option and the subcommand that has it (it said
# "The following arguments were not expected: 3 --seeds").
expect 2 "^$work/scenario/flash_crowd.yaml: cannot open file: No such file or directory$" \
  "$sim" run "$work/scenario/flash_crowd.yaml" --quiet
expect 2 "^sim run: unknown option --seeds \(did you mean --seed\?; --seeds is an option of sim sweep\)$" \
  "$sim" run "$small" --seeds 3 --out "$work/seeds"
[[ -e $work/seeds ]] && fail "sim run --seeds: $work/seeds written"
grep -q "^(see sim run --help)$" "$work/err" || fail "--seeds: no pointer to --help: $(cat "$work/err")"
expect 2 "^sim check: unknown option --quiet \(--quiet is an option of sim run and sim sweep\)$" \
  "$sim" check "$small" --quiet
expect 2 "^sim run: FILE is required$" "$sim" run

# sim bounds says why the piece-granular bound does not apply (it said
# "needs one seed and equal uploads" when the leechers' uploads were equal).
"$sim" bounds "$small" >"$work/out" 2>&1
grep -q "^  piece-granular       n/a (it needs every leecher to upload at the seed's rate; the seed uploads 10Mbit/s, leechers 1Mbit/s)$" \
  "$work/out" || fail "sim bounds, unequal uploads: $(cat "$work/out")"

# A run into a folder that holds an earlier run's results says, before it
# runs, that it replaces them (the default results/NAME-seedN does not tell
# --set variants apart; the second run replaced the first without a word).
expect 0 '' "$sim" run "$small" --quiet --out "$work/again"
expect 0 "^sim run: $work/again holds an earlier run's results; this run replaces them$" \
  "$sim" run "$small" --quiet --out "$work/again" --set peers.1.count=4
grep -q '"overrides": \["peers.1.count=4"\]' "$work/again/summary.json" ||
  fail "the second run's results did not replace the first's"

# --plot runs the scripts of the tree sim was built from; run from another
# checkout (its own analysis/), sim says which it uses (it said nothing).
# Stopped after the note, if the plotting takes long.
mkdir -p "$work/checkout/analysis"
echo 'print("the wrong script")' >"$work/checkout/analysis/plot_run.py"
(cd "$work/checkout" && timeout 20 "$sim" run "$small" --quiet --plot --out pl >"$work/out" 2>"$work/err")
grep -qF "sim run: --plot runs $src/analysis/plot_run.py (of the tree sim was built from), not analysis/plot_run.py in this folder" \
  "$work/err" || fail "--plot from another checkout: no note: $(cat "$work/err")"
grep -q "the wrong script" "$work/out" && fail "--plot ran the working folder's script"

# A sweep killed outright (SIGKILL: it can pass nothing on) leaves no run
# going: the kernel sends each run SIGTERM when the sweep dies
# (PR_SET_PDEATHSIG). The runs used to go on alone, orphaned.
slow=(--set peers.1.count=100000 --set 'peers.1.arrival={poisson: {rate: 0.01/s}}'
      --set 'peers.1.leave={after_complete: {fixed: 0s}}' --set stop.max_time=1000h)
"$sim" sweep "$small" --seeds 1 --jobs 1 --quiet "${slow[@]}" --vary peers.1.upload=1Mbit/s,2Mbit/s \
  --out "$work/orphans" >"$work/out" 2>"$work/err" &
sweep_pid=$!
child=""
for _ in $(seq 300); do
  child=$(ps -o pid= --ppid "$sweep_pid" | head -n 1 | tr -d ' ')
  [[ -n $child ]] && tr '\0' ' ' <"/proc/$child/cmdline" 2>/dev/null | grep -q " run " && break
  child=""
  sleep 0.1
done
if [[ -z $child ]]; then
  fail "sim sweep started no run: $(cat "$work/err")"
  kill -9 "$sweep_pid" 2>/dev/null
else
  kill -9 "$sweep_pid"
  wait "$sweep_pid" 2>/dev/null
  # Running, not a zombie (whoever inherited it may not reap it at once).
  alive() { [[ -r /proc/$1/stat ]] && [[ $(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1) != Z ]]; }
  for _ in $(seq 100); do alive "$child" || break; sleep 0.1; done
  if alive "$child"; then
    fail "a run of a sweep killed with SIGKILL still runs 10 s later (pid $child)"
    kill -TERM "$child"
  fi
fi

exit $((failures > 0))
