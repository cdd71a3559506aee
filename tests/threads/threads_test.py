#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Sharded engine and multi-file input, label "threads".

  threads_test.py --binary build/nfm-xdp CASE     (CTest registers each case separately)

Oracles: --threads 1 (the single engine, itself checked by the differential tests) for the
equivalence cases; the whole capture for the split cases (editcap cuts it, the test shuffles
the parts); hand-computed rows for the idle/active shard cases (captures built here).
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import nfmtest  # noqa: E402
from nfmtest import Failure, Skip, check  # noqa: E402

BIN = ""
SRC = Path(__file__).resolve().parents[2]
TMP = Path(".")
PROFILES = ["corrected", "nfm2022", "nfm2022-seed"]





def run(args: list[str], csv: Path, env: dict | None = None) -> tuple[int, bytes, str]:
    if env is None:
        res = nfmtest.run_tool(BIN, [*args, "--csv", str(csv), "-q", "--no-progress"], timeout=600)
    else:
        res = subprocess.run([BIN, *args, "--csv", str(csv), "-q", "--no-progress"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, timeout=600, env={**os.environ, **env})
    data = csv.read_bytes() if csv.exists() else b""
    return res.returncode, data, res.stderr.decode(errors="replace")


def sorted_rows(data: bytes) -> list[bytes]:
    # The nfm and ntl CSVs end lines with CRLF, the CIC CSV with LF.
    lines = data.replace(b"\r\n", b"\n").split(b"\n")
    if not lines or lines == [b""]:
        return []
    return [lines[0]] + sorted(l for l in lines[1:] if l)


def shared_captures() -> list[Path]:
    shared = nfmtest.find_shared(str(SRC))
    if shared is None:
        print("SKIP part: ../shared/pcaps not found (set NFM_SHARED_DIR); only tests/data is used", flush=True)
        return []
    return nfmtest.only_filter(nfmtest.list_captures(shared / "pcaps"))


def data_captures() -> list[Path]:
    return nfmtest.list_captures(SRC / "tests" / "data")


# The other engines and feature sets: (name, arguments, timeout variants). CicEngine
# (--profile cic: the reference, no clock; --feature-set cic: corrected, idle expiry by the
# clock), NtlEngine (--profile ntl: lazy end test) and the FlowEngine's ntl feature set (341
# columns: more than the old fixed-size flow copy held).
ENGINES = [
    ("cic", ["--profile", "cic"], [[]]),
    ("set-cic", ["--feature-set", "cic"], [[], ["--idle-timeout", "0.05"]]),
    ("ntl", ["--profile", "ntl", "--float-format", ".17g"], [[], ["--idle-timeout", "0.05"]]),
    ("set-ntl", ["--feature-set", "ntl"], [[], ["--idle-timeout", "0.05", "--active-timeout", "0.2"]]),
]


def nfm_configs() -> list[tuple[str, list[str], list[list[str]]]]:
    out = []
    for prof in PROFILES:
        variants = [[]]
        if prof == "corrected":  # short timeouts: many sweeps, idle and active exports
            variants.append(["--idle-timeout", "0.05", "--active-timeout", "0.2"])
            variants.append(["--idle-timeout", "2", "--active-timeout", "5"])
        out.append((prof, ["--profile", prof], variants))
    return out


def equivalence(captures: list[Path], threads=(2, 3, 4), configs=None):
    """--threads N gives the same exit code, error lines and sorted rows as --threads 1."""
    n_runs = 0
    fails = []
    captures = nfmtest.sanitizer_subset(captures, "--threads equivalence")
    for cap in captures:
        for prof, args, variants in configs if configs is not None else nfm_configs():
            for extra in variants:
                base = ["--pcap", str(cap), *args, *extra]
                rc1, out1, err1 = run([*base, "--threads", "1"], TMP / "t1.csv")
                for n in threads:
                    rcn, outn, errn = run([*base, "--threads", str(n)], TMP / f"t{n}.csv")
                    n_runs += 1
                    errs1 = [l for l in err1.splitlines() if "warning" not in l]
                    errsn = [l for l in errn.splitlines() if "warning" not in l]
                    if rcn != rc1 or errsn != errs1:
                        fails.append(f"{cap.name} {prof} {extra} --threads {n}: exit {rcn} vs {rc1}, "
                                     f"stderr {errsn[:2]} vs {errs1[:2]}")
                    elif sorted_rows(outn) != sorted_rows(out1):
                        a, b = set(sorted_rows(out1)), set(sorted_rows(outn))
                        fails.append(f"{cap.name} {prof} {extra} --threads {n}: {len(a - b)} rows only with 1 "
                                     f"thread, {len(b - a)} only with {n}")
    print(f"{len(captures)} captures, {n_runs} threaded runs compared")
    check(not fails, "rows differ from --threads 1:\n  " + "\n  ".join(fails[:20]))


def case_equiv_shared():
    caps = shared_captures()
    if not caps:
        raise Skip("../shared/pcaps not found: nothing to compare")
    equivalence(caps)


def case_equiv_data():
    equivalence(data_captures())


def case_equiv_engines_shared():
    """Profiles cic and ntl, feature sets cic and ntl: --threads 2..4 rows == --threads 1."""
    caps = shared_captures()
    if not caps:
        raise Skip("../shared/pcaps not found: nothing to compare")
    equivalence(caps, configs=ENGINES)


def case_equiv_engines_data():
    equivalence(data_captures(), configs=ENGINES)


def case_engines_row_count():
    """The 341-column ntl feature set and the other engines write every flow with threads (the
    old fixed-size flow copy dropped ntl rows): a hand-built capture of 40 TCP flows (SYN,
    SYN-ACK, data, FIN both ways) gives 40 rows with 1 and 3 threads in every engine."""
    recs = []
    for i in range(40):
        c, srv, cp = f"10.9.{i // 200}.{1 + i % 200}", "10.9.250.1", 20000 + i
        t = 1700000000 + i
        recs.append((t, 0, nfmtest.ipv4_tcp_frame(c, srv, cp, 80, 0x02)))
        recs.append((t, 100, nfmtest.ipv4_tcp_frame(srv, c, 80, cp, 0x12)))
        recs.append((t, 200, nfmtest.ipv4_tcp_frame(c, srv, cp, 80, 0x18, b"GET /")))
        recs.append((t, 300, nfmtest.ipv4_tcp_frame(c, srv, cp, 80, 0x11)))
        recs.append((t, 400, nfmtest.ipv4_tcp_frame(srv, c, 80, cp, 0x11)))
    data, _ = nfmtest.pcap_bytes(recs)
    cap = TMP / "forty.pcap"
    cap.write_bytes(data)
    for name, args, _ in ENGINES:
        for n in ("1", "3"):
            rc, out, err = run(["--pcap", str(cap), *args, "--threads", n], TMP / "f.csv")
            rows = sorted_rows(out)[1:]
            check(rc == 0 and len(rows) == 40,
                  f"{name} --threads {n}: exit {rc}, {len(rows)} rows; expected 40: {err[:300]}")
            check("dropped" not in err, f"{name} --threads {n}: {err[:300]}")


def case_deterministic():
    """Same input and worker count: byte-identical output, run after run."""
    caps = shared_captures() or data_captures()
    for cap in caps:
        _, a, _ = run(["--pcap", str(cap), "--threads", "3"], TMP / "d1.csv")
        _, b, _ = run(["--pcap", str(cap), "--threads", "3"], TMP / "d2.csv")
        check(a == b, f"{cap.name}: two --threads 3 runs wrote different bytes")
        # nfm2022 runs one worker: the single-threaded order exactly.
        _, c, _ = run(["--pcap", str(cap), "--profile", "nfm2022", "--threads", "4"], TMP / "d3.csv")
        _, d, _ = run(["--pcap", str(cap), "--profile", "nfm2022", "--threads", "1"], TMP / "d4.csv")
        check(c == d, f"{cap.name}: nfm2022 --threads 4 output is not byte-identical to --threads 1")


def monotone(cap: Path) -> bool | None:
    """True when tshark sees non-decreasing timestamps (None: tshark missing/failed)."""
    if not shutil.which("tshark"):
        return None
    r = subprocess.run(["tshark", "-r", str(cap), "-T", "fields", "-e", "frame.time_epoch"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=120)
    ts = [float(x) for x in r.stdout.decode().split() if x]
    return all(a <= b for a, b in zip(ts, ts[1:]))


SPLIT_NFM = [("corrected", ["--profile", "corrected"]), ("nfm2022", ["--profile", "nfm2022"])]
SPLIT_ENGINES = [(name, args) for name, args, _ in ENGINES if name in ("cic", "ntl")]


def split_check(caps: list[Path], want: int, configs=SPLIT_NFM) -> int:
    if not shutil.which("editcap"):
        raise Skip("editcap not found (apt-get install wireshark-common / tshark)")
    done = 0
    rnd = random.Random(12)
    for cap in caps:
        if cap.stat().st_size < 2000:
            continue
        mono = monotone(cap)
        if mono is None:
            raise Skip("tshark not found: cannot tell which captures have ordered timestamps")
        if not mono:
            print(f"  skip {cap.name}: timestamps go backwards, so a merge by timestamp reorders its packets "
                  "(as mergecap does); not comparable to the whole file")
            continue
        n_pkts = 100
        if shutil.which("capinfos"):
            ci = subprocess.run(["capinfos", "-c", "-M", "-r", str(cap)], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL)
            if ci.returncode != 0:
                # Cut in a record (or damaged): editcap drops the partial record, while the
                # profiles that keep a cut record (nfm2022, ntl) count it in the whole file.
                print(f"  skip {cap.name}: capinfos reports it cut or damaged; its parts cannot hold the cut record")
                continue
            n_pkts = int(ci.stdout.decode().split()[-1] or 0)
        parts = TMP / f"parts_{cap.stem}"
        shutil.rmtree(parts, ignore_errors=True)
        parts.mkdir()
        chunk = max(3, n_pkts // 5)
        suffix = cap.suffix
        # Keep the input's format (editcap writes pcapng by default): nfm2022 prints times with
        # the capture's timestamp precision.
        kind = subprocess.run(["capinfos", "-t", str(cap)], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL).stdout.decode() if shutil.which("capinfos") else "pcapng"
        fmt = "pcapng" if "pcapng" in kind else "nsecpcap" if "nanosecond" in kind else "pcap"
        r = subprocess.run(["editcap", "-F", fmt, "-c", str(chunk), str(cap), str(parts / f"part{suffix}")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        check(r.returncode == 0, f"editcap failed on {cap.name}: {r.stderr.decode()[:200]}")
        files = sorted(parts.iterdir())
        if len(files) < 2:
            continue
        shuffled = files[:]
        rnd.shuffle(shuffled)
        for prof, pargs in configs:
            for threads in ("1", "2"):
                _, whole, _ = run(["--pcap", str(cap), *pargs, "--threads", threads], TMP / "w.csv")
                rc, split, err = run(["--pcap", *map(str, shuffled), *pargs, "--threads", threads],
                                     TMP / "s.csv")
                check(rc == 0, f"{cap.name} split into {len(files)}: exit {rc}: {err[:300]}")
                check(sorted_rows(split) == sorted_rows(whole),
                      f"{cap.name} ({prof}, --threads {threads}): {len(files)} shuffled parts give other rows "
                      f"than the whole capture")
                rc, d, err = run(["--pcap", str(parts), *pargs, "--threads", threads], TMP / "dd.csv")
                check(rc == 0 and sorted_rows(d) == sorted_rows(whole),
                      f"{cap.name} ({prof}, --threads {threads}): the parts as a directory give other rows (exit {rc})")
        done += 1
        if done >= want:
            break
    return done


def case_split_shared():
    caps = shared_captures()
    if not caps:
        raise Skip("../shared/pcaps not found: nothing to split")
    n = split_check(sorted(caps, key=lambda p: -p.stat().st_size), 12)
    check(n >= 3, f"only {n} captures could be split and compared")


def case_split_engines():
    """The same split-capture equivalence for profiles cic and ntl (shared captures, else the
    self-made crossing capture)."""
    caps = shared_captures()
    if caps:
        n = split_check(sorted(caps, key=lambda p: -p.stat().st_size), 6, SPLIT_ENGINES)
        check(n >= 3, f"only {n} captures could be split and compared")
    check(split_check([cross_capture()], 1, SPLIT_ENGINES) == 1, "the self-made capture was not split")


def cross_capture() -> Path:
    """Flows crossing the cut points (TCP: the ntl profile reads TCP only)."""
    recs = []
    for i in range(60):
        c, s = f"10.2.0.{1 + i % 4}", "10.2.1.1"
        recs.append((1700000000 + i // 10, (i % 10) * 1000, nfmtest.ipv4_tcp_frame(c, s, 40000 + i % 4, 443, 0x18, b"x" * i)))
        recs.append((1700000000 + i // 10, (i % 10) * 1000 + 500, nfmtest.ipv4_tcp_frame(s, c, 443, 40000 + i % 4, 0x10)))
    data, _ = nfmtest.pcap_bytes(recs)
    cap = TMP / "cross.pcap"
    cap.write_bytes(data)
    return cap


def case_split_data():
    # A self-made capture with several flows crossing the cut points.
    check(split_check([cross_capture()], 1) == 1, "the self-made capture was not split")


# ----------------------------------------------------------------- the shard function
# A replica of FlowKey::Hash over the corrected key (engine/flow_table.hpp, engine.cpp
# CorrectedKey) and ShardOf (parallel/sharded_run.cpp), only to build captures whose
# flows land on chosen workers. It decides nothing the test checks.
M64 = (1 << 64) - 1


def key_hash(src: str, sport: int, dst: str, dport: int, proto: int) -> int:
    import ipaddress
    a = b"\0" * 10 + b"\xff\xff" + ipaddress.IPv4Address(src).packed
    b = b"\0" * 10 + b"\xff\xff" + ipaddress.IPv4Address(dst).packed
    pa, pb = sport, dport
    if a > b or (a == b and pa > pb):
        a, b, pa, pb = b, a, pb, pa
    key = a + b + struct.pack("<HHB3x", pa, pb, proto)
    h = 0x9E3779B97F4A7C15
    for (x,) in struct.iter_unpack("<Q", key):
        h ^= (x + 0x9E3779B97F4A7C15 + ((h << 6) & M64) + (h >> 2)) & M64
        h = (h * 0xFF51AFD7ED558CCD) & M64
        h ^= h >> 33
    return h


def shard_of(h: int, n: int) -> int:
    x = ((h ^ (h >> 29)) * 0xBF58476D1CE4E5B9) & M64
    return ((x >> 32) * n) >> 32


def lone_and_busy(count: int):
    """A UDP flow A and `count` flows B whose worker differs from A's for 2, 3 and 4 workers."""
    a = ("10.7.0.1", 1000, "10.7.0.2", 2000)
    ha = key_hash(a[0], a[1], a[2], a[3], 17)
    busy = []
    port = 3000
    while len(busy) < count:
        b = ("10.7.1.1", port, "10.7.1.2", 4000)
        hb = key_hash(b[0], b[1], b[2], b[3], 17)
        if all(shard_of(hb, n) != shard_of(ha, n) for n in (2, 3, 4)):
            busy.append(b)
        port += 1
    return a, busy


def rows_of(data: bytes, sport: int, dport: int) -> list[dict]:
    h, rows, _ = nfmtest.read_csv_text(data)
    idx = {c: i for i, c in enumerate(h)}
    return [{c: r[i] for c, i in idx.items()} for r in rows
            if int(r[idx["src_port"]]) == sport and int(r[idx["dst_port"]]) == dport]


def lone_shard_case(records, args, a, expect_packets: list[int]):
    data, _ = nfmtest.pcap_bytes(records)
    cap = TMP / "lone.pcap"
    cap.write_bytes(data)
    ref = None
    for n in (1, 2, 3, 4):
        rc, out, err = run(["--pcap", str(cap), "--threads", str(n), *args], TMP / f"lone{n}.csv")
        check(rc == 0, f"--threads {n}: exit {rc}: {err[:300]}")
        got = sorted(int(r["packets_count"]) for r in rows_of(out, a[1], a[3]))
        check(got == sorted(expect_packets),
              f"--threads {n}: flow A's rows have {got} packets; expected {sorted(expect_packets)} "
              f"(its worker must see the other workers' packet time)")
        if ref is None:
            ref = sorted_rows(out)
        check(sorted_rows(out) == ref, f"--threads {n}: rows differ from --threads 1")


def case_idle_shard():
    """A's worker gets no packet for 30 s (idle timeout 10 s) while the others do; then A's
    late packet (time 1005, read after time 1030). The single engine ended A at time 1011
    (idle), so the late packet starts a new flow: rows of 1 and 1 packets, with any workers."""
    a, busy = lone_and_busy(4)
    recs = [(1000, 0, nfmtest.ipv4_udp_frame(a[0], a[2], a[1], a[3], b"a"))]
    for i in range(30):
        b = busy[i % len(busy)]
        recs.append((1001 + i, 0, nfmtest.ipv4_udp_frame(b[0], b[2], b[1], b[3], b"b")))
    recs.append((1005, 0, nfmtest.ipv4_udp_frame(a[0], a[2], a[1], a[3], b"late")))
    lone_shard_case(recs, ["--idle-timeout", "10", "--active-timeout", "1000"], a, [1, 1])


def case_active_shard():
    """Active timeout 15 s: A sends every 2 s from 1000 to 1014 (8 packets); other workers'
    packets reach 1015.5; then A's late packet at 1014.9. The single engine ended A at 1015.5
    (active), so rows of 8 and 1 packets."""
    a, busy = lone_and_busy(3)
    recs = []
    for i in range(8):
        recs.append((1000 + 2 * i, 0, nfmtest.ipv4_udp_frame(a[0], a[2], a[1], a[3], b"a")))
    for i in range(16):
        b = busy[i % len(busy)]
        recs.append((1000 + i, 500000, nfmtest.ipv4_udp_frame(b[0], b[2], b[1], b[3], b"b")))
    recs.sort(key=lambda r: (r[0], r[1]))
    recs.append((1014, 900000, nfmtest.ipv4_udp_frame(a[0], a[2], a[1], a[3], b"late")))
    lone_shard_case(recs, ["--idle-timeout", "100", "--active-timeout", "15"], a, [8, 1])


def case_corrupt_in_set():
    """A truncated file among good ones: its error names it (byte offset), the others are read,
    exit 2; the good records (before the cut too) are all counted."""
    good1, _ = nfmtest.pcap_bytes(nfmtest.sample_records())
    recs2 = [(1700000100 + i, 0, nfmtest.ipv4_udp_frame("10.3.0.1", "10.3.0.2", 7000, 53, b"z")) for i in range(5)]
    good2, _ = nfmtest.pcap_bytes(recs2)
    recs3 = [(1700000050 + i, 0, nfmtest.ipv4_udp_frame("10.4.0.1", "10.4.0.2", 8000, 53, b"y")) for i in range(3)]
    bad, offs = nfmtest.pcap_bytes(recs3)
    cut = offs[2] + 20  # inside the third record's data
    d = TMP / "set"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir()
    (d / "a.pcap").write_bytes(good1)
    (d / "b.pcap").write_bytes(good2)
    (d / "c.pcap").write_bytes(bad[:cut])
    for n in ("1", "2"):
        rc, out, err = run(["--pcap", str(d), "--threads", n], TMP / "set.csv")
        check(rc == 2, f"--threads {n}: exit {rc}, expected 2 (one truncated file); stderr: {err[:300]}")
        check("c.pcap" in err and f"byte offset {offs[2]}" in err,
              f"--threads {n}: the error should name c.pcap and byte offset {offs[2]}: {err[:300]}")
        _, rows, _ = nfmtest.read_csv_text(out)
        # sample: 1 TCP + 1 UDP flow; b: 1 flow (5 packets); c: 1 flow of its 2 whole records.
        h, _, _ = nfmtest.read_csv_text(out)
        pc = h.index("packets_count")
        counts = sorted(int(r[pc]) for r in rows)
        check(counts == sorted([4, 2, 5, 2]), f"--threads {n}: flows have {counts} packets; expected [2, 2, 4, 5]")


def case_progress():
    """--progress forces the line (stderr is a pipe here); --no-progress and the default
    (not a terminal) print none."""
    data, _ = nfmtest.pcap_bytes(nfmtest.sample_records())
    cap = TMP / "p.pcap"
    cap.write_bytes(data)
    for n in ("1", "2"):
        r = nfmtest.run_tool(BIN, ["--pcap", str(cap), "--csv", str(TMP / "p.csv"), "--progress", "--threads", n])
        err = r.stderr.decode(errors="replace")
        check(r.returncode == 0 and "\r[100.0%]" in err and "open flows" in err and "\x1b[K" in err,
              f"--threads {n} --progress: no progress line in {err!r}")
        for flag in (["--no-progress"], []):
            r = nfmtest.run_tool(BIN, ["--pcap", str(cap), "--csv", str(TMP / "p.csv"), "--threads", n, *flag])
            check("\r" not in r.stderr.decode(errors="replace"), f"{flag or 'default'}: a progress line on a pipe")


def case_replicated():
    """The three ways of reading (the default cooperative workers, NFM_SHARD_READ=pipelined with
    reader and output threads, NFM_SHARD_READ=replicated where every worker reads the whole
    input) hand the workers the same entries and tags and merge their flows the same way:
    byte-identical CSV (same row order), exit code and stderr, at 2 and 3 workers, for the nfm,
    cic and ntl engines, on every tests/data capture (corrupt ones included), the shared
    captures when present, and a capture given as a directory of editcap parts."""
    caps = data_captures() + shared_captures()
    configs = [("corrected", []), ("short", ["--idle-timeout", "0.05", "--active-timeout", "0.2"]),
               ("cic", ["--profile", "cic"]), ("ntl", ["--profile", "ntl", "--float-format", ".17g"]),
               ("set-ntl", ["--feature-set", "ntl"])]
    inputs = [[str(c)] for c in caps]
    if shutil.which("editcap") and caps:
        parts = TMP / "parts"
        parts.mkdir()
        big = max(caps, key=lambda c: c.stat().st_size)
        subprocess.run(["editcap", "-c", "500", str(big), str(parts / "p.pcap")], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        inputs.append([str(parts)])
    n_runs, fails = 0, []
    for inp in inputs:
        for name, extra in configs:
            for n in ("2", "3"):
                base = ["--pcap", *inp, *extra, "--threads", n]
                rc1, out1, err1 = run(base, TMP / "c.csv")
                for mode in ("pipelined", "replicated"):
                    rc2, out2, err2 = run(base, TMP / "r.csv", env={"NFM_SHARD_READ": mode})
                    n_runs += 1
                    if (rc1, out1, err1) != (rc2, out2, err2):
                        fails.append(f"{inp[0]} {name} --threads {n} {mode}: exit {rc2} vs {rc1}, "
                                     f"{'same' if out1 == out2 else 'different'} CSV, "
                                     f"stderr {err2[:200]!r} vs {err1[:200]!r}")
    print(f"{n_runs} pipelined and replicated runs compared with the cooperative default")
    check(n_runs > 0 and not fails, "reading modes differ:\n  " + "\n  ".join(fails[:20]))


def case_default_threads():
    """Without --threads: one worker for inputs under 256 MiB in all (workers cost more than
    they save there), else one per CPU; the manifest records which, and the rows are the same
    set either way."""
    import json
    small, _ = nfmtest.pcap_bytes(nfmtest.sample_records())
    (TMP / "small.pcap").write_bytes(small)
    cpus = len(os.sched_getaffinity(0))
    records = []
    payload = b"x" * 64000  # 4300 records of 64 kB: 275 MB, over the 256 MiB threshold
    for i in range(4300):
        records.append((1700000000 + i // 100, (i % 100) * 1000,
                        nfmtest.ipv4_udp_frame("10.9.0.1", f"10.9.{1 + i % 50}.2", 4000 + i % 50, 53, payload)))
    big, _ = nfmtest.pcap_bytes(records)
    (TMP / "big.pcap").write_bytes(big)
    del big, records
    want = {"small.pcap": "1", "big.pcap": str(cpus)}
    for name, threads in want.items():
        rc, out, err = run(["--pcap", str(TMP / name)], TMP / "d.csv")
        m = json.loads((TMP / "d.csv.manifest.json").read_text())
        check(rc == 0 and m["effective"]["threads"] == threads,
              f"{name}: exit {rc}, effective threads {m['effective'].get('threads')}, expected {threads} ({err[:200]})")
        rc1, out1, _ = run(["--pcap", str(TMP / name), "--threads", "1"], TMP / "d1.csv")
        check(rc1 == 0 and sorted_rows(out) == sorted_rows(out1), f"{name}: default rows differ from --threads 1")
    print(f"default threads: small input 1, 275 MB input {cpus} (CPUs)")
    (TMP / "big.pcap").unlink()


def case_threads_option():
    data, _ = nfmtest.pcap_bytes(nfmtest.sample_records())
    cap = TMP / "o.pcap"
    cap.write_bytes(data)
    for bad in ("0", "65", "x"):
        r = nfmtest.run_tool(BIN, ["--pcap", str(cap), "--threads", bad])
        check(r.returncode == 1, f"--threads {bad}: exit {r.returncode}, expected 1")
    r = nfmtest.run_tool(BIN, ["--pcap", "-", str(cap)])
    check(r.returncode == 1 and b"stdin" in r.stderr, f"'-' with another input: exit {r.returncode}")
    r = nfmtest.run_tool(BIN, ["--help"])
    check(b"--threads" in r.stdout and b"--progress" in r.stdout, "--help does not list --threads/--progress")


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}



if __name__ == "__main__":
    sys.exit(nfmtest.run_cases(CASES, globals(), "nfm-thr-"))
