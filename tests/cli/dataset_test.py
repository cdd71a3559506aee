#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Data-set output tests for nfm-xdp (label "cli"): --labels, manifests, --loss-column
(offline, pcapng ISB drops), compressed output (.gz/.zst) with rotation.

  dataset_test.py --binary build/nfm-xdp CASE | all | list

Expected values are computed by hand in each case (times, labels, drop intervals) or come
from independent tools: sha256sum for input hashes, gzip -d / zstd -d for compressed output,
Python's json module for manifest validity. Captures are generated here.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import nfmtest  # noqa: E402
from nfmtest import Failure, Skip, check  # noqa: E402

BIN = ""
TMP = Path(".")
TIMEOUT = 60





def run(args, **kw) -> subprocess.CompletedProcess:
    kw.setdefault("timeout", TIMEOUT)
    return subprocess.run([BIN, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def show(res) -> str:
    return f"{nfmtest.describe_rc(res.returncode)}; stderr={res.stderr[:600]!r}"


def rows_of(data: bytes):
    h, rows, crlf = nfmtest.read_csv_text(data)
    return h, rows


def sha256sum(path: Path) -> str:
    out = subprocess.run(["sha256sum", str(path)], stdout=subprocess.PIPE, check=True).stdout
    return out.split()[0].decode()


udp = nfmtest.ipv4_udp_frame
tcp = nfmtest.ipv4_tcp_frame


# ------------------------------------------------------------------------------ labels
# One flow per 5-tuple; (sec, usec) times. The expected label of each flow is derived by hand
# from RULES below (comments give the reasoning).
LABEL_FLOWS = [
    # F6: 10.0.0.1:1002 -> 10.0.0.2:53 at 899.999999 s: 1 µs before EDGE_END's start (900) -> default
    (899, 999999, udp("10.0.0.1", "10.0.0.2", 1002, 53, b"x")),
    # F1: 10.0.0.1:1000 -> 10.0.0.2:53, [1000, 1000.5]: its first packet is EDGE_END's end
    # (inclusive) -> EDGE_END, although DNS (a later line) matches as well
    (1000, 0, udp("10.0.0.1", "10.0.0.2", 1000, 53, b"q")),
    (1000, 500000, udp("10.0.0.2", "10.0.0.1", 53, 1000, b"r")),
    # F2: first packet from the server 10.0.0.2:53 -> 10.0.0.1:1001 at 1010: DNS matches in the
    # reverse orientation; 1010 is DNS's end (inclusive) -> DNS
    (1010, 0, udp("10.0.0.2", "10.0.0.1", 53, 1001, b"r")),
    # F3: 192.168.5.7:2000 -> 8.8.8.8:53, [1020, 1021]: NET starts at 1021.5 (no overlap),
    # LATE is the single instant [1021, 1021] touching its last packet -> LATE
    (1020, 0, udp("192.168.5.7", "8.8.8.8", 2000, 53, b"q")),
    (1021, 0, udp("8.8.8.8", "192.168.5.7", 53, 2000, b"r")),
    # F4: TCP 10.0.0.9:3000 -> 10.0.0.2:80 at 1030: WEB (CIDR /24, dport 80, tcp) -> WEB
    (1030, 0, tcp("10.0.0.9", "10.0.0.2", 3000, 80, 0x02)),
    # F5: 172.16.0.1:4000 -> 172.16.0.2:5000 at 1040: no rule -> the default label
    (1040, 0, udp("172.16.0.1", "172.16.0.2", 4000, 5000, b"z")),
    # F7: UDP 10.0.0.9:3001 -> 10.0.0.2:80 at 1050: WEB is tcp only; ANY6 is IPv6 only -> default
    (1050, 0, udp("10.0.0.9", "10.0.0.2", 3001, 80, b"z")),
]
RULES = """# ground truth for the dataset_test capture
label,start,end,src,dst,sport,dport,proto
EDGE_END,900,1000,10.0.0.1,*,*,*,udp
DNS,1000.5,1970-01-01T00:16:50Z,10.0.0.1,10.0.0.2,*,53,udp
NET,1970-01-01T01:17:01.5+01:00,*,192.168.0.0/16,*,*,53,17
LATE,1021,1021,*,8.8.8.8,*,*,udp

WEB,*,*,10.0.0.0/24,*,*,80,tcp
ANY6,*,*,::/0,*,*,*,*
"""
WANT_LABELS = {  # (src_ip, src_port) of the flow's first packet -> label
    ("10.0.0.1", "1002"): "NORMAL",
    ("10.0.0.1", "1000"): "EDGE_END",
    ("10.0.0.2", "53"): "DNS",
    ("192.168.5.7", "2000"): "LATE",
    ("10.0.0.9", "3000"): "WEB",
    ("172.16.0.1", "4000"): "NORMAL",
    ("10.0.0.9", "3001"): "NORMAL",
}


def label_capture() -> Path:
    data, _ = nfmtest.pcap_bytes(LABEL_FLOWS)
    p = TMP / "labels.pcap"
    p.write_bytes(data)
    return p


def case_labels():
    p = label_capture()
    rules = TMP / "rules.csv"
    rules.write_text(RULES)
    plain = run(["--pcap", str(p), "--csv", "-", "--idle-timeout", "1000"])
    check(plain.returncode == 0, show(plain))
    res = run(["--pcap", str(p), "--csv", "-", "--idle-timeout", "1000", "--labels", str(rules),
               "--default-label", "NORMAL"])
    check(res.returncode == 0, show(res))
    h, rows = rows_of(res.stdout)
    h0, rows0 = rows_of(plain.stdout)
    check(h[-1] == "label" and h[:-1] == h0 and len(h) == 122, f"header: want the 121 columns + label, got {h[-3:]}")
    check(len(rows) == len(WANT_LABELS), f"want {len(WANT_LABELS)} flows, got {len(rows)}")
    check([r[:-1] for r in rows] == rows0, "the other columns must be unchanged by --labels")
    idx = {c: i for i, c in enumerate(h)}
    got = {(r[idx["src_ip"]], r[idx["src_port"]]): r[-1] for r in rows}
    check(got == WANT_LABELS, f"labels: got {got}, want {WANT_LABELS}")
    # Without --default-label every unmatched flow is BENIGN.
    res = run(["--pcap", str(p), "--csv", "-", "--idle-timeout", "1000", "--labels", str(rules)])
    h, rows = rows_of(res.stdout)
    got = {(r[idx["src_ip"]], r[idx["src_port"]]): r[-1] for r in rows}
    want = {k: ("BENIGN" if v == "NORMAL" else v) for k, v in WANT_LABELS.items()}
    check(got == want, f"default label: got {got}")


def case_labels_bad_file():
    p = label_capture()
    out = TMP / "never.csv"
    cases = [
        ("label,start,end,src,dst,sport,dport,proto\nA,1,2,*,*,*,*,*\nB,1,2,10.0.0.0/40,*,*,*,*\n",
         r"rules\.csv:3: src '10\.0\.0\.0/40': IPv4 prefix length above 32"),
        ("label,start,end,src,dst\n", r"rules\.csv:1: header must be"),
        ("label,start,end,src,dst,sport,dport,proto\n\n# c\nA,2017-07-07T10:00:00,2,*,*,*,*,*\n",
         r"rules\.csv:4: start time '2017-07-07T10:00:00': no time zone"),
        ("label,start,end,src,dst,sport,dport,proto\nA,5,4,*,*,*,*,*\n", r"rules\.csv:2: end is before start"),
    ]
    for text, want in cases:
        rules = TMP / "rules.csv"
        rules.write_text(text)
        res = run(["--pcap", str(p), "--csv", str(out), "--labels", str(rules)])
        err = res.stderr.decode(errors="replace").strip().splitlines()
        check(res.returncode == 1, f"bad rules: want exit 1, got {show(res)}")
        check(len(err) == 1 and re.search(want, err[0]), f"bad rules: want one line matching {want!r}, got {err}")
        check(not out.exists(), "a bad rule file must fail before the output is created")
    res = run(["--pcap", str(p), "--csv", "-", "--default-label", "a,b"])
    check(res.returncode == 1 and b"--default-label" in res.stderr, f"bad --default-label: {show(res)}")


# ---------------------------------------------------------------------------- manifest
def manifest_of(csv: Path) -> dict:
    m = csv.parent / (csv.name + ".manifest.json")
    check(m.exists(), f"no manifest {m.name} (files: {sorted(x.name for x in csv.parent.iterdir())})")
    check(not (csv.parent / (m.name + ".tmp")).exists(), "temporary manifest left behind")
    try:
        return json.loads(m.read_text())
    except json.JSONDecodeError as e:
        raise Failure(f"{m.name} is not valid JSON: {e}")


SUMMARY = re.compile(rb"nfm-xdp: (\d+) packets \((\d+) in flows, (\d+) skipped\) -> (\d+) flows")


def case_manifest():
    p = label_capture()
    rules = TMP / "rules.csv"
    rules.write_text(RULES)
    d = TMP / "man"
    d.mkdir(exist_ok=True)
    out = d / "flows.csv"
    res = run(["--pcap", str(p), "--csv", str(out), "--idle-timeout", "1000", "--labels", str(rules)])
    check(res.returncode == 0, show(res))
    m = manifest_of(out)
    s = SUMMARY.search(res.stderr)
    check(s, f"no summary line: {res.stderr!r}")
    records, in_flows, skipped, flows = (int(x) for x in s.groups())
    h, rows = rows_of(out.read_bytes())
    inp = m["inputs"][0]
    check(inp["sha256"] == sha256sum(p), f"sha256 {inp['sha256']} != sha256sum {sha256sum(p)}")
    check(inp["sha256_complete"] and inp["size"] == p.stat().st_size == inp["sha256_bytes"], f"input {inp}")
    check(inp["records"] == records == len(LABEL_FLOWS), f"records {inp['records']} vs summary {records}")
    check(inp["first_packet_ns"] == 899999999000 and inp["last_packet_ns"] == 1050 * 10**9,
          f"first/last packet {inp['first_packet_ns']} {inp['last_packet_ns']}")
    check(inp["first_packet_utc"] == "1970-01-01T00:14:59.999999000Z", inp["first_packet_utc"])
    pk = m["packets_run_total"]
    check(pk["in_flows"] == in_flows and pk["skipped"] == skipped, f"packets {pk} vs summary {s.group(0)}")
    check(m["flows_run_total"]["exported"] == flows == len(rows) == m["file"]["rows"], "flow counts")
    check(sum(m["flows_in_file"]["by_end_reason"].values()) == len(rows), "by_end_reason sum != CSV rows")
    check(m["flows_in_file"]["by_end_reason"]["shutdown"] == len(rows), "all flows end at shutdown here")
    check([c["name"] for c in m["columns"]] == h, "manifest columns != CSV header")
    kinds = {c["name"]: (c["kind"], c["unit"]) for c in m["columns"]}
    check(kinds["duration"] == ("float", "seconds") and kinds["packets_count"] == ("unsigned", "packets")
          and kinds["label"][0] == "text", f"column kinds {kinds['duration']} {kinds['packets_count']}")
    check(m["labels"]["rules"] == 6 and m["labels"]["rules_sha256"] == sha256sum(rules), f"labels {m['labels']}")
    want_counts = {}
    for v in WANT_LABELS.values():
        v = "BENIGN" if v == "NORMAL" else v
        want_counts[v] = want_counts.get(v, 0) + 1
    check(m["labels"]["rows_by_label"] == want_counts, f"rows_by_label {m['labels']['rows_by_label']}")
    check(m["options"]["--idle-timeout"] == "1000" and m["effective"]["idle_timeout_s"] == "1000", "options")
    # A small input runs one worker by default; the row order depends on it, so it is recorded.
    check(m["effective"]["threads"] == "1", f"effective threads {m['effective'].get('threads')}")
    check(m["options"]["--profile"] == "corrected" and m["run"]["interrupted"] is False, "profile/interrupted")
    check(re.fullmatch(r"[0-9a-f]{40}|unknown", m["producer"]["git_commit"]), m["producer"])
    check(m["file"]["bytes"] == out.stat().st_size and m["file"]["final_part"], f"file {m['file']}")
    # --no-manifest and stdout write none.
    out2 = d / "nomanifest.csv"
    run(["--pcap", str(p), "--csv", str(out2), "--no-manifest"])
    check(not (d / "nomanifest.csv.manifest.json").exists(), "--no-manifest wrote a manifest")
    res = run(["--pcap", str(p), "--csv", "/dev/null"])
    check(res.returncode == 0 and not Path("/dev/null.manifest.json").exists(),
          "only regular files get a manifest (found /dev/null.manifest.json)")


def case_manifest_rotation():
    p = label_capture()
    d = TMP / "manrot"
    d.mkdir(exist_ok=True)
    out = d / "flows.csv.gz"
    res = run(["--pcap", str(p), "--csv", str(out), "--idle-timeout", "1000", "--csv-rotate-mb", "0.001"])
    check(res.returncode == 0, show(res))
    parts = sorted((x for x in d.iterdir() if x.name.endswith(".csv.gz") and x.name != out.name),
                   key=lambda x: int(x.name.split(".")[-3])) + [out]
    check(len(parts) == len(WANT_LABELS), f"want one part per flow, got {[x.name for x in parts]}")
    total = 0
    for i, part in enumerate(parts):
        m = manifest_of(part)
        text = subprocess.run(["gzip", "-dc", str(part)], stdout=subprocess.PIPE, check=True).stdout
        h, rows = rows_of(text)
        check(m["file"]["rows"] == len(rows) == 1, f"{part.name}: manifest rows {m['file']['rows']}, CSV {len(rows)}")
        check(m["file"]["part"] == i + 1 and m["file"]["final_part"] == (part == out), f"{part.name}: {m['file']}")
        check(m["file"]["bytes_uncompressed"] == len(text) and m["file"]["compression"] == "gzip", m["file"])
        total += len(rows)
    check(total == len(WANT_LABELS), f"rows over all parts {total}")
    final = manifest_of(out)
    check(final["inputs"][0]["sha256"] == sha256sum(p), "final part: input sha256")


def case_manifest_sigterm():
    # The replay reads a pipe: 1000 records, a pause (SIGTERM arrives), then 70000 more. The
    # replay checks the stop flag every 65536 records, so it stops inside the second batch;
    # the manifest must be complete JSON saying interrupted, and its input digest must cover
    # exactly the prefix it names (checked with sha256sum).
    recs = [(2000 + i // 1000, i % 1000, udp("10.2.%d.%d" % (i // 250 % 250, i % 250), "10.3.0.1", 1000 + i % 50000, 53))
            for i in range(71000)]
    data, offsets = nfmtest.pcap_bytes(recs)
    d = TMP / "term"
    d.mkdir(exist_ok=True)
    out = d / "flows.csv"
    proc = subprocess.Popen([BIN, "--pcap", "-", "--csv", str(out), "-q"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    cut = offsets[1000]
    proc.stdin.write(data[:cut])
    proc.stdin.flush()
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    try:
        proc.stdin.write(data[cut:])
        proc.stdin.close()
    except BrokenPipeError:
        pass
    try:
        _, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise Failure("SIGTERM'd replay did not exit")
    # Exit status 4: an offline run stopped before the end of its input (README "Exit status").
    check(proc.returncode == 4, f"exit {proc.returncode}, want 4: {err[:300]!r}")
    check(b"interrupted by a signal" in err, f"the summary does not say it was interrupted: {err[:300]!r}")
    m = manifest_of(out)
    check(m["run"]["interrupted"] is True, f"run {m['run']}")
    inp = m["inputs"][0]
    check(not inp["sha256_complete"] and 0 < inp["sha256_bytes"] < len(data), f"input {inp}")
    prefix = d / "prefix.bin"
    prefix.write_bytes(data[:inp["sha256_bytes"]])
    check(inp["sha256"] == sha256sum(prefix), "interrupted: digest != sha256sum of the bytes it covers")
    h, rows = rows_of(out.read_bytes())
    check(m["file"]["rows"] == len(rows) > 0 and m["flows_run_total"]["exported"] == len(rows),
          f"rows {m['file']['rows']} vs CSV {len(rows)}")
    check(inp["records"] < len(recs), f"records {inp['records']}: the replay should have stopped early")


# ------------------------------------------------------------------------ loss column
def case_manifest_ipfix():
    # An IPFIX file: output gets its own manifest: format ipfix, its size, one row per
    # flow (the CSV of the same run is the reference), IPFIX records = flows in biflow mode and
    # flows + flows with backward packets in uniflow mode, the inputs' SHA-256, the elements as
    # columns, no label/loss column; --no-manifest writes none.
    p = label_capture()
    d = TMP / "manipfix"
    d.mkdir(exist_ok=True)
    for uniflow in (False, True):
        out, ipf = d / f"flows{int(uniflow)}.csv", d / f"flows{int(uniflow)}.ipfix"
        args = ["--pcap", str(p), "--csv", str(out), "--ipfix", f"file:{ipf}", "--idle-timeout", "1000", "-q"]
        res = run(args + (["--ipfix-uniflow"] if uniflow else []))
        check(res.returncode == 0, show(res))
        h, rows = rows_of(out.read_bytes())
        bwd = h.index("bwd_packets_count")
        with_bwd = sum(1 for r in rows if int(r[bwd]) > 0)
        m = manifest_of(ipf)
        f = m["file"]
        check(f["format"] == "ipfix" and f["compression"] == "none" and f["final_part"], f"file {f}")
        check(f["bytes"] == ipf.stat().st_size == f["bytes_uncompressed"], f"bytes {f['bytes']} vs {ipf.stat().st_size}")
        check(f["rows"] == len(rows) == len(WANT_LABELS), f"rows {f['rows']} vs CSV {len(rows)}")
        want_records = len(rows) + (with_bwd if uniflow else 0)
        check(f["ipfix_records"] == want_records, f"uniflow={uniflow}: records {f['ipfix_records']}, want {want_records}")
        check(f["ipfix_messages"] >= 1, f"messages {f['ipfix_messages']}")
        check(m["inputs"][0]["sha256"] == sha256sum(p) and m["inputs"][0]["sha256_complete"], f"input {m['inputs'][0]}")
        check(m["flows_run_total"]["exported"] == len(rows), f"flows_run_total {m['flows_run_total']}")
        names = [c["name"] for c in m["columns"]]
        check("sourceIPv4Address" in names and "packetDeltaCount" in names and "duration" in names
              and ("reversePacketDeltaCount" in names) != uniflow, f"uniflow={uniflow}: columns {names[:20]}...")
        kinds = {c["name"]: c["kind"] for c in m["columns"]}
        check(kinds["duration"] == "float64" and kinds["packets_count"] == "unsigned64", f"kinds {kinds['duration']}")
        check(m["labels"] == {"enabled": False} and m["capture_loss"] == {"column": False}, "no label/loss in IPFIX")
        check(manifest_of(out)["file"]["format"] == "csv", "the CSV's manifest says csv")
    # IPFIX only (no CSV): its manifest still hashes the inputs while they are read.
    ipf = d / "only.ipfix"
    res = run(["--pcap", str(p), "--ipfix", f"file:{ipf}", "-q"])
    check(res.returncode == 0, show(res))
    m = manifest_of(ipf)
    check(m["inputs"][0]["sha256"] == sha256sum(p) and m["file"]["rows"] == len(WANT_LABELS),
          f"IPFIX-only run: input {m['inputs'][0]}, rows {m['file']['rows']}")
    ipf = d / "nom.ipfix"
    res = run(["--pcap", str(p), "--ipfix", f"file:{ipf}", "--no-manifest", "-q"])
    check(res.returncode == 0 and ipf.exists() and not (d / "nom.ipfix.manifest.json").exists(),
          "--no-manifest wrote an IPFIX manifest")


def pcapng_with_isbs() -> Path:
    """Little-endian pcapng, µs. Flows A [100, 101], B [200, 201], C [300, 300]; ISBs at 150
    (ifdrop 0), 250 (ifdrop 4: drops in [150, 250]), 350 (ifdrop 4: none). By hand: only B's
    span overlaps [150, 250] -> capture_loss A 0, B 1, C 0."""
    def block(t, body):
        n = 12 + len(body)
        return struct.pack("<II", t, n) + body + struct.pack("<I", n)

    def epb(sec, frame):
        us = sec * 10**6
        pad = b"\0" * (-len(frame) % 4)
        return block(6, struct.pack("<IIIII", 0, us >> 32, us & 0xFFFFFFFF, len(frame), len(frame)) + frame + pad)

    def isb(sec, ifdrop):
        us = sec * 10**6
        return block(5, struct.pack("<III", 0, us >> 32, us & 0xFFFFFFFF) +
                     struct.pack("<HHQ", 5, 8, ifdrop) + struct.pack("<HH", 0, 0))

    out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    out += block(1, struct.pack("<HHI", 1, 0, 0))
    out += epb(100, udp("10.9.0.1", "10.9.0.2", 1, 2, b"a")) + epb(101, udp("10.9.0.2", "10.9.0.1", 2, 1, b"b"))
    out += isb(150, 0)
    out += epb(200, udp("10.9.0.3", "10.9.0.2", 3, 2, b"a")) + epb(201, udp("10.9.0.3", "10.9.0.2", 3, 2, b"b"))
    out += isb(250, 4)
    out += epb(300, udp("10.9.0.4", "10.9.0.2", 4, 2, b"a"))
    out += isb(350, 4)
    p = TMP / "isb.pcapng"
    p.write_bytes(out)
    return p


def case_loss_column_offline():
    p = pcapng_with_isbs()
    plain = run(["--pcap", str(p), "--csv", "-", "--idle-timeout", "1000"])
    check(plain.returncode == 0, show(plain))
    h0, rows0 = rows_of(plain.stdout)
    check(len(h0) == 121 and "capture_loss" not in h0, "without --loss-column the layout is the 121 columns")
    res = run(["--pcap", str(p), "--csv", "-", "--idle-timeout", "1000", "--loss-column"])
    check(res.returncode == 0, show(res))
    h, rows = rows_of(res.stdout)
    check(h == h0 + ["capture_loss"], f"header tail {h[-2:]}")
    check([r[:-1] for r in rows] == rows0, "other columns changed by --loss-column")
    idx = {c: i for i, c in enumerate(h)}
    got = {r[idx["src_ip"]]: r[-1] for r in rows}
    check(got == {"10.9.0.1": "0", "10.9.0.3": "1", "10.9.0.4": "0"}, f"capture_loss {got}")
    # With labels too, label stays last and capture_loss comes before it.
    rules = TMP / "r2.csv"
    rules.write_text("label,start,end,src,dst,sport,dport,proto\nX,*,*,10.9.0.3,*,*,*,*\n")
    res = run(["--pcap", str(p), "--csv", "-", "--idle-timeout", "1000", "--loss-column", "--labels", str(rules)])
    h, rows = rows_of(res.stdout)
    check(h[-2:] == ["capture_loss", "label"], f"header tail {h[-2:]}")
    got = {r[idx["src_ip"]]: (r[-2], r[-1]) for r in rows}
    check(got == {"10.9.0.1": ("0", "BENIGN"), "10.9.0.3": ("1", "X"), "10.9.0.4": ("0", "BENIGN")}, f"{got}")
    # Classic pcap records no drops: all 0. stdin cannot be pre-read: a usage error.
    res = run(["--pcap", str(label_capture()), "--csv", "-", "--loss-column"])
    h, rows = rows_of(res.stdout)
    check(res.returncode == 0 and all(r[-1] == "0" for r in rows), "pcap: every capture_loss 0")
    res = run(["--pcap", "-", "--csv", "-", "--loss-column"], input=b"")
    check(res.returncode == 1 and b"stdin" in res.stderr, f"--loss-column with stdin: {show(res)}")


# ------------------------------------------------------------- cic and ntl feature sets
# The cic and ntl layouts end in their own label column (CIC `Label` = NeedManualLabel, NTL
# `label` = --label, default Unknown). --labels fills that column instead of adding one;
# --loss-column puts capture_loss just before it. Modes: name -> (options, identity columns
# src, sport, dst, dport, protocol, timestamp, label column, its text without --labels).
SET_MODES = {
    "cic": (["--profile", "cic"], ("Src IP", "Src Port", "Dst IP", "Dst Port", "Protocol", "Timestamp"),
            "Label", "NeedManualLabel"),
    "set-cic": (["--feature-set", "cic"], ("Src IP", "Src Port", "Dst IP", "Dst Port", "Protocol", "Timestamp"),
                "Label", "NeedManualLabel"),
    "ntl": (["--profile", "ntl"], ("src_ip", "src_port", "dst_ip", "dst_port", "protocol", "timestamp"),
            "label", "Unknown"),
    "set-ntl": (["--feature-set", "ntl"], ("src_ip", "src_port", "dst_ip", "dst_port", "protocol", "timestamp"),
                "label", "Unknown"),
}

# Rules for ../shared/pcaps/cs_http_espn.pcapng (2010-04-07, client 172.16.0.122: DNS to
# 4.2.2.1, HTTP to 205.234.218.x, 68.71.208-209.x, 63.85.36.x and others), chosen by hand:
#   OLD     ends in 2000: matches nothing (a time bound far from every flow)
#   DNS     written server side (src 4.2.2.1 sport 53): every DNS flow in the reverse orientation
#   NOUDP80 no UDP flow to port 80 in the capture: matches nothing
#   AKAMAI  server side again, 205.234.218.0/24 port 80, inside a 2010 window
#   P41848  client port 41848 -> 205.234.218.129:80; AKAMAI comes first in the file and wins
#   WEB68   client side: 68.71.208.0/22 (68.71.208.x and 68.71.209.72), dport 80, proto number 6
# Every other flow (63.85.36.x, 199.181.132.250, 66.235.139.152, ...) gets --default-label.
SET_RULES = """label,start,end,src,dst,sport,dport,proto
OLD,*,2000-01-01T00:00:00Z,*,*,*,*,*
DNS,*,*,4.2.2.1,*,53,*,udp
NOUDP80,*,*,*,*,*,80,udp
AKAMAI,2010-01-01T00:00:00Z,2011-01-01T00:00:00Z,205.234.218.0/24,*,80,*,tcp
P41848,*,*,*,*,41848,*,*
WEB68,*,*,172.16.0.122,68.71.208.0/22,*,80,6
"""


def rule_label(rules_text: str, src: str, sport: int, dst: str, dport: int, proto: int, day: tuple, default: str):
    """First-match of the rules on a row's identity (a linear scan written for this test,
    independent of label/labels.cpp). Time: a rule bound only has to be compared with the
    flow's day, as the test checks that no bound is within a day of any flow."""
    import datetime
    import ipaddress
    names = {"tcp": 6, "udp": 17, "icmp": 1, "*": None}

    def t(text):
        if text == "*":
            return None
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))

    def host(spec, addr):
        return spec == "*" or ipaddress.ip_address(addr) in ipaddress.ip_network(spec, strict=False)

    def port(spec, p):
        return spec == "*" or int(spec) == p

    d0 = datetime.datetime(*day, tzinfo=datetime.timezone.utc)
    d1 = d0 + datetime.timedelta(days=1)
    for line in rules_text.splitlines()[1:]:
        label, start, end, rs, rd, rsp, rdp, rp = line.split(",")
        ts, te = t(start), t(end)
        for bound in (ts, te):
            check(bound is None or abs(bound - d0) > datetime.timedelta(days=2), f"rule bound {bound} near a flow")
        if (te is not None and te < d0) or (ts is not None and ts > d1):
            continue
        want_proto = names[rp] if rp in names else int(rp)
        if want_proto is not None and want_proto != proto:
            continue
        fwd = host(rs, src) and port(rsp, sport) and host(rd, dst) and port(rdp, dport)
        rev = host(rs, dst) and port(rsp, dport) and host(rd, src) and port(rdp, sport)
        if fwd or rev:
            return label
    return default


def row_day(text: str) -> tuple:
    m = re.search(r"(\d{4})-(\d\d)-(\d\d)", text)
    if m:
        return int(m.group(1)), int(m.group(2)), int(m.group(3))
    m = re.search(r"(\d\d)/(\d\d)/(\d{4})", text)  # CIC dd/MM/yyyy
    check(m is not None, f"no date in timestamp {text!r}")
    return int(m.group(3)), int(m.group(2)), int(m.group(1))


def espn_capture() -> Path:
    shared = nfmtest.find_shared()
    p = shared / "pcaps" / "cs_http_espn.pcapng" if shared else None
    if not p or not p.exists():
        raise Skip("../shared/pcaps/cs_http_espn.pcapng not found (set NFM_SHARED_DIR): cic/ntl label cases need it")
    return p


def case_labels_cic_ntl():
    p = espn_capture()
    rules = TMP / "rules.csv"
    rules.write_text(SET_RULES)
    for mode, (opts, ident, label_col, constant) in SET_MODES.items():
        plain = run(["--pcap", str(p), "--csv", "-", "-q", *opts])
        check(plain.returncode == 0, f"{mode}: {show(plain)}")
        h0, rows0 = rows_of(plain.stdout)
        check(len(rows0) > 10 and h0[-1] == label_col, f"{mode}: {len(rows0)} rows, last column {h0[-1:]}")
        check(all(r[-1] == constant for r in rows0), f"{mode}: without --labels the label column is {constant}")
        res = run(["--pcap", str(p), "--csv", "-", "-q", *opts, "--labels", str(rules), "--default-label", "OTHER"])
        check(res.returncode == 0, f"{mode}: {show(res)}")
        h, rows = rows_of(res.stdout)
        check(h == h0, f"{mode}: --labels must keep the header (no second label column): {h[-3:]}")
        check(sorted(r[:-1] for r in rows) == sorted(r[:-1] for r in rows0), f"{mode}: other columns changed")
        idx = {c: i for i, c in enumerate(h)}
        seen = set()
        for r in rows:
            src, sport, dst, dport, proto, ts = (r[idx[c]] for c in ident)
            proto_num = nfmtest.PROTO_NUM.get(proto) or int(proto)
            want = rule_label(SET_RULES, src, int(sport), dst, int(dport), proto_num, row_day(ts), "OTHER")
            check(r[-1] == want, f"{mode}: {src}:{sport} -> {dst}:{dport}/{proto}: label {r[-1]!r}, want {want!r}")
            seen.add(want)
        # The capture exercises both orientations and the default (ntl: TCP only, no DNS).
        want_seen = {"AKAMAI", "WEB68", "OTHER"} | ({"DNS"} if "cic" in mode else set())
        check(want_seen <= seen, f"{mode}: labels seen {seen}, want at least {want_seen}")
        # Without --default-label unmatched flows are BENIGN.
        res = run(["--pcap", str(p), "--csv", "-", "-q", *opts, "--labels", str(rules)])
        h, rows = rows_of(res.stdout)
        check("OTHER" not in {r[-1] for r in rows} and "BENIGN" in {r[-1] for r in rows}, f"{mode}: default BENIGN")
    # One source for the label column: --label with --labels is a usage error; --label text
    # must fit a CSV cell.
    res = run(["--pcap", str(p), "--csv", "-", "--profile", "ntl", "--label", "X", "--labels", str(rules)])
    check(res.returncode == 1 and b"--label and --labels" in res.stderr and not res.stdout, f"--label+--labels: {show(res)}")
    res = run(["--pcap", str(p), "--csv", "-", "--profile", "ntl", "--label", "a,b"])
    check(res.returncode == 1 and b"--label:" in res.stderr, f"--label a,b: {show(res)}")


def pcapng_tcp_with_isbs() -> Path:
    """As pcapng_with_isbs, with two-packet TCP flows (the ntl profile sees TCP only, the cic
    profile writes no one-packet flow): A [100, 101], B [200, 201], C [300, 301]; ISBs at 150
    (ifdrop 0), 250 (4), 350 (4). By hand: drops in [150, 250], only B overlaps -> A 0, B 1, C 0."""
    def block(t, body):
        n = 12 + len(body)
        return struct.pack("<II", t, n) + body + struct.pack("<I", n)

    def epb(sec, frame):
        us = sec * 10**6
        pad = b"\0" * (-len(frame) % 4)
        return block(6, struct.pack("<IIIII", 0, us >> 32, us & 0xFFFFFFFF, len(frame), len(frame)) + frame + pad)

    def isb(sec, ifdrop):
        us = sec * 10**6
        return block(5, struct.pack("<III", 0, us >> 32, us & 0xFFFFFFFF) +
                     struct.pack("<HHQ", 5, 8, ifdrop) + struct.pack("<HH", 0, 0))

    def flow(sec, client, sport):
        return (epb(sec, tcp(client, "10.9.0.2", sport, 80, 0x02, seq=100)) +
                epb(sec + 1, tcp("10.9.0.2", client, 80, sport, 0x12, seq=500, ack=101)))

    out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    out += block(1, struct.pack("<HHI", 1, 0, 0))
    out += flow(100, "10.9.0.1", 1001) + isb(150, 0)
    out += flow(200, "10.9.0.3", 1003) + isb(250, 4)
    out += flow(300, "10.9.0.4", 1004) + isb(350, 4)
    p = TMP / "isb_tcp.pcapng"
    p.write_bytes(out)
    return p


def case_loss_column_cic_ntl():
    p = pcapng_tcp_with_isbs()
    rules = TMP / "r.csv"
    rules.write_text("label,start,end,src,dst,sport,dport,proto\nX,*,*,10.9.0.3,*,*,*,*\n")
    want_loss = {"10.9.0.1": "0", "10.9.0.3": "1", "10.9.0.4": "0"}
    for mode, (opts, ident, label_col, constant) in SET_MODES.items():
        # The CIC reference has no idle timeout (the option is refused there).
        idle = [] if mode == "cic" else ["--idle-timeout", "1000"]
        base = ["--pcap", str(p), "--csv", "-", "-q", *idle, *opts]
        plain = run(base)
        check(plain.returncode == 0, f"{mode}: {show(plain)}")
        h0, rows0 = rows_of(plain.stdout)
        check(len(rows0) == 3, f"{mode}: want 3 flows, got {len(rows0)}")
        res = run([*base, "--loss-column"])
        check(res.returncode == 0, f"{mode}: {show(res)}")
        h, rows = rows_of(res.stdout)
        check(h == h0[:-1] + ["capture_loss", label_col], f"{mode}: header tail {h[-3:]}")
        check(sorted(r[:-2] + r[-1:] for r in rows) == sorted(rows0), f"{mode}: other columns changed")
        src = h.index(ident[0])
        got = {r[src]: r[-2] for r in rows}
        check(got == want_loss, f"{mode}: capture_loss {got}, want {want_loss}")
        check(all(r[-1] == constant for r in rows), f"{mode}: label column without --labels")
        res = run([*base, "--loss-column", "--labels", str(rules)])
        h, rows = rows_of(res.stdout)
        check(h[-2:] == ["capture_loss", label_col] and len(h) == len(h0) + 1, f"{mode}: header tail {h[-3:]}")
        got = {r[src]: (r[-2], r[-1]) for r in rows}
        want = {"10.9.0.1": ("0", "BENIGN"), "10.9.0.3": ("1", "X"), "10.9.0.4": ("0", "BENIGN")}
        check(got == want, f"{mode}: {got}")


def case_manifest_cic_ntl():
    p = espn_capture()
    rules = TMP / "rules.csv"
    rules.write_text(SET_RULES)
    for mode, (opts, ident, label_col, constant) in SET_MODES.items():
        d = TMP / mode
        d.mkdir()
        out = d / "flows.csv"
        res = run(["--pcap", str(p), "--csv", str(out), "-q", *opts, "--labels", str(rules), "--loss-column"])
        check(res.returncode == 0, f"{mode}: {show(res)}")
        m = manifest_of(out)
        h, rows = rows_of(out.read_bytes())
        profile = opts[1] if opts[0] == "--profile" else "corrected"
        want_set = opts[1].replace("set-", "") if opts[0] == "--feature-set" else opts[1]
        check(m["effective"]["profile"] == profile and m["effective"]["feature_set"] == want_set,
              f"{mode}: effective {m['effective']}")
        check(m["options"]["--profile"] == profile and m["options"]["--labels"] == str(rules), f"{mode}: options")
        check([c["name"] for c in m["columns"]] == h, f"{mode}: manifest columns != CSV header")
        kinds = {c["name"]: c["kind"] for c in m["columns"]}
        check(kinds[ident[0]] == "address" and kinds[label_col] == "text" and kinds["capture_loss"] == "unsigned"
              and "unknown" not in kinds.values(), f"{mode}: column kinds {[k for k, v in kinds.items() if v == 'unknown']}")
        check(m["file"]["rows"] == len(rows) > 10, f"{mode}: manifest rows {m['file']['rows']}, CSV {len(rows)}")
        counts = {}
        for r in rows:
            counts[r[-1]] = counts.get(r[-1], 0) + 1
        check(m["labels"]["enabled"] and m["labels"]["rows_by_label"] == counts, f"{mode}: {m['labels']}")
        check(m["capture_loss"] == {"column": True, "source": "pcapng_isb", "rows_with_loss": 0}, f"{mode}: loss")
        check(m["inputs"][0]["sha256"] == sha256sum(p), f"{mode}: input sha256")
        check(m["flows_in_file"]["rows"] == len(rows), f"{mode}: flows_in_file")
        # Without labels: the manifest says so, and the CSV is what stdout gets.
        out2 = d / "plain.csv"
        res = run(["--pcap", str(p), "--csv", str(out2), "-q", *opts])
        m = manifest_of(out2)
        check(m["labels"] == {"enabled": False} and m["capture_loss"] == {"column": False}, f"{mode}: {m['labels']}")
        std = run(["--pcap", str(p), "--csv", "-", "-q", *opts])
        check(std.stdout == out2.read_bytes(), f"{mode}: file output differs from stdout")


# ------------------------------------------------------------------------- compression
def decompress(path: Path) -> bytes:
    tool = ["gzip", "-dc"] if path.name.endswith(".gz") else ["zstd", "-dcq"]
    return subprocess.run([*tool, str(path)], stdout=subprocess.PIPE, check=True).stdout


def case_compressed_output():
    for tool in ("gzip", "zstd"):
        if not shutil.which(tool):
            raise Skip(f"{tool} not installed")
    p = label_capture()
    rules = TMP / "rules.csv"
    rules.write_text(RULES)
    d = TMP / "z"
    d.mkdir(exist_ok=True)
    for extra in ([], ["--labels", str(rules)], ["--profile", "nfm2022"]):
        plain = d / "plain.csv"
        res = run(["--pcap", str(p), "--csv", str(plain), *extra])
        check(res.returncode == 0, show(res))
        for ext in ("csv.gz", "csv.zst"):
            z = d / f"out.{ext}"
            res = run(["--pcap", str(p), "--csv", str(z), *extra])
            check(res.returncode == 0, show(res))
            check(decompress(z) == plain.read_bytes(), f"{ext} {extra}: decompressed bytes differ from the plain CSV")
            check(z.read_bytes() != plain.read_bytes(), f"{ext}: output is not compressed")
        res = run(["--pcap", str(p), "--csv", "-", *extra])
        check(res.stdout == plain.read_bytes(), "'-' must stay plain text")
    # Rotation: every part decompresses to the same bytes as the plain part of the same index.
    for ext in ("csv.gz", "csv.zst"):
        rd = TMP / f"rot-{ext}"
        rd.mkdir(exist_ok=True)
        res = run(["--pcap", str(p), "--csv", str(rd / "plain.csv"), "--csv-rotate-mb", "0.001", "--no-manifest"])
        check(res.returncode == 0, show(res))
        res = run(["--pcap", str(p), "--csv", str(rd / f"flows.{ext}"), "--csv-rotate-mb", "0.001"])
        check(res.returncode == 0, show(res))
        zparts = sorted((x for x in rd.iterdir() if re.fullmatch(r"flows\.\d{8}T\d{6}Z\.\d+\." + re.escape(ext), x.name)),
                        key=lambda x: int(x.name.split(".")[2]))
        pparts = sorted((x for x in rd.iterdir() if re.fullmatch(r"plain\.csv\.\d{8}T\d{6}Z\.\d+", x.name)),
                        key=lambda x: int(x.name.split(".")[-1]))
        check(len(zparts) == len(pparts) == len(WANT_LABELS) - 1,
              f"{ext}: parts {[x.name for x in zparts]} vs plain {[x.name for x in pparts]}")
        for zp, pp in zip(zparts + [rd / f"flows.{ext}"], pparts + [rd / "plain.csv"]):
            check(decompress(zp) == pp.read_bytes(), f"{zp.name}: differs from {pp.name}")



# ------------------------------------------------------------------------ digest cache
def case_digest_cache():
    # --digest-cache: a second run over an unchanged capture of 1 MiB or more takes the input's
    # SHA-256 from the cache (shown by planting another digest for the same stamp: the run
    # reports it), "off" and a rewritten file are hashed again (sha256sum is the reference), an
    # unwritable cache costs a warning, never the manifest; $NFM_DIGEST_CACHE and
    # $XDG_CACHE_HOME choose the default place.
    recs = [(1000 + i // 10, (i % 10) * 1000, udp("10.0.0.1", "10.0.0.2", 1000 + i % 50, 53, bytes([i % 251]) * 1000))
            for i in range(1200)]
    data, _ = nfmtest.pcap_bytes(recs)
    check(len(data) >= 1 << 20, "the capture must be at least 1 MiB")
    d = TMP / "dcache"
    d.mkdir(exist_ok=True)
    p = d / "big.pcap"
    p.write_bytes(data)
    time.sleep(2.2)  # only a file whose ctime is 2 s old is remembered
    want = sha256sum(p)
    cache = d / "cache" / "sha256.cache"
    out = d / "flows.csv"

    def digest(*extra, env=None):
        res = run(["--pcap", str(p), "--csv", str(out), "--threads", "1", *extra],
                  env=None if env is None else {**os.environ, **env})
        check(res.returncode == 0, show(res))
        inp = manifest_of(out)["inputs"][0]
        check(inp["sha256_complete"] and inp["sha256_bytes"] == p.stat().st_size, f"input {inp}")
        return inp["sha256"], res.stderr

    check(digest("--digest-cache", str(cache))[0] == want, "first run: digest != sha256sum")
    lines = cache.read_text().splitlines()
    check(len(lines) == 1 and lines[0].endswith(" " + want), f"cache after one run: {lines}")
    check(oct(cache.parent.stat().st_mode & 0o777) == "0o700" and oct(cache.stat().st_mode & 0o777) == "0o600",
          "cache directory 0700, file 0600")
    check(digest("--digest-cache", str(cache))[0] == want, "second run: digest != sha256sum")
    check(cache.read_text().splitlines() == lines, "a hit stores nothing new")
    planted = "0" * 64
    cache.write_text(lines[0][:-64] + planted + "\n")
    check(digest("--digest-cache", str(cache))[0] == planted, "the second run did not take the digest from the cache")
    check(digest("--digest-cache", "off")[0] == want, "--digest-cache off: digest != sha256sum")
    check(digest(env={"NFM_DIGEST_CACHE": str(cache)})[0] == planted, "$NFM_DIGEST_CACHE is not the default")
    check(digest("--digest-cache", "off", env={"NFM_DIGEST_CACHE": str(cache)})[0] == want, "off beats the env")
    xdg = d / "xdg"
    check(digest(env={"XDG_CACHE_HOME": str(xdg)})[0] == want, "XDG run: digest != sha256sum")
    check((xdg / "nfm-xdp" / "sha256.cache").read_text().split()[-1] == want, "no entry under $XDG_CACHE_HOME")
    # A cache that cannot be written: a warning naming it, a complete manifest, exit 0.
    got, err = digest("--digest-cache", "/proc/nfm-no-such-dir/c")
    check(got == want, "unwritable cache: digest != sha256sum")
    check(b"warning: digest cache /proc/nfm-no-such-dir/c" in err, f"no warning for the unwritable cache: {err!r}")
    # Rewritten in place, same size, mtime put back: the stamp's ctime moved, so it is hashed.
    st = p.stat()
    p.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    check(p.stat().st_size == st.st_size and p.stat().st_mtime_ns == st.st_mtime_ns, "rewrite kept size and mtime")
    check(digest("--digest-cache", str(cache))[0] == sha256sum(p) != want, "a rewritten file kept its old digest")

CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}



if __name__ == "__main__":
    sys.exit(nfmtest.run_cases(CASES, globals(), "nfm-dataset-"))
