#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Overlay tunnels offline: --tunnel inner / outer vs tshark.

For tests/data/tunnel_*.pcap (written by tests/data/make_tunnel_captures.py: VXLAN on 4789, 8472
and 9999, Geneve with options, GTP-U with optional fields and an extension header, GRE with
key / sequence / checksum and 0x6558, IP in IP 4in4 6in4 4in6 6in6) and any capture in
<shared>/pcaps whose name says vxlan, geneve, gtp, gre or ipip:

  * tshark (decode-as udp.port 8472 and 9999 = VXLAN) dissects every frame. "inner": the
    innermost IPv4/IPv6 header and the transport header right after it (IPv6 extension
    headers skipped) give the 5-tuple; a frame whose innermost IP header is followed by a tunnel
    that carries something else (ARP in VXLAN) has no flow, one whose tunnel header is its last
    layer (a GTP-U Echo Request: signalling) is an outer flow. "outer": the outermost IP header.
  * nfm-xdp --tunnel inner --vxlan-port 9999 must give, per canonical 5-tuple, tshark's inner
    packet count, per direction (forward = the flow's src endpoint), and per-direction payload
    bytes (TCP tcp.len, UDP udp.length - 8, ICMP/ICMPv6 IP payload - 8, all of the innermost
    layer); no flow may be keyed on a tunnel's outer 5-tuple.
    The sharded replay (--threads 2) must give the same flows.
  * nfm-xdp with no tunnel option and with --tunnel outer must write the same bytes, with
    tshark's outer packet counts per 5-tuple (the tunnel is one flow).
  * --where-columns tunnel: every inner flow's tunnel_type, tunnel_src, tunnel_dst, tunnel_id are
    those of its first packet as tshark dissects it (the outermost IP header's addresses, oriented
    like the flow; vxlan.vni, geneve.vni, gtp.teid, gre.key, empty without one); a flow that came
    through no tunnel has four empty fields. --threads 2 and --json give the same values.
  * the reference profiles refuse --tunnel inner (exit 1, a message naming --tunnel).
Exit 0 pass, 1 fail, 77 skipped (no tshark). Without ../shared a loud note is printed and
tests/data is still checked.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import nfmtest  # noqa: E402

FIELDS = ["frame.number", "frame.protocols", "ip.src", "ip.dst", "ip.proto", "ip.len", "ip.hdr_len",
          "ipv6.src", "ipv6.dst", "ipv6.nxt", "ipv6.plen", "tcp.srcport", "tcp.dstport", "tcp.len",
          "udp.srcport", "udp.dstport", "udp.length"]
TUNNEL_TOKENS = {"vxlan", "geneve", "gtp", "gre"}
EXTRA_VXLAN = 9999
PROTO_NAME = {6: "TCP", 17: "UDP", 1: "ICMP", 58: "ICMPv6"}


def frame_key(v, toks, k):
    """(canonical 5-tuple, source endpoint, payload bytes) of the IP header at token k."""
    fam = toks[k]
    nth = sum(1 for t in toks[:k] if t == fam)  # occurrence of this family's fields
    j = k + 1
    while j < len(toks) and toks[j].startswith("ipv6."):
        j += 1
    l4 = toks[j] if j < len(toks) else ""
    if fam == "ip":
        src, dst = v["ip.src"][nth], v["ip.dst"][nth]
        proto = int(v["ip.proto"][nth])
        ip_payload = int(v["ip.len"][nth]) - int(v["ip.hdr_len"][nth])
    else:
        src, dst = v["ipv6.src"][nth], v["ipv6.dst"][nth]
        proto = int(v["ipv6.nxt"][nth])
        ip_payload = int(v["ipv6.plen"][nth])
    sp = dp = 0
    if l4 in ("tcp", "udp"):
        n4 = sum(1 for t in toks[:j] if t == l4)
        sp, dp = int(v[f"{l4}.srcport"][n4]), int(v[f"{l4}.dstport"][n4])
        proto = 6 if l4 == "tcp" else 17
        pay = int(v["tcp.len"][n4]) if l4 == "tcp" else int(v["udp.length"][n4]) - 8
    elif l4 in ("icmp", "icmpv6"):
        proto = 1 if l4 == "icmp" else 58
        pay = ip_payload - 8
    else:
        pay = ip_payload
    return nfmtest.canon_5tuple(src, sp, dst, dp, proto), (nfmtest.canon_ip(src), sp), pay


def tshark_flows(tshark: str, cap: Path, inner: bool):
    """{canonical key: {src endpoint: [packets, payload bytes]}} from tshark's dissection."""
    cmd = [tshark, "-n", "-r", str(cap), "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
           "-d", "udp.port==8472,vxlan", "-d", f"udp.port=={EXTRA_VXLAN},vxlan",
           "-T", "fields", "-E", "occurrence=a", "-E", "separator=|", "-E", "aggregator=,"]
    for f in FIELDS:
        cmd += ["-e", f]
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600, check=False)
    flows: dict = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    tunnel_outer: set = set()
    for line in res.stdout.decode(errors="replace").splitlines():
        parts = line.split("|")
        if len(parts) != len(FIELDS):
            continue
        v = {k: (p.split(",") if p else []) for k, p in zip(FIELDS, parts)}
        toks = v["frame.protocols"][0].split(":")
        ips = [i for i, t in enumerate(toks) if t in ("ip", "ipv6")]
        if not ips:
            continue
        if inner and any(t in TUNNEL_TOKENS for t in toks[ips[-1] + 1:-1]):
            continue  # the innermost tunnel carries a frame that is not IP (e.g. ARP): no flow
        key, ep, pay = frame_key(v, toks, ips[-1] if inner else ips[0])
        if inner and len(ips) > 1:
            tunnel_outer.add(frame_key(v, toks, ips[0])[0])
        e = flows[key][ep]
        e[0] += 1
        e[1] += pay
    return flows, tunnel_outer, res.returncode


def our_flows(binary: str, cap: Path, args: list[str], out: Path):
    if out.exists():
        out.unlink()
    res = nfmtest.run_tool(binary, ["--pcap", str(cap), "--csv", str(out), "--no-manifest", "-q"] + args)
    data = out.read_bytes() if out.exists() else b""
    header, rows, _ = nfmtest.read_csv_text(data)
    flows: dict = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    if rows:
        ix = {c: i for i, c in enumerate(header)}
        for r in rows:
            pr = r[ix["protocol"]]
            proto = nfmtest.PROTO_NUM.get(pr) or int(pr)
            s, sp, d, dp = r[ix["src_ip"]], int(r[ix["src_port"]]), r[ix["dst_ip"]], int(r[ix["dst_port"]])
            key = nfmtest.canon_5tuple(s, sp, d, dp, proto)
            f = flows[key]
            f[(nfmtest.canon_ip(s), sp)][0] += int(r[ix["fwd_packets_count"]])
            f[(nfmtest.canon_ip(s), sp)][1] += int(r[ix["fwd_total_payload_bytes"]])
            if int(r[ix["bwd_packets_count"]]):
                f[(nfmtest.canon_ip(d), dp)][0] += int(r[ix["bwd_packets_count"]])
                f[(nfmtest.canon_ip(d), dp)][1] += int(r[ix["bwd_total_payload_bytes"]])
    return flows, res, data


TUNNEL_ID_FIELDS = {"vxlan": "vxlan.vni", "geneve": "geneve.vni", "gtp": "gtp.teid", "gre": "gre.key"}
TUNNEL_WORD = {"vxlan": "vxlan", "geneve": "geneve", "gtp": "gtpu", "gre": "gre"}
TUNNEL_COLS = ["tunnel_type", "tunnel_src", "tunnel_dst", "tunnel_id"]


def tshark_tunnels(tshark: str, cap: Path):
    """{canonical inner key: (type, outer src, outer dst, id)} of each inner flow's first packet,
    outer addresses oriented like the flow (its first packet's inner source is the flow's src)."""
    fields = FIELDS + list(TUNNEL_ID_FIELDS.values())
    cmd = [tshark, "-n", "-r", str(cap), "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
           "-d", "udp.port==8472,vxlan", "-d", f"udp.port=={EXTRA_VXLAN},vxlan",
           "-T", "fields", "-E", "occurrence=a", "-E", "separator=|", "-E", "aggregator=,"]
    for f in fields:
        cmd += ["-e", f]
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600, check=False)
    first: dict = {}
    for line in res.stdout.decode(errors="replace").splitlines():
        parts = line.split("|")
        if len(parts) != len(fields):
            continue
        v = {k: (p.split(",") if p else []) for k, p in zip(fields, parts)}
        toks = v["frame.protocols"][0].split(":")
        ips = [i for i, t in enumerate(toks) if t in ("ip", "ipv6")]
        if not ips or any(t in TUNNEL_TOKENS for t in toks[ips[-1] + 1:-1]):
            continue
        key, (src_ip, src_port), _ = frame_key(v, toks, ips[-1])
        if key in first:
            continue
        if len(ips) == 1:
            first[key] = ("", "", "", "")
            continue
        o = ips[0]
        fam_n = sum(1 for t in toks[:o] if t == toks[o])
        osrc = v["ip.src" if toks[o] == "ip" else "ipv6.src"][fam_n]
        odst = v["ip.dst" if toks[o] == "ip" else "ipv6.dst"][fam_n]
        kind = next((t for t in toks[o + 1:ips[1]] if t in TUNNEL_ID_FIELDS), None)
        word = TUNNEL_WORD[kind] if kind else "ipip"
        ident = ""
        if kind and v[TUNNEL_ID_FIELDS[kind]]:
            ident = str(int(v[TUNNEL_ID_FIELDS[kind]][0], 0))
        # Oriented like the flow: the flow's src is the canonical key's endpoint that sent this
        # first packet (our CSV names it src_ip/src_port); stored per sender, oriented later.
        first[key] = (word, nfmtest.canon_ip(osrc), nfmtest.canon_ip(odst), ident, (nfmtest.canon_ip(src_ip), src_port))
    return first


def our_tunnel_rows(binary: str, cap: Path, args: list[str], out: Path, json_out: bool = False):
    """[(canonical key, flow src endpoint, (type, src, dst, id))] per row, in row order."""
    if out.exists():
        out.unlink()
    res = nfmtest.run_tool(binary, ["--pcap", str(cap), "--no-manifest", "-q",
                                    "--json" if json_out else "--csv", str(out)] + args)
    rows = []
    if json_out:
        import json
        recs = [json.loads(x) for x in out.read_text().splitlines() if x.strip()] if out.exists() else []
        for r in recs:
            pr = r["protocol"]
            proto = nfmtest.PROTO_NUM.get(pr) or int(pr)
            key = nfmtest.canon_5tuple(r["src_ip"], int(r["src_port"]), r["dst_ip"], int(r["dst_port"]), proto)
            vals = tuple("" if r.get(c) is None else str(r[c]) for c in TUNNEL_COLS)
            rows.append((key, (nfmtest.canon_ip(r["src_ip"]), int(r["src_port"])), vals))
        return rows, res
    header, body, _ = nfmtest.read_csv_text(out.read_bytes() if out.exists() else b"")
    if not body:
        return rows, res
    ix = {c: i for i, c in enumerate(header)}
    for ours, cic in (("src_ip", "Src IP"), ("src_port", "Src Port"), ("dst_ip", "Dst IP"), ("dst_port", "Dst Port"),
                      ("protocol", "Protocol")):
        if ours not in ix and cic in ix:  # the cic layout
            ix[ours] = ix[cic]
    if any(c not in ix for c in TUNNEL_COLS):
        return [("missing tunnel columns", None, header[-6:])], res
    for r in body:
        pr = r[ix["protocol"]]
        proto = nfmtest.PROTO_NUM.get(pr) or int(pr)
        key = nfmtest.canon_5tuple(r[ix["src_ip"]], int(r[ix["src_port"]]), r[ix["dst_ip"]], int(r[ix["dst_port"]]), proto)
        vals = tuple(r[ix[c]] for c in TUNNEL_COLS)
        vals = (vals[0], nfmtest.canon_ip(vals[1]) if vals[1] else "", nfmtest.canon_ip(vals[2]) if vals[2] else "", vals[3])
        rows.append((key, (nfmtest.canon_ip(r[ix["src_ip"]]), int(r[ix["src_port"]])), vals))
    return rows, res


def check_tunnel_columns(tshark: str, binary: str, cap: Path, tmp: Path) -> list[str]:
    msgs = []
    want = tshark_tunnels(tshark, cap)
    base = ["--tunnel", "inner", "--vxlan-port", str(EXTRA_VXLAN), "--where-columns", "tunnel"]
    rows, res = our_tunnel_rows(binary, cap, base, tmp / "tun.csv")
    if res.returncode != 0:
        return [f"  --where-columns tunnel: {nfmtest.describe_rc(res.returncode)}: {res.stderr.decode()[-300:]}"]
    if rows and rows[0][1] is None:
        return [f"  --where-columns tunnel: no tunnel columns in the header (ends {rows[0][2]})"]
    seen = set()
    n_tunnelled = 0
    for key, src_ep, vals in rows:
        if key in seen:
            continue  # a later row of the same 5-tuple (timeouts): checked on its first row only
        seen.add(key)
        w = want.get(key)
        if w is None:
            msgs.append(f"  tunnel columns: {fmt(key)} unknown to tshark")
            continue
        if w[0]:
            n_tunnelled += 1
            word, osrc, odst, ident, sender = w
            if sender != src_ep:
                osrc, odst = odst, osrc
            w = (word, osrc, odst, ident)
        if vals != w:
            msgs.append(f"  tunnel columns {fmt(key)}: tshark {w} ours {vals}")
    if want and not n_tunnelled:
        msgs.append("  tunnel columns: no flow came through a tunnel")
    rows2, res2 = our_tunnel_rows(binary, cap, base + ["--threads", "2"], tmp / "tun2.csv")
    if res2.returncode != 0 or sorted(rows2, key=str) != sorted(rows, key=str):
        msgs.append("  --where-columns tunnel --threads 2 differs from one thread")
    rowsj, resj = our_tunnel_rows(binary, cap, base, tmp / "tun.jsonl", json_out=True)
    if resj.returncode != 0 or rowsj != rows:
        msgs.append(f"  --where-columns tunnel --json differs from the CSV (exit {resj.returncode})")
    # The other engines that accept --tunnel inner: CicEngine (cic set), FlowEngine's ntl set.
    first = {}
    for key, _, vals in rows:
        first.setdefault(key, vals)
    for fset in ("cic", "ntl"):
        rows_s, res_s = our_tunnel_rows(binary, cap, base + ["--feature-set", fset], tmp / f"tun_{fset}.csv")
        got = {}
        for key, _, vals in rows_s:
            got.setdefault(key, vals)
        if res_s.returncode != 0 or got != first:
            diff = sorted(k for k in set(got) | set(first) if got.get(k) != first.get(k))[:3]
            msgs.append(f"  --where-columns tunnel --feature-set {fset} differs from nfm "
                        f"(exit {res_s.returncode}): {[(k, first.get(k), got.get(k)) for k in diff]}")
    return msgs


def fmt(key) -> str:
    a, pa, b, pb, pr = key
    return f"{a}:{pa}<->{b}:{pb}/{PROTO_NAME.get(pr, pr)}"


def compare(want, got, count_only: bool) -> list[str]:
    msgs = []
    for key in sorted(set(want) | set(got), key=str):
        w = {e: (c[0] if count_only else tuple(c)) for e, c in want.get(key, {}).items()}
        g = {e: (c[0] if count_only else tuple(c)) for e, c in got.get(key, {}).items()}
        if count_only:  # the outer view: total packets per 5-tuple
            w, g = sum(w.values()), sum(g.values())
        if w != g:
            msgs.append(f"  {fmt(key)}: tshark {w} ours {g}")
    return msgs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--source-dir", default=str(Path(__file__).resolve().parents[2]))
    args = ap.parse_args()
    tshark = nfmtest.find_tshark()
    if not tshark:
        print("SKIP: tshark not found")
        return nfmtest.SKIP_CODE
    caps = sorted((Path(args.source_dir) / "tests" / "data").glob("tunnel_*.pcap"))
    shared = nfmtest.find_shared(args.source_dir)
    if shared is None:
        nfmtest.loud("NOTE: ../shared not found: only tests/data/tunnel_*.pcap checked")
    else:
        extra = [c for c in nfmtest.list_captures(shared / "pcaps")
                 if any(w in c.name.lower() for w in ("vxlan", "geneve", "gtp", "gre", "ipip"))]
        print(f"shared tunnel captures: {len(extra)} ({', '.join(c.name for c in extra) or 'none present'})")
        caps += extra
    if not caps:
        print("FAIL: no tunnel capture found (tests/data/tunnel_*.pcap missing)")
        return 1
    failed = 0
    tmp = Path(tempfile.mkdtemp(prefix="nfm-tunnel-"))
    try:
        for cap in caps:
            msgs = []
            t_in, tunnel_outer, rc1 = tshark_flows(tshark, cap, inner=True)
            t_out, _, rc2 = tshark_flows(tshark, cap, inner=False)
            if rc1 or rc2 or not t_in:
                msgs.append(f"  tshark failed (exit {rc1}/{rc2}) or saw no packet")
            got_in, res, _ = our_flows(args.binary, cap, ["--tunnel", "inner", "--vxlan-port", str(EXTRA_VXLAN)],
                                       tmp / "inner.csv")
            if res.returncode != 0:
                msgs.append(f"  --tunnel inner: {nfmtest.describe_rc(res.returncode)}: {res.stderr.decode()[-300:]}")
            msgs += compare(t_in, got_in, count_only=False)
            got_in2, res2, _ = our_flows(args.binary, cap, ["--tunnel", "inner", "--vxlan-port", str(EXTRA_VXLAN),
                                                            "--threads", "2"], tmp / "inner2.csv")
            if res2.returncode != 0 or got_in2 != got_in:
                msgs.append("  --tunnel inner --threads 2 (sharded replay) differs from one thread")
            msgs += check_tunnel_columns(tshark, args.binary, cap, tmp)
            tunnels = tunnel_outer - set(t_in)  # (GTP-U signalling keeps its outer flow)
            for k in sorted(tunnels & set(got_in), key=str):
                msgs.append(f"  --tunnel inner keeps a flow on the tunnel's outer 5-tuple {fmt(k)}")
            got_def, res_d, bytes_d = our_flows(args.binary, cap, [], tmp / "default.csv")
            got_out, res_o, bytes_o = our_flows(args.binary, cap, ["--tunnel", "outer"], tmp / "outer.csv")
            if res_d.returncode or res_o.returncode:
                msgs.append(f"  outer runs exit {res_d.returncode}/{res_o.returncode}")
            if bytes_d != bytes_o:
                msgs.append("  --tunnel outer output differs from the output without the option")
            msgs += compare(t_out, got_out, count_only=True)
            if not tunnel_outer:
                msgs.append("  no tunnel in this capture (tshark's inner and outer views agree)")
            n_in = sum(c[0] for f in t_in.values() for c in f.values())
            print(f"{'FAIL' if msgs else 'ok  '} {cap.name}: {len(t_in)} inner flows ({n_in} packets), "
                  f"{len(t_out)} outer flows")
            for m in msgs[:20]:
                print(m)
            failed += bool(msgs)
        cap = caps[0]
        for prof in ("nfm2022", "nfm2022-seed", "cic", "ntl"):
            res = nfmtest.run_tool(args.binary, ["--pcap", str(cap), "--csv", str(tmp / "x.csv"), "--profile", prof,
                                                 "--tunnel", "inner"])
            err = res.stderr.decode()
            if res.returncode != 1 or "--tunnel inner" not in err or err.count("\n") != 1:
                print(f"FAIL --profile {prof} --tunnel inner: exit {res.returncode}, stderr {err!r}")
                failed += 1
            else:
                print(f"ok   --profile {prof} --tunnel inner refused: {err.strip()}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(caps) + 4 - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
