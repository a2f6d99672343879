#!/usr/bin/env bash
# A `swarm get` whose seeds dial it (so its blocks arrive on its own port)
# while that port is flooded with streams that never finish their first
# message (unrouted_flood.py): the PeerServer's one memory quota under
# pressure while the disk thread lets received blocks go. This is how the
# SIGSEGV of docs/real-network.md ("Limits and known gaps") was shown to
# hit today's `get`:
#
#   inbound_flood.sh SWARM_BINARY [SEEDS]
#
# A `share` announces a 32 MiB file and is killed with -9 (the get's dial
# to it fails, so the get has no peer of its own), the get starts
# (--download-limit 4MiB/s, about 8 s), then the flood on its port and
# SEEDS (default 3) honest seeds, which learn of the get from the tracker
# and dial it. Prints whether the get completed or how it ended, and
# whether it left a core dump (core_pattern `core` puts it in the work
# folder; KEEP=1 keeps that). Needs Debian's python3-h2. FLOOD="..." sets
# unrouted_flood.py's arguments (default "128 10 --announce 4194304":
# 128 connections claiming 4 MiB first messages, for 10 s, which is over
# the 128 MiB quota).
set -euo pipefail
SWARM=$(realpath "$1")
SEEDS=${2:-3}
HERE=$(dirname "$(realpath "$0")")
source "$HERE/bench_lib.sh"
bench_workdir inbound_flood
ulimit -c unlimited

cd "$WORK"
head -c $((32 * 1024 * 1024)) /dev/urandom > file.bin
start_tracker
lure_and_vanish file.bin

( rc=0
  timeout 120 "$SWARM" get file.bin --tracker "$TRACKER" --out dl --listen 127.0.0.1:0 \
    --download-limit 4MiB/s > get.out 2> get.err || rc=$?
  echo "$rc" > get.rc ) &
GET_JOB=$!
GET_PORT=$(port_of get.out)
sleep 0.5
# shellcheck disable=SC2086
/usr/bin/python3 "$HERE/unrouted_flood.py" "$GET_PORT" ${FLOOD:-128 10 --announce 4194304} \
  > flood.out &
PIDS+=($!)
for i in $(seq "$SEEDS"); do
  mkdir "seed$i"
  cp file.bin "seed$i/"
  "$SWARM" share "seed$i/file.bin" --tracker "$TRACKER" --listen 127.0.0.1:0 \
    > "seed$i.out" 2> "seed$i.err" &
  PIDS+=($!)
done
wait "$GET_JOB" || true
GET_RC=$(cat get.rc)
if cmp -s file.bin dl/file.bin; then GOT="complete, identical"; else GOT="FAILED (exit $GET_RC)"; fi
SECONDS_TAKEN=$(tr '\r' '\n' < get.out | sed -n 's/.*download_s=\([0-9.]*\).*/\1/p' | tail -1)
echo "get: $GOT${SECONDS_TAKEN:+ in $SECONDS_TAKEN s}; core dumps: $(find . -maxdepth 1 -name 'core*' | wc -l)"
echo "flood: $(tail -1 flood.out)"
grep -h "ended: RESOURCE_EXHAUSTED" seed*.err | sed 's/conn [0-9]*/conn N/' | sort | uniq -c || true
