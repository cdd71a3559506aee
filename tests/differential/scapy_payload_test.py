#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""nfm2022 payload sizes of re-encoded application layers vs scapy 2.5 itself.

NetFlowMeter 2022 measures payload as len(pkt[TCP].payload) / len(pkt[UDP].payload): the
length of the application layer scapy re-builds, and scapy re-encodes LDAP, CLDAP, SNMP and
Kerberos (BER) canonically. This test crafts frames (long-form lengths, padded integers, OIDs
with 0x80 groups, several LDAP messages per segment, unsupported operations, truncated and
malformed BER, deep nesting, UDP length below the datagram, Ethernet padding, port
precedence), writes them byte for byte to a capture, one flow each, asks scapy for
len(Ether(frame)[L4].payload) -- the oracle -- and compares with total_payload_bytes of
`nfm-xdp --profile nfm2022`.

These corpora must agree exactly: the crafted cases; the LDAP payloads of ../shared's Active
Directory capture (skipped loudly without ../shared); real MIT krb5 / OpenLDAP / net-snmp
exchanges (tests/data/ber_*_localhost.pcap) as recorded and with every BER length rewritten
in the 5-byte form Active Directory uses; a seeded re-encoding fuzz (valid messages, lengths
in random long forms, integers with redundant leading bytes). A byte-flip fuzz of valid
messages only reports its agreement: for Kerberos, scapy's per-field grammar decides there
and the decoder does not model it (docs/FEATURES.md).

Needs scapy 2.5 (Debian's python3-scapy): started by another interpreter it re-executes itself
with /usr/bin/python3; without scapy it exits 77 (CTest skip) and says why.
"""
from __future__ import annotations

import argparse
import csv
import io
import os
import random
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

SKIP = 77
DEBIAN_PYTHON = "/usr/bin/python3"
try:
    import scapy  # noqa: F401
    from scapy.all import Ether, IP, TCP, UDP, Raw, conf  # noqa: E402
except Exception as exc:  # pragma: no cover
    if (os.path.exists(DEBIAN_PYTHON) and not os.environ.get("NFM_SCAPY_REEXEC")
            and os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PYTHON)):
        os.environ["NFM_SCAPY_REEXEC"] = "1"  # Debian's python3-scapy lives there
        os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON, *sys.argv])
    print(f"SKIP: scapy is not importable by {sys.executable} ({exc}); "
          f"install python3-scapy (Debian) for {DEBIAN_PYTHON}", flush=True)
    sys.exit(SKIP)
if not scapy.__version__.startswith("2.5"):
    print(f"SKIP: the oracle must be scapy 2.5 (NetFlowMeter 2022's); found {scapy.__version__}")
    sys.exit(SKIP)
conf.verb = 0


# ---- a small BER writer ------------------------------------------------------------------
def ln(n: int, form: int = 0) -> bytes:
    """Length field. form 0: minimal; form k>0: long form with k length bytes."""
    if form == 0:
        if n < 128:
            return bytes([n])
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        return bytes([0x80 | len(b)]) + b
    return bytes([0x80 | form]) + n.to_bytes(form, "big")


class T:
    """A BER TLV: constructed when `kids` is a list, primitive when it is bytes."""

    def __init__(self, tag: int, kids):
        self.tag, self.kids = tag, kids

    def enc(self, form=lambda t: 0) -> bytes:
        body = (b"".join(k.enc(form) for k in self.kids) if isinstance(self.kids, list)
                else self.kids)
        return bytes([self.tag]) + ln(len(body), form(self)) + body


def I(v: int, tag: int = 0x02, pad: bytes = b"") -> T:  # noqa: E743
    n = max(1, (v.bit_length() + 8) // 8)
    return T(tag, pad + v.to_bytes(n, "big", signed=True))


def S(s: bytes, tag: int = 0x04) -> T:
    return T(tag, s)


def SEQ(*kids, tag: int = 0x30) -> T:
    return T(tag, list(kids))


def OID(dotted: str, pad: int = 0) -> T:
    parts = [int(x) for x in dotted.split(".")]
    subs = [parts[0] * 40 + parts[1]] + parts[2:]
    out = b""
    for i, v in enumerate(subs):
        grp = []
        while True:
            grp.insert(0, v & 0x7F)
            v >>= 7
            if not v:
                break
        if pad and i == len(subs) - 1:
            grp = [0] * pad + grp
        out += bytes([g | 0x80 for g in grp[:-1]] + [grp[-1]])
    return T(0x06, out)


AD = lambda t: 4  # noqa: E731  Active Directory style: every length 84 xx xx xx xx


# ---- messages ----------------------------------------------------------------------------
def ldap_bind(mid=1, pad=b""):
    return SEQ(I(mid, pad=pad), SEQ(I(3), S(b"cn=admin,dc=example,dc=com"), S(b"secret", 0x80), tag=0x60))


def ldap_search(mid=2):
    flt = SEQ(SEQ(S(b"objectClass"), S(b"user"), tag=0xA3), S(b"objectClass", 0x87), tag=0xA0)
    attrs = SEQ(*[S(a) for a in (b"cn", b"mail", b"memberOf", b"subschemaSubentry")])
    return SEQ(I(mid), SEQ(S(b"dc=example,dc=com"), I(2, 0x0A), I(0, 0x0A), I(0), I(0),
                           I(0, 0x01), flt, attrs, tag=0x63))


def ldap_entry(mid=2):
    vals = SEQ(S(b"top"), S(b"person"), tag=0x31)
    return SEQ(I(mid), SEQ(S(b"cn=a,dc=example,dc=com"),
                           SEQ(SEQ(S(b"objectClass"), vals), SEQ(S(b"cn"), SEQ(S(b"a"), tag=0x31))),
                           tag=0x64))


def ldap_done(mid=2):
    return SEQ(I(mid), SEQ(I(0, 0x0A), S(b""), S(b""), tag=0x65))


def ldap_with_controls(mid=3):
    ctl = SEQ(SEQ(S(b"1.2.840.113556.1.4.319"), I(-1, 0x01), S(bytes(SEQ(I(100), S(b"")).enc()))),
              tag=0xA0)
    return SEQ(I(mid), ldap_search(mid).kids[1], ctl)


def ldap_modify(mid=8):  # modifyRequest [APPLICATION 6]: not in scapy 2.5's LDAP CHOICE
    return SEQ(I(mid), SEQ(S(b"cn=x"), SEQ(SEQ(I(2, 0x0A), SEQ(S(b"description"), SEQ(S(b"y"), tag=0x31)))),
                           tag=0x66))


def ldap_unbind(mid=9, content=b""):
    return SEQ(I(mid), T(0x42, content))


def cldap_search(user=False):
    k = [I(5)] + ([S(b"cn=u")] if user else []) + [ldap_search().kids[1]]
    return SEQ(*k)


def snmp(pdu_tag=0xA0, values=None, version=1, community=b"public"):
    values = values or [T(0x05, b"")]
    vbs = SEQ(*[SEQ(OID("1.3.6.1.2.1.1.%d.0" % (i + 1)), v) for i, v in enumerate(values)])
    return SEQ(I(version), S(community), SEQ(I(7), I(0), I(0), vbs, tag=pdu_tag))


def snmp_trap():
    return SEQ(I(0), S(b"public"), SEQ(OID("1.3.6.1.4.1.8072"), S(b"\x0a\x00\x00\x01", 0x40), I(6),
                                       I(1), I(123456, 0x43), SEQ(), tag=0xA4))


def snmpv3():
    return SEQ(I(3), SEQ(I(1), I(65507), S(b"\x04"), I(3)), S(b"\x30\x00"), SEQ(S(b""), S(b""), SEQ(tag=0xA0)))


def krb_principal(*names, ntype=1):
    return SEQ(SEQ(I(ntype), tag=0xA0), SEQ(SEQ(*[S(n, 0x1B) for n in names]), tag=0xA1))


def krb_as_req():
    body = SEQ(SEQ(T(0x03, b"\x00\x40\x81\x00\x10"), tag=0xA0),
               SEQ(krb_principal(b"user"), tag=0xA1),
               SEQ(S(b"EXAMPLE.COM", 0x1B), tag=0xA2),
               SEQ(krb_principal(b"krbtgt", b"EXAMPLE.COM", ntype=2), tag=0xA3),
               SEQ(S(b"20370913024805Z", 0x18), tag=0xA5),
               SEQ(I(12345678), tag=0xA7),
               SEQ(SEQ(I(18), I(17), I(23)), tag=0xA8))
    pa = SEQ(SEQ(SEQ(I(128), tag=0xA1), SEQ(S(bytes(SEQ(SEQ(T(0x01, b"\xff"), tag=0xA0)).enc())), tag=0xA2)))
    return SEQ(SEQ(SEQ(I(5), tag=0xA1), SEQ(I(10), tag=0xA2), SEQ(pa, tag=0xA3), SEQ(body, tag=0xA4)), tag=0x6A)


def krb_error():
    return SEQ(SEQ(SEQ(I(5), tag=0xA0), SEQ(I(30), tag=0xA1), SEQ(S(b"20240101000000Z", 0x18), tag=0xA4),
                   SEQ(I(5), tag=0xA5), SEQ(I(25), tag=0xA6), SEQ(S(b"EXAMPLE.COM", 0x1B), tag=0xA9),
                   SEQ(krb_principal(b"krbtgt", b"EXAMPLE.COM", ntype=2), tag=0xAA)), tag=0x7E)


# ---- cases: (name, l4, sport, dport, payload[, udp_len, eth_pad]) ---------------------------
def crafted_cases():
    c = []
    add = lambda name, l4, sp, dp, pay, **kw: c.append(dict(name=name, l4=l4, sport=sp, dport=dp, pay=pay, **kw))  # noqa: E731
    add("ldap bind canonical", "tcp", 40000, 389, ldap_bind().enc())
    add("ldap bind AD lengths", "tcp", 40000, 389, ldap_bind().enc(AD))
    add("ldap bind, server side", "tcp", 389, 40001, ldap_bind().enc(AD))
    add("ldap gc port 3268", "tcp", 40000, 3268, ldap_search().enc(AD))
    add("ldap search AD", "tcp", 40000, 389, ldap_search().enc(AD))
    add("ldap search 2-byte forms", "tcp", 40000, 389, ldap_search().enc(lambda t: 2))
    add("ldap entry+done in one segment", "tcp", 389, 40000, ldap_entry().enc(AD) + ldap_done().enc(AD))
    add("ldap 2 msgs, 2nd truncated", "tcp", 389, 40000, ldap_entry().enc(AD) + ldap_done().enc(AD)[:-3])
    add("ldap 2 msgs, 2nd unsupported op", "tcp", 389, 40000, ldap_done().enc(AD) + ldap_modify().enc(AD))
    add("ldap modify (unsupported) AD", "tcp", 40000, 389, ldap_modify().enc(AD))
    add("ldap controls AD", "tcp", 40000, 389, ldap_with_controls().enc(AD))
    add("ldap messageID leading zeros", "tcp", 40000, 389, ldap_bind(5, pad=b"\x00\x00").enc())
    add("ldap messageID -128", "tcp", 40000, 389, ldap_bind(-128).enc())
    add("ldap messageID -32768", "tcp", 40000, 389, ldap_bind(-32768).enc())
    add("ldap messageID empty content", "tcp", 40000, 389, SEQ(T(0x02, b""), ldap_bind().kids[1]).enc())
    add("ldap unbind", "tcp", 40000, 389, ldap_unbind().enc())
    add("ldap unbind with 00 content", "tcp", 40000, 389, ldap_unbind(content=b"\x00").enc())
    add("ldap unbind with 01 content", "tcp", 40000, 389, ldap_unbind(content=b"\x00\x01").enc())
    add("ldap empty sequence", "tcp", 40000, 389, b"\x30\x00")
    add("ldap empty sequence, long form", "tcp", 40000, 389, b"\x30\x84\x00\x00\x00\x00")
    add("ldap only messageID", "tcp", 40000, 389, SEQ(I(1)).enc(AD))
    add("ldap trailing element", "tcp", 40000, 389, SEQ(*ldap_bind().kids, SEQ(tag=0xA0), S(b"x")).enc(AD))
    add("ldap indefinite length", "tcp", 40000, 389, b"\x30\x80" + ldap_bind().enc()[2:])
    add("ldap long form, length too big", "tcp", 40000, 389, b"\x30\x84\x00\x01\x00\x00" + ldap_bind().enc()[2:])
    add("ldap long form 0x88 with zeros", "tcp", 40000, 389, ldap_bind().enc(lambda t: 8))
    add("ldap high tag number", "tcp", 40000, 389, b"\x3f\x81\x00\x03\x02\x01\x01")
    add("ldap garbage", "tcp", 40000, 389, bytes(range(256))[7:90])
    add("ldap tcp keepalive byte", "tcp", 40000, 389, b"\x00")
    deep = b"\x02\x01\x01"
    for _ in range(40):
        deep = b"\xa0\x84" + len(deep).to_bytes(4, "big") + deep
    add("ldap 40-deep nesting", "tcp", 40000, 389, SEQ(I(1), T(0x63, [])).enc()[:0]
        + b"\x30\x84" + (len(deep) + 3 + 6).to_bytes(4, "big") + b"\x02\x01\x01"
        + b"\x63\x84" + len(deep).to_bytes(4, "big") + deep)
    for n in (20, 49, 50, 300):  # scapy raises RecursionError from 50 nested and-filters on
        flt = S(b"objectClass", 0x87)
        for _ in range(n):
            flt = SEQ(flt, tag=0xA0)
        msg = ldap_search()
        msg.kids[1].kids[6] = flt
        add(f"ldap search, {n} nested and-filters", "tcp", 40000, 389, msg.enc(AD))
    for tag, kids in ((0xA7, [S(b"cn"), S(b"x")]), (0x80, [S(b"cn", 0x87), S(b"sn", 0x87)]),
                      (0x27, b"objectClass"), (0xA2, [S(b"cn", 0x87)]), (0xA9, [S(b"cn", 0x82), S(b"x", 0x83)])):
        msg = ldap_search()
        msg.kids[1].kids[6] = T(tag, kids)
        add(f"ldap search, filter tag {tag:#x}", "tcp", 40000, 389, msg.enc(AD))
    add("ldap over udp 389 (cldap rules)", "udp", 40000, 389, ldap_search().enc(AD))
    add("cldap search AD", "udp", 40000, 389, cldap_search().enc(AD))
    add("cldap search with user AD", "udp", 389, 40000, cldap_search(True).enc(AD))
    add("cldap 2 msgs", "udp", 389, 40000, cldap_search().enc(AD) + cldap_search(True).enc(AD))
    add("snmp get canonical", "udp", 40000, 161, snmp().enc())
    add("snmp get AD", "udp", 40000, 161, snmp().enc(AD))
    add("snmp response values", "udp", 161, 40000, snmp(0xA2, [
        I(5, pad=b"\x00"), S(b"Linux box"), I(7, 0x41, pad=b"\x00\x00"), I(9, 0x42), I(100, 0x43, pad=b"\x00"),
        S(b"\x0a\x00\x00\x01", 0x40), OID("1.3.6.1.4.1.99", pad=2), T(0x05, b"\x00"), T(0x80, b""),
        T(0x46, b"\x00\x00\x00\x01"), T(0x44, b"\x01\x02")]).enc(AD))
    add("snmp response, every value type scapy knows", "udp", 161, 40000, snmp(0xA2, [
        I(5, pad=b"\x00"), S(b"Linux box"), I(7, 0x41, pad=b"\x00\x00"), I(9, 0x42), I(100, 0x43, pad=b"\x00"),
        S(b"\x0a\x00\x00\x01", 0x40), OID("1.3.6.1.4.1.99", pad=2), T(0x05, b"\x00"), T(0x05, b""),
        I(1, 0x01), I(-1, 0x0A), T(0x03, b"\x00\xff"), S(b"20240101000000Z", 0x18), SEQ(I(1), S(b"x"))]).enc(AD))
    for tag, content in ((0x80, b""), (0x81, b""), (0x82, b""), (0x46, b"\x00\x01"), (0x44, b"\x01")):
        add(f"snmp value tag {tag:#x} (no scapy codec)", "udp", 161, 40000, snmp(0xA2, [T(tag, content)]).enc(AD))
    for tag, kids in ((0x4A, b"cn=x"), (0x50, b"\x05"), (0x73, [S(b"ldap://x")]), (0x77, [S(b"1.3.6.1.4.1.4203.1.11.3", 0x80)]),
                      (0x6C, [S(b"cn=x"), S(b"cn=y"), I(1, 0x01)]), (0x68, [S(b"cn=x"), SEQ()]),
                      (0x6E, [S(b"cn=x"), SEQ(S(b"sn"), S(b"y"))])):
        add(f"ldap op {tag:#x} (not in scapy's CHOICE)", "tcp", 40000, 389, SEQ(I(4), T(tag, kids)).enc(AD))
    add("ldap abandon as scapy tags it (0x70)", "tcp", 40000, 389, SEQ(I(4), T(0x70, b"\x00\x05")).enc(AD))
    add("snmp trap v1 on 162", "udp", 40000, 162, snmp_trap().enc(AD))
    add("snmp bulk", "udp", 40000, 161, snmp(0xA5).enc(AD))
    add("snmp inform/trapv2", "udp", 40000, 162, snmp(0xA7).enc(AD) )
    add("snmp v3 (unsupported)", "udp", 40000, 161, snmpv3().enc(AD))
    add("snmp bad pdu tag", "udp", 40000, 161, snmp(0xA8).enc(AD))
    add("snmp plus trailing bytes", "udp", 40000, 161, snmp().enc(AD) + b"\x00\x01\x02")
    add("snmp truncated", "udp", 40000, 161, snmp().enc(AD)[:-4])
    add("snmp oid unfinished", "udp", 40000, 161, snmp(values=[T(0x06, b"\x2b\x86")]).enc(AD))
    add("snmp udp len < datagram", "udp", 40000, 161, snmp().enc(AD) + b"PADPAD", udp_len=8 + len(snmp().enc(AD)))
    add("snmp udp len 5", "udp", 40000, 161, snmp().enc(AD), udp_len=5)
    add("snmp udp len 0", "udp", 40000, 161, snmp().enc(AD), udp_len=0)
    add("snmp udp len cuts message", "udp", 40000, 161, snmp().enc(AD), udp_len=20)
    add("dns port wins over snmp", "udp", 53, 161, snmp().enc(AD))
    add("l2tp port wins over snmp", "udp", 1701, 161, snmp().enc(AD))
    add("kerberos tcp port wins over ldap", "tcp", 88, 389, ldap_bind().enc(AD))
    add("kerberos as-req udp canonical", "udp", 40000, 88, krb_as_req().enc())
    add("kerberos as-req udp AD", "udp", 40000, 88, krb_as_req().enc(AD))
    add("kerberos error udp AD", "udp", 88, 40000, krb_error().enc(AD))
    add("kerberos as-req tcp AD", "tcp", 40000, 88, len(krb_as_req().enc(AD)).to_bytes(4, "big") + krb_as_req().enc(AD))
    add("kerberos tcp 3 bytes", "tcp", 40000, 88, b"\x00\x00\x01")
    add("kerberos tcp header only", "tcp", 40000, 88, b"\x00\x00\x00\x10")
    add("kerberos bad root tag", "udp", 40000, 88, SEQ(*krb_error().kids, tag=0x75).enc(AD))
    add("kerberos + trailing bytes", "udp", 40000, 88, krb_error().enc(AD) + b"\x30\x84\x00\x00\x00\x00")
    add("unbind padded to 60 bytes", "tcp", 40000, 389, ldap_unbind().enc(lambda t: 2), eth_pad=True)
    add("snmp padded frame, short udp", "udp", 40000, 161, SEQ(I(1)).enc(), eth_pad=True)
    add("http on 80 (unchanged)", "tcp", 40000, 80, b"GET / HTTP/1.1\r\n\r\n")
    return c


def reencode_fuzz(seed: int, n: int):
    """Valid messages, random long-form lengths and integer padding: well-defined rules."""
    rng = random.Random(seed)
    makers = [("tcp", 389, lambda: ldap_bind(rng.randint(1, 1 << 20))), ("tcp", 389, ldap_search),
              ("tcp", 389, ldap_entry), ("tcp", 389, ldap_done), ("tcp", 389, ldap_with_controls),
              ("udp", 389, cldap_search), ("udp", 161, snmp), ("udp", 162, snmp_trap),
              ("udp", 88, krb_as_req), ("udp", 88, krb_error)]
    out = []
    for i in range(n):
        l4, port, mk = rng.choice(makers)
        msg = mk()
        forms = {}

        def form(t):
            if id(t) not in forms:
                forms[id(t)] = rng.choice([0, 0, 1, 2, 3, 4])
            return forms[id(t)]

        def pad_ints(t):
            if isinstance(t.kids, list):
                for k in t.kids:
                    pad_ints(k)
            elif t.tag == 0x02 and rng.random() < 0.3:
                t.kids = (b"\xff" if t.kids[0] & 0x80 else b"\x00") * rng.randint(1, 3) + t.kids
        pad_ints(msg)
        pay = msg.enc(form)
        if l4 == "tcp" and rng.random() < 0.3:
            pay += ldap_done().enc(form)
        sp, dp = (port, 40000 + i) if rng.random() < 0.5 else (40000 + i, port)
        out.append(dict(name=f"reencode#{i}", l4=l4, sport=sp, dport=dp, pay=pay))
    return out


def flip_fuzz(seed: int, n: int):
    rng = random.Random(seed)
    base = [("ldap-search", "tcp", 389, ldap_search().enc(AD)), ("ldap-entry", "tcp", 389, ldap_entry().enc(AD)),
            ("snmp", "udp", 161, snmp(0xA2, [I(5), S(b"x"), I(7, 0x41)]).enc(AD)),
            ("kerberos", "udp", 88, krb_as_req().enc(AD))]
    out = []
    for i in range(n):
        what, l4, port, pay = rng.choice(base)
        b = bytearray(pay)
        for _ in range(rng.randint(1, 3)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        out.append(dict(name=f"flip-{what}#{i}", l4=l4, sport=40000 + i, dport=port, pay=bytes(b)))
    return out


def segment_fuzz(seed: int, n: int):
    """A stream of AD-style LDAP/CLDAP/SNMP messages cut at random offsets, as TCP segments
    (or datagrams) that start or end inside a message; plus random bytes. Strict: the LDAP
    and SNMP field trees decide what scapy accepts. Kerberos random bytes are reported apart."""
    rng = random.Random(seed)
    msgs = [ldap_bind(), ldap_search(), ldap_entry(), ldap_done(), ldap_with_controls(), ldap_unbind()]
    stream = b"".join(m.enc(AD) for m in msgs) * 4
    out = []
    for i in range(n):
        a = rng.randrange(len(stream))
        b = min(len(stream), a + rng.randint(1, 600))
        kind = rng.choice(["ldap", "cldap", "snmp", "random-ldap", "random-snmp"])
        if kind == "ldap":
            out.append(dict(name=f"segment-ldap#{i}", l4="tcp", sport=389, dport=40000, pay=stream[a:b]))
        elif kind == "cldap":
            out.append(dict(name=f"segment-cldap#{i}", l4="udp", sport=389, dport=40000, pay=stream[a:b]))
        elif kind == "snmp":
            pay = snmp(0xA2, [I(rng.randrange(1 << 20)), S(b"x" * rng.randrange(200))]).enc(AD)
            cut = rng.randrange(len(pay) + 1)
            out.append(dict(name=f"segment-snmp#{i}", l4="udp", sport=161, dport=40000,
                            pay=pay[cut:] if rng.random() < 0.5 else pay[:cut] or b"\x30"))
        else:
            pay = bytes(rng.randrange(256) for _ in range(rng.randint(1, 120)))
            port = 389 if kind == "random-ldap" else 161
            out.append(dict(name=f"{kind}#{i}", l4="tcp" if port == 389 else "udp", sport=port, dport=40000, pay=pay))
    return out


def random_kerberos(seed: int, n: int):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        pay = bytes(rng.randrange(256) for _ in range(rng.randint(1, 120)))
        l4 = rng.choice(["tcp", "udp"])
        out.append(dict(name=f"random-kerberos-{l4}#{i}", l4=l4, sport=88, dport=40000, pay=pay))
    return out


# ---- frames, oracle, our output ----------------------------------------------------------
def frame(case, idx: int) -> bytes:
    src = f"10.{(idx >> 16) & 255}.{(idx >> 8) & 255}.{idx & 255}"
    ip = IP(src=src, dst="192.0.2.1")
    if case["l4"] == "tcp":
        l4 = TCP(sport=case["sport"], dport=case["dport"], flags="PA")
    else:
        l4 = UDP(sport=case["sport"], dport=case["dport"])
        if case.get("udp_len") is not None:
            l4.len = case["udp_len"]
    b = bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / ip / l4 / Raw(case["pay"]))
    if case.get("eth_pad") and len(b) < 60:
        b += b"\x00" * (60 - len(b))
    return b


def oracle(fr: bytes, l4: str) -> int:
    p = Ether(fr)
    layer = TCP if l4 == "tcp" else UDP
    return len(p[layer].payload)


def write_pcap(path: Path, frames: list[bytes]) -> None:
    """Classic pcap, Ethernet, the frames byte for byte. (Not scapy's wrpcap of dissected
    packets: that would write the re-built, already re-encoded bytes.)"""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + i, 0, len(fr), len(fr)))
            f.write(fr)


def run(binary: str, cases) -> tuple[list[str], int]:
    frames = [frame(c, i + 1) for i, c in enumerate(cases)]
    with tempfile.TemporaryDirectory() as td:
        cap = Path(td) / "scapy_payload.pcap"
        write_pcap(cap, frames)
        r = subprocess.run([binary, "--pcap", str(cap), "--profile", "nfm2022", "--float-format", ".17g",
                            "--tz", "utc", "--csv", "-"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    if r.returncode != 0:
        return [f"nfm-xdp exit {r.returncode}: {r.stderr.decode(errors='replace').strip()}"], 0
    rows = {row["src_ip"]: row for row in csv.DictReader(io.StringIO(r.stdout.decode()))}
    bad = []
    for i, (c, fr) in enumerate(zip(cases, frames)):
        idx = i + 1
        src = f"10.{(idx >> 16) & 255}.{(idx >> 8) & 255}.{idx & 255}"
        want = oracle(fr, c["l4"])
        row = rows.get(src)
        got = int(row["total_payload_bytes"]) if row else None
        if got != want:
            wire = len(c["pay"])
            bad.append(f"{c['name']}: ours={got} scapy={want} wire={wire} payload={c['pay'][:48].hex()}")
    return bad, len(cases)


def shared_ldap_cases(source_dir: Path):
    """The TCP payloads of ../shared's Active Directory LDAP capture (IPv6, so NetFlowMeter
    2022 itself made no flow of it): each as its own IPv4 frame with the same ports."""
    from scapy.all import rdpcap
    cap = source_dir / ".." / "shared" / "pcaps" / "zeek_ldap_modify-request.pcapng"
    if not cap.is_file():
        return None, f"{cap} is missing"
    out = []
    for i, p in enumerate(rdpcap(str(cap))):
        if TCP in p:
            t = p[TCP]
            out.append(dict(name=f"{cap.name}#{i + 1}", l4="tcp", sport=t.sport, dport=t.dport,
                            pay=tcp_wire_payload(p)))
    return out, None


def tcp_wire_payload(p) -> bytes:
    """The bytes after the TCP header up to the IPv6 payload length, as captured (from
    p.original: building p again would already re-encode the LDAP layer)."""
    raw = bytes(p.original)
    ip = 18 if raw[12:14] == b"\x81\x00" else 14  # the capture has one 802.1Q tag
    assert raw[ip - 2:ip] == b"\x86\xdd" and raw[ip + 6] == 6, "Ethernet + IPv6 + TCP expected"
    plen = int.from_bytes(raw[ip + 4:ip + 6], "big")
    doff = raw[ip + 40 + 12] >> 4
    return raw[ip + 40 + doff * 4:ip + 40 + plen]


def parse_ber(b: bytes, off: int, end: int):
    """A list of T parsed from b[off:end] (constructed tags recursed), or None."""
    out = []
    while off < end:
        if end - off < 2 or b[off] & 0x1F == 0x1F:
            return None
        tag, l0 = b[off], b[off + 1]
        pos = off + 2
        n = l0
        if l0 & 0x80:
            k = l0 & 0x7F
            if k == 0 or pos + k > end:
                return None
            n = int.from_bytes(b[pos:pos + k], "big")
            pos += k
        if pos + n > end:
            return None
        kids = parse_ber(b, pos, pos + n) if tag & 0x20 else None
        out.append(T(tag, kids if kids is not None else b[pos:pos + n]))
        off = pos + n
    return out


def long_forms(pay: bytes, skip: int) -> bytes | None:
    """The payload with every BER length written in the 5-byte form; None if it is not BER."""
    tlvs = parse_ber(pay, skip, len(pay))
    if not tlvs:
        return None
    body = b"".join(t.enc(AD) for t in tlvs)
    head = pay[:skip]
    if skip == 4:  # the Kerberos TCP record marker follows the new length
        head = len(body).to_bytes(4, "big")
    return head + body


def capture_cases(path: Path, rewrite: bool):
    """Every TCP/UDP payload of a self-made capture; rewrite: in AD-style long forms."""
    from scapy.all import rdpcap
    out = []
    for i, p in enumerate(rdpcap(str(path))):
        for layer, l4 in ((TCP, "tcp"), (UDP, "udp")):
            if layer not in p:
                continue
            raw = bytes(p.original)
            ip = 14  # Ethernet (tcpdump on Linux loopback)
            ihl = (raw[ip] & 0x0F) * 4
            tot = int.from_bytes(raw[ip + 2:ip + 4], "big")
            l4off = ip + ihl
            hl = 8 if l4 == "udp" else (raw[l4off + 12] >> 4) * 4
            pay = raw[l4off + hl:ip + tot]
            if not pay:
                continue
            if rewrite:
                skip = 4 if l4 == "tcp" and 88 in (p[layer].sport, p[layer].dport) else 0
                pay = long_forms(pay, skip)
                if pay is None:
                    continue
            out.append(dict(name=f"{path.name}#{i + 1}", l4=l4, sport=p[layer].sport, dport=p[layer].dport, pay=pay))
            break
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--fuzz", type=int, default=400, help="cases per fuzz corpus")
    ap.add_argument("--seed", type=int, default=15)
    a = ap.parse_args()
    failed = False
    src = Path(__file__).resolve().parents[2]
    real, why = shared_ldap_cases(src)
    corpora = [("crafted", crafted_cases(), True)]
    if real is None:
        print(f"SKIP shared LDAP capture corpus: {why}")
    else:
        corpora.append(("shared AD LDAP capture, as IPv4", real, True))
    for cap in sorted((src / "tests" / "data").glob("ber_*_localhost.pcap")):
        corpora.append((f"{cap.name} as recorded", capture_cases(cap, False), True))
        corpora.append((f"{cap.name}, lengths rewritten AD-style", capture_cases(cap, True), True))
    corpora += [("re-encoding fuzz", reencode_fuzz(a.seed, a.fuzz), True),
                ("segments and random bytes (LDAP, CLDAP, SNMP)", segment_fuzz(a.seed, a.fuzz), True),
                ("byte-flip fuzz", flip_fuzz(a.seed, a.fuzz), False),
                ("random bytes on port 88", random_kerberos(a.seed, a.fuzz // 2), False)]
    for label, cases, strict in corpora:
        changed = sum(1 for i, c in enumerate(cases) if oracle(frame(c, i + 1), c["l4"]) != len(c["pay"]))
        bad, n = run(a.binary, cases)
        print(f"{'PASS' if not bad else ('FAIL' if strict else 'INFO')} {label}: {n - len(bad)}/{n} agree "
              f"(scapy changes the length in {changed})")
        if not strict:  # agreement per message kind
            kinds = sorted({c["name"].split("#")[0] for c in cases})
            print("    " + ", ".join(
                f"{k}: {sum(c['name'].startswith(k + '#') for c in cases) - sum(b.startswith(k + '#') for b in bad)}"
                f"/{sum(c['name'].startswith(k + '#') for c in cases)}" for k in kinds))
        for line in bad[:40 if strict else 5]:
            print("   ", line)
        failed |= strict and bool(bad)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
