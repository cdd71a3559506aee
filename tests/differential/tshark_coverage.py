#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Packet-coverage test: the corrected (default) profile vs tshark.

For every capture in <shared>/pcaps and in tests/data/*.pcap*:
  * tshark (IP reassembly off) lists every frame; a frame counts when its FIRST (outermost)
    IPv4/IPv6 header is directly followed (IPv6 extension headers and AH skipped) by TCP or UDP with
    ports. Addresses and ports come from that outer header (first occurrence of each field),
    so tunnels count once under the outer 5-tuple, ICMP errors quoting TCP/UDP are excluded
    (the outer next protocol is ICMP), and non-first fragments (no L4 header) are excluded.
  * nfm-xdp --pcap X --csv out.csv --tz utc (default profile = corrected): sum packets_count of
    the TCP/UDP rows per canonical 5-tuple (unordered endpoints + protocol).
  The two maps must be equal. Also: no negative value in duration, *IAT*, active_*, idle_*.
  A file we refuse (exit 1) for a header version libpcap refuses passes when tcpdump refuses it
  too (tshark's wiretap reads e.g. pcap 2.5; the contract follows libpcap).

One line per capture, final 'N passed, N failed'. Exit 1 on failure; 77 (skip) only when there
is nothing to run at all. When ../shared is missing a LOUD note is printed and tests/data is
still checked.

Environment: NFM_DIFF_ONLY (restrict to file names/substrings), NFM_DIFF_MAX (default 5),
NFM_SHARED_DIR, NFM_TSHARK (tshark binary).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import nfmtest  # noqa: E402

FIELDS = ["frame.number", "frame.protocols", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
          "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport"]


def tshark_counts(tshark: str, cap: Path):
    cmd = [tshark, "-n", "-r", str(cap), "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
           "-T", "fields", "-E", "occurrence=f", "-E", "separator=|"]
    for f in FIELDS:
        cmd += ["-e", f]
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    counts: Counter = Counter()
    notes: list[str] = []
    for line in res.stdout.decode(errors="replace").splitlines():
        parts = line.split("|")
        if len(parts) != len(FIELDS):
            continue
        num, protos, ip4s, ip4d, ip6s, ip6d, tsp, tdp, usp, udp_ = parts
        toks = protos.split(":")
        first_ip = next((i for i, t in enumerate(toks) if t in ("ip", "ipv6")), None)
        if first_ip is None:
            continue
        j = first_ip + 1
        # IPv6 extension headers (hopopts, routing, fraghdr, dstopts) and AH (IPv4 or IPv6,
        # RFC 4302 transport mode): the transport header after them is the flow's.
        while j < len(toks) and (toks[j].startswith("ipv6.") or toks[j] == "ah"):
            j += 1
        if j >= len(toks) or toks[j] not in ("tcp", "udp"):
            continue
        l4 = toks[j]
        if toks[first_ip] == "ip":
            src, dst = ip4s, ip4d
        else:
            src, dst = ip6s, ip6d
        sp, dp = (tsp, tdp) if l4 == "tcp" else (usp, udp_)
        if not (src and dst and sp and dp):
            notes.append(f"frame {num}: {protos} without addresses/ports; not counted")
            continue
        counts[nfmtest.canon_5tuple(src, int(sp), dst, int(dp), 6 if l4 == "tcp" else 17)] += 1
    return counts, notes, res.returncode, res.stderr.decode(errors="replace")


def negative_cols(header: list[str]) -> list[int]:
    out = []
    for i, c in enumerate(header):
        if c == "duration" or "IAT" in c or c.startswith("active_") or c.startswith("idle_"):
            out.append(i)
    return out


def our_counts(binary: str, cap: Path, outdir: Path):
    out = outdir / (cap.name + ".csv")
    if out.exists():
        out.unlink()
    res = nfmtest.run_tool(binary, ["--pcap", str(cap), "--csv", str(out), "--tz", "utc"], timeout=600)
    data = out.read_bytes() if out.exists() else b""
    header, rows, _ = nfmtest.read_csv_text(data)
    counts: Counter = Counter()
    negatives: list[str] = []
    problems: list[str] = []
    if rows:
        idx = {c: i for i, c in enumerate(header)}
        need = ["src_ip", "src_port", "dst_ip", "dst_port", "protocol", "packets_count"]
        if any(n not in idx for n in need):
            problems.append(f"our CSV lacks one of {need}")
            return counts, negatives, problems, res
        negc = negative_cols(header)
        for r in rows:
            proto = r[idx["protocol"]]
            if proto in ("TCP", "UDP"):
                key = nfmtest.canon_5tuple(r[idx["src_ip"]], int(r[idx["src_port"]]), r[idx["dst_ip"]],
                                           int(r[idx["dst_port"]]), nfmtest.PROTO_NUM[proto])
                counts[key] += int(r[idx["packets_count"]])
            for i in negc:
                try:
                    v = float(r[i])
                except ValueError:
                    problems.append(f"{header[i]}={r[i]!r} is not a number (flow {r[0]})")
                    continue
                if v < 0:
                    negatives.append(f"{header[i]}={r[i]} in flow {r[0]}")
    return counts, negatives, problems, res


def libpcap_refuses(cap: Path) -> bool:
    """True when tcpdump (libpcap) refuses the file for its header version."""
    tcpdump = shutil.which("tcpdump")
    if not tcpdump:
        return False
    res = subprocess.run([tcpdump, "-n", "-r", str(cap), "-c", "1"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, timeout=60)
    err = res.stderr.decode(errors="replace")
    return res.returncode != 0 and ("savefile version" in err or "archaic pcap" in err)


def fmt_key(k) -> str:
    a, pa, b, pb, pr = k
    return f"{a}:{pa}<->{b}:{pb}/{'TCP' if pr == 6 else 'UDP'}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--source-dir", default=str(Path(__file__).resolve().parents[2]))
    args = ap.parse_args()
    tshark = nfmtest.find_tshark()
    if not tshark:
        print("SKIP: tshark not found")
        return nfmtest.SKIP_CODE
    shared = nfmtest.find_shared(args.source_dir)
    captures: list[Path] = []
    if shared is None:
        nfmtest.loud("SKIP: ../shared not found: tshark coverage on the shared corpus was not run "
                     "(tests/data only)")
    else:
        captures += nfmtest.list_captures(shared / "pcaps")
    captures += nfmtest.list_captures(Path(args.source_dir) / "tests" / "data")
    captures = nfmtest.only_filter(captures)
    if not captures:
        print("SKIP: no capture to check")
        return nfmtest.SKIP_CODE
    max_show = int(os.environ.get("NFM_DIFF_MAX", "5"))
    outdir = Path(tempfile.mkdtemp(prefix="nfm-cov-"))
    passed = failed = 0
    try:
        for cap in captures:
            in_shared = shared is not None and shared in cap.parents
            label = cap.name if in_shared else f"tests/data/{cap.name}"
            ts_counts, notes, ts_rc, ts_err = tshark_counts(tshark, cap)
            try:
                ours, negatives, problems, res = our_counts(args.binary, cap, outdir)
            except subprocess.TimeoutExpired:
                print(f"FAIL {label}: nfm-xdp timed out")
                failed += 1
                continue
            msgs = []
            mode = "equal"
            if res.returncode == 1 and not ts_counts and not ours:
                # Not a capture at all (e.g. a 0-byte file): we refuse it (usage/fatal error) and
                # tshark shows no TCP/UDP packet either.
                mode = "rejected"
            elif res.returncode == 1 and not ours and libpcap_refuses(cap):
                # A header version libpcap refuses (e.g. pcap 2.5): so do we, by contract; tshark's
                # own reader (wiretap) is more lenient and reads it. tcpdump is the oracle here.
                mode = "libpcap-rejected"
            elif res.returncode == 2:
                # Damaged capture: tshark gives up at the damage (or, for tiny damaged classic
                # pcaps, mis-detects a pcap variant). Its counts are only a lower bound: we must
                # have every packet tshark decoded before the damage.
                mode = "lower-bound"
            elif res.returncode != 0:
                msgs.append(f"  nfm-xdp {nfmtest.describe_rc(res.returncode)}: "
                            + " | ".join(res.stderr.decode(errors='replace').strip().splitlines()[-3:]))
            msgs += [f"  {p}" for p in problems]
            if mode == "lower-bound":
                diff_keys = sorted(k for k in ts_counts if ts_counts[k] > ours.get(k, 0))
            elif mode == "libpcap-rejected":
                diff_keys = []
            else:
                diff_keys = sorted(k for k in set(ts_counts) | set(ours) if ts_counts.get(k, 0) != ours.get(k, 0))
            if diff_keys:
                msgs.append(f"  {len(diff_keys)} 5-tuples differ (tshark packets vs ours"
                            f"{'; tshark is a lower bound on this damaged capture' if mode == 'lower-bound' else ''}):")
                for k in diff_keys[:max_show]:
                    msgs.append(f"    {fmt_key(k)}: tshark={ts_counts.get(k, 0)} ours={ours.get(k, 0)}")
            if negatives:
                msgs.append(f"  {len(negatives)} negative time values, e.g.:")
                msgs += [f"    {n}" for n in negatives[:max_show]]
            tot_t = sum(ts_counts.values())
            tot_o = sum(ours.values())
            rc_note = "" if res.returncode == 0 else f", ours exit {res.returncode}"
            if mode == "lower-bound":
                rc_note += " (damaged: tshark counts as lower bound)"
            elif mode == "rejected":
                rc_note += " (not a capture: rejected)"
            elif mode == "libpcap-rejected":
                rc_note += " (header version libpcap refuses: tcpdump refuses it too; tshark's wiretap reads it)"
            if msgs:
                print(f"FAIL {label}: tshark {tot_t} TCP/UDP packets in {len(ts_counts)} 5-tuples, "
                      f"ours {tot_o} in {len(ours)}{rc_note}")
                for m in msgs:
                    print(m)
                failed += 1
            else:
                print(f"PASS {label}: {tot_t} TCP/UDP packets in {len(ts_counts)} 5-tuples{rc_note}")
                passed += 1
            for n in notes[:2]:
                print(f"  note: {n}")
            sys.stdout.flush()
    finally:
        shutil.rmtree(outdir, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
