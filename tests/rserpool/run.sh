#!/usr/bin/env bash
# RSerPool over SCTP against rsplib 3.4.4 (Debian's rsplib-registrar and
# rsplib-tools): the seed's echo pool element and pool user (echo_pe.c,
# echo_pu.c, built against rsp_sockets.h from pkg-config) with rsplib's
# registrar, across with rsplib's rspterminal and rspserver, failover, two
# registrars, and httpd's FastCGI backends from a pool (fcgi-bridge as pool
# elements, mod_proxy_fcgi_sctp's fcgi+sctp+pool://).
#
#   tests/rserpool/run.sh                 (builds what is missing or stale,
#                                          then needs root and kernel SCTP)
#   tests/rserpool/run.sh --build-only    (only builds: ci/test, before the VM)
#   ci/vm -- tests/rserpool/run.sh
#
# Each test host is a network namespace with a private address (rsplib's
# pool elements refuse loopback-only hosts), joined to this namespace by a
# veth pair; this namespace routes between them:
#   rsp-reg 10.77.1.2 (registrar), rsp-pe1 10.77.2.2, rsp-pe2 10.77.3.2,
#   rsp-pu 10.77.4.2 (pool users; httpd), rsp-reg2 10.77.5.2 (a second
#   registrar, ENRP peer of the first)
# Prints PASS:/FAIL: lines; exits 0 if all passed, 1 if any failed, 77 if
# this kernel has no SCTP. Logs stay in $RSP_TEST_KEEP (target/ci/rserpool).
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=$root/target/rserpool-tests
# The workspace's release build (RSP_TEST_RELEASE: another one, built by
# the caller).
rel=${RSP_TEST_RELEASE:-$root/target/release}
lib=$rel/librsp_sockets.so

# ---- build (outside the VM normally; only when missing or stale) ----
newer_than() { # TARGET SOURCE...: true if TARGET exists and is newer than all
  local t=$1 s
  shift
  [ -e "$t" ] || return 1
  for s in "$@"; do [ "$t" -nt "$s" ] || return 1; done
}
crates=(rsp-sockets fcgi-bridge mod_proxy_fcgi_sctp sctp-http)
stale=
for f in "$lib" "$rel/fcgi-bridge" "$rel/libmod_proxy_fcgi_sctp.so" "$rel/sctp-http"; do
  if [ ! -f "$f" ] || [ -n "$(find "$root/rsp-sockets" "$root/rserpool/src" "$root/fcgi-bridge/src" \
      "$root/mod_proxy_fcgi_sctp/src" "$root/sctp-http/src" "$root/apr-sctp/src" -newer "$f" -name '*.rs' -print -quit)" ]; then
    stale=1
  fi
done
if [ -n "$stale" ] && [ -z "${RSP_TEST_RELEASE:-}" ]; then
  (cd "$root" && cargo build --release $(printf -- '-p %s ' "${crates[@]}")) \
    || { echo "FAIL: cargo build --release ${crates[*]}"; exit 1; }
fi
mkdir -p "$bin"
"$root/rsp-sockets/install.sh" --build-tree "$bin" >/dev/null || { echo "FAIL: rsp-sockets/install.sh --build-tree"; exit 1; }
flags=$(PKG_CONFIG_PATH="$bin" pkg-config --cflags --libs rsp-sockets) || { echo "FAIL: pkg-config rsp-sockets"; exit 1; }
for p in echo_pe echo_pu; do
  if ! newer_than "$bin/$p" "$here/$p.c" "$root/rsp-sockets/include/rsp_sockets.h" "$lib"; then
    # shellcheck disable=SC2086 # $flags is a list of words
    cc -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -o "$bin/$p" "$here/$p.c" $flags \
      -Wl,-rpath,"$rel" || { echo "FAIL: building $p.c"; exit 1; }
  fi
done
# shellcheck disable=SC2086
cc -std=c11 -Wall -Wextra -Werror -c -o "$bin/abi_check.o" "$here/abi_check.c" $flags \
  || { echo "FAIL: tests/rserpool/abi_check.c: rsp_sockets.h and the library disagree"; exit 1; }
[ "${1:-}" = --build-only ] && exit 0

# ---- run (root, kernel SCTP, rsplib) ----
if [ ! -d /proc/net/sctp ]; then
  echo "skipped: this kernel has no SCTP (run it in the SCTP VM: ci/vm -- $0)"
  exit 77
fi
for t in rspregistrar rspserver rspterminal; do
  command -v $t >/dev/null || { echo "FAIL: $t missing (ci/setup installs rsplib-registrar and rsplib-tools)"; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "FAIL: needs root (network namespaces)"; exit 1; }

keep=${RSP_TEST_KEEP:-$root/target/ci/rserpool}
rm -rf "$keep"; mkdir -p "$keep"
fails=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
check() { # NAME COMMAND...: PASS when COMMAND succeeds
  local name=$1; shift
  if "$@"; then pass "$name"; else fail "$name"; fi
}

hosts=(reg pe1 pe2 pu reg2)
cleanup() {
  local h
  for h in "${hosts[@]}"; do
    ip netns pids "rsp-$h" 2>/dev/null | xargs -r kill -9 2>/dev/null
    ip netns del "rsp-$h" 2>/dev/null
  done
}
trap cleanup EXIT
cleanup
sysctl -qw net.ipv4.ip_forward=1
i=1
for h in "${hosts[@]}"; do
  ip netns add "rsp-$h" \
    && ip link add "rsp$i" type veth peer name eth0 netns "rsp-$h" \
    && ip addr add "10.77.$i.1/24" dev "rsp$i" && ip link set "rsp$i" up \
    && ip -n "rsp-$h" addr add "10.77.$i.2/24" dev eth0 \
    && ip -n "rsp-$h" link set eth0 up && ip -n "rsp-$h" link set lo up \
    && ip -n "rsp-$h" route add default via "10.77.$i.1" \
    || { fail "network namespace rsp-$h"; exit 1; }
  i=$((i + 1))
done
REG=10.77.1.2
REG2=10.77.5.2
PE1=10.77.2.2
PE2=10.77.3.2
ns() { local h=$1; shift; ip netns exec "rsp-$h" "$@"; }
export RSP_REGISTRAR=$REG:3863 RSP_DEBUG=1
rsp_common=(-asapannounce=off -loglevel=3 -logcolor=off "-registrar=$REG:3863")

# wait_for FILE PATTERN SECONDS
wait_for() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# The registrar: one bad-PE report is enough to drop an element (the
# default wants 3), so that a failover shows in its pool at once; its own
# keep-alives every 30 s (default 5 s), so that what it learns in these
# tests comes from the pool users' reports and association ends.
ns reg rspregistrar -asap=$REG:3863 -enrp=$REG:9901 -peer=$REG2:9901 -asapannounce=off -enrpannounce=off \
  -maxbadpereports=1 -endpointkeepalivetransmissioninterval=30000 -loglevel=4 -logcolor=off > "$keep/registrar.log" 2>&1 &
check "rsplib registrar ready" wait_for "$keep/registrar.log" "registrar is ready" 20

# 1. The seed's echo PE and PU through rsplib's registrar.
ns pe1 "$bin/echo_pe" EchoPool 7 > "$keep/pe1.out" 2> "$keep/pe1.err" &
check "echo_pe registers with rsplib's registrar" wait_for "$keep/pe1.out" "^registered" 10
(echo hello-from-seed-pu; sleep 0.5; echo second line) | ns pu "$bin/echo_pu" EchoPool > "$keep/pu1.out" 2> "$keep/pu1.err"
rc=$?
check "echo_pu: both lines echoed by echo_pe (exit $rc)" \
  sh -c "[ $rc = 0 ] && grep -q ': hello-from-seed-pu' '$keep/pu1.out' && grep -q ': second line' '$keep/pu1.out'"
check "echo_pe saw two messages" sh -c "[ \$(grep -c '^echo ' '$keep/pe1.out') = 2 ]"

# 2. rsplib's pool user (rspterminal) reaches the seed's echo PE.
(echo from-rspterminal; sleep 3) | ns pu timeout 8 rspterminal "${rsp_common[@]}" -poolhandle=EchoPool \
  > "$keep/rspterminal.out" 2>&1
check "rspterminal's line echoed by echo_pe" grep -q 'from-rspterminal' "$keep/rspterminal.out"
check "echo_pe logged rspterminal's message" sh -c "[ \$(grep -c '^echo ' '$keep/pe1.out') = 3 ]"

# 3. The seed's echo PU reaches rsplib's pool element (rspserver -echo).
ns pe2 rspserver -echo -poolhandle=RspEchoPool -local=$PE2 "${rsp_common[@]}" > "$keep/rspserver.log" 2>&1 &
check "rspserver registered" wait_for "$keep/registrar.log" "Successfully registered RspEchoPool/" 15
printf 'to-rspserver\n' | ns pu "$bin/echo_pu" RspEchoPool > "$keep/pu2.out" 2> "$keep/pu2.err"
rc=$?
check "echo_pu's line echoed by rspserver (exit $rc)" \
  sh -c "[ $rc = 0 ] && grep -q ': to-rspserver' '$keep/pu2.out'"

# 4. Failover: two echo PEs in one pool; the PU's element is killed; its
#    next message goes to the other, and the registrar drops the dead one.
ip netns exec rsp-pe1 "$bin/echo_pe" FailPool 7001 > "$keep/fa.out" 2> "$keep/fa.err" &
FA=$!
ip netns exec rsp-pe2 "$bin/echo_pe" FailPool 7002 > "$keep/fb.out" 2> "$keep/fb.err" &
FB=$!
wait_for "$keep/fa.out" "^registered" 10 && wait_for "$keep/fb.out" "^registered" 10
check "two echo PEs registered in FailPool" test $? = 0
fifo=$keep/pu3.in
mkfifo "$fifo"
ip netns exec rsp-pu "$bin/echo_pu" FailPool < "$fifo" > "$keep/pu3.out" 2> "$keep/pu3.err" &
PU=$!
exec 7> "$fifo"
echo before-failure >&7
wait_for "$keep/pu3.out" ": before-failure" 5
first=$(sed -n 's/^from PE \([0-9a-f]*\): before-failure/\1/p' "$keep/pu3.out")
if grep -q "pe=$first" "$keep/fa.out"; then
  victim=$FA victim_ns=pe1 survivor=$FB other=$keep/fb.out
else
  victim=$FB victim_ns=pe2 survivor=$FA other=$keep/fa.out
fi
check "PU answered by PE $first before the failure" test -n "$first"
kill -9 "$victim"
sleep 1
echo after-failure >&7
wait_for "$keep/pu3.out" ": after-failure" 8
exec 7>&-
wait "$PU"
second=$(sed -n 's/^from PE \([0-9a-f]*\): after-failure/\1/p' "$keep/pu3.out")
check "the next message went to the other PE ($first -> ${second:-none})" \
  sh -c "[ -n '$second' ] && [ '$second' != '$first' ] && grep -q 'pe=$second' '$other'"
check "the PU reported PE $first unreachable" grep -q "reported PE $first unreachable" "$keep/pu3.err"
check "the registrar got the PU's report on PE $first" wait_for "$keep/registrar.log" "Got EndpointUnreachable for pool element \\\$$first" 2
ns pu "$bin/echo_pu" FailPool < /dev/null > /dev/null 2> "$keep/pu4.err"
check "a new resolution of FailPool gives the survivor alone" grep -q "FailPool: 1 element" "$keep/pu4.err"

# 4b. A PE whose host is cut off: its associations stay up and silent, so
#     the registrar knows nothing until a pool user reports it. New pool
#     users try it (INIT times out), report it, and fail over.
ip netns exec "rsp-$victim_ns" "$bin/echo_pe" FailPool 7003 > "$keep/fc.out" 2> "$keep/fc.err" &
FC=$!
check "a third echo PE registered" wait_for "$keep/fc.out" "^registered" 10
cut=$(sed -n 's/.*PE \([0-9a-f]*\) registered in pool FailPool/\1/p' "$keep/fc.err" | head -n1)
ip -n "rsp-$victim_ns" link set eth0 down
for i in 1 2 3; do
  echo "try-$i" | ns pu "$bin/echo_pu" FailPool > "$keep/pu5-$i.out" 2> "$keep/pu5-$i.err"
  grep -q "reported PE $cut unreachable" "$keep/pu5-$i.err" && break
done
check "a pool user found PE $cut cut off and reported it" grep -q "reported PE $cut unreachable" "$keep/pu5-$i.err"
check "... and its line was answered by the survivor" grep -q ": try-$i" "$keep/pu5-$i.out"
check "the registrar took the report: PE $cut removed" \
  sh -c "grep -q 'Got EndpointUnreachable for pool element \\\$$cut' '$keep/registrar.log' && ! grep -q 'non-existing pool element \\\$$cut' '$keep/registrar.log'"
ns pu "$bin/echo_pu" FailPool < /dev/null > /dev/null 2> "$keep/pu6.err"
check "FailPool resolves to the survivor alone again" grep -q "FailPool: 1 element" "$keep/pu6.err"
# Link down took the default route with it.
ip -n "rsp-$victim_ns" link set eth0 up
gw=$(ip -n "rsp-$victim_ns" -4 addr show dev eth0 | sed -n 's/.*inet \(10\.77\.[0-9]*\)\.2.*/\1.1/p')
ip -n "rsp-$victim_ns" route replace default via "$gw"
kill -9 "$FC" 2>/dev/null

# 5. Two registrars, ENRP between them: the pool element registered at the
#    first (EchoPool, test 1) is found through the second; and a pool user
#    whose first registrar does not answer uses the next of its list.
ns reg2 rspregistrar -asap=$REG2:3863 -enrp=$REG2:9901 -peer=$REG:9901 -asapannounce=off -enrpannounce=off \
  -loglevel=4 -logcolor=off > "$keep/registrar2.log" 2>&1 &
check "second registrar ready" wait_for "$keep/registrar2.log" "registrar is ready" 20
# The handlespace reaches it by ENRP Handle Table Request/Response.
wait_for "$keep/registrar2.log" "EchoPool" 10
echo via-second-registrar | ns pu env RSP_REGISTRAR=$REG2 "$bin/echo_pu" EchoPool > "$keep/pu7.out" 2> "$keep/pu7.err"
check "EchoPool (registered at the first) resolved through the second and echoed" \
  sh -c "grep -q ': via-second-registrar' '$keep/pu7.out' && grep -q 'registrar $REG2:3863: connected' '$keep/pu7.err'"
echo fallback | ns pu env RSP_REGISTRAR="10.77.99.1,$REG2" "$bin/echo_pu" EchoPool > "$keep/pu8.out" 2> "$keep/pu8.err"
check "a registrar list whose first does not answer: the next is used" \
  sh -c "grep -q ': fallback' '$keep/pu8.out' && grep -q 'registrar $REG2:3863: connected' '$keep/pu8.err'"

# Deregistration: SIGTERM makes echo_pe deregister.
kill -TERM "$survivor"
check "echo_pe deregistered on SIGTERM" wait_for "$other" '^deregistered' 5
survivor_id=$(sed -n 's/.*PE \([0-9a-f]*\) registered in pool FailPool/\1/p' "${other%.out}.err" | head -n1)
check "... and the registrar says so" grep -q "Deregistration request for FailPool/\$$survivor_id" "$keep/registrar.log"


# 6. httpd backends from a pool (mod_proxy_fcgi_sctp's fcgi+sctp+pool://):
#    two fcgi-bridge backends (each before a php-fpm of its own) register
#    as pool elements of PhpPool; httpd in rsp-pu reaches them through the
#    registrar. Under load one bridge is killed: no request fails but those
#    it had been sent, the rest go to the other; a bridge stopped with
#    SIGTERM deregisters.
www=$keep/www
mkdir -p "$www"
cat > "$www/who.php" <<'PHP'
<?php
usleep((int)($_GET['ms'] ?? 0) * 1000);
echo "pe=", getenv('PE_NAME'), "\n";
PHP
chmod -R a+rX "$keep"
fpm=$(ls /usr/sbin/php-fpm* 2>/dev/null | head -n1)
declare -A BRIDGE
for h in pe1 pe2; do
  cat > "$keep/fpm-$h.conf" <<EOF
[global]
pid = $keep/fpm-$h.pid
error_log = $keep/fpm-$h.log
daemonize = no
[www]
user = root
group = root
listen = 127.0.0.1:9000
pm = static
pm.max_children = 8
env[PE_NAME] = $h
EOF
  ns $h "$fpm" -R --nodaemonize --fpm-config "$keep/fpm-$h.conf" > "$keep/fpm-$h.out" 2>&1 &
  # ip netns exec itself (it execs the bridge): $! is the bridge's pid.
  ip netns exec "rsp-$h" "$rel/fcgi-bridge" backend --listen sctp:0.0.0.0:9001 --app tcp:127.0.0.1:9000 \
    --pool PhpPool --registrar "$REG" > "$keep/bridge-$h.log" 2>&1 &
  BRIDGE[$h]=$!
done
for h in pe1 pe2; do
  wait_for "$keep/bridge-$h.log" "pool PhpPool: registered as pool element" 15
  id=$(sed -n 's/.*pool PhpPool: registered as pool element \([0-9a-f]*\).*/\1/p' "$keep/bridge-$h.log" | head -n1)
  eval "ID_$h=\$id"
  check "fcgi-bridge in $h registered as PE ${id:-?} of PhpPool with rsplib's registrar" \
    wait_for "$keep/registrar.log" "Successfully registered PhpPool/\\\$$id" 5
done
PU=10.77.4.2
cat > "$keep/httpd.conf" <<EOF
ServerRoot $keep
ServerName pool-user
Listen $PU:8080
PidFile $keep/httpd.pid
ErrorLog $keep/httpd-error.log
LogLevel warn proxy_fcgi_sctp:debug
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule proxy_module /usr/lib/apache2/modules/mod_proxy.so
LoadModule proxy_fcgi_sctp_module $rel/libmod_proxy_fcgi_sctp.so
User nobody
Group nogroup
DocumentRoot $www
# No keep-alive limit: a client connection httpd closes is a failed request.
MaxKeepAliveRequests 0
ProxyFcgiSctpRegistrar $REG
ProxyPass /app/ fcgi+sctp+pool://PhpPool$www/ timeout=10
EOF
ns pu /usr/sbin/apache2 -f "$keep/httpd.conf" -k start > "$keep/httpd.out" 2>&1
get() { # URL: the body on stdout; fails on a status >= 400
  ns pu "$rel/sctp-http" get --tcp -q -f --timeout 15 -o - "$1"
}
for i in $(seq 50); do get "http://$PU:8080/app/who.php" > /dev/null 2>&1 && break; sleep 0.2; done
: > "$keep/seq.out"
for i in $(seq 10); do get "http://$PU:8080/app/who.php" >> "$keep/seq.out" 2>> "$keep/seq.err"; done
check "httpd: 10 requests to fcgi+sctp+pool://PhpPool answered, by both elements (round robin)" \
  sh -c "[ \$(grep -c '^pe=pe[12]\$' '$keep/seq.out') = 10 ] && grep -q pe=pe1 '$keep/seq.out' && grep -q pe=pe2 '$keep/seq.out'"
check "... the pool resolved through the registrar (error log, debug)" \
  grep -q "pool PhpPool: pool element" "$keep/httpd-error.log"

# Load, 8 clients one request at a time, and pe1's bridge killed after 3 s.
conc=8
ns pu "$rel/sctp-http" bench --tcp -c $conc -d 9 --json "http://$PU:8080/app/who.php?ms=50" \
  > "$keep/load.json" 2> "$keep/load.err" &
LOAD=$!
sleep 3
kill -9 "${BRIDGE[pe1]}"
wait "$LOAD"
ok=$(sed -n 's/.*"ok":\([0-9]*\).*/\1/p' "$keep/load.json")
failed=$(sed -n 's/.*"failed":\([0-9]*\).*/\1/p' "$keep/load.json")
# A connection httpd closed before any byte of a response is retried by
# the client as a keep-alive end (a reconnect): count those as failures.
reconnects=$(sed -n 's/.*"reconnects":\([0-9]*\).*/\1/p' "$keep/load.json")
lost=$((${failed:-99} + ${reconnects:-99}))
cat "$keep/load.json"
# What was in flight on the associations to pe1 when they ended, as httpd
# counted it.
inflight=$(sed -n 's/.*association to FastCGI backend 10\.77\.2\.2:9001 ended.*; \([0-9]*\) request(s) in flight.*/\1/p' \
  "$keep/httpd-error.log" | awk '{ s += $1 } END { print s + 0 }')
check "under load, pe1's bridge killed: ${ok:-?} answered, $lost failed or cut, no more than the $inflight it had been sent" \
  sh -c "[ -n '$ok' ] && [ '$ok' -gt 100 ] && [ $lost -le $inflight ] && [ $lost -le $conc ]"
: > "$keep/after.out"
for i in $(seq 10); do get "http://$PU:8080/app/who.php" >> "$keep/after.out" 2>> "$keep/after.err"; done
check "after the kill: 10 of 10 answered, all by pe2" sh -c "[ \$(grep -c '^pe=pe2\$' '$keep/after.out') = 10 ]"
check "httpd reported pe1's element unreachable and tried the other (error log)" \
  grep -q "pool PhpPool: pool element $ID_pe1 .*unreachable.*trying another" "$keep/httpd-error.log"
kill -TERM "${BRIDGE[pe2]}"
check "pe2's bridge deregistered on SIGTERM" wait_for "$keep/bridge-pe2.log" "pool element $ID_pe2 deregistered" 5
check "... and the registrar says so" grep -q "Deregistration request for PhpPool/\$$ID_pe2" "$keep/registrar.log"
# Empty once pe2's bridge has exited too: while it exits, httpd's
# association to it may still take a request (then lost with the process).
wait "${BRIDGE[pe2]}" 2>/dev/null
st=$(ns pu "$rel/sctp-http" get --tcp -q --json -o /dev/null "http://$PU:8080/app/who.php" 2>/dev/null | sed -n 's/.*"status":\([0-9]*\).*/\1/p' | head -n1)
check "an empty pool: 503 (got ${st:-none}), and the error log says why" \
  sh -c "[ '$st' = 503 ] && grep -q 'pool PhpPool: no pool element took the request' '$keep/httpd-error.log'"
ns pu /usr/sbin/apache2 -f "$keep/httpd.conf" -k stop > /dev/null 2>&1

# A pool element whose registrar goes away registers at the next of its
# list.
ip netns exec rsp-pe2 env RSP_REGISTRAR="$REG,$REG2" "$bin/echo_pe" MovePool 7004 > "$keep/fm.out" 2> "$keep/fm.err" &
FM=$!
wait_for "$keep/fm.out" "^registered" 10
moved=$(sed -n 's/.*PE \([0-9a-f]*\) registered in pool MovePool/\1/p' "$keep/fm.err" | head -n1)
check "MovePool's PE $moved registered at the first registrar" grep -q "Successfully registered MovePool/\$$moved" "$keep/registrar.log"
kill -9 "$(ip netns pids rsp-reg)"
check "... and at the second once the first was killed" \
  wait_for "$keep/registrar2.log" "Successfully registered MovePool/\\\$$moved" 10
kill -TERM "$FM"

echo "== logs in $keep"
[ "$fails" = 0 ]
