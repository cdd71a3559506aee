#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Writes the small self-made captures used by tests/unit/capture_reader_test.cpp.
# Only Python's struct module; deterministic output (re-running rewrites identical files).
# The expected values the tests check are written next to each file below, computed by hand.
import os
import struct

OUT = os.path.dirname(os.path.abspath(__file__))


def eth_ipv4_udp(payload_len, sport=1000, dport=2000):
    """Ethernet/IPv4/UDP frame; 14 + 20 + 8 + payload_len bytes (no checksums)."""
    udp = struct.pack('>HHHH', sport, dport, 8 + payload_len, 0) + bytes(range(payload_len))
    ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    return b'\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00' + ip + udp


def raw_ipv4_tcp():
    """Raw IPv4/TCP SYN, 40 bytes."""
    tcp = struct.pack('>HHIIBBHHH', 1234, 80, 1, 0, 0x50, 0x02, 65535, 0, 0)
    ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 40, 1, 0, 64, 6, 0,
                     bytes([192, 168, 0, 1]), bytes([192, 168, 0, 2]))
    return ip + tcp


def sll_ipv4_udp(payload_len):
    """Linux cooked v1 header (16 bytes) + IPv4/UDP."""
    sll = struct.pack('>HHH8sH', 0, 1, 6, b'\x02\x00\x00\x00\x00\x01\x00\x00', 0x0800)
    return sll + eth_ipv4_udp(payload_len)[14:]


def write(name, data):
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(data)


# ---- classic pcap -------------------------------------------------------------------------
def pcap_header(endian, magic, snaplen=65535, linktype=1, major=2, minor=4):
    return struct.pack(endian + 'IHHiIII', magic, major, minor, 0, 0, snaplen, linktype)


def pcap_record(endian, sec, frac, data, wire_len=None):
    return struct.pack(endian + 'IIII', sec, frac, len(data),
                       len(data) if wire_len is None else wire_len) + data


# pcap_us_le.pcap: 4 records, EN10MB.
#  1: ts 1658945740.490110 s, UDP 10 B payload, 52 bytes.
#  2: ts 1658945741.000001, 60-byte frame cut to 34 bytes (wire 60).
#  3: zero-length record (caplen 0, wire 0), ts 1658945742.999999.
#  4: caplen 52 > wire 40 (kept as stored; caplen_clamped = 1), ts 2.
f1 = eth_ipv4_udp(10)
write('pcap_us_le.pcap',
      pcap_header('<', 0xa1b2c3d4) +
      pcap_record('<', 1658945740, 490110, f1) +
      pcap_record('<', 1658945741, 1, eth_ipv4_udp(18)[:34], 60) +
      pcap_record('<', 1658945742, 999999, b'') +
      pcap_record('<', 2, 0, f1, 40))

# pcap_ns_be.pcap: big-endian, nanosecond magic, LINKTYPE_RAW (101), 2 records.
#  1: ts 1600000000.123456789 s, raw IPv4/TCP 40 bytes.  2: ts 4294967295.999999999 s.
write('pcap_ns_be.pcap',
      pcap_header('>', 0xa1b23c4d, linktype=101) +
      pcap_record('>', 1600000000, 123456789, raw_ipv4_tcp()) +
      pcap_record('>', 4294967295, 999999999, raw_ipv4_tcp()))

# pcap_huge_snaplen.pcap: header snaplen 0xffffffff (nonsense but harmless), 1 record 52 B.
write('pcap_huge_snaplen.pcap',
      pcap_header('<', 0xa1b2c3d4, snaplen=0xffffffff) + pcap_record('<', 10, 20, f1))

# pcap_truncated.pcap: 2 whole 52-byte records, then record 3's header says 52 bytes but only
# 20 follow. Record 3 starts at 24 + 2 * (16 + 52) = 160.
whole = pcap_header('<', 0xa1b2c3d4) + pcap_record('<', 1, 0, f1) + pcap_record('<', 2, 0, f1)
write('pcap_truncated.pcap', whole + pcap_record('<', 3, 0, f1)[:16 + 20])
# pcap_cut_header.pcap: cut inside record 2's 16-byte header (8 bytes of it present).
write('pcap_cut_header.pcap', pcap_header('<', 0xa1b2c3d4) + pcap_record('<', 1, 0, f1) +
      pcap_record('<', 2, 0, f1)[:8])
# pcap_corrupt_caplen.pcap: record 2 claims caplen 0x00100000 (1 MiB > 256 KiB) at offset 92.
write('pcap_corrupt_caplen.pcap', pcap_header('<', 0xa1b2c3d4) + pcap_record('<', 1, 0, f1) +
      struct.pack('<IIII', 2, 0, 0x100000, 0x100000) + f1)
write('pcap_header_only.pcap', pcap_header('<', 0xa1b2c3d4))
write('empty.pcap', b'')
write('not_a_capture.txt', b'hello world, this is text\n')


# ---- pcapng -------------------------------------------------------------------------------
def pad4(b):
    return b + b'\x00' * (-len(b) % 4)


def block(e, btype, body):
    body = pad4(body)
    n = 12 + len(body)
    return struct.pack(e + 'II', btype, n) + body + struct.pack(e + 'I', n)


def opt(e, code, value):
    return struct.pack(e + 'HH', code, len(value)) + pad4(value)


def shb(e, major=1, minor=0):
    return block(e, 0x0A0D0D0A, struct.pack(e + 'IHHq', 0x1A2B3C4D, major, minor, -1))


def idb(e, linktype, snaplen=0, tsresol=None):
    body = struct.pack(e + 'HHI', linktype, 0, snaplen)
    if tsresol is not None:
        body += opt(e, 9, bytes([tsresol])) + opt(e, 0, b'')
    return block(e, 1, body)


def epb(e, ifid, units, data, wire=None):
    return block(e, 6, struct.pack(e + 'IIIII', ifid, units >> 32, units & 0xffffffff, len(data),
                                   len(data) if wire is None else wire) + data)


def spb(e, data, wire=None):
    return block(e, 3, struct.pack(e + 'I', len(data) if wire is None else wire) + data)


def opb(e, ifid, units, data):
    return block(e, 2, struct.pack(e + 'HHIIII', ifid, 0, units >> 32, units & 0xffffffff,
                                   len(data), len(data)) + data)


# pcapng_multi.pcapng: section 1 little-endian, section 2 big-endian. 10 blocks after the
# headers, 8 of them packets (items 3 and 7 are skipped blocks; record numbers skip them):
#  s1 if0 EN10MB default 10^-6, if1 LINUX_SLL tsresol 9 (10^-9), if2 RAW tsresol 0x8a (2^-10)
#  1: EPB if0 units 1658945740490110 -> ts 1658945740.49011 s, ts_exp -5, 52 B Ethernet
#  2: EPB if1 units 1658945740123456789 -> ts_ns same, ts_exp -9, SLL 54 B
#  3: NRB (type 4) -> skipped
#  4: EPB if2 units 1025 (2^-10 s) -> 1025/1024 s = 1.0009765625 s -> 1000976563 ns (rounded),
#     ts_exp -9, raw 40 B
#  5: SPB (if0) 52 B -> ts of previous record (1000976563 ns, ts_exp -9), link EN10MB
#  6: OPB if0 units 1600000000000000 -> ts_exp 0 (Decimal 1600000000), 52 B
#  7: ISB (type 5) -> skipped
#  s2 BE: if0 RAW tsresol 3 (10^-3)
#  8: EPB if0 units 1500 -> 1.5 s, ts_exp -1, raw 40 B
#  9: EPB if0 units 0 -> 0 s, ts_exp 0
# 10: EPB if0 units 0xFFFFFFFFFFFFFFFF ms -> out of range: ts_ns INT64_MAX, ts_clamped 1,
#     ts_exp -3 (18446744073709551615 has no trailing zero)
L, B = '<', '>'
isb = block(L, 5, struct.pack(L + 'III', 0, 0, 0) + opt(L, 0, b''))
nrb = block(L, 4, struct.pack(L + 'HH', 0, 0))
write('pcapng_multi.pcapng',
      shb(L) + idb(L, 1) + idb(L, 113, tsresol=9) + idb(L, 101, tsresol=0x8a) +
      epb(L, 0, 1658945740490110, f1) +
      epb(L, 1, 1658945740123456789, sll_ipv4_udp(10)) +
      nrb +
      epb(L, 2, 1025, raw_ipv4_tcp()) +
      spb(L, f1) +
      opb(L, 0, 1600000000000000, f1) +
      isb +
      shb(B) + idb(B, 101, tsresol=3) +
      epb(B, 0, 1500, raw_ipv4_tcp()) +
      epb(B, 0, 0, raw_ipv4_tcp()) +
      epb(B, 0, 0xFFFFFFFFFFFFFFFF, raw_ipv4_tcp()))

write('pcapng_header_only.pcapng', shb(B))

# pcapng_corrupt_len.pcapng: second EPB's trailing length differs from its leading one.
# SHB 28 + IDB 20 = 48; EPB1 = 12 + 20 + 52 = 84 -> EPB2 at 132.
bad = bytearray(epb(L, 0, 2, f1))
struct.pack_into(L + 'I', bad, len(bad) - 4, 999)
write('pcapng_corrupt_len.pcapng', shb(L) + idb(L, 1) + epb(L, 0, 1, f1) + bytes(bad))

# pcapng_truncated.pcapng: file ends inside the second EPB (at 132 + 40); block says 84 bytes.
write('pcapng_truncated.pcapng', shb(L) + idb(L, 1) + epb(L, 0, 1, f1) + epb(L, 0, 2, f1)[:40])

# pcapng_bad_len.pcapng: an EPB whose length field (30) is not a multiple of 4, at offset 48.
b = bytearray(epb(L, 0, 1, f1))
struct.pack_into(L + 'I', b, 4, 30)
write('pcapng_bad_len.pcapng', shb(L) + idb(L, 1) + bytes(b))


# ---- header versions libpcap 1.10 refuses (checked with tcpdump 4.99.3 / libpcap 1.10.3) --
# Classic pcap: 2.0-2.4 and 543.0 are read, anything else is refused at open ("unsupported
# pcap savefile version 2.5", "archaic pcap savefile format" for 1.x). The version is at
# byte offset 4 of the file header.
write('pcap_version_2_5.pcap', pcap_header('<', 0xa1b2c3d4, minor=5) + pcap_record('<', 1, 0, f1))
write('pcap_version_1_0_be.pcap', pcap_header('>', 0xa1b2c3d4, major=1, minor=0) +
      pcap_record('>', 1, 0, f1))
# pcapng: the first section must be 1.0 or 1.2 ("unsupported pcapng savefile version 1.1");
# the version is at byte offset 12 of the SHB. pcapng_version_1_2.pcapng is read (1 record).
write('pcapng_version_1_1.pcapng', shb(L, 1, 1) + idb(L, 1) + epb(L, 0, 1, f1))
write('pcapng_version_2_0_be.pcapng', shb(B, 2, 0) + idb(B, 1) + epb(B, 0, 1, f1))
write('pcapng_version_1_2.pcapng', shb(L, 1, 2) + idb(L, 1) + epb(L, 0, 1, f1))
# A later section of major version 2: libpcap reads the records before it, then fails
# ("unknown pcapng savefile major version number 2"). SHB 28 + IDB 20 + EPB 84 = 132: the
# second SHB starts at 132, its version field at 144. One record before it.
write('pcapng_second_section_v2.pcapng', shb(L) + idb(L, 1) + epb(L, 0, 1, f1) +
      shb(L, 2, 0) + idb(L, 1) + epb(L, 0, 2, f1))


# ---- encapsulations the decoder walks (checked against tshark by tests/differential) -------
# Each flow has its own source port; the comments name what tshark 4.0 dissects
# (frame.protocols). Two packets per flow, 1 s apart.
def ip4(src, dst, proto, payload, frag=0):
    return struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), 1, frag, 64, proto, 0,
                       bytes(src), bytes(dst)) + payload


def ip6(src_last, dst_last, nh, payload):
    a = b'\x20\x01\x0d\xb8' + b'\x00' * 11
    return struct.pack('>IHBB', 0x60000000, len(payload), nh, 64) + a + bytes([src_last]) + \
        a + bytes([dst_last]) + payload


def tcp(sport, dport, payload=b''):
    return struct.pack('>HHIIBBHHH', sport, dport, 1, 0, 0x50, 0x18, 1000, 0, 0) + payload


def udp(sport, dport, payload=b''):
    return struct.pack('>HHHH', sport, dport, 8 + len(payload), 0) + payload


def ah(nh, payload):
    """IPv4/IPv6 AH (RFC 4302): 12 fixed bytes + 12-byte ICV = 24 bytes, length field 4."""
    return struct.pack('>BBHII', nh, 4, 0, 0x100, 1) + b'\x00' * 12 + payload


A, Z = [10, 0, 0, 1], [10, 0, 0, 2]
MACS = b'\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01'
CMACS = b'\x02\x00\x00\x00\x00\x0c\x02\x00\x00\x00\x00\x0d'


def et(t):
    return struct.pack('>H', t)


v4tcp = lambda sp: et(0x0800) + ip4(A, Z, 6, tcp(sp, 80, b'abcd'))
v4udp = lambda sp: et(0x0800) + ip4(A, Z, 17, udp(sp, 53, b'xyz'))
v6tcp = lambda sp: et(0x86dd) + ip6(1, 2, 6, tcp(sp, 443, b'hello'))
v6udp = lambda sp: et(0x86dd) + ip6(1, 2, 17, udp(sp, 53, b'q'))
itag = b'\x00\x00\x01\x00' + CMACS
nsh2 = lambda nxt: bytes([0x0f, 0xc2, 0x02, nxt]) + b'\x00\x00\x01\xff'          # MD type 2, 8 B
nsh1 = lambda nxt: bytes([0x0f, 0xc6, 0x01, nxt]) + b'\x00\x00\x01\xff' + b'\x00' * 16  # MD 1, 24 B
icv = b'\xee' * 16
mpls_bos = b'\x00\x06\x41\x40'  # label 100, S = 1, TTL 64
encap_frames = [
    # eth:ethertype:ieee8021ah:ethertype:ip:tcp
    MACS + et(0x88e7) + itag + v4tcp(1001),
    # eth:ethertype:vlan:ethertype:ieee8021ah:ethertype:vlan:ethertype:ip:udp (B-TAG, C-tag)
    MACS + et(0x88a8) + b'\x00\x05' + et(0x88e7) + itag + et(0x8100) + b'\x00\x07' + v4udp(1002),
    # eth:ethertype:vntag:ethertype:ip:tcp
    MACS + et(0x8926) + b'\x80\x05\x00\x07' + v4tcp(1003),
    # eth:cfp:eth:ethertype:ipv6:udp
    MACS + et(0x8903) + b'\x00\x3f' + CMACS + v6udp(1004),
    # eth:ethertype:nsh:ip:tcp
    MACS + et(0x894f) + nsh2(1) + ip4(A, Z, 6, tcp(1005, 80)),
    # eth:ethertype:nsh:eth:ethertype:ip:udp
    MACS + et(0x894f) + nsh1(3) + CMACS + v4udp(1006),
    # eth:ethertype:nsh:mpls:ip:tcp
    MACS + et(0x894f) + nsh2(5) + mpls_bos + ip4(A, Z, 6, tcp(1007, 80)),
    # eth:ethertype:macsec:ethertype:ip:tcp (integrity only, no SCI, 16-byte ICV)
    MACS + et(0x88e5) + b'\x00\x00\x00\x00\x00\x01' + v4tcp(1008) + icv,
    # eth:ethertype:macsec:ethertype:ipv6:tcp (SC bit: 8-byte SCI)
    MACS + et(0x88e5) + b'\x20\x00\x00\x00\x00\x01' + MACS[6:] + b'\x00\x01' + v6tcp(1009) + icv,
    # eth:ethertype:macsec:data (E and C: encrypted; not decoded, counted "encrypted")
    MACS + et(0x88e5) + b'\x2c\x00\x00\x00\x00\x01' + MACS[6:] + b'\x00\x01' + b'\x5a' * 60 + icv,
    # eth:ethertype:ip:ah:tcp
    MACS + et(0x0800) + ip4(A, Z, 51, ah(6, tcp(1011, 80, b'data'))),
    # eth:ethertype:ip:ah:udp
    MACS + et(0x0800) + ip4(A, Z, 51, ah(17, udp(1012, 53, b'data'))),
    # eth:ethertype:ipv6:ah:tcp (already decoded before; here for symmetry)
    MACS + et(0x86dd) + ip6(1, 2, 51, ah(6, tcp(1013, 80))),
    # eth:ethertype:nsh:data (next protocol 0x41, experimental: counted "unsupported_encap")
    MACS + et(0x894f) + nsh2(0x41) + b'\x00' * 40,
]
write('encap_ethernet.pcap', pcap_header('<', 0xa1b2c3d4) +
      b''.join(pcap_record('<', 1700000000 + k, 0, f) for k in range(2) for f in encap_frames))
# LINKTYPE_PPP: ppp:mpls:ip:tcp (0x0281, HDLC framing) and ppp:mpls:ipv6:udp (0x0283).
ppp_frames = [
    b'\xff\x03' + et(0x0281) + mpls_bos + ip4(A, Z, 6, tcp(2001, 80, b'ppp')),
    et(0x0283) + b'\x00\x06\x41\x40' + ip6(1, 2, 17, udp(2002, 53, b'm')),
]
write('encap_ppp_mpls.pcap', pcap_header('<', 0xa1b2c3d4, linktype=9) +
      b''.join(pcap_record('<', 1700000000 + k, 0, f) for k in range(2) for f in ppp_frames))
