#!/usr/bin/env bash
# Measures by hand what a remote that a `swarm get` dials can make it hold
# (docs/real-network.md, "Limits and known gaps"):
#
#   dialed_memory.sh SWARM_BINARY [dialed_flood.py options...]
#
# Starts a tracker and gets a listing for a file that points at a hostile
# server: a `swarm share` announces the file and is killed with -9 (so it
# never says `stopped`), and dialed_flood.py takes over its port. An honest
# `swarm share` of the same file joins, then a `swarm get` of it (32 MiB at
# --download-limit 4MiB/s, about 8 s) runs under /usr/bin/time -v: it
# dials both, and the hostile one answers with a message claiming 1 GiB
# (default) that it streams as fast as the get lets it. Prints the get's
# peak resident memory, what the hostile server got through, and whether
# the download completed. Needs Debian's python3-h2. Set FLOOD="..." to
# pass dialed_flood.py options, KEEP=1 to keep the logs.
set -euo pipefail
SWARM=$(realpath "$1")
shift
HERE=$(dirname "$(realpath "$0")")
source "$HERE/bench_lib.sh"
bench_workdir dialed_memory

cd "$WORK"
head -c $((32 * 1024 * 1024)) /dev/urandom > file.bin
start_tracker

# The listing: a seed that announces, then vanishes without a word.
lure_and_vanish file.bin 1
HOSTILE_PORT=$LURE_PORT
# shellcheck disable=SC2086
/usr/bin/python3 "$HERE/dialed_flood.py" "$HOSTILE_PORT" 20 ${FLOOD:-} "$@" > hostile.out &
HOSTILE=$!
PIDS+=($HOSTILE)
port_of hostile.out > /dev/null

mkdir honest
cp file.bin honest/
"$SWARM" share honest/file.bin --tracker "$TRACKER" --listen 127.0.0.1:0 > seed.out 2> seed.err &
PIDS+=($!)
port_of seed.out > /dev/null
sleep 1

GET_RC=0
/usr/bin/time -v "$SWARM" get file.bin --tracker "$TRACKER" --out dl --listen 127.0.0.1:0 \
  --download-limit 4MiB/s > get.out 2> get.err || GET_RC=$?
kill "$HOSTILE" 2>/dev/null || true
wait "$HOSTILE" 2>/dev/null || true
if cmp -s file.bin dl/file.bin; then GOT="complete, identical"; else GOT="FAILED (exit $GET_RC)"; fi
PEAK=$(awk -F': ' '/Maximum resident set size/ { print $2 }' get.err)
WALL=$(awk -F'): ' '/Elapsed \(wall clock\)/ { print $2 }' get.err)
echo "hostile: $(tail -1 hostile.out)"
printf 'get: %s in %s, peak RSS %.1f MiB\n' "$GOT" "$WALL" "$(echo "$PEAK / 1024" | bc -l)"
grep -i "exhausted\|hostile\|closed\|refused\|dropp" get.err | sort | uniq -c | sort -rn | head -5 || true
