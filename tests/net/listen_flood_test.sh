#!/usr/bin/env bash
# A burst of idle connections must neither leave a listening port deaf nor
# cut the links it already serves.
#   listen_flood_test.sh SWARM_BINARY
# A tracker and a share run with at most 64 open files (prlimit), so that
# 150 connections that each send only the HTTP/2 preface and an empty
# SETTINGS frame exhaust their file descriptors. gRPC 1.51's own listener
# stopped accepting for good then ("Failed accept4: Too many open files");
# our accept loop (net-real/accept_loop.h) sheds the connections it has no
# descriptor for, closing them at once, and goes on. Checked:
# - a get that was downloading from the share (at most 1 MiB/s) before the
#   burst at the share's port finishes in the time its file takes, its
#   link never cut (a restarted server dropped it, costing about a minute);
# - some of each burst's connections were closed by the server at once
#   (the port answered while it had no descriptor to spare);
# - right after each burst, `list` reaches the tracker at its first try and
#   a new get fetches the file from the share;
# - neither server was restarted nor logged gRPC's accept failure.
set -euo pipefail
SWARM=$1
WORK=$(mktemp -d "${TMPDIR:-/tmp}/swarm_listen_flood.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ "${KEEP:-0}" != 1 ]]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$WORK"/*.err "$WORK"/*.flood "$WORK"/*.time; do echo "== $f"; tail -5 "$f"; done >&2; exit 1; }

# Waits for "listening on HOST:PORT" in $1 and prints PORT.
port_of() {
  for _ in $(seq 100); do
    if grep -q "listening on" "$1" 2>/dev/null; then
      sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$1" | head -1
      return
    fi
    sleep 0.1
  done
  fail "no listening line in $1"
}

# flood PORT N: N connections at once, each sends the preface and an empty
# SETTINGS frame; held for a second, then all closed. Prints how many were
# made and how many of those the server closed during that second.
flood() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import resource, select, socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 64, max(n + 64, resource.getrlimit(resource.RLIMIT_NOFILE)[1])))
hello = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])
socks = []
for _ in range(n):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        s.sendall(hello)
        socks.append(s)
    except OSError:
        pass
time.sleep(1)
closed = 0
for s in socks:
    s.setblocking(False)
    try:
        while True:
            data = s.recv(65536)
            if not data:
                closed += 1
                break
    except BlockingIOError:
        pass
    except OSError:
        closed += 1  # reset
    s.close()
print(f"made {len(socks)} of {n} connections, {closed} closed by the server", flush=True)
PY
}

# closed_some FILE: the flood's report says the server closed at least one.
closed_some() {
  local c
  c=$(sed -n 's/.*, \([0-9]*\) closed by the server/\1/p' "$1")
  [[ -n "$c" && "$c" -gt 0 ]] || fail "$1: the server closed none of the burst's connections"
}

cd "$WORK"
head -c $((8 * 1024 * 1024)) /dev/urandom > payload.bin
LIMIT=(prlimit --nofile=64:64)

"${LIMIT[@]}" "$SWARM" tracker --listen 127.0.0.1:0 > tracker.out 2> tracker.err &
PIDS+=($!)
TRACKER=127.0.0.1:$(port_of tracker.out)
"${LIMIT[@]}" "$SWARM" share payload.bin --tracker "$TRACKER" --listen 127.0.0.1:0 \
  --upload-limit 1MiB/s > share.out 2> share.err &
PIDS+=($!)
SHARE_PORT=$(port_of share.out)

# The honest link: 8 MiB at 1 MiB/s, about 8 s; the burst comes 2 s in.
# The get listens on 127.0.0.2 but announces from 127.0.0.1, so the share
# cannot dial it: their one link is the get's, to the share's port.
START=$(date +%s.%N)
timeout 100 "$SWARM" get payload.bin --tracker "$TRACKER" --out early --listen 127.0.0.2:0 \
  > early.out 2> early.err &
EARLY=$!
sleep 2
flood "$SHARE_PORT" 150 > share.flood
closed_some share.flood
RC=0
wait "$EARLY" || RC=$?
ELAPSED=$(echo "$(date +%s.%N) - $START" | bc)
echo "the early get took ${ELAPSED} s" > early.time
(( RC == 0 )) || fail "the get under way during the burst failed after ${ELAPSED} s: exit $RC"
cmp -s payload.bin early/payload.bin || fail "the early get's file differs"
# Its link cut, it would have waited for its next announce (about 60 s).
(( $(echo "$ELAPSED < 20" | bc) )) || fail "the early get took ${ELAPSED} s: was its link cut?"
timeout 60 "$SWARM" get payload.bin --tracker "$TRACKER" --out late --listen 127.0.0.1:0 \
  > late.out 2> late.err || fail "get after the burst at the share: exit $?"
cmp -s payload.bin late/payload.bin || fail "the late get's file differs"

flood "${TRACKER##*:}" 150 > tracker.flood
closed_some tracker.flood
"$SWARM" list --tracker "$TRACKER" --tracker-retries 1 > list.out 2> list.err \
  || fail "tracker unreachable right after the burst"
grep -q '^payload\.bin ' list.out || fail "list does not show payload.bin"

for f in tracker.err share.err; do
  ! grep -q "Failed accept4" "$f" || fail "$f: gRPC's listener failed"
  ! grep -q "listening on .* again" "$f" || fail "$f: the server was restarted"
done
echo "early get in ${ELAPSED} s; share: $(cat share.flood); tracker: $(cat tracker.flood)"
