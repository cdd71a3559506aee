#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Snapshot tests for nfm-xdp --snapshot-interval (label "cli").

  snapshot_test.py --binary build/nfm-xdp CASE | all | list

Oracles, none of them our own earlier output:
  * final_rows: the final rows of a run with snapshots are the rows of the same run without
    (sorted, byte for byte), for every capture in tests/data and ../shared/pcaps (loudly skipped
    when absent) and every feature set of the corrected profile.
  * monotone: a flow's snapshot rows, in file order, have strictly growing packet counts and
    never-shrinking byte counts and durations; its final row is not smaller than its last
    snapshot.
  * truncated: a snapshot row taken at time B equals the row the same flow gets when the input
    is cut just before the first packet at or after B (the end-of-input flush then exports the
    same state) — checked at the first snapshot time of every time-ordered pcap.
  * hand: a capture written here, with packet times chosen so the counts of each snapshot are
    known by hand.
  * threads: --threads 2 gives the same set of rows as --threads 1.
  * ipfix: snapshots are records with flowEndReason 2 (active timeout), read with a small
    IPFIX file parser here.
  * refused: the reference profiles refuse the option with a message naming it.
"""
from __future__ import annotations

import argparse
import calendar
import collections
import datetime
import decimal
import json
import os
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import nfmtest  # noqa: E402

BIN = ""
TMP = Path(".")
REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 300

SETS = [("nfm", []), ("cic", ["--feature-set", "cic"]), ("ntl", ["--feature-set", "ntl"])]
# Per set: the columns that identify a flow, its packet count columns, byte count and duration.
KEYS = {
    "nfm": (["flow_id"], ["packets_count", "fwd_packets_count", "bwd_packets_count"],
            ["total_payload_bytes"], "duration"),
    "ntl": (["flow_id"], ["packets_count", "fwd_packets_count", "bwd_packets_count"],
            ["total_payload_bytes"], "duration"),
    "cic": (["Flow ID", "Timestamp"], ["Total Fwd Packet", "Total Bwd packets"],
            ["Total Length of Fwd Packet", "Total Length of Bwd Packet"], "Flow Duration"),
}


class Failure(Exception):
    pass


class Skip(Exception):
    pass


def check(cond: bool, msg: str):
    if not cond:
        raise Failure(msg)


def run(args, **kw) -> subprocess.CompletedProcess:
    kw.setdefault("timeout", TIMEOUT)
    return subprocess.run([BIN, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def csv_of(args) -> tuple[int, list[str], list[list[str]], bytes]:
    res = run([*args, "--csv", "-", "-q", "--no-manifest"])
    header, rows, _ = nfmtest.read_csv_text(res.stdout)
    return res.returncode, header, rows, res.stderr


def split_kinds(header, rows):
    k = header.index("row_kind")
    base = header[:k] + header[k + 1:]
    finals, snaps = [], []
    for r in rows:
        (snaps if r[k] == "snapshot" else finals).append(r[:k] + r[k + 1:])
        check(r[k] in ("snapshot", "final"), f"row_kind {r[k]!r}")
    return base, finals, snaps


def all_captures() -> list[Path]:
    caps = nfmtest.list_captures(REPO / "tests" / "data")
    shared = nfmtest.find_shared(str(REPO))
    if shared is None:
        print("SKIP-PART: ../shared/pcaps is missing (set NFM_SHARED_DIR): only tests/data was checked")
    else:
        caps += nfmtest.list_captures(shared / "pcaps")
    return nfmtest.only_filter(caps, "NFM_SNAPSHOT_ONLY")


def shared_captures() -> list[Path]:
    shared = nfmtest.find_shared(str(REPO))
    if shared is None:
        raise Skip("../shared/pcaps is missing (set NFM_SHARED_DIR): the real captures were NOT checked")
    return nfmtest.only_filter(nfmtest.list_captures(shared / "pcaps"), "NFM_SNAPSHOT_ONLY")


def num(text: str) -> float:
    return float(text) if text not in ("", "nan") else 0.0


def check_monotone(where, set_name, base, finals, snaps_in_order):
    key_cols, pkt_cols, byte_cols, dur_col = KEYS[set_name]
    ki = [base.index(c) for c in key_cols]
    pi = [base.index(c) for c in pkt_cols]
    bi = [base.index(c) for c in byte_cols]
    di = base.index(dur_col)
    last = {}
    for r in snaps_in_order:
        key = tuple(r[i] for i in ki)
        pk = [int(r[i]) for i in pi]
        by = [num(r[i]) for i in bi]
        du = num(r[di])
        if key in last:
            p0, b0, d0 = last[key]
            check(sum(pk) > sum(p0) and all(a >= b for a, b in zip(pk, p0)),
                  f"{where}: {key}: packet counts {p0} -> {pk} (a snapshot needs new packets)")
            check(all(a >= b for a, b in zip(by, b0)), f"{where}: {key}: bytes {b0} -> {by}")
            check(du >= d0, f"{where}: {key}: duration {d0} -> {du}")
        last[key] = (pk, by, du)
    finals_by_key = collections.defaultdict(list)
    for r in finals:
        finals_by_key[tuple(r[i] for i in ki)].append(r)
    for key, (pk, by, du) in last.items():
        check(key in finals_by_key, f"{where}: {key}: snapshots but no final row")
        # A key may name several flows (CIC Flow IDs repeat): one of them ends above the snapshot.
        ok = any(all(int(f[i]) >= v for i, v in zip(pi, pk)) and num(f[di]) >= du for f in finals_by_key[key])
        check(ok, f"{where}: {key}: final row smaller than its last snapshot {pk}")
    return len(last)


def case_final_rows():
    caps = all_captures()
    runs = snap_rows = flows_with_snaps = 0
    for cap in caps:
        for set_name, opts in SETS:
            rc0, h0, rows0, err0 = csv_of(["--pcap", str(cap), *opts])
            for interval in ("1", "0.01"):
                rc1, h1, rows1, err1 = csv_of(["--pcap", str(cap), *opts, "--snapshot-interval", interval])
                where = f"{cap.name} [{set_name} --snapshot-interval {interval}]"
                check(rc0 == rc1, f"{where}: exit {rc1}, without snapshots {rc0}: {err1[:300]!r}")
                if not h0:
                    check(not rows1, f"{where}: rows with snapshots, none without")
                    continue
                base, finals, snaps = split_kinds(h1, rows1)
                check(base == h0, f"{where}: header differs beyond row_kind")
                check(sorted(finals) == sorted(rows0),
                      f"{where}: final rows differ from the rows without snapshots "
                      f"({len(finals)} vs {len(rows0)})")
                flows_with_snaps += check_monotone(where, set_name, base, finals, snaps)
                snap_rows += len(snaps)
                runs += 1
    check(snap_rows > 0, "no snapshot row in any run")
    print(f"  {runs} runs: final rows equal; {snap_rows} snapshot rows of {flows_with_snaps} flows monotone")


# ---- pcap reading / writing (classic pcap only) ----

def read_pcap(path: Path):
    data = path.read_bytes()
    if len(data) < 24:
        return None
    magic = data[:4]
    for endian in ("<", ">"):
        m = struct.unpack(endian + "I", magic)[0]
        if m in (0xA1B2C3D4, 0xA1B23C4D):
            ns = m == 0xA1B23C4D
            break
    else:
        return None
    recs = []
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(endian + "IIII", data[off:off + 16])
        if off + 16 + incl > len(data):
            break
        recs.append((sec * 10**9 + (frac if ns else frac * 1000), off, off + 16 + incl))
        off += 16 + incl
    return data[:24], recs, data


def last_packet_ns(set_name: str, header: list[str], row: list[str]) -> int:
    """The flow's first packet time (µs text) plus its duration, in ns."""
    if set_name == "cic":
        ts = row[header.index("Timestamp")]
        dur_ns = int(row[header.index("Flow Duration")]) * 1000
        dt = datetime.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    else:
        ts = row[header.index("timestamp")]
        dur_ns = int(decimal.Decimal(row[header.index("duration")]) * 10**9)
        fmt = "%Y-%m-%d %H:%M:%S.%f" if "." in ts else "%Y-%m-%d %H:%M:%S"
        dt = datetime.datetime.strptime(ts, fmt).replace(tzinfo=datetime.timezone.utc)
    return calendar.timegm(dt.utctimetuple()) * 10**9 + dt.microsecond * 1000 + dur_ns


def case_truncated():
    caps = [c for c in shared_captures() if c.name.endswith(".pcap")]
    interval_ns = 1_000_000_000
    checked = compared = 0
    for cap in caps:
        parsed = read_pcap(cap)
        if not parsed:
            continue
        head, recs, data = parsed
        if len(recs) < 10:
            continue
        times = [t for t, _, _ in recs]
        if any(b < a for a, b in zip(times, times[1:])):
            continue  # out of order: the cut by position would not be the engine's snapshot point
        first = times[0]
        boundary = (first // interval_ns + 1) * interval_ns
        cut = next((i for i, t in enumerate(times) if t >= boundary), None)
        if cut is None:
            continue
        part = TMP / f"cut-{cap.name}"
        part.write_bytes(head + b"".join(data[s:e] for _, s, e in recs[:cut]))
        for set_name, opts in SETS:
            rc, h, rows, err = csv_of(["--pcap", str(cap), *opts, "--snapshot-interval", "1"])
            if rc != 0 or not h:
                continue
            base, _, _ = split_kinds(h, rows)
            k = h.index("row_kind")
            # The rows of the first snapshot time: flows whose last packet came before it (those
            # of later snapshots had a packet at or after it). Rows within 2 µs of it are left
            # out (timestamps print µs).
            group = [r[:k] + r[k + 1:] for r in rows
                     if r[k] == "snapshot" and last_packet_ns(set_name, h, r) < boundary - 2000]
            if not group:
                continue
            rc2, h2, rows2, err2 = csv_of(["--pcap", str(part), *opts])
            check(rc2 == 0 and h2 == base, f"{cap.name} cut: exit {rc2} {err2[:200]!r}")
            cut_rows = set(map(tuple, rows2))
            for r in group:
                check(tuple(r) in cut_rows, f"{cap.name} [{set_name}]: snapshot row at the first snapshot time "
                      f"is not the row of the capture cut there: {','.join(r[:8])}")
            compared += len(group)
            checked += 1
    if checked == 0:
        raise Failure("no capture had a snapshot to compare")
    print(f"  {checked} runs, {compared} snapshot rows equal the rows of the cut capture")


def case_hand():
    # Flow A (10.0.0.1:1000 -> 10.0.0.2:80, TCP ACK packets, no FIN) at 100.1, 100.5, 101.2,
    # 101.7, 103.4 s; flow B (UDP 10.0.0.3:53 -> 10.0.0.4:5353) at 100.2 and 102.5 s.
    # Interval 1 s: snapshots at 101 (A 2, B 1), 102 (A 4; B had no packet), 103 (B 2; A none),
    # 104: no packet reaches it, so none. Final rows at the end of input: A 5, B 2.
    t = lambda s: int(s * 1e9)
    recs = []
    for ts in (100.1, 100.5, 101.2, 101.7, 103.4):
        recs.append((t(ts), nfmtest.ipv4_tcp_frame("10.0.0.1", "10.0.0.2", 1000, 80, 0x10)))
    for ts in (100.2, 102.5):
        recs.append((t(ts), nfmtest.ipv4_udp_frame("10.0.0.3", "10.0.0.4", 53, 5353, b"x" * 10)))
    recs.sort()
    out = b"".join(struct.pack("<IIII", ns // 10**9, ns % 10**9 // 1000, len(f), len(f)) + f for ns, f in recs)
    cap = TMP / "hand.pcap"
    cap.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1) + out)
    want = [("snapshot", "10.0.0.1", 2), ("snapshot", "10.0.0.3", 1), ("snapshot", "10.0.0.1", 4),
            ("snapshot", "10.0.0.3", 2)]
    for set_name, opts in SETS:
        rc, h, rows, err = csv_of(["--pcap", str(cap), *opts, "--snapshot-interval", "1"])
        check(rc == 0, f"{set_name}: exit {rc} {err!r}")
        k = h.index("row_kind")
        src = h.index("src_ip" if set_name != "cic" else "Src IP")
        pk_cols = [h.index(c) for c in KEYS[set_name][1] if c != "packets_count"]
        got = [(r[k], r[src], sum(int(r[i]) for i in pk_cols)) for r in rows]
        snaps = [g for g in got if g[0] == "snapshot"]
        finals = sorted(g for g in got if g[0] == "final")
        check(snaps == want, f"{set_name}: snapshots {snaps}, want {want}")
        check(finals == [("final", "10.0.0.1", 5), ("final", "10.0.0.3", 2)], f"{set_name}: finals {finals}")
        # JSON carries the same row_kind values.
        res = run(["--pcap", str(cap), *opts, "--snapshot-interval", "1", "--json", "-", "-q"])
        kinds = [json.loads(line)["row_kind"] for line in res.stdout.decode().splitlines()]
        check(kinds == [g[0] for g in got], f"{set_name}: JSON row kinds {kinds}")
    # The manifest counts rows per kind and names the interval.
    out_csv = TMP / "hand.csv"
    res = run(["--pcap", str(cap), "--snapshot-interval", "1", "--csv", str(out_csv), "-q"])
    man = json.loads((TMP / "hand.csv.manifest.json").read_text())
    fif = man["flows_in_file"]
    check(fif["rows_by_kind"] == {"snapshot": 4, "final": 2}, f"manifest rows_by_kind {fif.get('rows_by_kind')}")
    check(fif["rows"] == 6 and fif["packets"] == 7, f"manifest rows/packets {fif['rows']}/{fif['packets']}")
    check(any(v == "1" for _, v in find_key(man, "snapshot_interval_s")), "manifest lacks snapshot_interval_s")


def find_key(obj, name):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == name:
                yield k, v
            yield from find_key(v, name)
    elif isinstance(obj, list):
        for v in obj:
            yield from find_key(v, name)


def case_threads():
    caps = shared_captures()
    runs = rows_total = 0
    for cap in caps:
        for set_name, opts in SETS:
            a = csv_of(["--pcap", str(cap), *opts, "--snapshot-interval", "0.5", "--threads", "1"])
            b = csv_of(["--pcap", str(cap), *opts, "--snapshot-interval", "0.5", "--threads", "2"])
            check(a[0] == b[0] and a[1] == b[1], f"{cap.name} [{set_name}]: threads 2 differs in exit/header")
            check(sorted(a[2]) == sorted(b[2]), f"{cap.name} [{set_name}]: --threads 2 rows differ "
                  f"({len(b[2])} vs {len(a[2])})")
            runs += 1
            rows_total += len(a[2])
    print(f"  {runs} runs, {rows_total} rows: --threads 2 == --threads 1")


def ipfix_end_reasons(path: Path) -> collections.Counter:
    data = path.read_bytes()
    templates = {}
    reasons = collections.Counter()
    off = 0
    while off + 16 <= len(data):
        version, length = struct.unpack("!HH", data[off:off + 4])
        check(version == 10 and length >= 16, f"bad IPFIX message header at {off}")
        msg_end = off + length
        p = off + 16
        while p + 4 <= msg_end:
            set_id, set_len = struct.unpack("!HH", data[p:p + 4])
            body, end = p + 4, p + set_len
            if set_id == 2:
                q = body
                while q + 4 <= end:
                    tid, count = struct.unpack("!HH", data[q:q + 4])
                    q += 4
                    fields = []
                    for _ in range(count):
                        eid, flen = struct.unpack("!HH", data[q:q + 4])
                        q += 4
                        pen = None
                        if eid & 0x8000:
                            pen = struct.unpack("!I", data[q:q + 4])[0]
                            q += 4
                        fields.append((eid & 0x7FFF, flen, pen))
                    templates[tid] = fields
            elif set_id >= 256 and set_id in templates:
                q = body
                fields = templates[set_id]
                min_len = sum(f[1] if f[1] != 0xFFFF else 1 for f in fields)
                while q + min_len <= end:
                    for eid, flen, pen in fields:
                        if flen == 0xFFFF:
                            flen = data[q]
                            q += 1
                            if flen == 255:
                                flen = struct.unpack("!H", data[q:q + 2])[0]
                                q += 2
                        if eid == 136 and pen is None:
                            reasons[data[q]] += 1
                        q += flen
            p = end
        off = msg_end
    return reasons


def case_ipfix():
    shared = nfmtest.find_shared(str(REPO))
    cap = shared / "pcaps" / "zeek_ssh.pcap" if shared else REPO / "tests" / "data" / "pcapng_multi.pcapng"
    if shared is None:
        print("SKIP-PART: ../shared/pcaps is missing: IPFIX checked on tests/data")
    for set_name, opts in SETS:
        a, b = TMP / f"a-{set_name}.ipfix", TMP / f"b-{set_name}.ipfix"
        ra = run(["--pcap", str(cap), *opts, "--ipfix", f"file:{a}", "-q", "--no-manifest"])
        rb = run(["--pcap", str(cap), *opts, "--snapshot-interval", "1", "--ipfix", f"file:{b}", "--csv",
                  str(TMP / f"b-{set_name}.csv"), "-q", "--no-manifest"])
        check(ra.returncode == 0 and rb.returncode == 0, f"{set_name}: {ra.stderr!r} {rb.stderr!r}")
        h, rows, _ = nfmtest.read_csv_text((TMP / f"b-{set_name}.csv").read_bytes())
        n_snap = sum(1 for r in rows if r[h.index("row_kind")] == "snapshot")
        check(n_snap > 0, f"{set_name}: no snapshot rows")
        ca, cb = ipfix_end_reasons(a), ipfix_end_reasons(b)
        want = collections.Counter(ca)
        want[2] += n_snap
        check(cb == want, f"{set_name}: flowEndReason counts {dict(cb)}, want {dict(want)}")


def case_refused():
    cap = REPO / "tests" / "data" / "pcapng_multi.pcapng"
    for prof in ("nfm2022", "nfm2022-seed", "cic", "ntl"):
        res = run(["--pcap", str(cap), "--profile", prof, "--snapshot-interval", "1"])
        err = res.stderr.decode()
        check(res.returncode == 1 and "--snapshot-interval" in err and "corrected" in err and err.count("\n") == 1,
              f"--profile {prof}: {nfmtest.describe_rc(res.returncode)} {err!r}")
        check(not res.stdout, f"--profile {prof}: rows written")
    for bad in ("0", "-1", "x"):
        res = run(["--pcap", str(cap), "--snapshot-interval", bad])
        check(res.returncode == 1 and b"--snapshot-interval" in res.stderr, f"--snapshot-interval {bad}: {res.stderr!r}")


CASES = {
    "final_rows": case_final_rows,
    "truncated": case_truncated,
    "hand": case_hand,
    "threads": case_threads,
    "ipfix": case_ipfix,
    "refused": case_refused,
}


def main() -> int:
    global BIN, TMP
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("case", choices=sorted(CASES) + ["all", "list"])
    a = ap.parse_args()
    if a.case == "list":
        print("\n".join(sorted(CASES)))
        return 0
    BIN = a.binary
    if not os.access(BIN, os.X_OK):
        print(f"FAIL: binary not executable: {BIN}")
        return 1
    names = sorted(CASES) if a.case == "all" else [a.case]
    failed = 0
    with tempfile.TemporaryDirectory(prefix="nfm-snap-") as d:
        for n in names:
            TMP = Path(d) / n
            TMP.mkdir()
            try:
                CASES[n]()
                print(f"PASS {n}")
            except Skip as e:
                print(f"SKIP {n}: {e}")
            except Failure as e:
                print(f"FAIL {n}: {e}")
                failed += 1
            except subprocess.TimeoutExpired as e:
                print(f"FAIL {n}: timeout: {e}")
                failed += 1
    if len(names) > 1:
        print(f"{len(names) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
