# Shared by the benchmark scripts in this folder (sourced, not run):
#
#   source "$(dirname "$(realpath "$0")")/bench_lib.sh"
#   bench_workdir NAME   # WORK=a fresh temporary folder, PIDS=(), and an EXIT
#                        # trap that kills PIDS and removes WORK (KEEP=1 keeps it)
#   port_of FILE [TRIES] # waits for "listening on HOST:PORT" in FILE (0.1 s a
#                        # try, default 200) and prints PORT; exits 1 if none

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
