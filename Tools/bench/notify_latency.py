#!/usr/bin/env python3
"""NOTIFY-to-secondary-answer latency: N times, a new address is ingested by `thurac ingest`;
the clock starts when thurac answers it as listed and stops when each secondary does (polled
every 2 ms): NOTIFY, the secondary's SOA query, IXFR and its update. Prints one line per
secondary: its port, p50, p99 and max in seconds."""
import random
import subprocess
import sys
import tempfile
import time

from dnsprobe import listed

binary, config, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[5])
secondaries = [int(p) for p in sys.argv[4].split(",")]


times = {p: [] for p in secondaries}
base = random.Random().randrange(64, 128)  # a fresh /16 of 100.64.0.0/10 each run
with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
    feed = f.name
for i in range(n):
    address = f"100.{base}.{200 + i // 256}.{i % 256}"
    with open(feed, "w") as f:
        f.write(address + "\n")
    ingest = subprocess.Popen([binary, "ingest", "--source", "bench", "--config", config, feed], stdout=subprocess.DEVNULL)
    while not listed(address, port):
        time.sleep(0.002)
    start = time.monotonic()
    waiting = set(secondaries)
    while waiting:
        for p in list(waiting):
            if listed(address, p):
                times[p].append(time.monotonic() - start)
                waiting.remove(p)
        time.sleep(0.002)
        if time.monotonic() - start > 60:
            sys.exit(f"{address}: {waiting} did not follow within 60 s")
    ingest.wait()
    time.sleep(random.uniform(0.05, 0.4))
for p in secondaries:
    t = sorted(times[p])
    print("%d %.3f %.3f %.3f" % (p, t[len(t) // 2], t[min(len(t) - 1, int(len(t) * 0.99))], t[-1]))
