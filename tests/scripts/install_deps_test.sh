#!/usr/bin/env bash
# scripts/install_deps.sh as a user who is not root, with packages missing:
# without sudo (a Debian installed with a root password has none) it prints
# the apt-get line to run as root and exits 1, calling nothing; with sudo it
# installs through sudo. A fake dpkg-query reports every package missing and
# a fake id says uid 1000; PATH holds only the fakes and grep.
# Usage: install_deps_test.sh SCRIPT
set -euo pipefail
script=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

bin=$work/bin
mkdir "$bin"
ln -s "$(command -v grep)" "$bin/grep"
printf '#!/bin/sh\nexit 1\n' > "$bin/dpkg-query"
printf '#!/bin/sh\necho 1000\n' > "$bin/id"
printf '#!/bin/sh\necho "apt-get $*" >> "%s/calls"\n' "$work" > "$bin/apt-get"
chmod +x "$bin"/*

# No sudo: the exact line to run as root, exit 1, nothing run.
set +e
PATH=$bin /bin/bash "$script" --test > "$work/out" 2> "$work/err"
rc=$?
set -e
[[ $rc -eq 1 ]] || fail "no sudo: exit $rc, want 1; stderr: $(cat "$work/err")"
[[ ! -e $work/calls ]] || fail "no sudo: it ran $(cat "$work/calls")"
want="apt-get update && apt-get install -y --no-install-recommends g++ cmake ninja-build"
grep -qF "$want" "$work/err" || fail "no sudo: no '$want...' line in: $(cat "$work/err")"
for p in python3-numpy gdb git; do
  grep -q "^apt-get .* $p\b" "$work/err" || fail "no sudo: the apt-get line lacks $p"
done
grep -q "sudo: command not found\|sudo: not found" "$work/err" && fail "it called sudo"

# With sudo: apt-get runs through it.
printf '#!/bin/sh\necho "sudo $*" >> "%s/calls"\n' "$work" > "$bin/sudo"
chmod +x "$bin/sudo"
PATH=$bin /bin/bash "$script" > "$work/out" 2> "$work/err" || fail "with sudo: exit $?"
# DEBIAN_FRONTEND through env: a VAR=... prefix before sudo does not reach
# apt-get (sudo resets the environment).
grep -q "^sudo env DEBIAN_FRONTEND=noninteractive apt-get install .* python3-numpy$" "$work/calls" ||
  fail "with sudo: calls were: $(cat "$work/calls")"
echo "install_deps_test: ok"
