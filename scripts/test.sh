#!/usr/bin/env bash
# Builds everything and runs the whole test suite (unit, simulated network,
# end-to-end over gRPC, analysis, and the `validation` label).
# Extra arguments go to ctest, e.g. `scripts/test.sh -L validation`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh --test
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build
ctest --test-dir build --output-on-failure -j2 "$@"
