#!/usr/bin/env python3
"""Feed-to-answer latency: N times, a new address is ingested by `thurac ingest` (a separate
process, as an operator or cron job would) and the clock runs until the live server answers it
over DNS (polled every 5 ms). Prints p50, p99 and max in seconds."""
import os
import random
import socket
import struct
import subprocess
import sys
import time

binary, db, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
zone = "bl.ninhthuan.gov.vn"


def listed(address):
    name = ".".join(reversed(address.split("."))) + "." + zone
    q = struct.pack(">HHHHHH", 0x4242, 0, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\x00" + struct.pack(">HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1)
    s.sendto(q, ("127.0.0.1", port))
    r = s.recv(4096)
    s.close()
    return struct.unpack(">H", r[6:8])[0] > 0  # ANCOUNT


feed = os.path.join(os.path.dirname(db), "latency-feed.txt")
times = []
base = random.Random().randrange(64, 128)  # a fresh /16 of 100.64.0.0/10 each run
for i in range(n):
    address = f"100.{base}.{i // 256}.{i % 256}"
    assert not listed(address), f"{address} is listed already"
    with open(feed, "w") as f:
        f.write(address + "\n")
    start = time.monotonic()
    subprocess.run([binary, "ingest", "--source", "bench", "--db", db, feed], check=True, stdout=subprocess.DEVNULL)
    while not listed(address):
        time.sleep(0.005)
    times.append(time.monotonic() - start)
    time.sleep(random.uniform(0.05, 0.4))  # off the server's 0.25 s check rhythm
times.sort()
print("%.3f %.3f %.3f" % (times[len(times) // 2], times[min(len(times) - 1, int(len(times) * 0.99))], times[-1]))
