#!/usr/bin/env bash
# Installs the Debian 12 packages swarmlab needs, only if some are missing.
#   scripts/install_deps.sh          to build and run (scripts/quickstart.sh)
#   scripts/install_deps.sh --test   also what only the test suite uses
#                                    (scripts/test.sh, and so CI)
set -euo pipefail
PACKAGES=(
  g++ cmake ninja-build pkg-config
  libssl-dev libgtest-dev libgmock-dev googletest libbenchmark-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libyaml-cpp-dev libcli11-dev libboost-graph-dev libeigen3-dev
  python3 python3-matplotlib python3-numpy
)
# Test only: gdb (Debian's is built with Python, which the test needs)
# places a stop signal inside sim's create-and-record windows
# (tests/sim/interrupt_window_test.sh); without it that test is skipped.
# git makes the scratch repository of tests/sim/build_id_test.sh.
TEST_PACKAGES=(gdb git)
case "${1:-}" in
  "") ;;
  --test) PACKAGES+=("${TEST_PACKAGES[@]}") ;;
  *) echo "usage: $0 [--test]" >&2; exit 2 ;;
esac
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then
    # A Debian installed with a root password has no sudo: say what to run
    # as root instead of failing on "sudo: command not found".
    if ! command -v sudo > /dev/null; then
      echo "swarmlab: missing Debian packages: ${missing[*]}" >&2
      echo "swarmlab: not root and no sudo; run this line as root (su -), then this script again:" >&2
      echo "apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
      exit 1
    fi
    SUDO="sudo"
  fi
  echo "swarmlab: installing missing Debian packages: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  # Through env: sudo resets the environment, so a plain VAR=... prefix
  # would not reach apt-get (and debconf could stop to ask a question).
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
