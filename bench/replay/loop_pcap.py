#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write COPIES back-to-back copies of a classic pcap (any byte order, us or ns) to OUT,
each copy shifted in time by (capture span + GAP s) so time keeps advancing and, with
GAP > idle timeout, every copy makes new flows. Benchmark input only (std lib only).

usage: loop_pcap.py IN.pcap OUT.pcap COPIES [GAP_SECONDS=200]
"""
import struct
import sys


def main():
    src, dst, copies = sys.argv[1], sys.argv[2], int(sys.argv[3])
    gap = float(sys.argv[4]) if len(sys.argv) > 4 else 200.0
    data = open(src, "rb").read()
    magic = data[:4]
    table = {b"\xd4\xc3\xb2\xa1": ("<", 1e6), b"\xa1\xb2\xc3\xd4": (">", 1e6),
             b"\x4d\x3c\xb2\xa1": ("<", 1e9), b"\xa1\xb2\x3c\x4d": (">", 1e9)}
    if magic not in table:
        sys.exit(f"{src}: not a classic pcap file")
    e, frac = table[magic]
    rec = struct.Struct(e + "IIII")
    recs = []
    off = 24
    while off + 16 <= len(data):
        sec, sub, cap, wire = rec.unpack_from(data, off)
        if off + 16 + cap > len(data):
            break
        recs.append((sec * int(frac) + sub, data[off + 8:off + 16 + cap]))
        off += 16 + cap
    if not recs:
        sys.exit(f"{src}: no records")
    t0 = min(t for t, _ in recs)
    span = max(t for t, _ in recs) - t0 + int(gap * frac)
    with open(dst, "wb") as out:
        out.write(data[:24])
        pack = struct.Struct(e + "II").pack
        for c in range(copies):
            shift = c * span
            chunk = []
            for t, rest in recs:
                t += shift
                chunk.append(pack(t // int(frac), t % int(frac)))
                chunk.append(rest)
            out.write(b"".join(chunk))
    print(f"loop_pcap: {dst}: {len(recs) * copies} packets ({copies} x {len(recs)})", file=sys.stderr)


if __name__ == "__main__":
    main()
