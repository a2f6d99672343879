#!/usr/bin/env bash
# cmake/write_build_id.cmake on a scratch git repository: a clean tree is
# named by its commit alone, and two different sets of uncommitted edits get
# two different `-dirty-DIGEST` ids (they used to share `COMMIT-dirty`).
# Usage: build_id_test.sh CMAKE SCRIPT
set -euo pipefail
cmake_bin=$1
script=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

id_of() {
  "$cmake_bin" -DSOURCE_DIR="$work/repo" -DOUT="$work/id.cc" -DVERSION=0.0.0 -P "$script"
  sed -n 's/.*BuildId() { return "\(.*\)"; }.*/\1/p' "$work/id.cc"
}
fail() { echo "FAIL: $*" >&2; exit 1; }

mkdir "$work/repo"
git -C "$work/repo" init -q
echo one > "$work/repo/a.txt"
git -C "$work/repo" add a.txt
git -C "$work/repo" -c user.name=t -c user.email=t@example.org commit -qm one
commit=$(git -C "$work/repo" rev-parse --short=12 HEAD)

clean=$(id_of)
[[ $clean == "$commit" ]] || fail "clean tree: got '$clean', want '$commit'"

echo two > "$work/repo/a.txt"
first=$(id_of)
[[ $first =~ ^$commit-dirty-[0-9a-f]{10}$ ]] || fail "dirty tree: got '$first'"

echo three > "$work/repo/a.txt"
second=$(id_of)
[[ $second =~ ^$commit-dirty-[0-9a-f]{10}$ ]] || fail "dirty tree: got '$second'"
[[ $first != "$second" ]] || fail "two different edits share the id '$first'"

echo two > "$work/repo/a.txt"
again=$(id_of)
[[ $again == "$first" ]] || fail "the same edit got '$again', then '$first'"

# The user's diff settings do not change it.
git -C "$work/repo" config color.ui always
git -C "$work/repo" config diff.noprefix true
styled=$(id_of)
[[ $styled == "$first" ]] || fail "git config changed the id: '$styled', not '$first'"

echo "build ids: clean $clean, edits $first / $second"
