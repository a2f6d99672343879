# Shared by the benchmark scripts in this folder (sourced, not run):
#
#   source "$(dirname "$(realpath "$0")")/bench_lib.sh"
#   bench_workdir NAME   # WORK=a fresh temporary folder, PIDS=(), and an EXIT
#                        # trap that kills PIDS and removes WORK (KEEP=1 keeps it)
#   port_of FILE [TRIES] # waits for "listening on HOST:PORT" in FILE (0.1 s a
#                        # try, default 200) and prints PORT; exits 1 if none
#   start_tracker        # `$SWARM tracker` on a free loopback port, in PIDS;
#                        # sets TRACKER=127.0.0.1:PORT
#   lure_and_vanish FILE [PAUSE]  # a `$SWARM share FILE` that announces, is
#                        # listed, waits PAUSE s (default 0) and is killed
#                        # with -9 (no `stopped`); sets LURE_PORT, its port

bench_workdir() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
  PIDS=()
  trap bench_cleanup EXIT
}

bench_cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ "${KEEP:-0}" == 1 ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}

port_of() {
  for _ in $(seq "${2:-200}"); do
    if grep -q "listening on" "$1" 2>/dev/null; then
      sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$1" | head -1
      return
    fi
    sleep 0.1
  done
  echo "no listening line in $1" >&2
  exit 1
}

start_tracker() {
  "$SWARM" tracker --listen 127.0.0.1:0 > tracker.out 2> tracker.err &
  PIDS+=($!)
  TRACKER=127.0.0.1:$(port_of tracker.out)
}

lure_and_vanish() {
  "$SWARM" share "$1" --tracker "$TRACKER" --listen 127.0.0.1:0 > lure.out 2> lure.err &
  local lure=$!
  LURE_PORT=$(port_of lure.out)
  for _ in $(seq 100); do
    "$SWARM" list --tracker "$TRACKER" 2>/dev/null | grep -q "$(basename "$1") .* 1 " && break
    sleep 0.1
  done
  sleep "${2:-0}"
  kill -9 "$lure"
  wait "$lure" 2>/dev/null || true
}
