#!/bin/sh
# Runs inside the SCTP VM: messages encoded by the rserpool crate (OUT/requests.txt,
# written by `cargo run -p rserpool --example registrar_probe > OUT/requests.txt`), sent to
# rsplib's registrar by rawclient.py; replies logged and captured.
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-/var/tmp/rserpool-capture/run3}
mkdir -p "$out"; cd "$out"
ip addr add 192.168.77.1/24 dev lo
ip addr add 192.168.77.2/24 dev lo
dumpcap -q -i lo -f sctp -w "$out/asap.pcapng" > dumpcap.log 2>&1 &
DC=$!
sleep 2
rspregistrar -identifier=0x5e5e0003 -asap=192.168.77.1:3863 -enrp=192.168.77.1:9901 -enrpannounce=off -asapannounce=off -loglevel=3 -logcolor=off > reg.log 2>&1 &
REG=$!
sleep 6
/usr/bin/python3 "$here/rawclient.py" $(cat "$out/requests.txt") > raw.log 2>&1
kill -INT $REG
sleep 1
kill $DC
wait $DC
echo capture done
