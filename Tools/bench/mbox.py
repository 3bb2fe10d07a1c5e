#!/usr/bin/env python3
"""Writes an mbox of N forwarded spam messages (default 10,000) for Tools/bench/intake: the
message vectors of Tests/MailIntakeTests/Messages, each copy with its own forwarder (2,000 of
them), spam source address and Message-ID, so every message is a distinct report."""
import pathlib, random, re, sys

out = pathlib.Path(sys.argv[1])
count = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
root = pathlib.Path(__file__).resolve().parents[2]
vectors = [root / "Tests/MailIntakeTests/Messages" / n for n in
           ["attachment.eml", "nested.eml", "ipv6.eml", "windows-1258.eml", "arf.eml", "inline.eml"]]
texts = [v.read_bytes() for v in vectors]
rng = random.Random(12)
with out.open("wb") as f:
    for i in range(count):
        body = texts[i % len(texts)]
        a, b, c = rng.randrange(1, 223), rng.randrange(256), rng.randrange(256)
        body = body.replace(b"203.0.113.7", f"{a}.{b}.{c}.7".encode()).replace(b"203.0.113.80", f"{a}.{b}.{c}.80".encode())
        body = re.sub(rb"Message-ID: <([^>]*)>", lambda m: b"Message-ID: <%d.%s>" % (i, m.group(1)), body, count=2)
        # mboxrd: a body line starting with "From " (any number of ">") gains a ">".
        body = re.sub(rb"(?m)^(>*From )", rb">\1", body.replace(b"\r\n", b"\n"))
        f.write(b"From forwarder%d@example.net Mon Nov 30 08:00:00 2026\n" % (i % 2000))
        f.write(body if body.endswith(b"\n") else body + b"\n")
        f.write(b"\n")
print(f"{out}: {count} messages")
