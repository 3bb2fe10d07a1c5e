#!/usr/bin/env python3
"""Generates the benchmark data set (deterministic): rbldnsd datasets and dnsperf query files.

    gen.py OUT_DIR [--shape mixed|exported]

Both shapes: 1,000,000 IPv4 entries, 100,000 IPv6 prefixes, 500,000 domains (plain, wildcard
and exclusions), and a query mix of listed and unlisted keys.
- mixed (the default, the first benchmarks' data): about 10% CIDRs of any length from /16 to
  /30, 1% ranges, 1% exclusions, 3% with their own return code: shapes rbldnsd stores badly.
- exported: what real exported lists look like: mostly single addresses, 12% CIDRs on /8 to
  /24 (most of them /24 or octet-aligned), 0.3% exclusions, no ranges, 1% with their own code.
"""
import ipaddress, os, random, sys

args = [a for a in sys.argv[1:]]
shape = "mixed"
if "--shape" in args:
    i = args.index("--shape")
    shape = args[i + 1]
    del args[i:i + 2]
if shape not in ("mixed", "exported"):
    sys.exit(f"gen.py: --shape is mixed or exported, not {shape!r}")
out = args[0] if args else "out"
n4 = int(os.environ.get("BENCH_IPV4", 1_000_000))
n6 = int(os.environ.get("BENCH_IPV6", 100_000))
nd = int(os.environ.get("BENCH_DOMAINS", 500_000))
nq = int(os.environ.get("BENCH_QUERIES", 400_000))
rnd = random.Random(20261129)
os.makedirs(out, exist_ok=True)

def public4():
    while True:
        a = rnd.getrandbits(32)
        if 0x01000000 <= a < 0xE0000000 and (a >> 24) not in (10, 127):
            return a

def dotted(a):
    return f"{a >> 24}.{a >> 16 & 255}.{a >> 8 & 255}.{a & 255}"

# Each shape's IPv4 lines: (share of the lines, what one is) in order; the rest single addresses.
def cidr(f, a, lengths):
    ln = lengths()
    net = a & (0xFFFFFFFF << (32 - ln)) & 0xFFFFFFFF
    f.write(f"{dotted(net)}/{ln}\n")
    return net + rnd.randrange(1 << (32 - ln))

def ip4range(f, a):
    f.write(f"{dotted(a)}-{dotted(min(a + rnd.randint(2, 300), 0xDFFFFFFF))}\n")
    return a + 1

def excluded(f, a):
    f.write(f"!{dotted(a)}\n")
    return None

def coded(f, a, codes):
    f.write(f"{dotted(a)} :{rnd.choice(codes)}:Category listing for $\n")
    return a

shapes = {
    "mixed": [(0.10, lambda f, a: cidr(f, a, lambda: rnd.randint(16, 30))), (0.01, ip4range), (0.01, excluded),
              (0.03, lambda f, a: coded(f, a, [3, 4, 5, 6]))],
    "exported": [(0.12, lambda f, a: cidr(f, a, lambda: rnd.choice([24, 24, 24, 24, 24, 24, 16, 16, 22, 20, 12, 8]))),
                 (0.003, excluded), (0.01, lambda f, a: coded(f, a, [3, 4]))],
}

listed4 = []
with open(f"{out}/bl.ip4set", "w") as f:
    f.write("$SOA 3600 ns1.bl.bench. hostmaster.bl.bench. 0 1h 10m 1w 5m\n$NS 3600 ns1.bl.bench.\n")
    f.write(":127.0.0.2:Listed: see https://bl.bench/lookup?ip=$\n127.0.0.2\n")
    for i in range(n4):
        a = public4()
        r = rnd.random()
        for share, line in shapes[shape]:
            if r < share:
                listed = line(f, a)
                break
            r -= share
        else:
            f.write(f"{dotted(a)}\n")
            listed = a
        if listed is not None:
            listed4.append(listed)

listed6 = []
with open(f"{out}/bl.ip6trie", "w") as f:
    f.write(":127.0.0.2:Listed: see https://bl.bench/lookup?ip=$\n")
    for i in range(n6):
        ln = rnd.choice([48, 56, 64, 64, 64, 128])
        a = (0x2 << 124) | rnd.getrandbits(124)
        net = a & (((1 << 128) - 1) << (128 - ln)) & ((1 << 128) - 1)
        f.write(f"{ipaddress.IPv6Address(net)}/{ln}\n")
        listed6.append(net | (rnd.getrandbits(128 - ln) if ln < 128 else 0))

words = ["mail", "shop", "win", "cheap", "pills", "news", "promo", "deal", "click", "offer", "spam", "bulk"]
tlds = ["com", "net", "org", "vn", "info", "biz", "xyz", "top"]
listedd = []
with open(f"{out}/dbl.dnset", "w") as f:
    f.write(":127.0.1.2:Domain $ is listed\ntest\n")
    for i in range(nd):
        name = f"{rnd.choice(words)}{i}.{rnd.choice(tlds)}"
        r = rnd.random()
        if r < 0.08:
            f.write(f"*.{name}\n")
            listedd.append(f"www.{name}")
        elif r < 0.10:
            f.write(f".{name}\n")
            listedd.append(name)
        elif r < 0.11:
            f.write(f"!{name}\n")
        else:
            f.write(f"{name}\n")
            listedd.append(name)

def rev4(a):
    return f"{a & 255}.{a >> 8 & 255}.{a >> 16 & 255}.{a >> 24}"

def rev6(a):
    return ".".join(f"{(a >> (4 * k)) & 15:x}" for k in range(32))

# Query mix as a mail server sees it: mostly IPv4 (half of them listed), some IPv6, some domains.
with open(f"{out}/queries.txt", "w") as f:
    for i in range(nq):
        t = "TXT" if rnd.random() < 0.15 else "A"
        r = rnd.random()
        if r < 0.35:
            f.write(f"{rev4(rnd.choice(listed4) & 0xFFFFFFFF)}.bl.bench {t}\n")
        elif r < 0.70:
            f.write(f"{rev4(public4())}.bl.bench {t}\n")
        elif r < 0.78:
            f.write(f"{rev6(rnd.choice(listed6))}.bl.bench {t}\n")
        elif r < 0.82:
            f.write(f"{rev6((0x2 << 124) | rnd.getrandbits(124))}.bl.bench {t}\n")
        elif r < 0.92:
            f.write(f"{rnd.choice(listedd)}.dbl.bench {t}\n")
        else:
            f.write(f"unlisted{rnd.getrandbits(40)}.{rnd.choice(tlds)}.dbl.bench {t}\n")
print(f"generated the {shape} shape: {n4} IPv4, {n6} IPv6, {nd} domain entries, {nq} queries in {out}")
