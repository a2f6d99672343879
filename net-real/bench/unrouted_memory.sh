#!/usr/bin/env bash
# Measures by hand what streams that never send their handshake make a
# seed hold (docs/real-network.md, "Limits and known gaps"):
#
#   unrouted_memory.sh SWARM_BINARY [unrouted_flood.py options...]
#
# Starts a tracker and `swarm share` of a 4 MiB file on loopback, floods the
# seed's port with unrouted_flood.py (default: 256 connections, each with
# one stream sending all but the last byte of a 1 MiB + 32 KiB first
# message, held for 8 s), and prints the seed's resident memory before
# (VmRSS) and at its peak (VmHWM), what the flood got through, and whether
# an honest `swarm get` started during the flood completed. Needs Debian's
# python3-h2. Set FLOOD="PORT-less flood arguments" to change the flood,
# e.g. FLOOD="256 8 --streams 4". KEEP=1 keeps the logs.
set -euo pipefail
SWARM=$(realpath "$1")
shift
HERE=$(dirname "$(realpath "$0")")
FLOOD=${FLOOD:-256 8}
source "$HERE/bench_lib.sh"
bench_workdir unrouted_memory
kib() { awk -v k="$2" '$1 == k ":" { print $2 }' "/proc/$1/status"; }

cd "$WORK"
head -c $((4 * 1024 * 1024)) /dev/urandom > file.bin
start_tracker
"$SWARM" share file.bin --tracker "$TRACKER" --listen 127.0.0.1:0 > share.out 2> share.err &
SEED=$!
PIDS+=($SEED)
PORT=$(port_of share.out)
sleep 1
BEFORE=$(kib "$SEED" VmRSS)

# shellcheck disable=SC2086
/usr/bin/python3 "$HERE/unrouted_flood.py" "$PORT" $FLOOD "$@" > flood.out &
FLOOD_PID=$!
PIDS+=($FLOOD_PID)
sleep 2
START=$(date +%s.%N)
GET_RC=0
timeout 60 "$SWARM" get file.bin --tracker "$TRACKER" --out dl --listen 127.0.0.1:0 \
  > get.out 2> get.err || GET_RC=$?
GET_S=$(echo "$(date +%s.%N) - $START" | bc)
wait "$FLOOD_PID" || { echo "the flood failed" >&2; exit 1; }
PEAK=$(kib "$SEED" VmHWM)
AFTER=$(kib "$SEED" VmRSS)
if cmp -s file.bin dl/file.bin; then GOT="complete, identical"; else GOT="FAILED (exit $GET_RC)"; fi
echo "flood: $FLOOD $* -> $(cat flood.out)"
printf 'seed VmRSS before %.1f MiB, peak (VmHWM) %.1f MiB, after %.1f MiB\n' \
  "$(echo "$BEFORE / 1024" | bc -l)" "$(echo "$PEAK / 1024" | bc -l)" "$(echo "$AFTER / 1024" | bc -l)"
printf 'honest get during the flood: %s in %.1f s\n' "$GOT" "$GET_S"
