#!/usr/bin/env bash
# End-to-end tests of the `swarm` binary on loopback, as separate processes.
#   e2e_test.sh SWARM_BINARY swarm    tracker + 1 share of 32 MiB + 8 gets;
#                                     every output's SHA-256 must match; after
#                                     Ctrl-C of the seed the tracker lists no
#                                     peers (stopped announces arrived).
#   e2e_test.sh SWARM_BINARY resume   a get killed with -9 once 16 pieces are
#                                     on disk; the rerun re-checks the
#                                     partial file, keeps every one of them
#                                     and fetches only the missing pieces.
#   e2e_test.sh SWARM_BINARY corrupt  a seed that corrupts every block it
#                                     serves beside an honest one: the get
#                                     ends correct and bans the liar.
#   e2e_test.sh SWARM_BINARY cli      exit codes at the edges: a busy port
#                                     (2, one line, before share hashes or
#                                     get asks the tracker), a name the
#                                     tracker lacks (1, no --out left
#                                     behind), Ctrl-C while retrying an
#                                     unreachable tracker (130) and
#                                     during a call to a mute one (at
#                                     once, "unreachable" unsaid); share
#                                     with an unreachable tracker (1, no
#                                     hashing); Ctrl-C while share hashes
#                                     (130, nothing published); SIGHUP
#                                     stops a get like Ctrl-C (130).
#   e2e_test.sh SWARM_BINARY pipe     stdout a pipe without a reader (as
#                                     `| head -1`): get and share run on,
#                                     exit 0 and announce stopped; share
#                                     warns of a loopback --tracker.
#   e2e_test.sh SWARM_BINARY disk     storage failures: a get under a file
#                                     size limit (RLIMIT_FSIZE, standing in
#                                     for a full disk) stops with the file
#                                     and the OS error, exit 1, keeps its
#                                     partial file, announces stopped and
#                                     blames no peer; the rerun resumes.
#                                     A seed whose file is truncated stops
#                                     (1) saying so; one whose file is
#                                     deleted serves the bytes it has open.
#                                     A get whose folder is deleted stops.
#   e2e_test.sh SWARM_BINARY localfile  another program writes into a get's
#                                     partial file: into a verified piece,
#                                     the get stops (1) saying so, renames
#                                     nothing, and the rerun fetches the
#                                     piece again; a bare `touch` costs a
#                                     re-check and the get completes. A
#                                     completed get whose file is edited
#                                     while it seeds stops seeding, exit 0.
#   e2e_test.sh SWARM_BINARY multishare  `share a.bin b.bin`, a.bin truncated
#                                     while a get fetches it: only a.bin's
#                                     seed stops (announces stopped); b.bin
#                                     still downloads, `list` shows a.bin
#                                     with no seed and b.bin with one;
#                                     Ctrl-C then exits 1 (a file failed).
set -euo pipefail
SWARM=$1
MODE=$2
WORK=$(mktemp -d "${TMPDIR:-/tmp}/swarm_e2e_${MODE}.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ "${KEEP:-0}" != 1 ]]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$WORK"/*.err; do echo "== $f"; tail -5 "$f"; done >&2; exit 1; }

# Waits for "listening on HOST:PORT" in $1 and prints PORT.
port_of() {
  for _ in $(seq 100); do
    if grep -q "listening on" "$1" 2>/dev/null; then
      sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$1" | head -1
      return
    fi
    sleep 0.1
  done
  fail "no listening line in $1"
}

cd "$WORK"
head -c $((32 * 1024 * 1024)) /dev/urandom > payload.bin
WANT=$(sha256sum payload.bin | cut -d' ' -f1)

"$SWARM" tracker --listen 127.0.0.1:0 > tracker.out 2> tracker.err &
PIDS+=($!)
TRACKER=127.0.0.1:$(port_of tracker.out)

"$SWARM" share payload.bin --tracker "$TRACKER" --listen 127.0.0.1:0 > share.out 2> share.err &
SHARE_PID=$!
PIDS+=($SHARE_PID)
port_of share.out > /dev/null

# get OUTDIR LOGNAME [flags...]. It execs, so `get ... &` gives the swarm
# process's own PID (kill -9 must hit it, not a subshell); run it in the
# foreground as `(get ...)`.
# Waits up to 10 s for a file matching the glob $1 (a get's partial file).
wait_for_part() {
  for _ in $(seq 100); do
    compgen -G "$1" > /dev/null && return
    sleep 0.1
  done
}

get() {
  local out=$1 log=$2
  shift 2
  exec "$SWARM" get payload.bin --tracker "$TRACKER" --out "$out" --listen 127.0.0.1:0 "$@" \
    > "$log.out" 2> "$log.err"
}
field() { sed -n "s/.* $2=\([0-9.-]*\).*/\1/p" "$1" | tail -1; }

case "$MODE" in
swarm)
  # The first get pins the content by the info-hash share printed.
  HASH=$(sed -n 's/.*info-hash \([0-9a-f]\{16\}\).*/\1/p' share.err | head -1)
  [[ -n $HASH ]] || fail "share printed no info-hash"
  GETS=()
  for i in 1 2 3 4 5 6 7 8; do
    PIN=()
    [[ $i == 1 ]] && PIN=(--info-hash "$HASH")
    get "dl$i" "get$i" --seed-after 3s "${PIN[@]}" &
    GETS+=($!)
    PIDS+=($!)
  done
  for p in "${GETS[@]}"; do wait "$p" || fail "a get exited with $?"; done
  for i in 1 2 3 4 5 6 7 8; do
    [[ -f "dl$i/payload.bin" ]] || fail "dl$i/payload.bin missing"
    compgen -G "dl$i/*.part" >/dev/null && fail "dl$i still has a .part file"
    GOT=$(sha256sum "dl$i/payload.bin" | cut -d' ' -f1)
    [[ "$GOT" == "$WANT" ]] || fail "dl$i SHA-256 $GOT != $WANT"
  done
  # A first start says so, not "resume: 0 of 128 pieces verified".
  grep -qx 'starting fresh (no verified piece on disk)' get1.out || { cat get1.out; fail "get1: no 'starting fresh'"; }
  grep -q '^resume:' get1.out && { cat get1.out; fail "get1: a fresh start printed a resume line"; }
  # Every connection between honest peers proves its ids (peer_auth.h).
  for i in 1 2 3 4 5 6 7 8; do
    [[ $(field "get$i.out" auth_failures) == 0 ]] || fail "get$i: auth_failures not 0"
  done
  # Gets that upload while they download write and read their partial file
  # from two threads; that is never another program's write.
  for i in 1 2 3 4 5 6 7 8; do
    grep -q "another program" "get$i.err" && fail "get$i took its own writes for another program's"
  done
  UP_BY_GETS=0
  for i in 1 2 3 4 5 6 7 8; do UP_BY_GETS=$((UP_BY_GETS + $(field "get$i.out" uploaded))); done
  echo "8 downloads verified; leechers uploaded $UP_BY_GETS bytes to each other"
  kill -INT "$SHARE_PID"
  wait "$SHARE_PID" || fail "share did not exit cleanly on SIGINT"
  "$SWARM" list --tracker "$TRACKER" > list.out
  grep -Eq '^payload\.bin +32\.0 MiB +128 +0 +0 +[0-9a-f]{16}$' list.out || { cat list.out; fail "tracker still lists peers"; }
  # A get of the file now (no seed listed) says so at once; it used to say
  # nothing for 30 s. Stopped after 4 s (SIGINT, exit code 130).
  RC=0
  timeout --preserve-status -s INT 4 "$SWARM" get payload.bin --tracker "$TRACKER" --out noseed --listen 127.0.0.1:0 \
    > noseed.out 2> noseed.err || RC=$?
  (( RC == 130 )) && grep -qF "tracker $TRACKER lists no seed for 'payload.bin' now (0 leechers)" noseed.err \
    || { cat noseed.err; fail "get with no seed listed: rc $RC, or no word of it"; }
  ;;
resume)
  # Pieces of the payload already in the partial file, counted by content:
  # the file is preallocated (fallocate), so its size says nothing.
  # One process, not a cmp per piece: 128 of those took seconds on a loaded
  # machine, and the get once finished before the loop saw 16 pieces.
  pieces_on_disk() {
    /usr/bin/python3 - "$1" payload.bin <<'PY'
import sys
with open(sys.argv[1], "rb") as part, open(sys.argv[2], "rb") as whole:
    print(sum(part.read(262144) == whole.read(262144) for _ in range(128)))
PY
  }
  # 2 MiB/s: 16 s for the whole file, so the kill lands well before the end
  # however late this loop notices the first 16 pieces (about 2 s in).
  get dl first --download-limit 2MiB/s &
  P=$!
  PIDS+=($P)
  HAVE=0
  for _ in $(seq 300); do
    PART=$(compgen -G "dl/payload.bin.*.part" | head -n 1 || true)
    if [[ -n "$PART" && -f "$PART" ]]; then
      HAVE=$(pieces_on_disk "$PART")
      (( HAVE >= 16 )) && break
    fi
    kill -0 "$P" 2> /dev/null || break
    sleep 0.1
  done
  kill -9 "$P"
  wait "$P" 2>/dev/null || true
  kill -0 "$P" 2>/dev/null && fail "the killed get is still running"
  [[ ! -e dl/payload.bin ]] || fail "final file appeared before completion"
  grep -q '^summary:' first.out && fail "the first get finished before the kill"
  # What the killed get left on disk, counted now that nothing writes it.
  PART=$(compgen -G "dl/payload.bin.*.part" | head -n 1 || true)
  [[ -n "$PART" ]] && HAVE=$(pieces_on_disk "$PART")
  (get dl second)
  RESUMED=$(field second.out resumed_pieces)
  DOWN=$(field second.out downloaded)
  echo "$HAVE pieces on disk at the kill; resumed $RESUMED of 128, then downloaded $DOWN bytes"
  (( HAVE >= 16 )) || fail "only $HAVE pieces on disk before the kill"
  (( RESUMED >= HAVE && RESUMED < 128 )) \
    || fail "resumed_pieces=$RESUMED (want $HAVE <= n < 128: every piece on disk is kept)"
  (( DOWN <= (128 - RESUMED) * 262144 )) || fail "downloaded $DOWN > missing pieces"
  (( DOWN > 0 )) || fail "nothing downloaded after resume"
  [[ $(sha256sum dl/payload.bin | cut -d' ' -f1) == "$WANT" ]] || fail "SHA-256 mismatch"
  ;;
corrupt)
  "$SWARM" share payload.bin --tracker "$TRACKER" --listen 127.0.0.1:0 --corrupt-uploads \
    > liar.out 2> liar.err &
  PIDS+=($!)
  port_of liar.out > /dev/null
  (get dl victim)
  FAILED=$(field victim.out pieces_failed)
  BANNED=$(field victim.out peers_banned)
  echo "pieces_failed=$FAILED peers_banned=$BANNED"
  (( BANNED >= 1 )) || fail "the corrupting seed was not banned"
  (( FAILED >= 1 )) || fail "no piece failed: the liar served nothing?"
  [[ $(sha256sum dl/payload.bin | cut -d' ' -f1) == "$WANT" ]] || fail "SHA-256 mismatch"
  # The only seed lies: once it is banned, the get says that nothing can
  # arrive until another peer appears (instead of sitting at peers 0).
  head -c $((4 * 1024 * 1024)) /dev/urandom > lonely.bin
  "$SWARM" share lonely.bin --tracker "$TRACKER" --listen 127.0.0.1:0 --corrupt-uploads \
    > lonely_share.out 2> lonely_share.err &
  PIDS+=($!)
  port_of lonely_share.out > /dev/null
  "$SWARM" get lonely.bin --tracker "$TRACKER" --out lonely --listen 127.0.0.1:0 \
    > lonely.out 2> lonely.err &
  P=$!
  PIDS+=($P)
  for _ in $(seq 300); do grep -q "is banned" lonely.err && break; sleep 0.1; done
  kill -INT "$P"
  wait "$P" || true
  grep -q "peer [0-9]* is banned: it sent data that failed SHA-256 verification; no other peer is connected, so the download cannot progress until another peer" lonely.err \
    || { cat lonely.err; fail "no word that the only seed was banned"; }
  ;;
cli)
  RC=0
  timeout 10 "$SWARM" tracker --listen "$TRACKER" > busy.out 2> busy.err || RC=$?
  (( RC == 2 )) && grep -q -- "--listen: cannot listen on $TRACKER: Address already in use" busy.err \
    || fail "busy port: rc $RC"
  # One line, ours: the port is tried with a plain socket before gRPC sees it.
  [[ $(wc -l < busy.err) == 1 ]] || { cat busy.err; fail "busy port: gRPC's log as well"; }
  # share finds a busy --listen before hashing; get before asking the
  # tracker (port 1: it would retry for a minute).
  RC=0
  timeout 10 "$SWARM" share payload.bin --tracker "$TRACKER" --listen "$TRACKER" \
    > busy_share.out 2> busy_share.err || RC=$?
  (( RC == 2 )) && [[ $(cat busy_share.err) == "swarm: error: --listen: cannot listen on $TRACKER: Address already in use" ]] \
    || { cat busy_share.err; fail "share with a busy --listen: rc $RC (hashed first?)"; }
  RC=0
  timeout 10 "$SWARM" get payload.bin --tracker 127.0.0.1:1 --listen "$TRACKER" --out never \
    > busy_get.out 2> busy_get.err || RC=$?
  (( RC == 2 )) && [[ $(wc -l < busy_get.err) == 1 ]] \
    || { cat busy_get.err; fail "get with a busy --listen: rc $RC"; }
  [[ ! -e never ]] || fail "a busy --listen left its --out directory behind"
  RC=0
  "$SWARM" get nosuch.bin --tracker "$TRACKER" --out never > missing.out 2> missing.err || RC=$?
  (( RC == 1 )) && grep -q "has no file named 'nosuch.bin' (check .swarm list.; a tracker that restarted just now relearns its files as sharers publish them again, within a minute)" missing.err \
    || { cat missing.err; fail "missing: rc $RC"; }
  [[ ! -e never ]] || fail "a failed lookup left its --out directory behind"
  # --info-hash pins the content (a name is first come, first served): a
  # file listed under the name with another info-hash is refused before
  # anything is written, and a malformed one is a usage error.
  RC=0
  "$SWARM" get payload.bin --tracker "$TRACKER" --info-hash 0123456789ABCDEF --out never \
    > pin.out 2> pin.err || RC=$?
  (( RC == 1 )) && grep -q "lists a different file named 'payload.bin': its info-hash is [0-9a-f]\{16\}, not 0123456789abcdef (--info-hash); nothing downloaded" pin.err \
    || { cat pin.err; fail "a wrong --info-hash: rc $RC"; }
  [[ ! -e never ]] || fail "a wrong --info-hash left its --out directory behind"
  RC=0
  "$SWARM" get payload.bin --tracker "$TRACKER" --info-hash 12345 --out never \
    > pin2.out 2> pin2.err || RC=$?
  (( RC == 2 )) && grep -q -- "--info-hash: expected 16 to 64 hex digits" pin2.err \
    || { cat pin2.err; fail "a malformed --info-hash: rc $RC"; }
  # Port 1 on loopback refuses connections: the get backs off 1 s, 2 s, ...
  "$SWARM" get payload.bin --tracker 127.0.0.1:1 --out never > retry.out 2> retry.err &
  P=$!
  PIDS+=($P)
  for _ in $(seq 300); do grep -q "retry 1/" retry.err && break; sleep 0.1; done
  kill -INT "$P"
  RC=0
  wait "$P" || RC=$?
  (( RC == 130 )) || fail "Ctrl-C while retrying: rc $RC (want 130)"
  grep -q "interrupted while waiting for the tracker" retry.err || fail "no interruption message"
  # A tracker that takes connections and never answers (a socket nobody
  # accepts on): Ctrl-C during the call ends it at once, not after its
  # 5 s deadline, and does not call the tracker unreachable.
  /usr/bin/python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True); time.sleep(120)' > mute.port &
  PIDS+=($!)
  for _ in $(seq 100); do [[ -s mute.port ]] && break; sleep 0.1; done
  "$SWARM" get payload.bin --tracker "127.0.0.1:$(cat mute.port)" --out never > mute.out 2> mute.err &
  P=$!
  PIDS+=($P)
  sleep 1
  T0=$(date +%s%N)
  kill -INT "$P"
  RC=0
  wait "$P" || RC=$?
  MS=$(( ($(date +%s%N) - T0) / 1000000 ))
  (( RC == 130 && MS < 2500 )) || { cat mute.err; fail "Ctrl-C during a tracker call: rc $RC after $MS ms"; }
  grep -q "unreachable" mute.err && { cat mute.err; fail "Ctrl-C during a tracker call: called it unreachable"; }
  grep -q "interrupted while waiting for the tracker" mute.err || { cat mute.err; fail "Ctrl-C during a tracker call: no word of it"; }
  # share asks the tracker before it hashes: an unreachable one costs no
  # hashing (no "hashed" line), just the usual retries.
  RC=0
  "$SWARM" share payload.bin --tracker 127.0.0.1:1 --tracker-retries 2 \
    > unreach.out 2> unreach.err || RC=$?
  # The reason is gRPC's innermost cause and a hint, not its whole text
  # ("failed to connect to all addresses; last error: UNKNOWN: ipv4:...").
  (( RC == 1 )) && grep -q "tracker 127.0.0.1:1: unreachable (Connection refused; is \`swarm tracker\` running at that address?); retry 1/1 in 1s" unreach.err \
    && grep -q "unreachable.*; giving up" unreach.err || { cat unreach.err; fail "share, unreachable tracker: rc $RC"; }
  grep -q "hashed" unreach.err && { cat unreach.err; fail "share hashed before finding the tracker unreachable"; }
  # Ctrl-C while share hashes (a sparse 64 GiB file: minutes of hashing)
  # ends it with 130 and says so; nothing is published.
  truncate -s 64G huge.bin
  "$SWARM" share huge.bin --tracker "$TRACKER" --listen 127.0.0.1:0 > huge.out 2> huge.err &
  P=$!
  PIDS+=($P)
  # Seen open twice in a row: share also opens the file for a moment to
  # check it, before it blocks signals, and a SIGINT then would kill it
  # without a word. (Up to 30 s: the machine may be loaded.)
  SEEN=0
  for _ in $(seq 300); do
    if ls -l /proc/$P/fd 2> /dev/null | grep -q "huge.bin"; then
      (( ++SEEN >= 2 )) && break
    else
      SEEN=0
    fi
    sleep 0.1
  done
  kill -INT "$P"
  RC=0
  wait "$P" || RC=$?
  (( RC == 130 )) && grep -q "interrupted while hashing huge.bin; nothing published" huge.err \
    || { cat huge.err; fail "Ctrl-C while hashing: rc $RC"; }
  rm -f huge.bin
  # A file beyond the core's bounds on a torrent (core/torrent_limits.h) is
  # refused before it is hashed: 300 GiB in 1 KiB blocks is too many.
  truncate -s 300G toolarge.bin
  RC=0
  timeout 10 "$SWARM" share toolarge.bin --tracker "$TRACKER" --block-size 1KiB \
    > toolarge.out 2> toolarge.err || RC=$?
  (( RC == 2 )) && grep -q "toolarge.bin is too large to share: too many blocks: 300GiB in blocks of 1KiB makes 314572800 (at most 268435456)" toolarge.err \
    || { cat toolarge.err; fail "share of a file too large: rc $RC (hashed first?)"; }
  rm -f toolarge.bin
  # Within those bounds but with more piece hashes than one tracker message
  # carries (32 bytes each, 64 MiB): refused before hashing too, not after
  # it with ten retries of a publish gRPC will not send.
  truncate -s 40G manypieces.bin
  RC=0
  timeout 10 "$SWARM" share manypieces.bin --tracker "$TRACKER" --piece-length 16KiB \
    > manypieces.out 2> manypieces.err || RC=$?
  (( RC == 2 )) \
    && grep -q "manypieces.bin is too large to share in pieces of .*: 2621440 pieces make a" \
      manypieces.err \
    || { cat manypieces.err; fail "share of a file with too many pieces: rc $RC (hashed first?)"; }
  rm -f manypieces.bin
  "$SWARM" list --tracker "$TRACKER" | grep -q huge.bin && fail "an interrupted share published its file"
  # Two FILEs with one base name are refused before any file is hashed
  # (here the first is a directory, which hashing would report instead).
  mkdir -p dup_a/x dup_b && echo data > dup_b/x
  RC=0
  "$SWARM" share dup_a/x dup_b/x --tracker "$TRACKER" > dup.out 2> dup.err || RC=$?
  (( RC == 2 )) && grep -q "dup_b/x: another FILE is also named x" dup.err \
    || { cat dup.err; fail "duplicate base name: rc $RC"; }
  # A name too long for the partial file's suffix is refused, saying why.
  LONG=$(printf 'n%.0s' {1..238})
  echo data > "$LONG"
  RC=0
  "$SWARM" share "$LONG" --tracker "$TRACKER" > long.out 2> long.err || RC=$?
  (( RC == 2 )) && grep -q "not a shareable file name: it has 238 bytes (at most 237)" long.err \
    || { cat long.err; fail "share of a 238-byte name: rc $RC, or no reason given"; }
  RC=0
  "$SWARM" get "$LONG" --tracker "$TRACKER" --out never > long_get.out 2> long_get.err || RC=$?
  (( RC == 2 )) && grep -q "is not a plain file name: it has 238 bytes (at most 237)" long_get.err \
    || { cat long_get.err; fail "get of a 238-byte name: rc $RC, or no reason given"; }
  rm -f "$LONG"
  # So is a FILE that cannot be read, before the others are hashed.
  RC=0
  "$SWARM" share payload.bin missing.bin --tracker "$TRACKER" > miss.out 2> miss.err || RC=$?
  (( RC == 2 )) && [[ $(cat miss.err) == "swarm: error: cannot open missing.bin: No such file or directory" ]] \
    || { cat miss.err; fail "share of a missing FILE: rc $RC (hashed first?)"; }
  RC=0
  "$SWARM" share dup_a --tracker "$TRACKER" > dir.out 2> dir.err || RC=$?
  (( RC == 2 )) && grep -qF "dup_a is a directory, not a file (to share the files in it: swarm share dup_a/*)" dir.err \
    || { cat dir.err; fail "share of a directory: rc $RC"; }
  # An unknown subcommand is named; an empty --out is refused by name.
  RC=0
  "$SWARM" frob > frob.out 2> frob.err || RC=$?
  (( RC == 2 )) && grep -q "unknown subcommand 'frob' (expected tracker, share, list, get or run-scenario" frob.err \
    || { cat frob.err; fail "unknown subcommand: rc $RC"; }
  RC=0
  "$SWARM" get payload.bin --tracker "$TRACKER" --out "" > empty.out 2> empty.err || RC=$?
  (( RC == 2 )) && grep -q -- "--out: expected a folder, got an empty string" empty.err \
    || { cat empty.err; fail "--out '': rc $RC"; }
  # --help shows readable value names, not CLI11's type strings, and the
  # ranges in words.
  for cmd in tracker share list get run-scenario; do
    "$SWARM" $cmd --help > help.out 2>&1 || true
    grep -Eq 'UINT|INT:|TEXT|FLOAT' help.out && { cat help.out; fail "$cmd --help shows CLI11 type names"; }
  done
  "$SWARM" get --help > help.out
  grep -q -- "--pipeline N=16 .*requests in flight per connection, 1\.\.256" help.out \
    || { cat help.out; fail "--pipeline's range not in --help"; }
  grep -q -- "--request-queue-time DURATION=0s" help.out && grep -q "adaptive pipeline: " help.out \
    || { cat help.out; fail "--request-queue-time not in --help"; }
  RC=0
  "$SWARM" get payload.bin --tracker "$TRACKER" --out never --request-queue-time 3 2> rqt.err || RC=$?
  (( RC == 2 )) && grep -qF -- "--request-queue-time: expected a duration with its unit, 0s (off) to 30s (e.g. 3s), got '3'" rqt.err \
    || { cat rqt.err; fail "--request-queue-time 3: rc $RC"; }
  # Out-of-range ports and odd --seed-after values are refused up front.
  RC=0
  "$SWARM" tracker --listen 127.0.0.1:99999 > range.out 2> range.err || RC=$?
  (( RC == 2 )) && grep -q "port must be a number in 0..65535" range.err || fail "port 99999: rc $RC"
  RC=0
  "$SWARM" get payload.bin --tracker "$TRACKER" --out never --seed-after x 2> x.err || RC=$?
  (( RC == 2 )) && grep -q "seed-after" x.err || fail "--seed-after x: rc $RC"
  # A zero interval parses; the message says what is wrong with it.
  RC=0
  "$SWARM" tracker --listen 127.0.0.1:0 --announce-interval 0s > ai.out 2> ai.err || RC=$?
  (( RC == 2 )) && grep -q -- "--announce-interval: must be positive, got '0s'" ai.err \
    || { cat ai.err; fail "--announce-interval 0s: rc $RC"; }
  # Shorter than peers re-announce: they would drop off the listing between
  # announces (a seed listed 1,1,0,0,0,1,... with 10s).
  RC=0
  "$SWARM" tracker --listen 127.0.0.1:0 --announce-interval 10s > ai.out 2> ai.err || RC=$?
  (( RC == 2 )) && grep -q -- "--announce-interval: must be between 1min and 24h" ai.err \
    || { cat ai.err; fail "--announce-interval 10s: rc $RC"; }
  # Zero attempts used to mean one, silently.
  for cmd in list get; do
    RC=0
    if [[ $cmd == list ]]; then
      "$SWARM" list --tracker "$TRACKER" --tracker-retries 0 > tr.out 2> tr.err || RC=$?
    else
      "$SWARM" get payload.bin --tracker "$TRACKER" --out never --tracker-retries 0 \
        > tr.out 2> tr.err || RC=$?
    fi
    (( RC == 2 )) && grep -q -- "--tracker-retries: Value 0 not in range" tr.err \
      || { cat tr.err; fail "$cmd --tracker-retries 0: rc $RC"; }
  done
  # Counts: empty, negative and out-of-range values are refused with the
  # flag's name (an empty one used to read as 0), in our error format.
  for bad in '' -1 20000; do
    RC=0
    "$SWARM" get payload.bin --tracker "$TRACKER" --out never --max-connections "$bad" \
      > mc.out 2> mc.err || RC=$?
    (( RC == 2 )) && grep -q -- "^swarm: error: --max-connections: " mc.err \
      || { cat mc.err; fail "--max-connections '$bad': rc $RC"; }
  done
  # A name that is not UTF-8 cannot travel in the tracker's messages: it is
  # refused before hashing, not reported as "not a swarm tracker".
  BAD_NAME=$(printf 'bad\xff.bin')
  head -c 1000 /dev/urandom > "$BAD_NAME"
  RC=0
  "$SWARM" share --tracker "$TRACKER" -- "$BAD_NAME" > bn.out 2> bn.err || RC=$?
  (( RC == 2 )) && grep -q "not valid UTF-8 at byte 4" bn.err && ! grep -q hashed bn.err \
    || { cat bn.err; fail "share of a non-UTF-8 name: rc $RC"; }
  rm -f "$BAD_NAME"
  # A file of the user's named like a partial file, and a file in --out with
  # the right name but extra bytes, are left alone.
  mkdir -p mine
  echo "my notes" > mine/payload.bin.part
  cp payload.bin mine/payload.bin && echo JUNK >> mine/payload.bin
  RC=0
  (get mine junk) || RC=$?
  (( RC == 1 )) && grep -q "exists and is not payload.bin" junk.err || fail "longer file: rc $RC"
  [[ "$(cat mine/payload.bin.part)" == "my notes" ]] || fail "a user's .part file was changed"
  rm mine/payload.bin
  (get mine mine --seed-after 0s) || fail "get next to a user's .part file failed"
  [[ "$(sha256sum mine/payload.bin | cut -d' ' -f1)" == "$WANT" ]] || fail "bad copy in mine/"
  [[ "$(cat mine/payload.bin.part)" == "my notes" ]] || fail "a user's .part file was changed"
  # A partial file that already holds every piece (killed just before the
  # rename) is finished at once.
  HASH=$(sed -n 's/.*info-hash \([0-9a-f]\{12\}\).*/\1/p' share.err | head -n 1)
  [[ -n "$HASH" ]] || fail "no info-hash in share.err"
  mkdir -p full
  cp payload.bin "full/payload.bin.$HASH.part"
  (get full full) || fail "get of a complete partial file failed"
  grep -q "complete: full/payload.bin" full.out || fail "no complete line for a complete partial file"
  [[ "$(sha256sum full/payload.bin | cut -d' ' -f1)" == "$WANT" ]] || fail "bad copy in full/"
  # Two gets into one folder: the second finds the partial file locked.
  get twice first --download-limit 4MiB/s &
  P=$!
  PIDS+=($P)
  wait_for_part "twice/payload.bin.*.part"
  RC=0
  (get twice second) || RC=$?
  (( RC == 1 )) && grep -q "another swarm get is downloading into it" second.err \
    || fail "second get into one folder: rc $RC"
  kill -TERM "$P" 2>/dev/null || true
  RC=0
  wait "$P" || RC=$?
  # On a loaded machine no piece may be verified yet: either word will do.
  (( RC == 130 )) && grep -Eq "interrupted: .* pieces kept in twice/payload.bin\..*\.part; the same command resumes|interrupted before any piece arrived; nothing kept" first.err \
    || { cat first.err; fail "interrupted get: rc $RC, or no word on what was kept"; }
  # The terminal closed (SIGHUP) stops a get as Ctrl-C does: summary,
  # pieces kept, `stopped` announced (the tracker lists the seed alone).
  # Not when this shell ignores SIGHUP (run under nohup): so does the get.
  if (( (0x$(sed -n 's/^SigIgn:\t*//p' /proc/$$/status) & 1) == 0 )); then
    get hup hup --download-limit 4MiB/s &
    P=$!
    PIDS+=($P)
    port_of hup.out > /dev/null
    kill -HUP "$P"
    RC=0
    wait "$P" || RC=$?
    # However far it got: pieces kept, or none (and nothing left).
    (( RC == 130 )) && grep -q '^summary: complete=0' hup.out \
      && grep -Eq "interrupted: .* pieces kept in hup/payload.bin\..*\.part; the same command resumes|interrupted before any piece arrived; nothing kept" hup.err \
      || { cat hup.err; fail "get stopped by SIGHUP: rc $RC, or no summary and word on what was kept"; }
    "$SWARM" list --tracker "$TRACKER" > hup_list.out
    grep -Eq '^payload\.bin +32\.0 MiB +128 +1 +0 +[0-9a-f]{16}$' hup_list.out \
      || { cat hup_list.out; fail "a get stopped by SIGHUP is still listed as a leecher"; }
  fi
  # With the seed gone, a get interrupted before any piece arrived leaves
  # neither its partial file (space for all 32 MiB) nor the --out it made.
  kill -INT "$SHARE_PID"
  wait "$SHARE_PID" || fail "share did not exit cleanly on SIGINT"
  get nothing/here nothing &
  P=$!
  PIDS+=($P)
  port_of nothing.out > /dev/null
  compgen -G "nothing/here/payload.bin.*.part" > /dev/null || fail "no partial file while waiting"
  kill -INT "$P"
  RC=0
  wait "$P" || RC=$?
  (( RC == 130 )) && grep -q "interrupted before any piece arrived; nothing kept" nothing.err \
    || { cat nothing.err; fail "get interrupted with nothing: rc $RC"; }
  [[ ! -e nothing ]] || { ls -R nothing; fail "an empty partial file or --out was left"; }
  # A file of the user's moved over the partial file meanwhile is neither
  # removed nor offered for resuming.
  get swapped swapped &
  P=$!
  PIDS+=($P)
  port_of swapped.out > /dev/null
  PART=$(compgen -G "swapped/payload.bin.*.part") || fail "no partial file in swapped/"
  echo "my notes" > swapped/mine
  mv swapped/mine "$PART"
  kill -INT "$P"
  RC=0
  wait "$P" || RC=$?
  (( RC == 130 )) && grep -q "interrupted: nothing kept (swapped/payload.bin\..*\.part is now another file, which was left alone)" swapped.err \
    || { cat swapped.err; fail "get interrupted after its partial file was replaced: rc $RC"; }
  [[ "$(cat "$PART" 2>/dev/null)" == "my notes" ]] || fail "a file moved over the partial file was removed"
  echo "busy port 2, missing name 1, Ctrl-C while retrying 130, bad port and" \
       "--seed-after 2, foreign files kept, complete partial finished, second writer 1"
  ;;
disk)
  HASH=$(sed -n 's/.*info-hash \([0-9a-f]\{12\}\).*/\1/p' share.err | head -n 1)
  [[ -n "$HASH" ]] || fail "no info-hash in share.err"
  # A new download under a 16 MiB file size limit cannot reserve its 32 MiB.
  # SIGXFSZ is left at its default: swarm must not die of it (rc 153).
  RC=0
  (exec prlimit --fsize=$((16 * 1024 * 1024)) "$SWARM" get payload.bin --tracker "$TRACKER" \
     --out fresh/dir --listen 127.0.0.1:0 > fresh.out 2> fresh.err) || RC=$?
  (( RC == 1 )) || { cat fresh.err; fail "get that cannot reserve its file: rc $RC (want 1)"; }
  grep -q "cannot allocate space for fresh/dir/payload.bin.$HASH.part: File too large" fresh.err \
    || { cat fresh.err; fail "no file and reason when the space cannot be reserved"; }
  [[ ! -e fresh ]] || { ls -R fresh; fail "an empty partial file or --out was left behind"; }
  # Mid-download: the partial file exists at full size, its first 32 pieces
  # already in (as after an earlier run), so only writes past 16 MiB fail,
  # once pieces there arrive.
  mkdir -p dl
  head -c $((8 * 1024 * 1024)) payload.bin > "dl/payload.bin.$HASH.part"
  truncate -s $((32 * 1024 * 1024)) "dl/payload.bin.$HASH.part"
  RC=0
  (exec prlimit --fsize=$((16 * 1024 * 1024)) "$SWARM" get payload.bin --tracker "$TRACKER" \
     --out dl --listen 127.0.0.1:0 > full.out 2> full.err) || RC=$?
  (( RC == 1 )) || { cat full.err; fail "get hitting the limit: rc $RC (want 1)"; }
  grep -q "error: cannot write to dl/payload.bin.$HASH.part: File too large" full.err \
    || { cat full.err; fail "no file and reason for the failed write"; }
  KEPT=$(sed -n 's/.*stopped: \([0-9]*\) of 128 pieces verified in dl\/payload.bin\..*\.part; the same command resumes once the problem is fixed/\1/p' full.err)
  [[ -n "$KEPT" ]] || { cat full.err; fail "no word on the partial file kept"; }
  grep -q "^resume: 32 of 128 pieces" full.out || { cat full.out; fail "the first 32 pieces not found"; }
  (( KEPT >= 32 )) || fail "only $KEPT pieces reported verified (the 32 found are still there)"
  [[ -f "dl/payload.bin.$HASH.part" && ! -e dl/payload.bin ]] || fail "partial file lost"
  # Our disk is not the peers' fault: no piece counted failed, no one banned.
  [[ $(field full.out pieces_failed) == 0 && $(field full.out peers_banned) == 0 ]] \
    || { cat full.out; fail "a local write error was blamed on the seed"; }
  # What arrived but was never stored (the failed block, and any after it
  # before the connections closed) is counted wasted.
  (( $(field full.out wasted) > 0 )) || { cat full.out; fail "discarded blocks not counted wasted"; }
  # The stopped announce arrived: the seed is the only peer listed.
  "$SWARM" list --tracker "$TRACKER" > list.out
  grep -Eq '^payload\.bin +32\.0 MiB +128 +1 +0 +[0-9a-f]{16}$' list.out \
    || { cat list.out; fail "the failed get is still listed as a leecher"; }
  # The limit lifted, the same command resumes: every piece it reported is
  # still there, none past the limit could be, and only the rest is fetched.
  (get dl again) || fail "the rerun failed"
  RESUMED=$(field again.out resumed_pieces)
  DOWN=$(field again.out downloaded)
  echo "disk full after $KEPT verified pieces; the rerun resumed $RESUMED and downloaded $DOWN bytes"
  (( RESUMED >= KEPT && RESUMED <= 64 )) || fail "resumed_pieces=$RESUMED (want $KEPT..64)"
  (( DOWN <= (128 - RESUMED) * 262144 )) || fail "downloaded $DOWN > missing pieces"
  [[ $(sha256sum dl/payload.bin | cut -d' ' -f1) == "$WANT" ]] || fail "SHA-256 mismatch"
  # The folder of a running get deleted: it stops at once (1) saying so,
  # instead of downloading the rest into a file nobody can reach.
  get doomed doomed --download-limit 4MiB/s &
  P=$!
  PIDS+=($P)
  wait_for_part "doomed/payload.bin.*.part"
  rm -rf doomed
  RC=0
  wait "$P" || RC=$?
  (( RC == 1 )) && grep -q "doomed/payload.bin.$HASH.part was deleted during the download" doomed.err \
    && grep -q "stopped: nothing kept (doomed/payload.bin.$HASH.part no longer exists)" doomed.err \
    || { cat doomed.err; fail "get into a deleted folder: rc $RC"; }
  # The partial file replaced by another file during the download: the get
  # stops (1), says so, and neither calls that file its pieces nor offers
  # to resume from it.
  get swapped swapped --download-limit 4MiB/s &
  P=$!
  PIDS+=($P)
  wait_for_part "swapped/payload.bin.*.part"
  sleep 0.5
  echo other > other.txt
  mv other.txt "swapped/payload.bin.$HASH.part"
  RC=0
  wait "$P" || RC=$?
  (( RC == 1 )) && grep -q "swapped/payload.bin.$HASH.part was replaced by another file during the download" swapped.err \
    && grep -q "stopped: nothing kept (swapped/payload.bin.$HASH.part is now another file, which was left alone)" swapped.err \
    && ! grep -q "resumes" swapped.err || { cat swapped.err; fail "get whose partial file was replaced: rc $RC"; }
  [[ $(cat "swapped/payload.bin.$HASH.part") == other ]] || fail "the file moved in was changed"
  # A seed's file truncated while a get is fetching it: the seed stops (1)
  # saying why, and the get never takes what it has as complete.
  head -c $((8 * 1024 * 1024)) /dev/urandom > cut.bin
  "$SWARM" share cut.bin --tracker "$TRACKER" --listen 127.0.0.1:0 > cut_share.out 2> cut_share.err &
  CUT_PID=$!
  PIDS+=($CUT_PID)
  port_of cut_share.out > /dev/null
  "$SWARM" get cut.bin --tracker "$TRACKER" --out cut --listen 127.0.0.1:0 \
    --download-limit 2MiB/s > cut_get.out 2> cut_get.err &
  P=$!
  PIDS+=($P)
  wait_for_part "cut/cut.bin.*.part"
  sleep 0.5
  : > cut.bin
  RC=0
  for _ in $(seq 100); do kill -0 "$CUT_PID" 2> /dev/null || break; sleep 0.1; done
  wait "$CUT_PID" || RC=$?
  (( RC == 1 )) && grep -q "cut.bin was modified after it was hashed" cut_share.err \
    || { cat cut_share.err; fail "seed of a truncated file: rc $RC, or no reason given"; }
  kill -INT "$P"
  RC=0
  wait "$P" || RC=$?
  (( RC == 130 )) && [[ ! -e cut/cut.bin ]] || { cat cut_get.err; fail "get from a truncated seed: rc $RC"; }
  # A seed's file deleted: the bytes it has open are still the published ones.
  head -c $((4 * 1024 * 1024)) /dev/urandom > gone.bin
  GONE=$(sha256sum gone.bin | cut -d' ' -f1)
  "$SWARM" share gone.bin --tracker "$TRACKER" --listen 127.0.0.1:0 > gone_share.out 2> gone_share.err &
  PIDS+=($!)
  port_of gone_share.out > /dev/null
  rm gone.bin
  "$SWARM" get gone.bin --tracker "$TRACKER" --out gone --listen 127.0.0.1:0 > gone_get.out 2> gone_get.err \
    || { cat gone_get.err; fail "get from a seed whose file was deleted"; }
  [[ $(sha256sum gone/gone.bin | cut -d' ' -f1) == "$GONE" ]] || fail "deleted seed: SHA-256 mismatch"
  ;;
localfile)
  HASH=$(sed -n 's/.*info-hash \([0-9a-f]\{12\}\).*/\1/p' share.err | head -n 1)
  [[ -n "$HASH" ]] || fail "no info-hash in share.err"
  # A partial file that holds the first 32 pieces (as after an earlier
  # run); once they are verified, another program writes into piece 0.
  # Before, the get went on and renamed the corrupt file into place (exit 0).
  mkdir -p dl
  head -c $((8 * 1024 * 1024)) payload.bin > "dl/payload.bin.$HASH.part"
  truncate -s $((32 * 1024 * 1024)) "dl/payload.bin.$HASH.part"
  get dl edited --download-limit 4MiB/s &
  P=$!
  PIDS+=($P)
  for _ in $(seq 100); do grep -q "^resume: 32 of 128" edited.out 2> /dev/null && break; sleep 0.1; done
  grep -q "^resume: 32 of 128" edited.out || { cat edited.out edited.err; fail "the 32 pieces not resumed"; }
  sleep 0.5
  printf 'not the movie' | dd of="dl/payload.bin.$HASH.part" bs=1 seek=1000 conv=notrunc status=none
  RC=0
  wait "$P" || RC=$?
  (( RC == 1 )) \
    && grep -q "dl/payload.bin.$HASH.part was written to by another program during the download: 1 verified piece no longer matches its SHA-256 (first: piece 0)" edited.err \
    && grep -q "stopped: [0-9]* of 128 pieces verified in dl/payload.bin.$HASH.part; the same command resumes" edited.err \
    || { cat edited.err; fail "get whose partial file was written to: rc $RC (want 1), or no reason"; }
  [[ ! -e dl/payload.bin ]] || fail "a partial file written to by another program was renamed into place"
  (get dl again) || { cat again.err; fail "the rerun failed"; }
  [[ $(sha256sum dl/payload.bin | cut -d' ' -f1) == "$WANT" ]] || fail "rerun: SHA-256 mismatch"
  (( $(field again.out resumed_pieces) < 128 )) || fail "the piece written to was taken for verified"
  # Its mtime changed, its bytes did not: re-checked, and the get goes on.
  get touched touched --download-limit 8MiB/s &
  P=$!
  PIDS+=($P)
  wait_for_part "touched/payload.bin.*.part"
  sleep 1
  touch "touched/payload.bin.$HASH.part"
  RC=0
  wait "$P" || RC=$?
  (( RC == 0 )) && grep -q "was written to by another program during the download; every piece verified so far still matches" touched.err \
    || { cat touched.err; fail "get whose partial file was touched: rc $RC (want 0, with a warning)"; }
  [[ $(sha256sum touched/payload.bin | cut -d' ' -f1) == "$WANT" ]] || fail "touched: SHA-256 mismatch"
  # A completed get seeding forever, its file edited in place: it stops
  # seeding as soon as it would read it for a peer, and exits 0 (the
  # download had succeeded), saying what happened. The share is stopped so
  # that the second get asks the first for pieces.
  get seeded seeded --seed-after forever &
  G=$!
  PIDS+=($G)
  for _ in $(seq 200); do grep -q "^complete:" seeded.out 2> /dev/null && break; sleep 0.1; done
  grep -q "^complete:" seeded.out || { cat seeded.err; fail "the seeding get never completed"; }
  kill -INT "$SHARE_PID"
  wait "$SHARE_PID" || true
  printf 'edited' | dd of=seeded/payload.bin bs=1 seek=100 conv=notrunc status=none
  get leech leech &
  P=$!
  PIDS+=($P)
  RC=0
  for _ in $(seq 200); do kill -0 "$G" 2> /dev/null || break; sleep 0.1; done
  wait "$G" || RC=$?
  kill -INT "$P" 2> /dev/null || true
  wait "$P" || true
  (( RC == 0 )) && grep -q "stopped seeding seeded/payload.bin: it was modified on disk after the download completed" seeded.err \
    && grep -q "summary: complete=1" seeded.out \
    || { cat seeded.err; fail "get --seed-after forever whose file was edited: rc $RC (want 0, saying why)"; }
  [[ ! -e leech/payload.bin ]] || fail "a get completed from an edited file"
  ;;
multishare)
  head -c $((8 * 1024 * 1024)) /dev/urandom > a.bin
  head -c $((4 * 1024 * 1024)) /dev/urandom > b.bin
  B_SUM=$(sha256sum b.bin | cut -d' ' -f1)
  "$SWARM" share a.bin b.bin --tracker "$TRACKER" --listen 127.0.0.1:0 > ab_share.out 2> ab_share.err &
  AB_PID=$!
  PIDS+=($AB_PID)
  port_of ab_share.out > /dev/null
  for _ in $(seq 100); do grep -q "sharing b.bin" ab_share.out && break; sleep 0.1; done
  "$SWARM" get a.bin --tracker "$TRACKER" --out a --listen 127.0.0.1:0 \
    --download-limit 2MiB/s > a_get.out 2> a_get.err &
  P=$!
  PIDS+=($P)
  wait_for_part "a/a.bin.*.part"
  sleep 0.5
  : > a.bin
  for _ in $(seq 100); do grep -q "stopped sharing a.bin; still sharing 1 file(s)" ab_share.err && break; sleep 0.1; done
  grep -q "a.bin was modified after it was hashed" ab_share.err \
    && grep -q "stopped sharing a.bin; still sharing 1 file(s)" ab_share.err \
    || { cat ab_share.err; fail "share a.bin b.bin: a.bin truncated, not stopped alone"; }
  kill -0 "$AB_PID" 2> /dev/null || { cat ab_share.err; fail "share a.bin b.bin exited when a.bin changed"; }
  kill -INT "$P"
  wait "$P" || true
  "$SWARM" get b.bin --tracker "$TRACKER" --out b --listen 127.0.0.1:0 > b_get.out 2> b_get.err \
    || { cat b_get.err ab_share.err; fail "get b.bin after a.bin changed under the share"; }
  [[ $(sha256sum b/b.bin | cut -d' ' -f1) == "$B_SUM" ]] || fail "b.bin: SHA-256 mismatch"
  "$SWARM" list --tracker "$TRACKER" > list.out
  grep -Eq '^a\.bin +8\.0 MiB +32 +0 +0 ' list.out && grep -Eq '^b\.bin +4\.0 MiB +16 +1 +0 ' list.out \
    || { cat list.out; fail "after a.bin changed: want a.bin without a seed, b.bin with one"; }
  kill -INT "$AB_PID"
  RC=0
  wait "$AB_PID" || RC=$?
  (( RC == 1 )) || { cat ab_share.err; fail "share a.bin b.bin after a.bin failed, Ctrl-C: rc $RC (want 1)"; }
  "$SWARM" list --tracker "$TRACKER" > list.out
  grep -Eq '^b\.bin +4\.0 MiB +16 +0 +0 ' list.out \
    || { cat list.out; fail "share a.bin b.bin: b.bin still listed as a seed after Ctrl-C"; }
  ;;
pipe)
  # stdout a pipe nobody reads any more (`swarm get ... | head -1` once
  # head has its line): a write to it used to kill the process with
  # SIGPIPE (exit 141), before its stopped announce, so the tracker listed
  # a peer that was gone. Opened read-write, the FIFO gets a writer end
  # without blocking; closing that leaves fd 5 a pipe without a reader.
  mkfifo broken
  exec 4<> broken 5> broken 4<&-
  RC=0
  "$SWARM" get payload.bin --tracker "$TRACKER" --out dl --listen 127.0.0.1:0 \
    >&5 2> get.err || RC=$?
  (( RC == 0 )) || { cat get.err; fail "get with a closed stdout: rc $RC (want 0)"; }
  [[ $(sha256sum dl/payload.bin | cut -d' ' -f1) == "$WANT" ]] || fail "SHA-256 mismatch"
  "$SWARM" list --tracker "$TRACKER" > list.out
  grep -Eq '^payload\.bin +32\.0 MiB +128 +1 +0 +[0-9a-f]{16}$' list.out \
    || { cat list.out; fail "after the get: want 1 seed (the share) and no leecher"; }
  # share: its first line comes after publishing. Here with the default
  # --listen (every interface) and a tracker on 127.0.0.1: it warns that
  # other machines could not reach it at the address the tracker lists.
  head -c $((1024 * 1024)) /dev/urandom > piped.bin
  "$SWARM" share piped.bin --tracker "$TRACKER" >&5 2> share_piped.err &
  P=$!
  PIDS+=($P)
  for _ in $(seq 100); do
    "$SWARM" list --tracker "$TRACKER" > list.out
    grep -Eq '^piped\.bin +1\.0 MiB +4 +1 +0 ' list.out && break
    sleep 0.2
  done
  grep -Eq '^piped\.bin +1\.0 MiB +4 +1 +0 ' list.out \
    || { cat list.out share_piped.err; fail "share with a closed stdout never seeded"; }
  kill -INT "$P"
  RC=0
  wait "$P" || RC=$?
  (( RC == 0 )) || { cat share_piped.err; fail "share with a closed stdout: rc $RC (want 0)"; }
  "$SWARM" list --tracker "$TRACKER" > list.out
  grep -Eq '^piped\.bin +1\.0 MiB +4 +0 +0 ' list.out \
    || { cat list.out; fail "share with a closed stdout: still listed as a seed after Ctrl-C"; }
  exec 5>&-
  ;;
*)
  fail "unknown mode $MODE"
  ;;
esac
echo "PASS $MODE"
