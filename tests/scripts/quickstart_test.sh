#!/usr/bin/env bash
# scripts/quickstart.sh, started from another folder, ends by naming its
# results folder by an absolute path (it printed results/flash_crowd/,
# relative to the checkout, which is not where the user stands). Runs a
# copy of the script in a scratch checkout whose install_deps.sh, cmake and
# build/bin/sim are stubs, under a path with a space.
# Usage: quickstart_test.sh SCRIPT
set -euo pipefail
script=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

repo="$work/my checkout"
mkdir -p "$repo/scripts" "$repo/build/bin" "$work/bin" "$work/elsewhere"
cp "$script" "$repo/scripts/quickstart.sh"
printf '#!/bin/sh\nexit 0\n' > "$repo/scripts/install_deps.sh"
printf '#!/bin/sh\nexit 0\n' > "$work/bin/cmake"
# The stub sim makes the folder after --out, as sim run does.
printf '#!/bin/sh\nwhile [ "$1" != --out ]; do shift; done\nmkdir -p "$2"\n' \
  > "$repo/build/bin/sim"
chmod +x "$repo/scripts"/*.sh "$work/bin/cmake" "$repo/build/bin/sim"

cd "$work/elsewhere"
PATH="$work/bin:$PATH" bash "$repo/scripts/quickstart.sh" > "$work/out"
last=$(tail -n 1 "$work/out")
# It builds only sim: it says how to build swarm, which the README's
# real-swarm commands need (they failed after the quickstart).
grep -qx "  cmake --build build --target swarm" "$work/out" || fail "no hint to build swarm: $(cat "$work/out")"
named=${last#Results and plots are in }
[[ $named == /* ]] || fail "not an absolute path: '$last'"
[[ -d $named && $named -ef $repo/results/flash_crowd ]] ||
  fail "'$named' is not the checkout's results/flash_crowd/"
echo "quickstart_test: ok ($last)"
