#!/bin/sh
# Runs inside the SCTP VM (ci/vm): rsplib's CalcApp service and client, for
# the ASAP Cookie (PE -> PU), Endpoint Unreachable (PU -> registrar) and
# Cookie Echo (PU -> new PE) messages. PE 5 is stopped (SIGSTOP) mid-job, the
# client's session keep-alive times out, it reports PE 5 unreachable and
# fails over to PE 6 with its last cookie.
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-/var/tmp/rserpool-capture/run2}
mkdir -p "$out"; cd "$out"
ip addr add 192.168.77.1/24 dev lo
dumpcap -q -i lo -f sctp -w "$out/asap.pcapng" > dumpcap.log 2>&1 &
DC=$!
sleep 2
R=192.168.77.1:3863
COMMON="-asapannounce=off -loglevel=2 -logcolor=off"
rspregistrar -identifier=0x5e5e0002 -asap=$R -enrp=192.168.77.1:9901 -enrpannounce=off $COMMON > reg.log 2>&1 &
REG=$!
sleep 6
rspserver -calcapp -identifier=0x55555555 -capcapacity=20 -capcookiemaxtime=1 -local=192.168.77.1 -registrar=$R $COMMON > pe5.log 2>&1 &
PE5=$!
sleep 3
timeout 24 calcappclient -jobinterval=1 -jobsize=100 -keepalivetransmissioninterval=1000 -keepalivetimeoutinterval=1000 -registrar=$R $COMMON > pu.log 2>&1 &
PU=$!
sleep 10
rspserver -calcapp -identifier=0x66666666 -capcapacity=20 -capcookiemaxtime=1 -local=192.168.77.1 -registrar=$R $COMMON > pe6.log 2>&1 &
PE6=$!
sleep 2
kill -STOP $PE5
wait $PU
kill -9 $PE5
kill -INT $PE6
sleep 2
kill -INT $REG
sleep 1
kill $DC
wait $DC
echo capture done
