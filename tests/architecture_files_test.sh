#!/usr/bin/env bash
# docs/architecture.md keeps up with the source files: every header of
# core/ has a row in its "Files (as built)" table; every source file of
# sim/ and net-real/ (their bench/ folders of hand-run tools aside) is named
# in it as `NAME.*`, `NAME.h` or `NAME.cc` (with or without its folder);
# and every file it names so exists. A file added, renamed or removed
# without a word in the doc fails here.
# Usage: architecture_files_test.sh SOURCE_DIR
set -euo pipefail
src=$1
doc=$src/docs/architecture.md
[[ -f $doc ]] || { echo "no $doc" >&2; exit 2; }
bad=0

table=$(sed -n '/^### Files (as built)/,/^### [^F]/p' "$doc")
[[ -n $table ]] || { echo "architecture.md: no 'Files (as built)' table" >&2; exit 1; }
for f in "$src"/core/*.h; do
  name=$(basename "$f")
  if ! grep -qF "\`$name\`" <<< "$table"; then
    echo "core/$name has no row in docs/architecture.md's Files (as built) table" >&2
    bad=1
  fi
done

while IFS= read -r f; do
  base=$(basename "$f")
  stem=${base%.*}
  if ! grep -qE "[\`/]$stem\.(\*|h|cc)\`" "$doc"; then
    echo "$f is not named in docs/architecture.md (as \`$stem.*\` or \`$base\`)" >&2
    bad=1
  fi
done < <(cd "$src" && find sim net-real -path net-real/bench -prune -o \
                          \( -name '*.h' -o -name '*.cc' \) -print | sort)

# The other way: what the doc names in backquotes exists (by file name).
files=$(cd "$src" && find core sim net-real proto bench cmake tests scripts analysis \
                          -type f -printf '%f\n' | sort -u)
while IFS= read -r named; do
  base=${named##*/}
  if [[ $base == *'.*' ]]; then
    grep -qE "^${base%.\*}\.[a-z]+$" <<< "$files" && continue
  else
    grep -qxF "$base" <<< "$files" && continue
  fi
  echo "docs/architecture.md names \`$named\`, which no file in the source tree is" >&2
  bad=1
done < <(grep -oE '`[A-Za-z0-9_./]+\.(\*|h|cc|proto)`' "$doc" | tr -d '`' | sort -u)

((bad == 0)) && echo "architecture_files_test: every source file is named, every name is a file"
exit "$bad"
