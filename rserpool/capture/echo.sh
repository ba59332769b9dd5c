#!/bin/sh
# Runs inside the SCTP VM (ci/vm): rsplib 3.4.4's registrar, pool elements and
# pool users on 192.168.77.1, with dumpcap recording every SCTP packet on lo.
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-/var/tmp/rserpool-capture/run1}
mkdir -p "$out"; cd "$out"
ip addr add 192.168.77.1/24 dev lo
dumpcap -q -i lo -f sctp -w "$out/asap.pcapng" > dumpcap.log 2>&1 &
DC=$!
sleep 2
R=192.168.77.1:3863
COMMON="-asapannounce=off -loglevel=2 -logcolor=off"
rspregistrar -identifier=0x5e5e0001 -asap=$R -enrp=192.168.77.1:9901 -enrpannounce=off \
  -endpointkeepalivetransmissioninterval=2000 $COMMON > reg.log 2>&1 &
REG=$!
sleep 6
# PE 1: echo, round robin, fixed identifier, re-registers every 3 s
rspserver -echo -identifier=0x11111111 -rereginterval=3000 -local=192.168.77.1 -registrar=$R $COMMON > pe1.log 2>&1 &
PE1=$!
# PE 2: echo pool again but with Priority policy -> inconsistent policy
sleep 2
rspserver -echo -identifier=0x22222222 -policy=Priority:7 -local=192.168.77.1 -registrar=$R $COMMON > pe2.log 2>&1 &
PE2=$!
# PE 3: least used on another pool; PE 4: weighted round robin on a third
rspserver -echo -identifier=0x33333333 -poolhandle=LUPool -policy=LeastUsed -local=192.168.77.1 -registrar=$R $COMMON > pe3.log 2>&1 &
PE3=$!
rspserver -echo -identifier=0x44444444 -poolhandle=WRRPool -policy=WeightedRoundRobin:3 -local=192.168.77.1 -registrar=$R $COMMON > pe4.log 2>&1 &
PE4=$!
sleep 5
# PU: resolve EchoPool, echo two lines
(echo hello-asap; sleep 2; echo second; sleep 2) | timeout 7 rspterminal -registrar=$R $COMMON > pu1.log 2>&1
# PU: unknown pool
(sleep 3) | timeout 4 rspterminal -poolhandle=NoSuchPool -registrar=$R $COMMON > pu2.log 2>&1
# hand-made requests: handle resolution with the handle resolution option,
# with an unknown stop-and-report parameter, for an unknown pool; an unknown
# message type; a registration with an unknown policy type; a deregistration
# of an unknown PE; a registration (round robin) and its
# deregistration.
/usr/bin/python3 "$here/rawclient.py" \
  050000180009000c4563686f506f6f6c803f000800000002 \
  050000180009000c4563686f506f6f6c4042000861626364 \
  0500000c000900084e6f5070 \
  0f000004 \
  0100003c0009000c4563686f506f6f6c000a002c0102030400000000000075300004001012340000000100080a0000010008000c1234567800000000 \
  02000014000900084e6f5070000e0008deadbeef \
  010000340009000852617750000a0028010203040000000000007530000400101234000000010008c0a84d010008000800000001+020000140009000852617750000e000801020304 \
  > raw.log 2>&1
# PU that fails over: talks to PE1, PE1 is killed hard, PU reports it unreachable
(echo before-failure; sleep 3; echo after-failure; sleep 3) | timeout 8 rspterminal -registrar=$R $COMMON > pu3.log 2>&1 &
PU3=$!
sleep 2
kill -9 $PE1
wait $PU3
# calcapp with cookies; a second PE takes over after the first is killed
rspserver -calcapp -identifier=0x55555555 -capcookiemaxtime=1 -local=192.168.77.1 -registrar=$R $COMMON > pe5.log 2>&1 &
PE5=$!
sleep 3
timeout 12 calcappclient -jobinterval=1 -jobsize=3 -registrar=$R $COMMON > pu4.log 2>&1 &
PU4=$!
sleep 4
rspserver -calcapp -identifier=0x66666666 -capcookiemaxtime=1 -local=192.168.77.1 -registrar=$R $COMMON > pe6.log 2>&1 &
PE6=$!
sleep 2
kill -9 $PE5
wait $PU4
# orderly shutdowns: deregistrations
kill -INT $PE3 $PE4 $PE2 $PE6
sleep 3
kill -INT $REG
sleep 1
kill $DC
wait $DC
echo capture done
