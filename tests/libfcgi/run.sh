#!/usr/bin/env bash
# FastCGI over SCTP with the patched libfcgi (patches/libfcgi): a test app
# (fcgi_echo.c) and Debian's unmodified fcgiwrap, driven by a raw SCTP client
# (fcgi_sctp_client.c) that plays the web server and reports the stream of
# every record it receives. Checks the wire rules of docs/fastcgi.md.
#
#   tests/libfcgi/run.sh                  (builds what is missing or stale,
#                                          then needs a kernel with SCTP)
#   tests/libfcgi/run.sh --build-only     (only builds: ci/test, before the VM)
#   ci/vm --mem 1G -- tests/libfcgi/run.sh
#
# Prints PASS:/FAIL: lines; exits 0 if all passed, 1 if any failed, 77 if
# this kernel has no SCTP.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
prefix=$root/target/libfcgi/prefix
bin=$root/target/libfcgi/tests
lib=$prefix/lib/libfcgi.so.0

# ---- build (outside the VM normally; only when missing or stale) ----
newer_than() { # TARGET SOURCE...: true if TARGET exists and is newer than all
  local t=$1 s
  shift
  [ -e "$t" ] || return 1
  for s in "$@"; do [ "$t" -nt "$s" ] || return 1; done
}
if ! newer_than "$lib" "$root"/patches/libfcgi/*.patch; then
  "$root/ci/build-libfcgi" >/dev/null || { echo "FAIL: ci/build-libfcgi"; exit 1; }
fi
mkdir -p "$bin"
cflags=(-O2 -g -Wall -Wextra)
if ! newer_than "$bin/fcgi_echo" "$here/fcgi_echo.c" "$here/sha256.c" "$here/sha256.h" "$lib"; then
  cc "${cflags[@]}" -I"$prefix/include" -I"$here" -o "$bin/fcgi_echo" \
    "$here/fcgi_echo.c" "$here/sha256.c" -L"$prefix/lib" -lfcgi -Wl,-rpath,"$prefix/lib" \
    || { echo "FAIL: building fcgi_echo"; exit 1; }
fi
if ! newer_than "$bin/fcgi_sctp_client" "$here/fcgi_sctp_client.c" "$here/sha256.c" "$here/sha256.h"; then
  cc "${cflags[@]}" -I"$here" -o "$bin/fcgi_sctp_client" \
    "$here/fcgi_sctp_client.c" "$here/sha256.c" \
    || { echo "FAIL: building fcgi_sctp_client"; exit 1; }
fi

[ "${1:-}" = --build-only ] && exit 0
if ! perl -e 'socket(my $s, 2, 1, 132) or exit 1'; then
  echo "SKIP: this kernel has no SCTP (run: ci/vm --mem 1G -- tests/libfcgi/run.sh)"
  exit 77
fi

# ---- helpers ----
work=$(mktemp -d "${TMPDIR:-/tmp}/libfcgi-test.XXXXXX")
pids=()
cleanup() {
  local p
  # the servers we started and their children (fcgiwrap -c forks; stopped
  # first, it cannot fork replacements for the children we end)
  for p in "${pids[@]}"; do
    kill -STOP "$p" 2>/dev/null
    pkill -P "$p" 2>/dev/null
    kill "$p" 2>/dev/null
    kill -CONT "$p" 2>/dev/null
  done
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

fails=0
passes=0
pass() { echo "PASS: $*"; passes=$((passes + 1)); }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# check DESCRIPTION FILE COMMAND...: PASS if COMMAND succeeds, else FAIL and
# show FILE (the client's output) indented
check() {
  local what=$1 out=$2
  shift 2
  if "$@"; then
    pass "$what"
  else
    fail "$what"
    sed 's/^/    | /' "$out" | head -n 40
  fi
}
has() { grep -qE -- "$2" "$1"; }
hasnt() { ! grep -qE -- "$2" "$1"; }
# every record carrying request id N came on stream N (ids 0 and 1 on 1)
streams_follow_ids() {
  awk '/^rec / {
         split($2, s, "="); split($3, i, "=");
         want = (i[2] <= 1) ? 1 : i[2];
         if (s[2] != want) { bad = 1; print "wrong stream: " $0 > "/dev/stderr" }
       } END { exit bad }' "$1"
}
client() { "$bin/fcgi_sctp_client" -t 5000 "$@"; }

# start NAME PORT COMMAND...: run a server in the background (log in
# $work/NAME.log) and wait until it answers GET_VALUES over SCTP
start() {
  local name=$1 port=$2 i
  shift 2
  "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
  for i in $(seq 1 100); do
    if "$bin/fcgi_sctp_client" -t 1000 127.0.0.1 "$port" values >/dev/null 2>&1 \
       || "$bin/fcgi_sctp_client" -t 1000 ::1 "$port" values >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  fail "$name did not come up on port $port"
  sed 's/^/    | /' "$work/$name.log" | head -n 20
  return 1
}

echo_params=(param:REQUEST_METHOD=POST param:SERVER_PROTOCOL=HTTP/1.1)
sha() { sha256sum "$@" | cut -d' ' -f1; }

# ---- 1. fcgi_echo on FCGI_SCTP_LISTEN ----
P1=19101
if start echo-env $P1 env LD_LIBRARY_PATH="$prefix/lib" FCGI_SCTP_LISTEN=127.0.0.1:$P1 "$bin/fcgi_echo"; then
  o=$work/values.out
  client 127.0.0.1 $P1 values >"$o" 2>&1
  check "GET_VALUES answered on stream 1 (FCGI_SCTP_LISTEN): MAX_CONNS 1, MAX_REQS 1, MPXS_CONNS 0" "$o" \
    has "$o" '^rec stream=1 id=0 type=GET_VALUES_RESULT .* FCGI_MAX_CONNS=1 FCGI_MAX_REQS=1 FCGI_MPXS_CONNS=0$'

  o=$work/req2.out
  client 127.0.0.1 $P1 "${echo_params[@]}" param:REQUEST_URI=/echo/a param:QUERY_STRING=x=1 \
    "stdin:hello sctp" request:2 >"$o" 2>&1
  want_sha=$(printf 'hello sctp' | sha)
  check "request on stream 2: the right body" "$o" \
    has "$o" "^body id=2 \"Status: 200 OK\\\\r\\\\nContent-Type: text/plain\\\\r\\\\n\\\\r\\\\nrequest_id=2\\\\nuri=/echo/a\\\\nquery=x=1\\\\nstdin_len=10\\\\nstdin_sha256=$want_sha\\\\n\""
  check "request on stream 2: every record of it (STDOUT, STDERR, END_REQUEST) on stream 2, nothing elsewhere" "$o" \
    eval "streams_follow_ids '$o' && has '$o' '^rec stream=2 id=2 type=STDERR .*fcgi_echo: request 2 for /echo/a read 10 bytes' && has '$o' '^rec stream=2 id=2 type=END_REQUEST len=8 app=0 proto=0$' && hasnt '$o' '^rec stream=([^2]|2[0-9])'"

  o=$work/seq.out
  client 127.0.0.1 $P1 values "${echo_params[@]}" param:REQUEST_URI=/seq stdin:abc \
    request:2 request:3 request:7 request:2 >"$o" 2>&1
  check "sequential requests on streams 2, 3, 7, 2 of one association, each answered on its own stream" "$o" \
    eval "streams_follow_ids '$o' && [ \$(grep -c '^end id=' '$o') = 4 ] && has '$o' '^end id=3 stream=3 ' && has '$o' '^end id=7 stream=7 ' && has '$o' 'body id=7 .*request_id=7' && has '$o' 'body id=3 .*request_id=3'"

  o=$work/stream0.out
  client 127.0.0.1 $P1 raw:0:0:9:x drain:700 "${echo_params[@]}" param:REQUEST_URI=/after request:2 >"$o" 2>&1
  check "a record on stream 0 is dropped (no answer) and logged on stream 1 as STDERR id 1; the association goes on" "$o" \
    eval "hasnt '$o' 'GET_VALUES_RESULT|UNKNOWN_TYPE' && has '$o' '^rec stream=1 id=1 type=STDERR .*received on stream 0' && has '$o' '^end id=2 stream=2 '"
  check "... and logged to the backend's stderr" "$work/echo-env.log" \
    has "$work/echo-env.log" '^libfcgi: SCTP: dropped a record \(type 9, request id 0\) received on stream 0'

  o=$work/mismatch.out
  client 127.0.0.1 $P1 "${echo_params[@]}" param:REQUEST_URI=/bad send:3:5 send:1:1 drain:700 \
    param:REQUEST_URI=/good request:4 >"$o" 2>&1
  check "records whose id is not their stream's (id 5 on stream 3, id 1 on stream 1) are dropped and logged; the next request works" "$o" \
    eval "has '$o' '^rec stream=1 id=1 type=STDERR .*request id 5\\) received on stream 3' && has '$o' '^rec stream=1 id=1 type=STDERR .*request id 1\\) received on stream 1' && hasnt '$o' '^rec .* id=5 ' && has '$o' '^end id=4 stream=4 ' && has '$o' 'body id=4 .*uri=/good'"

  o=$work/split.out
  client 127.0.0.1 $P1 "${echo_params[@]}" param:REQUEST_URI=/split stdin:0123456789abcdef split:5 >"$o" 2>&1
  want_sha=$(printf '0123456789abcdef' | sha)
  check "records cut across messages, a GET_VALUES on stream 1 between the halves of BEGIN_REQUEST on stream 5: both answered right" "$o" \
    eval "streams_follow_ids '$o' && has '$o' '^rec stream=1 id=0 type=GET_VALUES_RESULT' && has '$o' 'body id=5 .*uri=/split.*stdin_len=16.*stdin_sha256=$want_sha'"

  o=$work/big.out
  head -c 200000 /dev/urandom >"$work/big.in"
  client 127.0.0.1 $P1 "${echo_params[@]}" param:REQUEST_URI=/big param:QUERY_STRING=big=300000 \
    "stdinfile:$work/big.in" request:6 >"$o" 2>&1
  want_sha=$(sha "$work/big.in")
  want_out=$(
    printf 'Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nrequest_id=6\nuri=/big\nquery=big=300000\nstdin_len=200000\nstdin_sha256=%s\n' "$want_sha"
    perl -e 'print join("", map { chr(97 + $_ % 26) } 0 .. 299999)'
  )
  want_out_sha=$(printf '%s' "$want_out" | sha)
  check "200 kB of stdin in and 300 kB of stdout out on stream 6, byte for byte" "$o" \
    eval "streams_follow_ids '$o' && has '$o' '^end id=6 stream=6 stdout_len=${#want_out} stdout_sha256=$want_out_sha$'"
fi

# ---- 2. fcgi_echo on FCGX_OpenSocket("sctp:...") ----
P2=19102
if ip -6 addr show dev lo 2>/dev/null | grep -q '::1'; then addr2='[::1]'; host2=::1; else addr2=127.0.0.1; host2=127.0.0.1; fi
if start echo-open $P2 env LD_LIBRARY_PATH="$prefix/lib" "$bin/fcgi_echo" "sctp:$addr2:$P2"; then
  o=$work/open.out
  client "$host2" $P2 values "${echo_params[@]}" param:REQUEST_URI=/open request:2 >"$o" 2>&1
  check "FCGX_OpenSocket(\"sctp:$addr2:$P2\"): GET_VALUES on stream 1 and a request on stream 2" "$o" \
    eval "streams_follow_ids '$o' && has '$o' '^rec stream=1 id=0 type=GET_VALUES_RESULT' && has '$o' 'body id=2 .*uri=/open'"
fi

# ---- 3. fcgi_echo on an inherited SCTP listening socket (fd 0) ----
P3=19103
if start echo-fd0 $P3 env LD_LIBRARY_PATH="$prefix/lib" perl -MSocket -MPOSIX -e '
      socket(my $s, AF_INET, SOCK_STREAM, 132) or die "socket: $!";
      setsockopt($s, SOL_SOCKET, SO_REUSEADDR, 1);
      bind($s, pack_sockaddr_in($ARGV[0], inet_aton("127.0.0.1"))) or die "bind: $!";
      listen($s, 16) or die "listen: $!";
      defined(POSIX::dup2(fileno($s), 0)) or die "dup2: $!";
      exec $ARGV[1] or die "exec: $!"' $P3 "$bin/fcgi_echo"; then
  o=$work/fd0.out
  client -s 20 127.0.0.1 $P3 values "${echo_params[@]}" param:REQUEST_URI=/fd0 request:2 request:15 >"$o" 2>&1
  check "inherited SCTP socket on fd 0: SCTP mode by itself; request on stream 15 (above the kernel's default 10 streams) answered on 15" "$o" \
    eval "streams_follow_ids '$o' && has '$o' '^rec stream=1 id=0 type=GET_VALUES_RESULT' && has '$o' '^end id=2 stream=2 ' && has '$o' '^end id=15 stream=15 ' && has '$o' 'body id=15 .*request_id=15'"
fi

# ---- 4. TCP untouched ----
P4=19104
"$bin/fcgi_echo" ":$P4" >"$work/echo-tcp.log" 2>&1 &
pids+=($!)
for i in $(seq 1 50); do
  "$bin/fcgi_sctp_client" -T -t 1000 127.0.0.1 $P4 values >/dev/null 2>&1 && break
  sleep 0.1
done
o=$work/tcp.out
client -T 127.0.0.1 $P4 values "${echo_params[@]}" param:REQUEST_URI=/tcp stdin:tcp request:2 request:3 >"$o" 2>&1
check "TCP (FCGX_OpenSocket(\":$P4\")) with the patched library: as before" "$o" \
  eval "has '$o' 'GET_VALUES_RESULT .*FCGI_MAX_REQS=1' && has '$o' 'body id=2 .*uri=/tcp' && has '$o' 'body id=3 .*request_id=3'"

# ---- 5. Debian's fcgiwrap, unmodified ----
P5=19105
cat >"$work/hello.cgi" <<'CGI'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
echo "cgi method=$REQUEST_METHOD"
echo "cgi query=$QUERY_STRING"
echo "cgi stdin=$(cat)"
echo "cgi says hello on stderr" >&2
CGI
chmod 755 "$work/hello.cgi"
if [ ! -x /usr/sbin/fcgiwrap ]; then
  fail "no /usr/sbin/fcgiwrap (ci/setup installs it)"
# -f: fcgiwrap sends the CGI's stderr as FCGI_STDERR (else to its own stderr)
elif start fcgiwrap $P5 env LD_LIBRARY_PATH="$prefix/lib" FCGI_SCTP_LISTEN=127.0.0.1:$P5 /usr/sbin/fcgiwrap -f; then
  fw_pid=${pids[-1]}
  fw=$(pgrep -P "$fw_pid" -x fcgiwrap || echo "$fw_pid")
  check "fcgiwrap runs with the patched libfcgi ($prefix/lib)" "$work/fcgiwrap.log" \
    grep -q "$prefix/lib/libfcgi.so" "/proc/$fw/maps"
  o=$work/fcgiwrap.out
  client 127.0.0.1 $P5 values param:REQUEST_METHOD=POST param:GATEWAY_INTERFACE=CGI/1.1 \
    param:SERVER_PROTOCOL=HTTP/1.1 "param:SCRIPT_FILENAME=$work/hello.cgi" param:SCRIPT_NAME=/hello.cgi \
    param:REQUEST_URI=/hello.cgi?a=b param:QUERY_STRING=a=b stdin:posted-data request:2 \
    param:QUERY_STRING=second request:3 >"$o" 2>&1
  check "unmodified fcgiwrap over SCTP (FCGI_SCTP_LISTEN): GET_VALUES on stream 1, a shell CGI on stream 2 and again on stream 3" "$o" \
    eval "streams_follow_ids '$o' && has '$o' '^rec stream=1 id=0 type=GET_VALUES_RESULT .*FCGI_MAX_REQS=1' && has '$o' 'body id=2 .*cgi method=POST\\\\ncgi query=a=b\\\\ncgi stdin=posted-data' && has '$o' 'body id=3 .*cgi query=second' && has '$o' '^rec stream=2 id=2 type=STDERR .*cgi says hello on stderr' && has '$o' '^end id=3 stream=3 '"
fi

# ---- 6. fcgiwrap preforking (-c 3), each child binding with SO_REUSEPORT ----
P6=19106
cat >"$work/who.cgi" <<'CGI'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\nserved by fcgiwrap %s\n' "$PPID"
CGI
chmod 755 "$work/who.cgi"
if [ -x /usr/sbin/fcgiwrap ] && start fcgiwrap-c3 $P6 env LD_LIBRARY_PATH="$prefix/lib" \
     FCGI_SCTP_LISTEN=127.0.0.1:$P6 FCGI_SCTP_REUSEPORT=1 /usr/sbin/fcgiwrap -c 3; then
  o=$work/prefork.out
  : >"$o"
  for i in $(seq 1 12); do
    client 127.0.0.1 $P6 param:REQUEST_METHOD=GET "param:SCRIPT_FILENAME=$work/who.cgi" \
      param:SCRIPT_NAME=/who.cgi request:2 >>"$o" 2>&1
  done
  served=$(grep -c '^body id=2 .*served by fcgiwrap' "$o")
  children=$(grep -o 'served by fcgiwrap [0-9]*' "$o" | sort -u | wc -l)
  check "fcgiwrap -c 3 with FCGI_SCTP_REUSEPORT=1: no bind conflict, 12 associations answered by $children of the 3 children" "$o" \
    eval "[ $served = 12 ] && [ $children -ge 2 ] && hasnt '$work/fcgiwrap-c3.log' 'already in use'"
fi

echo "libfcgi over SCTP: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
