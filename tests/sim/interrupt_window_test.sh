#!/bin/bash
# A stop signal that comes just after `sim run` has created a folder or its
# --trace file, before it has recorded them as its own, must still have them
# removed: sim holds the stop signals back over each create-and-record. The
# window is a few system calls wide, so the signal is placed in it with gdb:
# stopped on return from the mkdir or fopen64 that creates the path, the
# process sends itself SIGINT and goes on. Skipped (77) without gdb, its
# Python ($_streq) or the permission to trace.
#   interrupt_window_test.sh SIM
set -u
sim=$1
command -v gdb >/dev/null || { echo "gdb is not installed: skipped"; exit 77; }
# The trace's breakpoint reads fopen64's first argument from its register.
[ "$(uname -m)" = x86_64 ] || { echo "not x86_64: skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/s.yaml" <<'YAML'
name: window
stop: {all_complete: true, max_time: 1h}
file: {size: 1MiB, piece_size: 64KiB, block_size: 16KiB}
peers:
  - {class: seed, count: 1, upload: 4Mbit/s, download: 8Mbit/s, start: complete}
  - {class: leecher, count: 2, upload: 1Mbit/s, download: 8Mbit/s}
YAML
export SWARMLAB_HUGEPAGES_REEXEC=1  # no re-exec under gdb
failed=0

# Runs sim under gdb, stopped at the breakpoint `$1` (then out of that
# call), where it sends itself SIGINT; the rest are sim's arguments.
interrupt_at() {
  local where=$1
  shift
  gdb -q -batch -ex 'handle SIGINT nostop noprint pass' -ex 'set breakpoint pending on' \
      -ex "break $where" -ex run -ex finish -ex delete \
      -ex 'call (int)kill((int)getpid(), 2)' -ex continue --args "$sim" "$@" >"$tmp/gdb.log" 2>&1
  if ! grep -q '^Breakpoint 1,' "$tmp/gdb.log" ||
     ! grep -q 'terminated with signal SIGINT' "$tmp/gdb.log"; then
    echo "could not stop sim at $where under gdb: skipped"
    cat "$tmp/gdb.log"
    exit 77
  fi
}

# 1. Between the mkdir of the first folder --out needs and its record.
interrupt_at mkdir run "$tmp/s.yaml" --out "$tmp/made/out" --quiet
if [ -e "$tmp/made" ]; then
  echo "FAIL: a SIGINT right after mkdir left $tmp/made behind"
  failed=1
fi

# 2. Between the creation of the trace file (in a folder the run made) and
# its record.
trace="$tmp/traces/t.txt"
interrupt_at "fopen64 if \$_streq((char*)\$rdi, \"$trace\")" \
    run "$tmp/s.yaml" --out "$tmp/out2" --trace "$trace" --quiet
for left in "$trace" "$tmp/traces" "$tmp/out2"; do
  if [ -e "$left" ]; then
    echo "FAIL: a SIGINT right after the trace was created left $left behind"
    failed=1
  fi
done
[ "$failed" = 0 ] && echo "both windows closed"
exit "$failed"
