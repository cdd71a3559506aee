#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Seed corpora for the fuzz targets (std lib only).

usage: make_seeds.py DECODE_DIR CAPTURE_DIR CAPTURE_FILES...
  * CAPTURE_DIR gets every given capture file up to 64 KiB (tests/data/*.pcap*, regress
    inputs, small real captures) plus crafted pcap/pcapng files holding the frames below;
  * DECODE_DIR gets fuzz_decode inputs (see fuzz_decode.cpp: selector byte, mode/extra byte,
    frame) for the crafted frames and for the first records of the given classic pcaps.
Also: make_seeds.py --to-pcap DECODE_INPUT OUT.pcap turns a fuzz_decode input into a
one-record pcap (how run-short.sh saves a decode crash for tests/regress).
"""
import hashlib
import os
import shutil
import struct
import sys

LINKS = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147]


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(proto, l4, src=b"\x0a\x00\x00\x01", dst=b"\x0a\x00\x00\x02", frag=0x4000, ihl=5, opts=b""):
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 20 + len(opts) + len(l4), 1, frag, 64, proto, 0, src, dst) + opts
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + l4


def ipv6(nh, l4, ext=b""):
    return struct.pack("!IHBB16s16s", 0x60000000, len(ext) + len(l4), nh, 64, b"\x20\x01" + b"\0" * 13 + b"\1",
                       b"\x20\x01" + b"\0" * 13 + b"\2") + ext + l4


def tcp(sport=1234, dport=80, flags=0x02, payload=b"", doff=5, opts=b""):
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, doff << 4, flags, 65535, 0, 0) + opts + payload


def udp(sport=5353, dport=53, payload=b"abcd"):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def eth(payload, etype=0x0800, tags=()):
    h = b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb"
    for tpid, vid in tags:
        h += struct.pack("!HH", tpid, vid)
    return h + struct.pack("!H", etype) + payload


def frames():
    """(link_type, frame) pairs covering the decoder's branches."""
    t = tcp(flags=0x18, payload=b"GET / HTTP/1.0\r\n\r\n")
    v4 = ipv4(6, t)
    v6 = ipv6(6, t)
    out = [
        (1, eth(v4)),
        (1, eth(ipv4(17, udp()))),
        (1, eth(ipv4(1, b"\x08\x00\x00\x00\x00\x01\x00\x01payload"))),
        (1, eth(ipv4(6, tcp(doff=8, opts=b"\x02\x04\x05\xb4\x01\x03\x03\x07\x04\x02\x00\x00")))),
        (1, eth(ipv4(6, t, ihl=6, opts=b"\x01\x01\x01\x00"))),
        (1, eth(ipv4(17, udp(), frag=0x2000))),        # first fragment
        (1, eth(ipv4(17, b"later-fragment", frag=0x0010))),
        (1, eth(v6, 0x86DD)),
        (1, eth(ipv6(44, udp(), ext=b"\x11\x00\x00\x00\x00\x00\x00\x01"), 0x86DD)),  # fragment hdr
        (1, eth(ipv6(0, t, ext=b"\x06\x00\x01\x04\x00\x00\x00\x00"), 0x86DD)),       # hop-by-hop
        (1, eth(ipv6(58, b"\x80\x00\x00\x00\x00\x01\x00\x01"), 0x86DD)),
        (1, eth(v4, tags=[(0x8100, 10)])),
        (1, eth(v4, tags=[(0x88A8, 10), (0x8100, 20)])),
        (1, eth(b"\x00\x01\x41\x00" + v4, 0x8847)),                       # MPLS
        (1, eth(b"\x11\x00\x00\x01" + struct.pack("!H", len(v4) + 2) + b"\x00\x21" + v4, 0x8864)),  # PPPoE
        (1, eth(b"\x00\x01\x08\x00\x06\x04\x00\x01" + b"\0" * 20, 0x0806)),  # ARP
        (1, b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb" + struct.pack("!H", 3 + 5 + len(v4)) +
         b"\xaa\xaa\x03\x00\x00\x00\x08\x00" + v4),                      # 802.3 LLC/SNAP
        (1, eth(v4 + b"\0" * 20)),                                       # trailer bytes
        (1, eth(ipv4(6, t)[:30])),                                       # truncated
        (1, eth(ipv4(6, tcp(doff=3)))),                                  # bad doff
        (1, eth(ipv4(6, t, ihl=4))),                                     # bad ihl
        (0, struct.pack("<I", 2) + v4),                                  # BSD null
        (0, struct.pack("<I", 30) + v6),
        (12, v4), (14, v6), (101, v4), (228, v4), (229, v6),
        (108, struct.pack("<I", 2) + v4),                                # OpenBSD loop
        (113, struct.pack("!HHH8sH", 0, 1, 6, b"\x00\x11\x22\x33\x44\x55\0\0", 0x0800) + v4),  # SLL
        (276, struct.pack("!HHIHBB8s", 0x0800, 0, 2, 1, 0, 6, b"\x00\x11\x22\x33\x44\x55\0\0") + v6),  # SLL2
    ]
    return out


def pcap(records, link):
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, link)
    for i, f in enumerate(records):
        out += struct.pack("<IIII", 1700000000 + i, i * 1000, len(f), len(f)) + f
    return out


def pcapng(records):
    def block(t, body):
        body += b"\0" * (-len(body) % 4)
        n = 12 + len(body)
        return struct.pack("<II", t, n) + body + struct.pack("<I", n)
    out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    links = sorted({l for l, _ in records})
    for l in links:
        opts = struct.pack("<HHB3x", 9, 1, 9) + struct.pack("<HH", 0, 0)  # if_tsresol 10^-9
        out += block(1, struct.pack("<HHI", l, 0, 65535) + opts)
    for i, (l, f) in enumerate(records):
        ts = 1700000000_000000000 + i * 1000
        out += block(6, struct.pack("<IIIII", links.index(l), ts >> 32, ts & 0xFFFFFFFF, len(f), len(f)) + f)
    out += block(3, struct.pack("<I", len(records[0][1])) + records[0][1])  # simple packet block
    return out


def classic_records(data):
    """(link, frame) of a classic pcap's first records (either byte order)."""
    if len(data) < 24:
        return []
    for e in "<>":
        if struct.unpack(e + "I", data[:4])[0] in (0xA1B2C3D4, 0xA1B23C4D):
            break
    else:
        return []
    link = struct.unpack(e + "I", data[20:24])[0] & 0x0FFFFFFF
    out, off = [], 24
    while off + 16 <= len(data) and len(out) < 32:
        cap = struct.unpack(e + "I", data[off + 8:off + 12])[0]
        if cap > 65535 or off + 16 + cap > len(data):
            break
        out.append((link, data[off + 16:off + 16 + cap]))
        off += 16 + cap
    return out


def decode_input(link, frame, mode=0, extra=0):
    sel = LINKS.index(link) if link in LINKS else 10
    return bytes([sel, (extra << 1) | mode]) + frame


def put(d, data):
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


def to_pcap(src, dst):
    data = open(src, "rb").read()
    if len(data) < 2:
        data += b"\0" * (2 - len(data))
    link = LINKS[data[0] % 11]
    frame = data[2:]
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, link)
    out += struct.pack("<IIII", 1700000000, 0, len(frame), len(frame) + (data[1] >> 1)) + frame
    open(dst, "wb").write(out)


def main():
    if sys.argv[1] == "--to-pcap":
        to_pcap(sys.argv[2], sys.argv[3])
        return
    ddir, cdir = sys.argv[1], sys.argv[2]
    os.makedirs(ddir, exist_ok=True)
    os.makedirs(cdir, exist_ok=True)
    fr = frames()
    for l, f in fr:
        put(ddir, decode_input(l, f, 0))
        put(ddir, decode_input(l, f, 1, 7))
    by_link = {}
    for l, f in fr:
        by_link.setdefault(l, []).append(f)
    for l, fs in by_link.items():
        put(cdir, pcap(fs, l))
    put(cdir, pcapng(fr))
    # A small flow: handshake, data both ways, FINs (engine paths).
    seq = [tcp(1234, 80, 0x02), tcp(80, 1234, 0x12), tcp(1234, 80, 0x10), tcp(1234, 80, 0x18, b"x" * 100),
           tcp(80, 1234, 0x18, b"y" * 1400), tcp(1234, 80, 0x11), tcp(80, 1234, 0x11), tcp(1234, 80, 0x10)]
    pk = []
    for i, s in enumerate(seq):
        fwd = struct.unpack("!H", s[:2])[0] == 1234
        a, b = b"\x0a\x00\x00\x01", b"\x0a\x00\x00\x02"
        pk.append(eth(ipv4(6, s, *((a, b) if fwd else (b, a)))))
    put(cdir, pcap(pk, 1))
    for path in sys.argv[3:]:
        try:
            data = open(path, "rb").read()
        except OSError:
            continue
        if len(data) <= 65536:
            put(cdir, data)
        for l, f in classic_records(data[:1 << 20]):
            put(ddir, decode_input(l, f[:4096], 0))


if __name__ == "__main__":
    main()
