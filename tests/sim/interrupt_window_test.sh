#!/bin/bash
# A stop signal that comes just after `sim run` has created a folder or its
# --trace file, before it has recorded them as its own, must still have them
# removed: sim holds the stop signals back over each create-and-record. The
# window is a few system calls wide, so the signal is placed in it with gdb:
# stopped in the call that creates the path (mkdir; fopen64, open or open64
# for the trace, whichever comes first), then out of it, the process sends
# itself SIGTERM and goes on. SIGTERM, not SIGINT: a background job starts with SIGINT ignored, and
# sim leaves an ignored signal ignored. The breakpoints stop only for the
# path under test ($_streq, which needs gdb's Python), and the test checks
# that the path exists once the call returned, so that it cannot pass
# without having placed the signal in the window. Skipped (77) only without
# gdb, its Python or the permission to trace.
#   interrupt_window_test.sh SIM
set -u
sim=$1
command -v gdb >/dev/null || { echo "gdb is not installed: skipped"; exit 77; }
# The breakpoints read the path, the first argument, from its register.
[ "$(uname -m)" = x86_64 ] || { echo "not x86_64: skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tmp=$(cd "$tmp" && pwd -P)  # as sim spells the folders it makes
if ! gdb -q -batch -ex run --args /bin/true </dev/null >"$tmp/gdb.log" 2>&1 ||
   ! grep -q 'exited normally' "$tmp/gdb.log"; then
  echo "gdb cannot run a program here (ptrace not permitted?): skipped"
  cat "$tmp/gdb.log"
  exit 77
fi
if ! gdb -q -batch -ex 'print $_streq("a", "a")' </dev/null 2>&1 | grep -q '= 1$'; then
  echo "gdb has no Python, so no \$_streq for the breakpoints' conditions: skipped"
  exit 77
fi
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

# Runs sim under gdb, stopped where one of the functions `$2` (a list) is
# called with the path `$1`, then out of that call, where it sends itself
# SIGTERM; the rest are sim's arguments. Returns 1 (after saying why) if
# the signal was not placed just after the path was created, or sim did not
# end by it.
interrupt_after() {
  local path=$1 funcs=$2
  shift 2
  local args=(-ex 'handle SIGTERM nostop noprint pass' -ex 'set breakpoint pending on')
  for f in $funcs; do
    args+=(-ex "break -qualified $f if \$_streq((char*)\$rdi, \"$path\")")
  done
  args+=(-ex run -ex delete -ex finish -ex "shell test -e '$path' && echo MADE"
         -ex 'call (int)kill((int)getpid(), 15)' -ex continue)
  gdb -q -batch "${args[@]}" --args "$sim" "$@" </dev/null >"$tmp/gdb.log" 2>&1
  local why=
  if grep -q 'Error in testing' "$tmp/gdb.log"; then
    why="gdb could not test a breakpoint's condition"
  elif ! grep -Eq '^Breakpoint [0-9]+,' "$tmp/gdb.log"; then
    why="sim never called $funcs with $path"
  elif ! grep -q '^MADE$' "$tmp/gdb.log"; then
    why="$path did not exist after the call that should create it"
  elif ! grep -q 'terminated with signal SIGTERM' "$tmp/gdb.log"; then
    why="sim did not end by the SIGTERM"
  fi
  if [ -n "$why" ]; then
    echo "FAIL: $why; gdb's log:"
    cat "$tmp/gdb.log"
    return 1
  fi
}

# 1. Between the mkdir of the first folder --out needs and its record.
if interrupt_after "$tmp/made" mkdir run "$tmp/s.yaml" --out "$tmp/made/out" --quiet; then
  if [ -e "$tmp/made" ]; then
    echo "FAIL: a SIGTERM right after mkdir left $tmp/made behind"
    failed=1
  fi
else
  failed=1
fi

# 2. Between the creation of the trace file (in a folder the run made) and
# its record.
trace="$tmp/traces/t.txt"
if interrupt_after "$trace" "fopen64 open open64" \
    run "$tmp/s.yaml" --out "$tmp/out2" --trace "$trace" --quiet; then
  for left in "$trace" "$tmp/traces" "$tmp/out2"; do
    if [ -e "$left" ]; then
      echo "FAIL: a SIGTERM right after the trace was created left $left behind"
      failed=1
    fi
  done
else
  failed=1
fi
[ "$failed" = 0 ] && echo "both windows closed"
exit "$failed"
