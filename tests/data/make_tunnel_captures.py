#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Writes the overlay-tunnel captures used by tests/differential/tunnel_test.py: VXLAN (UDP 4789,
# 8472 and an extra port 9999), Geneve with options (Ethernet and IPv4 payloads), GTP-U (plain,
# with a sequence number, with a PDU session container extension header), GRE (key, key +
# sequence, checksum; 0x6558 Ethernet, 0x0800, 0x86dd) and IP in IP (4in4, 6in4, 4in6, 6in6).
# Needs scapy 2.5 (Debian python3-scapy); deterministic (fixed timestamps, no random fields):
# re-running rewrites identical files. Expected values are not written here: the test takes
# them from tshark's dissection of these files.
import os

from scapy.all import (ARP, Dot1Q, Ether, GRE, ICMP, IP, IPv6, Raw, TCP, UDP, VXLAN, wrpcap)
from scapy.contrib.geneve import GENEVE
from scapy.contrib.gtp import GTP_U_Header, GTPPDUSessionContainer, GTPEchoRequest

OUT = os.path.dirname(os.path.abspath(__file__))

NODE_A, NODE_B = "192.168.56.11", "192.168.56.12"          # underlay (outer) addresses
NODE6_A, NODE6_B = "fd00:56::11", "fd00:56::12"
MAC_A, MAC_B = "02:00:00:00:00:0a", "02:00:00:00:00:0b"    # underlay MACs
POD_MAC_1, POD_MAC_2 = "0a:58:0a:f4:01:05", "0a:58:0a:f4:02:07"


def outer4(a_to_b, sport=40001):
    """Underlay Ethernet + IPv4 + UDP source port (the flow hash a VTEP puts there)."""
    src, dst = (NODE_A, NODE_B) if a_to_b else (NODE_B, NODE_A)
    smac, dmac = (MAC_A, MAC_B) if a_to_b else (MAC_B, MAC_A)
    return Ether(src=smac, dst=dmac) / IP(src=src, dst=dst, id=1, flags="DF")


def inner_eth(a_to_b):
    return Ether(src=POD_MAC_1, dst=POD_MAC_2) if a_to_b else Ether(src=POD_MAC_2, dst=POD_MAC_1)


def tcp_exchange(c, s, cport, sport, v6=False, data=(120, 700)):
    """(client->server?, IP/TCP packet) of a short TCP connection: handshake, one request,
    one response, FIN/ACK both ways."""
    ip = (lambda a, b: IPv6(src=a, dst=b)) if v6 else (lambda a, b: IP(src=a, dst=b, id=7))
    cs, ss = 1000, 5000
    req, resp = data
    out = [
        (True, ip(c, s) / TCP(sport=cport, dport=sport, flags="S", seq=cs, window=64240)),
        (False, ip(s, c) / TCP(sport=sport, dport=cport, flags="SA", seq=ss, ack=cs + 1, window=65160)),
        (True, ip(c, s) / TCP(sport=cport, dport=sport, flags="A", seq=cs + 1, ack=ss + 1, window=502)),
        (True, ip(c, s) / TCP(sport=cport, dport=sport, flags="PA", seq=cs + 1, ack=ss + 1, window=502)
         / Raw(b"q" * req)),
        (False, ip(s, c) / TCP(sport=sport, dport=cport, flags="PA", seq=ss + 1, ack=cs + 1 + req, window=509)
         / Raw(b"r" * resp)),
        (True, ip(c, s) / TCP(sport=cport, dport=sport, flags="FA", seq=cs + 1 + req, ack=ss + 1 + resp)),
        (False, ip(s, c) / TCP(sport=sport, dport=cport, flags="FA", seq=ss + 1 + resp, ack=cs + 2 + req)),
        (True, ip(c, s) / TCP(sport=cport, dport=sport, flags="A", seq=cs + 2 + req, ack=ss + 2 + resp)),
    ]
    return out


def udp_exchange(c, s, cport, sport, v6=False, sizes=(40, 200)):
    ip = (lambda a, b: IPv6(src=a, dst=b)) if v6 else (lambda a, b: IP(src=a, dst=b, id=9))
    return [(True, ip(c, s) / UDP(sport=cport, dport=sport) / Raw(b"d" * sizes[0])),
            (False, ip(s, c) / UDP(sport=sport, dport=cport) / Raw(b"e" * sizes[1]))]


def icmp_echo(c, s):
    return [(True, IP(src=c, dst=s, id=3) / ICMP(type=8, id=77, seq=1) / Raw(b"p" * 56)),
            (False, IP(src=s, dst=c, id=4) / ICMP(type=0, id=77, seq=1) / Raw(b"p" * 56))]


def stamp(frames, t0):
    out = []
    for i, f in enumerate(frames):
        f.time = t0 + i * 0.001
        out.append(f)
    return out


def vxlan(port, pkts, vni, sport0, vlan=None):
    frames = []
    for i, (ab, p) in enumerate(pkts):
        eth = inner_eth(ab)
        inner = eth / Dot1Q(vlan=vlan) / p if vlan is not None else eth / p
        frames.append(outer4(ab) / UDP(sport=sport0 + (0 if ab else 7), dport=port)
                      / VXLAN(flags=0x08, vni=vni) / inner)
    return frames


# tunnel_vxlan.pcap: VXLAN on 4789 (RFC 7348), 8472 (Linux/Flannel default) and 9999 (given
# with --vxlan-port), carrying TCP over IPv4 and IPv6, UDP, ICMP echo, a VLAN-tagged inner frame,
# inner ARP (no flow), next to an untunnelled UDP exchange.
frames = []
frames += vxlan(4789, tcp_exchange("10.244.1.5", "10.244.2.7", 41000, 80), 42, 51000)
frames += vxlan(8472, udp_exchange("10.244.1.5", "10.96.0.10", 53001, 53), 1, 52000)
frames += vxlan(8472, icmp_echo("10.244.1.6", "10.244.2.8"), 1, 52010)
frames += vxlan(4789, tcp_exchange("fd00:10:244:1::5", "fd00:10:244:2::7", 41001, 443, v6=True), 42, 53000)
frames += vxlan(9999, udp_exchange("10.244.1.9", "10.244.2.9", 5000, 6000), 7, 54000)
frames += vxlan(4789, tcp_exchange("10.244.1.5", "10.244.2.7", 41002, 8080), 42, 55000, vlan=100)
frames.append(outer4(True) / UDP(sport=56000, dport=4789) / VXLAN(flags=0x08, vni=42)
              / Ether(src=POD_MAC_1, dst="ff:ff:ff:ff:ff:ff") / ARP(psrc="10.244.1.5", pdst="10.244.2.7"))
frames += [Ether(src=MAC_A, dst=MAC_B) / p for ab, p in udp_exchange(NODE_A, NODE_B, 33000, 53)]
wrpcap(os.path.join(OUT, "tunnel_vxlan.pcap"), stamp(frames, 1700000000))


# tunnel_geneve.pcap: Geneve (RFC 8926) on 6081 with options (Cilium/OVN style: 8 and 16 bytes
# of TLVs), payload Ethernet (0x6558) over IPv4 and IPv6 underlays, and payload IPv4 (0x0800).
def geneve_opts(n_words):
    # One TLV: class 0x0102, type 0x80, length n_words - 1 (4-byte words after its header).
    return bytes([0x01, 0x02, 0x80, n_words - 1]) + bytes(range(4 * (n_words - 1)))


frames = []
for ab, p in tcp_exchange("10.0.1.10", "10.0.2.20", 42000, 6443):
    opts = geneve_opts(2)
    frames.append(outer4(ab) / UDP(sport=60000 + ab, dport=6081)
                  / GENEVE(optionlen=len(opts) // 4, proto=0x6558, vni=0x123456, options=opts)
                  / inner_eth(ab) / p)
for ab, p in udp_exchange("10.0.1.11", "10.0.2.21", 7000, 7001):
    opts = geneve_opts(4)
    src, dst = (NODE6_A, NODE6_B) if ab else (NODE6_B, NODE6_A)
    frames.append(Ether(src=MAC_A, dst=MAC_B) / IPv6(src=src, dst=dst) / UDP(sport=61000, dport=6081)
                  / GENEVE(optionlen=len(opts) // 4, proto=0x6558, vni=77, options=opts)
                  / inner_eth(ab) / p)
for ab, p in tcp_exchange("10.0.1.12", "10.0.2.22", 42001, 22):
    frames.append(outer4(ab) / UDP(sport=62000, dport=6081) / GENEVE(proto=0x0800, vni=9) / p)
wrpcap(os.path.join(OUT, "tunnel_geneve.pcap"), stamp(frames, 1700000100))


# tunnel_gtpu.pcap: GTP-U (3GPP TS 29.281) G-PDUs on 2152: no optional fields, with a sequence
# number (S), with a PDU session container extension header (E, type 0x85); inner IPv4 TCP and
# IPv6 UDP; plus an Echo Request (signalling, not opened: stays an outer flow).
frames = []
for i, (ab, p) in enumerate(tcp_exchange("10.45.0.2", "93.184.216.34", 43000, 443)):
    teid = 0x1001 if ab else 0x2002
    if i % 3 == 0:
        gtp = GTP_U_Header(teid=teid, gtp_type=255)
    elif i % 3 == 1:
        gtp = GTP_U_Header(teid=teid, gtp_type=255, S=1, seq=i)
    else:
        gtp = GTP_U_Header(teid=teid, gtp_type=255, E=1, next_ex=0x85) / GTPPDUSessionContainer(type=1, QFI=9)
    frames.append(outer4(ab) / UDP(sport=2152, dport=2152) / gtp / p)
for ab, p in udp_exchange("fd00:45::2", "2001:db8::53", 5353, 53, v6=True):
    frames.append(outer4(ab) / UDP(sport=2152, dport=2152) / GTP_U_Header(teid=0x3003, gtp_type=255) / p)
frames.append(outer4(True) / UDP(sport=2152, dport=2152) / GTP_U_Header(gtp_type=1, S=1, seq=5) / GTPEchoRequest())
wrpcap(os.path.join(OUT, "tunnel_gtpu.pcap"), stamp(frames, 1700000200))


# tunnel_gre.pcap: GRE (RFC 2784/2890) with a key carrying IPv4, with key + sequence number
# carrying Ethernet (0x6558, transparent Ethernet bridging), with a checksum carrying IPv6.
frames = []
for ab, p in tcp_exchange("172.16.1.1", "172.16.2.2", 44000, 80):
    frames.append(outer4(ab) / GRE(key_present=1, key=0x0a0b0c0d, proto=0x0800) / p)
for i, (ab, p) in enumerate(udp_exchange("172.16.1.3", "172.16.2.4", 8000, 8001)):
    frames.append(outer4(ab) / GRE(key_present=1, key=1234, seqnum_present=1, seqence_number=i, proto=0x6558)
                  / inner_eth(ab) / p)
for ab, p in tcp_exchange("fd00:16:1::1", "fd00:16:2::2", 44001, 443, v6=True):
    frames.append(outer4(ab) / GRE(chksum_present=1, proto=0x86dd) / p)
wrpcap(os.path.join(OUT, "tunnel_gre.pcap"), stamp(frames, 1700000300))


# tunnel_ipip.pcap: IPv4 in IPv4 (protocol 4), IPv6 in IPv4 (41, 6in4), IPv4 in IPv6 (4), IPv6
# in IPv6 (41).
def outer6(ab):
    src, dst = (NODE6_A, NODE6_B) if ab else (NODE6_B, NODE6_A)
    return Ether(src=MAC_A, dst=MAC_B) / IPv6(src=src, dst=dst)


frames = []
frames += [outer4(ab) / p for ab, p in tcp_exchange("10.10.1.1", "10.10.2.2", 45000, 80)]
frames += [outer4(ab) / p for ab, p in udp_exchange("2001:db8:1::1", "2001:db8:2::2", 9000, 9001, v6=True)]
frames += [outer6(ab) / p for ab, p in udp_exchange("10.10.1.3", "10.10.2.4", 9002, 9003)]
frames += [outer6(ab) / p for ab, p in tcp_exchange("2001:db8:1::5", "2001:db8:2::6", 45001, 8443, v6=True)]
wrpcap(os.path.join(OUT, "tunnel_ipip.pcap"), stamp(frames, 1700000400))
