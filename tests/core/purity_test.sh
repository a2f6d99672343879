#!/usr/bin/env bash
# The protocol core stays pure (docs/architecture.md, "Dependencies"): no
# file in core/ includes anything but core/ headers, OpenSSL's and an
# allow-list of standard headers. Not on the list, on purpose: <chrono>,
# <ctime>, <random> (a clock or a second source of randomness), <thread>,
# <mutex>, <future>, <atomic> (threads), <fstream>, <iostream>, <filesystem>
# (I/O); nor anything of gRPC, protobuf, sim/, net-real/, Boost, yaml-cpp or
# Eigen. Whatever the spacing ("#  include", "# include"). And no code line
# (comments removed) reads a clock, draws from rand()/random_device, or
# calls the C library's file, console, environment or process functions.
# Usage: purity_test.sh CORE_DIR
set -euo pipefail
core=$1
[[ -d $core ]] || { echo "no directory $core" >&2; exit 2; }

# Standard headers core/ may use. Add one here only if it neither reads a
# clock, nor draws random numbers, nor does I/O, nor starts threads.
# <cstdio>: snprintf, and check.h's message to stderr as a CHECK aborts.
allowed=" algorithm array bit cassert charconv cmath compare concepts cstddef cstdint
  cstdio cstdlib cstring deque functional initializer_list iterator limits map memory
  numeric optional set span string string_view tuple type_traits unordered_map
  unordered_set utility variant vector "
allowed=" $(echo $allowed) "  # one space between names, and at both ends

bad=0
while IFS= read -r hit; do
  location=${hit%%:[!0-9]*}  # FILE:LINE of `grep -n`; the text follows
  text=${hit#"$location":}
  header=$(sed -nE 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*(<[^>]*>|"[^"]*").*/\1/p' \
               <<< "$text")
  case $header in
    \"core/*\" | \<openssl/*\>) continue ;;
    \<*\>)
      name=${header#<}
      name=${name%>}
      [[ $allowed == *" $name "* ]] && continue ;;
  esac
  echo "$location: core/ may not include ${header:-this}: $text" >&2
  bad=1
done < <(grep -rnE --include='*.h' --include='*.cc' '^[[:space:]]*#[[:space:]]*include' "$core")

clocks='steady_clock|system_clock|high_resolution_clock|\btime[[:space:]]*\(|gettimeofday'
clocks+='|clock_gettime|\bclock[[:space:]]*\(|\brand[[:space:]]*\(|\bsrand[[:space:]]*\('
clocks+='|random_device|\brandom[[:space:]]*\('
while IFS= read -r hit; do
  location=${hit%%:[!0-9]*}
  code=$(sed -E 's://.*$::' <<< "${hit#"$location":}")
  if grep -qE "$clocks" <<< "$code"; then
    echo "$location: core/ reads a clock or a global random source: $code" >&2
    bad=1
  fi
done < <(grep -rnE --include='*.h' --include='*.cc' "$clocks" "$core")

# No I/O through the C library either (<cstdio> and <cstdlib> are allowed
# for snprintf and check.h): no stdio or environment or process calls
# (names unique to them), no POSIX file calls written as ::open(...) and
# the like, no remove/rename of a named file, and no stdin, stdout or
# stderr. check.h's one message to stderr before it aborts is the
# exception, matched by its exact form. (std::remove over iterators, the
# erase-remove idiom, is not I/O and passes.)
io='\b(fopen|freopen|fdopen|fread|fwrite|fputs|fputc|fgets|fgetc|getc|putc|puts|printf'
io+='|vprintf|fprintf|vfprintf|scanf|fscanf|vscanf|vfscanf|sscanf|getchar|putchar|perror'
io+='|fflush|fseek|ftell|rewind|fclose|setvbuf|ungetc|tmpfile|tmpnam|getenv|secure_getenv'
io+='|setenv|putenv|unsetenv|system|popen|exit|_Exit|quick_exit|atexit)[[:space:]]*\('
io+='|::(open|openat|read|write|pread|pwrite|close|unlink|mkdir)[[:space:]]*\('
io+='|\b(remove|rename)[[:space:]]*\([[:space:]]*"|\b(stdin|stdout|stderr)\b'
while IFS= read -r hit; do
  location=${hit%%:[!0-9]*}
  code=$(sed -E 's://.*$::' <<< "${hit#"$location":}")
  [[ $location == */check.h:* && $code == *'std::fprintf(stderr, '* ]] && continue
  if grep -qE "$io" <<< "$code"; then
    echo "$location: core/ does I/O (or reads the environment): $code" >&2
    bad=1
  fi
done < <(grep -rnE --include='*.h' --include='*.cc' "$io" "$core")

((bad == 0)) && echo "purity_test: core/ is pure"
exit "$bad"
