#!/usr/bin/env python3
"""Feed-to-answer latency: N times, a new address is ingested by `thurac ingest` (a separate
process, as an operator or cron job would) and the clock runs until the live server answers it
over DNS (polled every 5 ms). Prints p50, p99 and max in seconds."""
import os
import random
import subprocess
import sys
import time

import dnsprobe

binary, db, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])


def listed(address):
    return dnsprobe.listed(address, port)


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
