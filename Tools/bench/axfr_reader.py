#!/usr/bin/env python3
"""Reads an AXFR as fast as the socket gives it (no parsing beyond the message headers), so the
time is the server's, not a client's text formatting. The request is signed with the TSIG key
(RFC 8945, hmac-sha256). Usage: axfr_reader.py PORT ZONE KEYNAME SECRET_BASE64
Prints: seconds messages records MiB."""
import base64
import hashlib
import hmac
import socket
import struct
import sys
import time

port, zone, keyname, secret = int(sys.argv[1]), sys.argv[2], sys.argv[3], base64.b64decode(sys.argv[4])


def wire(name):
    return b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split(".")) + b"\x00"


ident = 0x4242
query = struct.pack(">HHHHHH", ident, 0, 1, 0, 0, 0) + wire(zone) + struct.pack(">HH", 252, 1)
algorithm = wire("hmac-sha256")
now = int(time.time())
timers = struct.pack(">HIH", now >> 32, now & 0xFFFFFFFF, 300)
variables = wire(keyname.lower()) + struct.pack(">HI", 255, 0) + algorithm + timers + struct.pack(">HH", 0, 0)
mac = hmac.new(secret, query + variables, hashlib.sha256).digest()
rdata = algorithm + timers + struct.pack(">H", len(mac)) + mac + struct.pack(">HHH", ident, 0, 0)
signed = query[:10] + struct.pack(">H", 1) + query[12:] + wire(keyname.lower()) + struct.pack(">HHIH", 250, 255, 0, len(rdata)) + rdata

s = socket.create_connection(("127.0.0.1", port))
s.sendall(struct.pack(">H", len(signed)) + signed)
start = time.monotonic()
buf = b""
messages = records = total = soas = 0
done = False
while not done:
    data = s.recv(1 << 20)
    if not data:
        break
    buf += data
    while len(buf) >= 2 and len(buf) >= 2 + struct.unpack(">H", buf[:2])[0]:
        n = struct.unpack(">H", buf[:2])[0]
        m, buf = buf[2 : 2 + n], buf[2 + n :]
        messages += 1
        total += n
        if m[3] & 15:
            sys.exit(f"rcode {m[3] & 15}")
        records += struct.unpack(">H", m[6:8])[0]
        # The last message ends with the SOA again: the first answer record's owner is the
        # zone (a pointer to the question), type SOA; good enough to stop at the second SOA.
        soas += m.count(b"\xc0\x0c\x00\x06\x00\x01")
        if soas >= 2:
            done = True
print("%.2f %d %d %d" % (time.monotonic() - start, messages, records, total >> 20))
