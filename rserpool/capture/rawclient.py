#!/usr/bin/python3
# Sends hand-made ASAP messages (hex on argv; a+b = same association) to the registrar over SCTP with
# PPID 11 and prints each reply as hex. Used only to provoke rsplib replies
# (errors, rejections) for the capture; the captured bytes are what counts.
import socket, struct, sys
IPPROTO_SCTP = 132
SCTP_DEFAULT_SNDINFO = 34
for msg in sys.argv[1:]:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_SCTP)
    s.setsockopt(IPPROTO_SCTP, SCTP_DEFAULT_SNDINFO,
                 struct.pack('=HHIIi', 0, 0, socket.htonl(11), 0, 0))
    s.connect(('192.168.77.1', 3863))
    s.settimeout(2)
    for part in msg.split('+'):
        s.send(bytes.fromhex(part))
        try:
            r = s.recv(65536)
            print('sent', part, 'got', r.hex(), flush=True)
        except socket.timeout:
            print('sent', part, 'got nothing', flush=True)
    s.close()
