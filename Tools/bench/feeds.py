#!/usr/bin/env python3
"""Generates the store benchmark's feeds (seeded): a 1,000,000-line CSV of IPv4 addresses and
CIDRs with categories and reasons, then 300,000 domains, 200,000 IPv6 prefixes and 100,000
e-mail addresses (1.6 M listings together), and optionally a 10,000,000-line plain feed."""
import random
import sys

out = sys.argv[1]
big = len(sys.argv) > 2 and sys.argv[2] == "--ten-million"
r = random.Random(20261129)
cats = ["spam", "fraud", "malware", "advertising"]
with open(f"{out}/feed-1m.csv", "w") as f:
    f.write("key,category,reason,ttl\n")
    for i in range(1_000_000):
        a = f"{r.randrange(1, 224)}.{r.randrange(256)}.{r.randrange(256)}"
        key = f"{a}.0/{r.choice([24, 26, 28])}" if i % 20 == 0 else f"{a}.{r.randrange(256)}"
        f.write(f"{key},{cats[i % 4]},seen by trap {i % 97},{r.choice(['7d', '14d', '30d'])}\n")
with open(f"{out}/domains.txt", "w") as f:
    for i in range(300_000):
        f.write(("*." if i % 10 == 0 else "") + f"h{i}.d{r.randrange(100000)}.example\n")
with open(f"{out}/v6.txt", "w") as f:
    for i in range(200_000):
        f.write("2001:db8:%x:%x::/64\n" % (r.randrange(65536), r.randrange(65536)))
with open(f"{out}/mail.txt", "w") as f:
    for i in range(100_000):
        f.write(f"user{i}@mail{r.randrange(1000)}.example\n")
if big:
    with open(f"{out}/feed-10m.txt", "w") as f:
        for i in range(10_000_000):
            f.write(f"{r.randrange(1, 224)}.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(256)}\n")
