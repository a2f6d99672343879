#!/usr/bin/env bash
# The main job: installs what is missing, builds the simulator, runs the
# flash-crowd scenario (1 seed, 1000 leechers, 100 MiB) and plots it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build --target sim
build/bin/sim run scenarios/flash_crowd.yaml --out results/flash_crowd --plot
echo "For real swarms (swarm tracker | share | list | get), build the swarm tool too:"
echo "  cmake --build build --target swarm"
echo "Results and plots are in $PWD/results/flash_crowd/"
