#!/usr/bin/env bash
# A burst of idle connections must not leave a listening port deaf.
#   listen_flood_test.sh SWARM_BINARY
# A tracker and a share run with at most 64 open files (prlimit), so that
# 150 connections that each send only the HTTP/2 preface and an empty
# SETTINGS frame exhaust their file descriptors: gRPC 1.51 then stops
# accepting on the port for good ("Failed accept4: Too many open files",
# net-real/listener_watch.h). After the burst has gone, `swarm list` must
# reach the tracker and a `swarm get` must fetch the file from the share:
# each listened on its port again.
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
fail() { echo "FAIL: $*" >&2; for f in "$WORK"/*.err; do echo "== $f"; tail -5 "$f"; done >&2; exit 1; }

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
# SETTINGS frame; held for a second, then all closed.
flood() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import resource, socket, sys, time
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
for s in socks:
    s.close()
print(f"held {len(socks)} of {n} connections", flush=True)
PY
}

# Waits up to 20 s for the line saying $1 listens on $2 again.
listens_again() {
  for _ in $(seq 200); do
    grep -q "listening on $2 again" "$1" && return
    sleep 0.1
  done
  fail "$1: no word of listening on $2 again"
}

cd "$WORK"
head -c $((1024 * 1024)) /dev/urandom > payload.bin
LIMIT=(prlimit --nofile=64:64)

"${LIMIT[@]}" "$SWARM" tracker --listen 127.0.0.1:0 > tracker.out 2> tracker.err &
PIDS+=($!)
TRACKER=127.0.0.1:$(port_of tracker.out)
"${LIMIT[@]}" "$SWARM" share payload.bin --tracker "$TRACKER" --listen 127.0.0.1:0 \
  > share.out 2> share.err &
PIDS+=($!)
SHARE_PORT=$(port_of share.out)

flood "${TRACKER##*:}" 150
grep -q "Failed accept4" tracker.err || fail "the burst did not exhaust the tracker's descriptors"
listens_again tracker.err "$TRACKER"
"$SWARM" list --tracker "$TRACKER" --tracker-retries 4 > list.out 2> list.err \
  || fail "tracker unreachable after the burst"
grep -q '^payload\.bin ' list.out || fail "list does not show payload.bin"

flood "$SHARE_PORT" 150
grep -q "Failed accept4" share.err || fail "the burst did not exhaust the share's descriptors"
listens_again share.err "127.0.0.1:$SHARE_PORT"
timeout 60 "$SWARM" get payload.bin --tracker "$TRACKER" --out dl --listen 127.0.0.1:0 \
  > get.out 2> get.err || fail "get after the burst at the share: exit $?"
cmp -s payload.bin dl/payload.bin || fail "downloaded file differs"
echo "tracker and share served again after a burst of 150 idle connections each"
