#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# IPFIX export checked by real collectors, started here on 127.0.0.1 with bounded runs:
#   nfcapd       nfdump's nfcapd receives --ipfix-uniflow UDP export of every capture in
#                ../shared/pcaps and tests/data; per 5-tuple and direction the packets equal the
#                CSV's fwd/bwd counts, start/end within 1 ms (nfdump -o json)
#   nfacctd      pmacct's nfacctd receives the same export; packets per directional 5-tuple agree
#   fixbuf_file  libfixbuf (fixbuf_read.c) reads a biflow file: export: templates valid, every
#                record decoded, identity/counters and all 114 enterprise elements equal the CSV
#                (--float-format .17g; doubles compared bit for bit)
#   fixbuf_tcp   the same through a libfixbuf TCP listener
#   fixbuf_tunnel  --tunnel inner --where-columns tunnel: libfixbuf decodes the tunnel elements = CSV
#   tcp_restart  a TCP collector stopped and restarted mid-run: the agent keeps running, drops
#                nothing (offline), counts what the first connection lost (exit 3 if any);
#                templates come again on the new connection
#   bad_input    unparsable URL / unresolvable host / too small MTU exit 1 before capture,
#                naming the flag; an unreachable UDP collector is counted (exit status 3, the CSV
#                complete); --ipfix without --csv writes no CSV
#   docs         docs/IPFIX.md's element tables and deploy/ipfix/nfm-xdp*.xml equal what
#                `nfm-xdp [--profile cic|--feature-set ntl] --ipfix-elements md|xml` generates;
#                cic/ntl ids checked against hand-written values of the numbering rule
#   cic_set      --profile cic --tz utc over file:, TCP and UDP to the libfixbuf reader: every
#                record equals ../shared/expected/cic/ (the reference tool's CSV), bit for bit;
#                --feature-set cic against our CSV of the same run (no reference tool exists)
#   ntl_set      the same for --profile ntl --float-format .17g against ../shared/expected/ntl/
#                (<= 1e-9 relative, the differential test's bound; exact values counted) and
#                --feature-set ntl against our CSV
#   ipfixdump    libfixbuf's ipfixDump names every cic/ntl feature element with the XML files and
#                decodes every record, biflow and --ipfix-uniflow (flows + backward records)
#   nfcapd_defaults   a stock nfcapd (its default socket buffer, no -B) receives every capture
#                exported with default options (--ipfix-uniflow only; no --ipfix-rate/-queue):
#                packets per 5-tuple and direction equal the CSV's, exit status 0, 0 dropped
#   nfacctd_defaults  the same for a stock nfacctd (no nfacctd_pipe_size)
#   exit_status  offline exit statuses: a TCP collector that is absent, one killed mid-run, an
#                absent local UDP collector (3, the summary and a line naming the collector and
#                --ipfix-retry); SIGTERM in the middle of a replay (4, the summary says so); both (3)
# Exit 77 = skipped (a collector or ../shared is missing; the message says which).
import argparse
import csv
import datetime as dt
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

SKIP = 77
SRC = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(SRC / "tests" / "tools"))
import nfmtest  # noqa: E402
from ipfix_stream import IpfixStreamCounter  # noqa: E402

PROTO = {"TCP": 6, "UDP": 17, "ICMP": 1, "ICMPV6": 58, "IPV6-ICMP": 58}
problems = []


def skip(msg):
    print(f"SKIP: {msg}", file=sys.stderr)
    sys.exit(SKIP)


def fail_now(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        problems.append(msg)
    return cond


def free_port(kind=socket.SOCK_DGRAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_bound(port, kind=socket.SOCK_DGRAM, timeout=10):
    """Until something is bound to 127.0.0.1:port (our bind fails)."""
    end = time.time() + timeout
    while time.time() < end:
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return True
        time.sleep(0.05)
    return False


def captures():
    shared = nfmtest.find_shared(str(SRC))
    caps = []
    if shared is None:
        print("NOTE: ../shared/pcaps is absent: only tests/data captures are used (LOUD: the shared "
              "captures were NOT checked)", file=sys.stderr)
    else:
        caps += nfmtest.list_captures(shared / "pcaps")
    caps += nfmtest.list_captures(SRC / "tests" / "data")
    only = os.environ.get("NFM_IPFIX_ONLY")
    if only:
        caps = [c for c in caps if any(s in c.name for s in only.split(","))]
    return caps


def run_agent(binary, capture, csv_path, extra, timeout=300):
    args = [binary, "--pcap", str(capture), "--float-format", ".17g", *extra]
    if csv_path:
        args += ["--csv", str(csv_path)]
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)


def summary(stderr):
    """(sent, dropped) from the agent's 'ipfix URL: N records sent, M dropped' line(s)."""
    sent = dropped = 0
    found = False
    for m in re.finditer(r"ipfix \S+: (\d+) records sent, (\d+) dropped", stderr):
        sent += int(m.group(1))
        dropped += int(m.group(2))
        found = True
    return (sent, dropped) if found else None


def read_csv(path):
    if not path.exists() or path.stat().st_size == 0:
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def proto_num(text):
    t = text.strip().upper()
    if t in PROTO:
        return PROTO[t]
    if t.isdigit():
        return int(t)
    return socket.getprotobyname(t.lower())  # pmacct prints names from /etc/protocols


def addr(text):
    return ipaddress.ip_address(text.strip()).compressed


def epoch(ts_text):
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S"):
        try:
            return dt.datetime.strptime(ts_text.strip(), fmt).replace(tzinfo=dt.timezone.utc).timestamp()
        except ValueError:
            pass
    raise ValueError(ts_text)


def key(sa, da, sp, dp, proto):
    if proto in (1, 58):  # ICMP: collectors fold type/code into ports differently
        sp = dp = 0
    return (addr(sa), addr(da), int(sp), int(dp), proto)


def expected_uniflow(rows):
    """Directional records the CSV implies: (key, packets, start_s, end_s)."""
    out = []
    for r in rows:
        p = proto_num(r["protocol"])
        start = epoch(r["timestamp"])
        end = start + float(r["duration"])
        out.append((key(r["src_ip"], r["dst_ip"], r["src_port"], r["dst_port"], p), int(r["fwd_packets_count"]), start, end))
        if int(r["bwd_packets_count"]) > 0:
            out.append((key(r["dst_ip"], r["src_ip"], r["dst_port"], r["src_port"], p), int(r["bwd_packets_count"]), start, end))
    return out


def export_all_uniflow(binary, url, tmp):
    """Replays every capture with --ipfix-uniflow to url; returns the expected directional records."""
    caps = captures()
    expected = []
    for i, cap in enumerate(caps):
        out = tmp / f"{i}.csv"
        r = run_agent(binary, cap, out, ["--ipfix", url, "--ipfix-uniflow", "--ipfix-rate", "20000",
                                         "--ipfix-queue", "20000"])
        rows = read_csv(out)
        exp = expected_uniflow(rows)
        s = summary(r.stderr)
        check(s == (len(exp), 0), f"{cap.name}: agent summary {s}, expected {len(exp)} records sent, 0 dropped "
                                  f"(rc {r.returncode}: {r.stderr.strip()[-300:]})")
        expected += exp
    return caps, expected


def compare_directional(name, expected, got, times=True):
    """expected/got: lists of (key, packets, start_s, end_s). Matched per key in start order."""
    by = {}
    for k, p, s, e in expected:
        by.setdefault(k, [[], []])[0].append((s, p, e))
    for k, p, s, e in got:
        by.setdefault(k, [[], []])[1].append((s, p, e))
    bad = 0
    for k, (a, b) in by.items():
        a.sort()
        b.sort()
        if len(a) != len(b):
            bad += 1
            if bad <= 10:
                problems.append(f"{name}: {k}: CSV has {len(a)} directional records, collector {len(b)}")
            continue
        for (s1, p1, e1), (s2, p2, e2) in zip(a, b):
            ok = p1 == p2 and (not times or (abs(s1 - s2) <= 0.001 + 1e-9 and abs(e1 - e2) <= 0.001 + 1e-9))
            if not ok:
                bad += 1
                if bad <= 10:
                    problems.append(f"{name}: {k}: CSV packets {p1} start {s1:.6f} end {e1:.6f}; "
                                    f"collector packets {p2} start {s2:.6f} end {e2:.6f}")
    check(bad == 0, f"{name}: {bad} mismatching 5-tuples (first 10 above)")
    check(len(got) == len(expected), f"{name}: collector has {len(got)} records, CSV implies {len(expected)}")


# ------------------------------------------------------------------ nfcapd / nfacctd
def case_nfcapd(args, tmp):
    if not shutil.which("nfcapd") or not shutil.which("nfdump"):
        skip("nfcapd/nfdump not installed (apt-get install nfdump; scripts/install-deps.sh)")
    port = free_port()
    d = tmp / "nfcapd"
    d.mkdir()
    p = subprocess.Popen(["nfcapd", "-p", str(port), "-b", "127.0.0.1", "-w", str(d), "-B", "4000000"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        if not wait_bound(port):
            fail_now(f"nfcapd did not bind 127.0.0.1:{port}: {p.stdout.read() if p.poll() is not None else ''}")
        caps, expected = export_all_uniflow(args.binary, f"udp://127.0.0.1:{port}", tmp)
        time.sleep(1.0)
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            log = p.communicate(timeout=20)[0]
        except subprocess.TimeoutExpired:
            p.kill()
            log = p.communicate()[0]
    print(log.strip().splitlines()[-2:] if log else "", file=sys.stderr)
    env = dict(os.environ, TZ="UTC")
    r = subprocess.run(["nfdump", "-R", str(d), "-o", "json"], capture_output=True, text=True, env=env, timeout=120)
    if r.returncode != 0:
        fail_now(f"nfdump -R failed: {r.stderr.strip()}")
    flows = json.loads(r.stdout) if r.stdout.strip() else []
    got = []
    for f in flows:
        sa = f.get("src4_addr") or f.get("src6_addr")
        da = f.get("dst4_addr") or f.get("dst6_addr")
        got.append((key(sa, da, f.get("src_port", 0), f.get("dst_port", 0), int(f["proto"])), int(f["in_packets"]),
                    epoch(f["first"]), epoch(f["last"])))
    compare_directional("nfcapd", expected, got)
    print(f"nfcapd: {len(caps)} captures, {len(expected)} directional records expected, {len(got)} received")


def case_nfacctd(args, tmp):
    if not shutil.which("nfacctd"):
        skip("nfacctd not installed (apt-get install pmacct; scripts/install-deps.sh)")
    port = free_port()
    out = tmp / "pmacct.csv"
    conf = tmp / "nfacctd.conf"
    conf.write_text(f"""daemonize: false
nfacctd_ip: 127.0.0.1
nfacctd_port: {port}
nfacctd_pipe_size: 8388608
plugins: print
aggregate: src_host, dst_host, src_port, dst_port, proto
print_output: csv
print_output_file: {out}
print_output_file_append: true
print_refresh_time: 1
""")
    p = subprocess.Popen(["nfacctd", "-f", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        if not wait_bound(port):
            fail_now(f"nfacctd did not bind 127.0.0.1:{port}")
        caps, expected = export_all_uniflow(args.binary, f"udp://127.0.0.1:{port}", tmp)
        time.sleep(3.0)  # two print refreshes
    finally:
        p.send_signal(signal.SIGINT)
        try:
            p.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
    want = {}
    for k, pk, _, _ in expected:
        want[k] = want.get(k, 0) + pk
    got = {}
    if out.exists():
        for line in out.read_text().splitlines():
            if not line or line.startswith("SRC_IP"):
                continue
            sa, da, sp, dp, pr, pk, _ = line.split(",")
            k = key(sa, da, sp, dp, proto_num(pr))
            got[k] = got.get(k, 0) + int(pk)
    bad = [k for k in set(want) | set(got) if want.get(k) != got.get(k)]
    for k in bad[:10]:
        problems.append(f"nfacctd: {k}: CSV packets {want.get(k)}, nfacctd {got.get(k)}")
    check(not bad, f"nfacctd: {len(bad)} of {len(want)} directional 5-tuples disagree")
    print(f"nfacctd: {len(caps)} captures, {len(want)} directional 5-tuples, {sum(want.values())} packets")


# ------------------------------------------------------------------ stock collectors, default options
WORKERS = 3  # collectors (one port each) exporting captures at the same time


def start_nfcapd(d):
    port = free_port()
    d.mkdir()
    p = subprocess.Popen(["nfcapd", "-p", str(port), "-b", "127.0.0.1", "-w", str(d)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if not wait_bound(port):
        p.kill()
        fail_now(f"nfcapd did not bind 127.0.0.1:{port}: {p.communicate()[0]}")
    return p, port


def start_nfacctd(d):
    port = free_port()
    d.mkdir()
    conf = d / "nfacctd.conf"
    # No nfacctd_pipe_size: the kernel's default socket buffer.
    conf.write_text(f"""daemonize: false
nfacctd_ip: 127.0.0.1
nfacctd_port: {port}
plugins: print
aggregate: src_host, dst_host, src_port, dst_port, proto
print_output: csv
print_output_file: {d / "out.csv"}
print_output_file_append: true
print_refresh_time: 1
""")
    p = subprocess.Popen(["nfacctd", "-f", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if not wait_bound(port):
        p.kill()
        fail_now(f"nfacctd did not bind 127.0.0.1:{port}: {p.communicate()[0]}")
    return p, port


def socket_drops(port):
    """Datagrams the kernel dropped at the UDP socket bound to 127.0.0.1:port (ss -m: d<N>)."""
    r = subprocess.run(["ss", "-u", "-a", "-n", "-m", f"sport = :{port}"], capture_output=True, text=True)
    m = re.search(r"\bd(\d+)\)", r.stdout)
    return int(m.group(1)) if m else None


def export_defaults(binary, caps, start, tmp):
    """Exports every capture with default options to WORKERS collectors (captures dealt round
    robin, each worker's captures one after another). Returns [(collector, dir, port, expected)]."""
    workers = []
    for w in range(WORKERS):
        p, port = start(tmp / f"coll{w}")
        workers.append((p, tmp / f"coll{w}", port, []))
    try:
        def run_worker(w):
            p, d, port, expected = workers[w]
            for i in range(w, len(caps), WORKERS):
                cap = caps[i]
                out = d.parent / f"defaults-{i}.csv"  # not in d: nfdump -R reads every file there
                r = run_agent(binary, cap, out, ["--ipfix", f"udp://127.0.0.1:{port}", "--ipfix-uniflow"])
                exp = expected_uniflow(read_csv(out))
                s = summary(r.stderr)
                # 1: an unreadable test capture (nothing read, no flow); 2: a damaged one.
                check((r.returncode in (0, 2) or (r.returncode == 1 and not exp)) and s == (len(exp), 0),
                      f"{cap.name}: exit {r.returncode}, summary {s}, expected {len(exp)} records sent, 0 dropped "
                      f"({r.stderr.strip()[-300:]})")
                check("lost" not in r.stderr, f"{cap.name}: {r.stderr.strip()[-300:]}")
                expected += exp
        threads = [threading.Thread(target=run_worker, args=(w,)) for w in range(WORKERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for p, d, port, _ in workers:
            drops = socket_drops(port)
            check(drops == 0, f"the collector's socket on port {port} dropped {drops} datagrams (ss -m)")
    except BaseException:
        for p, *_ in workers:
            p.kill()
        raise
    return workers


def stop_collector(p, sig):
    p.send_signal(sig)
    try:
        return p.communicate(timeout=20)[0]
    except subprocess.TimeoutExpired:
        p.kill()
        return p.communicate()[0]


def case_nfcapd_defaults(args, tmp):
    if not shutil.which("nfcapd") or not shutil.which("nfdump"):
        skip("nfcapd/nfdump not installed (apt-get install nfdump; scripts/install-deps.sh)")
    caps = captures()
    t0 = time.time()
    workers = export_defaults(args.binary, caps, start_nfcapd, tmp)
    secs = time.time() - t0
    time.sleep(1.0)
    expected, got = [], []
    env = dict(os.environ, TZ="UTC")
    for p, d, port, exp in workers:
        stop_collector(p, signal.SIGTERM)
        r = subprocess.run(["nfdump", "-R", str(d), "-o", "json"], capture_output=True, text=True, env=env, timeout=120)
        if r.returncode != 0:
            fail_now(f"nfdump -R {d} failed: {r.stderr.strip()}")
        for f in (json.loads(r.stdout) if r.stdout.strip() else []):
            sa = f.get("src4_addr") or f.get("src6_addr")
            da = f.get("dst4_addr") or f.get("dst6_addr")
            got.append((key(sa, da, f.get("src_port", 0), f.get("dst_port", 0), int(f["proto"])), int(f["in_packets"]),
                        epoch(f["first"]), epoch(f["last"])))
        expected += exp
    compare_directional("nfcapd (defaults)", expected, got)
    print(f"nfcapd_defaults: {len(caps)} captures in {secs:.1f} s, {len(expected)} directional records expected, "
          f"{len(got)} stored")


def case_nfacctd_defaults(args, tmp):
    if not shutil.which("nfacctd"):
        skip("nfacctd not installed (apt-get install pmacct; scripts/install-deps.sh)")
    caps = captures()
    t0 = time.time()
    workers = export_defaults(args.binary, caps, start_nfacctd, tmp)
    secs = time.time() - t0
    time.sleep(3.0)  # two print refreshes
    want, got = {}, {}
    for p, d, port, exp in workers:
        stop_collector(p, signal.SIGINT)
        for k, pk, _, _ in exp:
            want[k] = want.get(k, 0) + pk
        out = d / "out.csv"
        if out.exists():
            for line in out.read_text().splitlines():
                if not line or line.startswith("SRC_IP"):
                    continue
                sa, da, sp, dp, pr, pk, _ = line.split(",")
                k = key(sa, da, sp, dp, proto_num(pr))
                got[k] = got.get(k, 0) + int(pk)
    bad = [k for k in set(want) | set(got) if want.get(k) != got.get(k)]
    for k in bad[:10]:
        problems.append(f"nfacctd (defaults): {k}: CSV packets {want.get(k)}, nfacctd {got.get(k)}")
    check(not bad, f"nfacctd (defaults): {len(bad)} of {len(want)} directional 5-tuples disagree")
    print(f"nfacctd_defaults: {len(caps)} captures in {secs:.1f} s, {len(want)} directional 5-tuples, "
          f"{sum(want.values())} packets")


# ------------------------------------------------------------------ exit statuses
def big_capture(tmp, copies):
    """A capture long enough to be interrupted: `copies` back-to-back copies of a tests/data (or
    shared) capture, each shifted in time (bench/replay/loop_pcap.py)."""
    shared = nfmtest.find_shared(str(SRC))
    base = (shared / "pcaps" / "ppp_example.pcap") if shared else SRC / "tests" / "data" / "pcap_us_le.pcap"
    out = tmp / f"big{copies}.pcap"
    if not out.exists():
        subprocess.run([sys.executable, str(SRC / "bench" / "replay" / "loop_pcap.py"), str(base), str(out), str(copies)],
                       check=True, capture_output=True)
    return out


def finish(p, timeout=60):
    """Waits for an agent whose stdin we closed; its stderr."""
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        problems.append("the agent did not exit")
    return p.stderr.read().decode()


def case_exit_status(args, tmp):
    shared = nfmtest.find_shared(str(SRC))
    cap = (shared / "pcaps" / "ppp_example.pcap") if shared else SRC / "tests" / "data" / "pcap_us_le.pcap"
    # 1. TCP collector absent: the records wait --ipfix-retry seconds, then are dropped: status 3.
    port = free_port(socket.SOCK_STREAM)
    out = tmp / "absent.csv"
    t0 = time.time()
    r = run_agent(args.binary, cap, out, ["--ipfix", f"tcp://127.0.0.1:{port}", "--ipfix-retry", "1"], timeout=60)
    rows = read_csv(out)
    s = summary(r.stderr)
    check(r.returncode == 3, f"absent TCP collector: exit {r.returncode}, want 3: {r.stderr.strip()[-400:]}")
    check(s == (0, len(rows)) and rows, f"absent TCP collector: summary {s}, want (0, {len(rows)})")
    check(f"tcp://127.0.0.1:{port}" in r.stderr and "--ipfix-retry" in r.stderr and "never reached" in r.stderr,
          f"absent TCP collector: no line naming the collector and the fix: {r.stderr.strip()}")
    check(time.time() - t0 < 30, f"absent TCP collector: the run took {time.time() - t0:.1f} s with --ipfix-retry 1")
    # The same with no flow at all (an empty capture): nothing dropped, but no collector reached.
    empty = tmp / "header_only.pcap"
    empty.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    r = run_agent(args.binary, empty, None, ["--ipfix", f"tcp://127.0.0.1:{port}", "--ipfix-retry", "1"], timeout=60)
    check(r.returncode == 3 and "never reached" in r.stderr,
          f"empty capture, absent TCP collector: exit {r.returncode}, want 3: {r.stderr.strip()[-300:]}")
    # 2. Absent local UDP collector (no socket bound): the same status, not a silent success.
    uport = free_port()
    r = run_agent(args.binary, cap, tmp / "udp.csv", ["--ipfix", f"udp://127.0.0.1:{uport}", "--ipfix-retry", "1"],
                  timeout=60)
    rows = read_csv(tmp / "udp.csv")
    s = summary(r.stderr)
    check(r.returncode == 3 and s is not None and s[1] > 0 and s[0] + s[1] == len(rows),
          f"absent UDP collector: exit {r.returncode}, summary {s}, flows {len(rows)}: {r.stderr.strip()[-300:]}")
    # 3. A TCP collector that reads a little, then goes away for good: status 3; every record is
    # sent or dropped, the collector got no more than was sent.
    big = big_capture(tmp, 20)
    port = free_port(socket.SOCK_STREAM)
    coll = Collector(port, stop_after=50, down_s=3600)
    coll.start()
    time.sleep(0.2)
    out = tmp / "killed.csv"
    r = run_agent(args.binary, big, out, ["--ipfix", f"tcp://127.0.0.1:{port}", "--ipfix-retry", "1"], timeout=120)
    rows = read_csv(out)
    s = summary(r.stderr)
    check(r.returncode == 3, f"collector killed mid-run: exit {r.returncode}, want 3: {r.stderr.strip()[-400:]}")
    check(s is not None and s[0] + s[1] == len(rows) and s[1] > 0,
          f"collector killed mid-run: sent + dropped {s} != flows {len(rows)}")
    check(coll.records[0] >= 50 and s is not None and coll.records[0] <= s[0],
          f"collector killed mid-run: collector got {coll.records[0]}, agent sent {s}")
    check(f"tcp://127.0.0.1:{port}" in r.stderr and "--ipfix-retry" in r.stderr, f"no line naming the fix: {r.stderr}")
    # 4. SIGTERM in the middle of a replay (a pipe: the rest arrives after the signal): status 4,
    # the summary says so, the CSV holds the flows read so far.
    data = big.read_bytes()
    out = tmp / "term.csv"
    p = subprocess.Popen([args.binary, "--pcap", "-", "--csv", str(out)], stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    p.stdin.write(data[:len(data) // 4])
    p.stdin.flush()
    time.sleep(0.5)
    p.send_signal(signal.SIGTERM)
    try:
        p.stdin.write(data[len(data) // 4:])
        p.stdin.close()
    except BrokenPipeError:
        pass
    err = finish(p)
    rows = read_csv(out)
    check(p.returncode == 4, f"SIGTERM mid-replay: exit {p.returncode}, want 4: {err.strip()[-300:]}")
    check("interrupted by a signal" in err, f"SIGTERM mid-replay: the summary does not say so: {err.strip()}")
    check(0 < len(rows) < 20 * 136 or not shared, f"SIGTERM mid-replay: {len(rows)} flows written")
    # 5. Both (SIGTERM and an absent collector): the export status wins (3 over 4).
    port = free_port(socket.SOCK_STREAM)
    p = subprocess.Popen([args.binary, "--pcap", "-", "--ipfix", f"tcp://127.0.0.1:{port}", "--ipfix-retry", "1"],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    p.stdin.write(data[:len(data) // 4])
    p.stdin.flush()
    time.sleep(0.5)
    p.send_signal(signal.SIGTERM)
    try:
        p.stdin.close()
    except BrokenPipeError:
        pass
    err = finish(p)
    check(p.returncode == 3 and "interrupted by a signal" in err,
          f"SIGTERM + absent collector: exit {p.returncode}, want 3: {err.strip()[-300:]}")
    # 6. A complete export exits 0 (the statuses above are not always non-zero).
    port = free_port(socket.SOCK_STREAM)
    coll = Collector(port, stop_after=None, down_s=0)
    coll.start()
    time.sleep(0.2)
    r = run_agent(args.binary, cap, tmp / "ok.csv", ["--ipfix", f"tcp://127.0.0.1:{port}"], timeout=60)
    rows = read_csv(tmp / "ok.csv")
    coll.join(timeout=10)
    check(r.returncode == 0 and summary(r.stderr) == (len(rows), 0) and coll.records[0] == len(rows),
          f"complete TCP export: exit {r.returncode}, summary {summary(r.stderr)}, collector {coll.records[0]}, "
          f"flows {len(rows)}: {r.stderr.strip()[-300:]}")
    print("exit_status: PASS" if not problems else "exit_status: problems")


# ------------------------------------------------------------------ libfixbuf
# --where-columns tunnel elements (tunnelType .. tunnelId): enterprise-specific like the features,
# but not feature columns and only in the templates of runs with the option.
TUNNEL_IDS = range(4001, 4005)


def info_model(features_only=True):
    """elementId -> (name, dataType) of the enterprise elements in deploy/ipfix/nfm-xdp.xml
    (features_only: without the tunnel elements)."""
    ns = {"i": "http://www.iana.org/assignments"}
    root = ET.parse(SRC / "deploy" / "ipfix" / "nfm-xdp.xml").getroot()
    out = {}
    for rec in root.iter("{http://www.iana.org/assignments}record"):
        eid = int(rec.find("i:elementId", ns).text)
        if features_only and eid in TUNNEL_IDS:
            continue
        out[eid] = (rec.find("i:name", ns).text, rec.find("i:dataType", ns).text)
    return out


def parse_fixbuf(text):
    templates = records = None
    recs = []
    for line in text.splitlines():
        if line.startswith("R "):
            parts = line.split()
            rec = {"tid": int(parts[1])}
            for kv in parts[2:]:
                k, v = kv.split("=", 1)
                ent, num = k.split("/")
                rec[(int(ent), int(num))] = v
            recs.append(rec)
        elif line.startswith("S "):
            m = re.match(r"S templates=(\d+) records=(\d+)", line)
            templates, records = int(m.group(1)), int(m.group(2))
    return templates, records, recs


def compare_fixbuf(name, rows, recs, model, pen=32473):
    check(len(rows) == len(recs), f"{name}: CSV {len(rows)} flows, libfixbuf decoded {len(recs)} records")
    bad = 0
    for i, (row, rec) in enumerate(zip(rows, recs)):
        v6 = ":" in row["src_ip"]
        errs = []
        sa, da = (rec.get((0, 27)), rec.get((0, 28))) if v6 else (rec.get((0, 8)), rec.get((0, 12)))
        if (addr(sa or "0.0.0.0"), addr(da or "0.0.0.0")) != (addr(row["src_ip"]), addr(row["dst_ip"])):
            errs.append(f"addresses {sa} {da}")
        p = proto_num(row["protocol"])
        if int(rec[(0, 4)]) != p:
            errs.append(f"protocol {rec[(0, 4)]}")
        if p not in (1, 58) and (int(rec[(0, 7)]), int(rec[(0, 11)])) != (int(row["src_port"]), int(row["dst_port"])):
            errs.append(f"ports {rec[(0, 7)]} {rec[(0, 11)]}")
        if int(rec[(0, 2)]) != int(row["fwd_packets_count"]) or int(rec[(29305, 2)]) != int(row["bwd_packets_count"]):
            errs.append(f"packets {rec[(0, 2)]}/{rec[(29305, 2)]}")
        if abs(int(rec[(0, 152)]) / 1000 - epoch(row["timestamp"])) > 0.001:
            errs.append(f"flowStartMilliseconds {rec[(0, 152)]}")
        n = 0
        for eid, (col, typ) in model.items():
            v = rec.get((pen, eid))
            if v is None:
                errs.append(f"element {pen}/{eid} ({col}) missing")
                continue
            n += 1
            text = row[col]
            if typ == "float64":
                want = struct.unpack(">Q", struct.pack(">d", float(text)))[0]
                if int(v, 16) != want:
                    errs.append(f"{col}: CSV {text} = {want:016x}, IPFIX {v}")
            elif int(v) != int(text):
                errs.append(f"{col}: CSV {text}, IPFIX {v}")
        if n != 114:
            errs.append(f"{n} enterprise elements, not 114")
        if errs:
            bad += 1
            if bad <= 5:
                problems.append(f"{name}: record {i} ({row['src_ip']}:{row['src_port']} > {row['dst_ip']}:{row['dst_port']}): "
                                + "; ".join(errs[:6]))
    check(bad == 0, f"{name}: {bad} records differ from the CSV")


def fixbuf_reader(args):
    if not args.fixbuf_read or not os.path.exists(args.fixbuf_read):
        skip("fixbuf_read was not built (libfixbuf-dev missing: apt-get install libfixbuf-dev; scripts/install-deps.sh)")
    return args.fixbuf_read


def case_fixbuf_file(args, tmp):
    reader = fixbuf_reader(args)
    model = info_model()
    check(len(model) == 114, f"information model has {len(model)} enterprise elements, not 114")
    total = 0
    for i, cap in enumerate(captures()):
        out, ipf = tmp / f"{i}.csv", tmp / f"{i}.ipfix"
        r = run_agent(args.binary, cap, out, ["--ipfix", f"file:{ipf}"])
        rows = read_csv(out)
        d = subprocess.run([reader, str(SRC / "deploy" / "ipfix" / "nfm-xdp.xml"), "file", str(ipf)],
                           capture_output=True, text=True, timeout=120)
        check(d.returncode == 0, f"{cap.name}: fixbuf_read failed: {d.stderr.strip()[:300]}")
        check("WARNING" not in d.stderr, f"{cap.name}: libfixbuf warnings: {d.stderr.strip()[:300]}")
        templates, records, recs = parse_fixbuf(d.stdout)
        check(templates == 2, f"{cap.name}: {templates} templates read, expected 2 (IPv4, IPv6)")
        check(records == len(rows), f"{cap.name}: {records} records decoded, CSV has {len(rows)} (agent: {r.stderr.strip()[-200:]})")
        compare_fixbuf(cap.name, rows, recs, model)
        total += len(rows)
    print(f"fixbuf_file: {total} flows, 114 enterprise elements each, compared with the CSV")


def case_fixbuf_tunnel(args, tmp):
    """--tunnel inner --where-columns tunnel: libfixbuf decodes tunnelType, the outer addresses and
    tunnelId (information model deploy/ipfix/nfm-xdp.xml) equal to the CSV's tunnel_* columns."""
    reader = fixbuf_reader(args)
    codes = {"": 0, "vxlan": 1, "geneve": 2, "gtpu": 3, "gre": 4, "ipip": 5}
    total = tunnelled = 0
    for i, cap in enumerate(sorted((SRC / "tests" / "data").glob("tunnel_*.pcap"))):
        out, ipf = tmp / f"t{i}.csv", tmp / f"t{i}.ipfix"
        r = run_agent(args.binary, cap, out, ["--tunnel", "inner", "--where-columns", "tunnel", "--ipfix", f"file:{ipf}"])
        check(r.returncode == 0, f"{cap.name}: agent exit {r.returncode}: {r.stderr.strip()[-300:]}")
        rows = read_csv(out)
        d = subprocess.run([reader, str(SRC / "deploy" / "ipfix" / "nfm-xdp.xml"), "file", str(ipf)],
                           capture_output=True, text=True, timeout=120)
        check(d.returncode == 0 and "WARNING" not in d.stderr, f"{cap.name}: fixbuf_read: {d.stderr.strip()[:300]}")
        _, records, recs = parse_fixbuf(d.stdout)
        check(records == len(rows) and len(recs) == len(rows), f"{cap.name}: {records} records, CSV {len(rows)}")
        for row, rec in zip(rows, recs):
            def mapped(text):
                if not text:
                    return "::"
                a = ipaddress.ip_address(text)
                return ("::ffff:" + str(a)) if a.version == 4 else a.compressed
            want = (codes[row["tunnel_type"]], addr(mapped(row["tunnel_src"])), addr(mapped(row["tunnel_dst"])),
                    int(row["tunnel_id"] or 0))
            got = (int(rec.get((32473, 4001), -1)), addr(rec.get((32473, 4002), "::1")),
                   addr(rec.get((32473, 4003), "::1")), int(rec.get((32473, 4004), -1)))
            check(got == want, f"{cap.name}: flow {row['src_ip']}:{row['src_port']} -> {row['dst_ip']}:{row['dst_port']}: "
                               f"IPFIX tunnel elements {got}, CSV {want}")
            tunnelled += bool(row["tunnel_type"])
        total += len(rows)
    check(tunnelled > 0, "no flow with a tunnel")
    print(f"fixbuf_tunnel: {total} flows ({tunnelled} through a tunnel), tunnel elements equal to the CSV")


def case_fixbuf_tcp(args, tmp):
    reader = fixbuf_reader(args)
    model = info_model()
    total = 0
    for i, cap in enumerate(captures()):
        port = free_port(socket.SOCK_STREAM)
        # The reader writes to a file, not a pipe: a full pipe would stall it, and the agent
        # waits (offline) until the collector's host acknowledged every byte.
        out_path = tmp / f"{i}.read.txt"
        with open(out_path, "w") as out_f:
            rd = subprocess.Popen([reader, str(SRC / "deploy" / "ipfix" / "nfm-xdp.xml"), "tcp", str(port)],
                                  stdout=out_f, stderr=subprocess.PIPE, text=True)
        try:
            end = time.time() + 10
            while not out_path.read_text().startswith("LISTENING\n"):
                if time.time() > end or rd.poll() is not None:
                    fail_now(f"fixbuf_read did not listen: {rd.stderr.read() if rd.poll() is not None else ''}")
                time.sleep(0.02)
            out = tmp / f"{i}.csv"
            r = run_agent(args.binary, cap, out, ["--ipfix", f"tcp://127.0.0.1:{port}"])
            rows = read_csv(out)
            s = summary(r.stderr)
            check(s == (len(rows), 0), f"{cap.name}: agent summary {s}, expected ({len(rows)}, 0)")
            check(r.returncode in (0, 1, 2), f"{cap.name}: agent exit {r.returncode}: {r.stderr.strip()[-300:]}")
            if not rows:
                rd.kill()  # no flow: the agent may not even connect before it ends
                rd.communicate()
                continue
            se = rd.communicate(timeout=60)[1]
            so = out_path.read_text()
        finally:
            if rd.poll() is None:
                rd.kill()
        templates, records, recs = parse_fixbuf(so)
        check(templates is not None and templates >= 2, f"{cap.name}: tcp: {templates} templates ({se.strip()[:200]})")
        check(records == len(rows), f"{cap.name}: tcp: {records} records decoded, CSV has {len(rows)}")
        compare_fixbuf(cap.name + " (tcp)", rows, recs, model)
        total += len(rows)
    print(f"fixbuf_tcp: {total} flows received over TCP and compared with the CSV")


# ------------------------------------------------------------------ cic and ntl feature sets
NAN_EMPTY = 0x7FF8000000000000  # docs/IPFIX.md "Value encoding": an empty CSV field
NAN_TEXT = 0x7FF8000000000001   # "not a complete handshake"
SET_XML = {"cic": "nfm-xdp-cic.xml", "ntl": "nfm-xdp-ntl.xml"}
IDENT = {  # CSV identity column names per set family
    "cic": ("Src IP", "Src Port", "Dst IP", "Dst Port", "Protocol", "Timestamp", "Total Fwd Packet", "Total Bwd packets"),
    "ntl": ("src_ip", "src_port", "dst_ip", "dst_port", "protocol", "timestamp", "fwd_packets_count", "bwd_packets_count"),
}


def set_elements(binary, set_args):
    """element id -> (CSV column, data type), from `nfm-xdp <set_args> --ipfix-elements md`
    (the generated table; the ids themselves are checked against fixed values in case_docs)."""
    md = subprocess.run([binary, *set_args, "--ipfix-elements", "md"], capture_output=True, text=True).stdout
    out = {}
    for line in md.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 8 and cells[0].isdigit() and cells[3].startswith("`") and int(cells[1]) not in TUNNEL_IDS:
            out[int(cells[1])] = (cells[3].strip("`"), cells[4])
    return out


def ts_epoch(text):
    t = text.strip()
    for fmt in ("%d/%m/%Y %I:%M:%S %p", "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S.%f",
                "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(t, fmt).replace(tzinfo=dt.timezone.utc).timestamp()
        except ValueError:
            pass
    raise ValueError(text)


def f64_bits(x):
    return struct.unpack(">Q", struct.pack(">d", x))[0]


class Tally:
    def __init__(self):
        self.values = self.exact = self.close = self.nan_empty = self.nan_text = 0


def value_diff(col, typ, text, v, tol, tally):
    """None when the IPFIX value v (fixbuf_read text) equals the CSV cell text, else a message."""
    tally.values += 1
    if typ in ("signed64", "unsigned64"):
        ok = int(text) == int(v)
        tally.exact += ok
        return None if ok else f"{col}: CSV {text}, IPFIX {v}"
    bits = int(v, 16)
    if text == "":
        tally.nan_empty += bits == NAN_EMPTY
        return None if bits == NAN_EMPTY else f"{col}: CSV empty, IPFIX {v} (want {NAN_EMPTY:016x})"
    if text == "not a complete handshake":
        tally.nan_text += bits == NAN_TEXT
        return None if bits == NAN_TEXT else f"{col}: CSV text, IPFIX {v} (want {NAN_TEXT:016x})"
    want = float(text)
    got = struct.unpack(">d", struct.pack(">Q", bits))[0]
    if want != want:
        ok = got != got
    else:
        ok = bits == f64_bits(want)
        if not ok and tol and got == got and abs(got - want) <= tol * max(abs(want), abs(got)):
            tally.close += 1
            return None
    tally.exact += ok
    return None if ok else f"{col}: CSV {text} = {f64_bits(want) if want == want else 0:016x}, IPFIX {v}"


def compare_set(name, fam, rows, recs, model, tol, tally, pen=32473):
    """Every CSV row (reference or ours) against the decoded records, matched by 5-tuple and start
    time (row order is not significant); every feature element against its CSV cell."""
    sa_c, sp_c, da_c, dp_c, pr_c, ts_c, fp_c, bp_c = IDENT[fam]
    check(len(rows) == len(recs), f"{name}: CSV {len(rows)} flows, libfixbuf decoded {len(recs)} records")
    by = {}
    for rec in recs:
        v6 = (0, 27) in rec
        sa, da = (rec[(0, 27)], rec[(0, 28)]) if v6 else (rec[(0, 8)], rec[(0, 12)])
        k = (addr(sa), addr(da), int(rec[(0, 7)]), int(rec[(0, 11)]), int(rec[(0, 4)]))
        by.setdefault(k, []).append(rec)
    bad = 0
    for row in rows:
        p = proto_num(row[pr_c])
        k = (addr(row[sa_c]), addr(row[da_c]), int(row[sp_c]), int(row[dp_c]), p)
        start = ts_epoch(row[ts_c])
        window = 1.001 if "/" in row[ts_c] else 0.001  # CIC's text has whole seconds
        best = None
        for rec in by.get(k, []):
            if not -0.001 <= int(rec[(0, 152)]) / 1000 - start <= window:
                continue
            errs = []
            if (int(rec[(0, 2)]), int(rec[(29305, 2)])) != (int(row[fp_c]), int(row[bp_c])):
                errs.append(f"packets {rec[(0, 2)]}/{rec[(29305, 2)]}")
            t = Tally()
            for eid, (col, typ) in model.items():
                v = rec.get((pen, eid))
                if v is None:
                    errs.append(f"element {pen}/{eid} ({col}) missing")
                    continue
                e = value_diff(col, typ, row[col], v, tol, t)
                if e:
                    errs.append(e)
            if best is None or len(errs) < len(best[1]):
                best = (rec, errs, t)
            if not errs:
                break
        if best is None:
            bad += 1
            if bad <= 5:
                problems.append(f"{name}: no record for {k} starting {row[ts_c]}")
            continue
        rec, errs, t = best
        by[k].remove(rec)
        for a in ("values", "exact", "close", "nan_empty", "nan_text"):
            setattr(tally, a, getattr(tally, a) + getattr(t, a))
        if errs:
            bad += 1
            if bad <= 5:
                problems.append(f"{name}: {k} {row[ts_c]}: " + "; ".join(errs[:6]))
    check(bad == 0, f"{name}: {bad} flows differ from the CSV")


def export_and_read(args, fam, cap, extra, transport, tmp, tag, csv_path=None):
    """One run exporting to `transport` (file|tcp|udp) and read by fixbuf_read; returns
    (records, agent result). csv_path: also write our CSV (--csv)."""
    reader = fixbuf_reader(args)
    xml = str(SRC / "deploy" / "ipfix" / SET_XML[fam])
    if transport == "file":
        ipf = tmp / f"{tag}.ipfix"
        r = run_agent(args.binary, cap, csv_path, [*extra, "--ipfix", f"file:{ipf}"])
        d = subprocess.run([reader, xml, "file", str(ipf)], capture_output=True, text=True, timeout=120)
        so, se, rc = d.stdout, d.stderr, d.returncode
    else:
        kind = socket.SOCK_STREAM if transport == "tcp" else socket.SOCK_DGRAM
        port = free_port(kind)
        # UDP: the number of records is known from a file: run of the same capture first.
        want = None
        if transport == "udp":
            probe = tmp / f"{tag}.probe.ipfix"
            run_agent(args.binary, cap, None, [*extra, "--ipfix", f"file:{probe}"])
            pd = subprocess.run([reader, xml, "file", str(probe)], capture_output=True, text=True, timeout=120)
            want = parse_fixbuf(pd.stdout)[1] or 0
            if want == 0:
                return [], None
        cmd = [reader, xml, transport, str(port)] + ([str(want)] if want is not None else [])
        # The reader writes to a file, not a pipe: a full pipe would stall it and UDP would drop.
        out_path = tmp / f"{tag}.read.txt"
        with open(out_path, "w") as out_f:
            rd = subprocess.Popen(cmd, stdout=out_f, stderr=subprocess.PIPE, text=True)
        try:
            end = time.time() + 10
            while not out_path.read_text().startswith("LISTENING\n"):
                if time.time() > end or rd.poll() is not None:
                    fail_now(f"fixbuf_read did not listen: {rd.stderr.read() if rd.poll() is not None else ''}")
                time.sleep(0.02)
            if transport == "udp":
                wait_bound(port)
            url = f"{transport}://127.0.0.1:{port}"
            r = run_agent(args.binary, cap, csv_path, [*extra, "--ipfix", url, "--ipfix-mtu", "9000",
                                                      "--ipfix-rate", "200", "--ipfix-queue", "100000"])
            s = summary(r.stderr)
            if s is not None and s[0] == 0 and transport == "tcp":
                rd.kill()  # no flow: the agent may not even connect before it ends
                rd.communicate()
                return [], r
            se = rd.communicate(timeout=60)[1]
            rc = rd.returncode
            so = out_path.read_text()
        finally:
            if rd.poll() is None:
                rd.kill()
    check(rc == 0, f"{cap.name} ({transport}): fixbuf_read exit {rc}: {se.strip()[:300]}")
    check("WARNING" not in se, f"{cap.name} ({transport}): libfixbuf warnings: {se.strip()[:300]}")
    templates, records, recs = parse_fixbuf(so)
    s = summary(r.stderr)
    # (The agent's exit code is not checked: tests/data has damaged captures that end in exit 1/2
    # after their good records; the summary line must still account for every record.)
    check(s is not None and s[1] == 0 and s[0] == len(recs),
          f"{cap.name} ({transport}): agent summary {s}, collector decoded {len(recs)}")
    return recs, r


def reference_captures(fam):
    shared = nfmtest.find_shared(str(SRC))
    if shared is None:
        skip("../shared is absent: the reference CSVs ../shared/expected/%s/ are the oracle of this test" % fam)
    out = []
    for ref in sorted((shared / "expected" / fam).glob("*.csv")):
        cap = shared / "pcaps" / ref.name[:-4]
        if cap.exists():
            out.append((cap, ref))
    only = os.environ.get("NFM_IPFIX_ONLY")
    if only:
        out = [c for c in out if any(s in c[0].name for s in only.split(","))]
    return out


def run_set_case(args, tmp, fam):
    """--profile <fam> against the reference tool's CSVs (file, TCP, UDP), then --feature-set
    <fam> (corrected) against our own CSV of the same run (file)."""
    # run_agent adds --float-format .17g (cic ignores it: Java's Double.toString).
    ref_args = ["--profile", "cic", "--tz", "utc"] if fam == "cic" else ["--profile", "ntl"]
    tol = 0.0 if fam == "cic" else 1e-9  # ntl: the differential test's bound; exact counted
    model = set_elements(args.binary, ref_args)
    check(len(model) == (76 if fam == "cic" else 339), f"{fam}: {len(model)} feature elements")
    tally = Tally()
    flows = {"file": 0, "tcp": 0, "udp": 0}
    for i, (cap, ref) in enumerate(reference_captures(fam)):
        rows = read_csv(ref)
        for transport in ("file", "tcp", "udp"):
            recs, _ = export_and_read(args, fam, cap, ref_args, transport, tmp, f"{fam}{i}{transport}")
            compare_set(f"{cap.name} {fam} ({transport}; oracle: reference CSV)", fam, rows, recs, model, tol, tally)
            flows[transport] += len(rows)
    print(f"{fam} reference: {flows} flows; {tally.values} values: {tally.exact} bit-identical, {tally.close} within "
          f"{tol:g} relative, {tally.nan_empty} empty->NaN, {tally.nan_text} text->NaN(1)")
    # The corrected set: no reference tool exists; the oracle is our CSV of the same run.
    cor_args = ["--feature-set", fam]
    model = set_elements(args.binary, cor_args)
    check(len(model) == (76 if fam == "cic" else 341), f"{fam} corrected: {len(model)} feature elements")
    t2 = Tally()
    n = 0
    caps = [c for c, _ in reference_captures(fam)] + nfmtest.list_captures(SRC / "tests" / "data")
    for i, cap in enumerate(caps):
        out = tmp / f"{fam}c{i}.csv"
        recs, r = export_and_read(args, fam, cap, cor_args, "file", tmp, f"{fam}c{i}", csv_path=out)
        rows = read_csv(out)
        compare_set(f"{cap.name} --feature-set {fam} (oracle: our CSV of the run)", fam, rows, recs, model, 0.0, t2)
        n += len(rows)
    print(f"{fam} corrected: {n} flows; {t2.values} values, {t2.exact} bit-identical to our CSV")


def case_cic_set(args, tmp):
    run_set_case(args, tmp, "cic")


def case_ntl_set(args, tmp):
    run_set_case(args, tmp, "ntl")


def case_ipfixdump(args, tmp):
    """libfixbuf's own ipfixDump with the generated element files: every feature element of the
    cic and ntl templates is named (no unknown elements) and every record decodes."""
    if not shutil.which("ipfixDump"):
        skip("ipfixDump not installed (apt-get install libfixbuf-tools; scripts/install-deps.sh)")
    shared = nfmtest.find_shared(str(SRC))
    caps = ([shared / "pcaps" / "ppp_nanosecs_big_endian.pcap", shared / "pcaps" / "zeek_http_methods.pcap"] if shared
            else [SRC / "tests" / "data" / "pcap_us_le.pcap"])
    if not shared:
        print("NOTE: ../shared is absent: ipfixDump reads tests/data/pcap_us_le.pcap only (LOUD)", file=sys.stderr)
    for cap, fam, extra, n_feat in [(c, *v) for c in caps for v in (
            ("cic", ["--profile", "cic", "--tz", "utc"], 76), ("cic", ["--feature-set", "cic"], 76),
            ("ntl", ["--profile", "ntl"], 339), ("ntl", ["--feature-set", "ntl"], 341))]:
        ipf = tmp / "dump.ipfix"
        out = tmp / "dump.csv"
        run_agent(args.binary, cap, out, [*extra, "--ipfix", f"file:{ipf}"])
        rows = read_csv(out)
        xml = SRC / "deploy" / "ipfix" / SET_XML[fam]
        d = subprocess.run(["ipfixDump", "-e", str(xml), "-i", str(ipf)], capture_output=True, text=True, timeout=120)
        check(d.returncode == 0, f"ipfixDump {extra}: exit {d.returncode}: {d.stderr.strip()[:300]}")
        named = len(re.findall(rf"ent: 32473  id: +\d+  type: \S+ +len: +8 +{fam}_\S+", d.stdout))
        check(named == 2 * n_feat, f"ipfixDump {extra}: {named} named feature elements in 2 templates, want {2 * n_feat}")
        check("unknown" not in d.stdout.lower(), f"ipfixDump {extra}: unknown elements")
        recs = len(re.findall(r"--- data record", d.stdout))
        check(recs == len(rows), f"ipfixDump {extra}: {recs} data records, CSV {len(rows)}")
        print(f"ipfixDump {cap.name} {' '.join(extra)}: {recs} records, {named // 2} named feature elements")
        # Uniflow: a backward record (templates 258/259, no features) for every flow with backward packets.
        run_agent(args.binary, cap, out, [*extra, "--ipfix", f"file:{ipf}", "--ipfix-uniflow"])
        rows = read_csv(out)
        back = sum(1 for r in rows if int(r[IDENT[fam][7]]) > 0)
        d = subprocess.run(["ipfixDump", "-e", str(xml), "-i", str(ipf)], capture_output=True, text=True, timeout=120)
        recs = len(re.findall(r"--- data record", d.stdout))
        check(d.returncode == 0 and recs == len(rows) + back,
              f"ipfixDump {extra} --ipfix-uniflow: {recs} records, want {len(rows)} + {back} backward")


# ------------------------------------------------------------------ TCP restart
def eth_ipv4_tcp(src, dst, sp, dp, flags, payload=b""):
    tcp = struct.pack("!HHIIBBHHH", sp, dp, 1, 1, 0x50, flags, 65535, 0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + tcp


def restart_capture(n_flows, spacing):
    """n_flows short TCP connections (SYN..FIN/ACK), one every `spacing` s of packet time."""
    pk = []
    t = 1_700_000_000.0
    for i in range(n_flows):
        c, s, sp = f"10.99.{i // 250}.{i % 250 + 1}", "10.99.255.1", 20000 + i
        for j, (a, b, x, y, fl) in enumerate([(c, s, sp, 80, 0x02), (s, c, 80, sp, 0x12), (c, s, sp, 80, 0x10),
                                              (c, s, sp, 80, 0x11), (s, c, 80, sp, 0x11), (c, s, sp, 80, 0x10)]):
            pk.append((t + j * 0.001, eth_ipv4_tcp(a, b, x, y, fl)))
        t += spacing
    head = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    recs = []
    for ts, fr in pk:
        recs.append(struct.pack("<IIII", int(ts), int(round((ts - int(ts)) * 1e6)), len(fr), len(fr)) + fr)
    return head, recs


class Collector(threading.Thread):
    """A TCP IPFIX collector that stops after `stop_after` records, stays down `down_s`, then
    listens again on the same port and reads until the agent closes."""

    def __init__(self, port, stop_after, down_s):
        super().__init__(daemon=True)
        self.port, self.stop_after, self.down_s = port, stop_after, down_s
        self.records = [0, 0]
        self.templates = [0, 0]
        self.error = None

    def serve(self, idx, limit):
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", self.port))
        ls.listen(1)
        ls.settimeout(30)
        c, _ = ls.accept()
        ls.close()
        c.settimeout(30)
        counter = IpfixStreamCounter()
        while limit is None or self.records[idx] < limit:
            data = c.recv(65536)
            if not data:
                break
            counter.feed(data)
            self.records[idx], self.templates[idx] = counter.records, counter.templates
            if counter.errors and self.error is None:
                self.error = f"connection {idx + 1}: {counter.errors[0]}"
        c.close()

    def run(self):
        try:
            self.serve(0, self.stop_after)
            time.sleep(self.down_s)
            self.serve(1, None)
        except Exception as e:  # reported by the test
            self.error = f"collector: {e!r}"


def case_tcp_restart(args, tmp):
    port = free_port(socket.SOCK_STREAM)
    n_flows = 300
    coll = Collector(port, stop_after=60, down_s=1.5)
    coll.start()
    time.sleep(0.2)
    head, recs = restart_capture(n_flows, spacing=0.02)
    out = tmp / "restart.csv"
    agent = subprocess.Popen([args.binary, "--pcap", "-", "--csv", str(out), "--ipfix", f"tcp://127.0.0.1:{port}",
                              "--ipfix-queue", "50"],
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # Feed in real time (~6 s): flows end (FIN + 1 s grace of packet time) throughout the run.
    agent.stdin.write(head)
    chunk = 12  # two flows per write
    for i in range(0, len(recs), chunk):
        agent.stdin.write(b"".join(recs[i:i + chunk]))
        agent.stdin.flush()
        time.sleep(0.04)
    agent.stdin.close()
    try:
        agent.wait(timeout=60)
    except subprocess.TimeoutExpired:
        agent.kill()
        fail_now("agent did not finish")
    err = agent.stderr.read().decode()
    coll.join(timeout=30)
    rows = read_csv(out)
    s = summary(err)
    # Records the first connection had taken but not acknowledged when the collector closed are
    # "lost" (counted, exit status 3); offline nothing is dropped: kept messages are sent again.
    m = re.search(r"(\d+) of the sent records lost", err)
    lost = int(m.group(1)) if m else 0
    check(agent.returncode == (3 if lost else 0), f"agent exit {agent.returncode}, {lost} lost: {err.strip()[-300:]}")
    check(s is not None and s[1] == 0, f"offline: records dropped {s}")
    check(len(rows) == n_flows, f"CSV has {len(rows)} flows, capture has {n_flows}")
    check(s is not None and s[0] + s[1] == len(rows), f"sent + dropped = {s}, flows {len(rows)}")
    check(coll.error is None, f"{coll.error}")
    check(coll.records[0] >= 60, f"first connection got {coll.records[0]} records before the stop")
    check(coll.records[1] > 0, "no record after the collector restarted")
    check(coll.templates[1] >= 1, "no template on the new connection")
    check(s is not None and sum(coll.records) <= s[0], f"collector got {sum(coll.records)} > sent {s}")
    print(f"tcp_restart: {len(rows)} flows; agent sent {s[0] if s else '?'} dropped {s[1] if s else '?'} lost {lost}; "
          f"collector got {coll.records[0]} + {coll.records[1]} records, templates {coll.templates}")


# ------------------------------------------------------------------ bad input, docs
def case_bad_input(args, tmp):
    cap = SRC / "tests" / "data" / "pcap_us_le.pcap"
    for url, want in (("foo://x", "--ipfix foo://x: unsupported scheme"),
                      ("udp://no-such-host.invalid:4739", "--ipfix udp://no-such-host.invalid:4739: cannot resolve host"),
                      ("tcp://127.0.0.1:99999", "--ipfix tcp://127.0.0.1:99999: bad port"),
                      ("file:/nonexistent-dir/x.ipfix", "--ipfix file:/nonexistent-dir/x.ipfix: open IPFIX file")):
        out = tmp / "bad.csv"
        r = run_agent(args.binary, cap, out, ["--ipfix", url])
        check(r.returncode == 1, f"{url}: exit {r.returncode}, expected 1")
        check(want in r.stderr, f"{url}: stderr {r.stderr.strip()!r} lacks {want!r}")
        check(not out.exists() or url.startswith("file:"), f"{url}: the CSV was created before the URL was checked")
    # Every feature set exports (issues 14, 16); without --csv none writes a CSV.
    for extra in (["--feature-set", "cic"], ["--profile", "cic"], ["--feature-set", "ntl"], ["--profile", "ntl"]):
        ipf = tmp / "set.ipfix"
        r = run_agent(args.binary, cap, None, [*extra, "--ipfix", f"file:{ipf}"])
        check(r.returncode == 0 and r.stdout == "" and ipf.stat().st_size > 0,
              f"--ipfix file: {' '.join(extra)}: exit {r.returncode}, {len(r.stdout)} bytes on stdout: {r.stderr.strip()[-200:]}")
    # ntl records (~2.8 KB) do not fit the default 1400-byte UDP MTU: refused before capture.
    r = run_agent(args.binary, cap, None, ["--profile", "ntl", "--ipfix", "udp://127.0.0.1:4739"])
    check(r.returncode == 1 and "is too small" in r.stderr and "raise --ipfix-mtu" in r.stderr,
          f"--profile ntl over UDP at MTU 1400: {r.returncode} {r.stderr.strip()}")
    r = run_agent(args.binary, cap, None, ["--ipfix", "udp://127.0.0.1:4739", "--ipfix-mtu", "600"])
    check(r.returncode == 1 and "MTU 600 is too small" in r.stderr, f"--ipfix-mtu 600: {r.returncode} {r.stderr.strip()}")
    # Unreachable UDP collector: counted; offline the export is incomplete (exit status 3), the
    # CSV is still complete.
    port = free_port()
    shared = nfmtest.find_shared(str(SRC))
    big = (shared / "pcaps" / "cs_http_espn.pcapng") if shared else cap
    out = tmp / "unreach.csv"
    r = run_agent(args.binary, big, out, ["--ipfix", f"udp://127.0.0.1:{port}", "--ipfix-retry", "1"])
    rows = read_csv(out)
    s = summary(r.stderr)
    check(r.returncode == 3, f"unreachable UDP collector: exit {r.returncode}, want 3: {r.stderr.strip()}")
    check(s is not None and s[0] + s[1] == len(rows), f"unreachable UDP: sent+dropped {s} != flows {len(rows)}")
    check(s is not None and (s[1] > 0 or len(rows) <= 1), f"unreachable UDP: nothing counted as dropped {s}")
    # --ipfix without --csv: no CSV on stdout.
    r = run_agent(args.binary, big, None, ["--ipfix", f"file:{tmp / 'only.ipfix'}"])
    check(r.returncode == 0 and r.stdout == "", f"--ipfix without --csv wrote {len(r.stdout)} bytes of CSV to stdout")
    check((tmp / "only.ipfix").stat().st_size > 0, "file: export is empty")
    print("bad_input: PASS" if not problems else "bad_input: problems")


def case_docs(args, tmp):
    md = subprocess.run([args.binary, "--ipfix-elements", "md"], capture_output=True, text=True).stdout
    xml = subprocess.run([args.binary, "--ipfix-elements", "xml"], capture_output=True, text=True).stdout
    doc = (SRC / "docs" / "IPFIX.md").read_text()
    m = re.search(r"<!-- BEGIN generated: nfm-xdp --ipfix-elements md -->\n(.*?)<!-- END generated -->", doc, re.S)
    check(m is not None, "docs/IPFIX.md lacks the generated element table markers")
    if m:
        check(m.group(1) == md, "docs/IPFIX.md element table differs from `nfm-xdp --ipfix-elements md` "
                                "(regenerate: scripts/gen-ipfix-docs.sh)")
    check((SRC / "deploy" / "ipfix" / "nfm-xdp.xml").read_text() == xml,
          "deploy/ipfix/nfm-xdp.xml differs from `nfm-xdp --ipfix-elements xml` (regenerate: scripts/gen-ipfix-docs.sh)")
    # The cic and ntl tables and information models (docs/IPFIX.md "Element numbering").
    for flags, xml_name in ((["--profile", "cic"], "nfm-xdp-cic.xml"), (["--feature-set", "ntl"], "nfm-xdp-ntl.xml")):
        md = subprocess.run([args.binary, *flags, "--ipfix-elements", "md"], capture_output=True, text=True).stdout
        xml = subprocess.run([args.binary, *flags, "--ipfix-elements", "xml"], capture_output=True, text=True).stdout
        m = re.search(r"<!-- BEGIN generated: nfm-xdp " + re.escape(" ".join(flags)) +
                      r" --ipfix-elements md -->\n(.*?)<!-- END generated -->", doc, re.S)
        check(m is not None and m.group(1) == md, f"docs/IPFIX.md {' '.join(flags)} table differs from the generated "
                                                  "one (regenerate: scripts/gen-ipfix-docs.sh)")
        check((SRC / "deploy" / "ipfix" / xml_name).read_text() == xml,
              f"deploy/ipfix/{xml_name} differs from `nfm-xdp {' '.join(flags)} --ipfix-elements xml`")
    # Ids written down by hand from the numbering rule (not read from our own output).
    cic = set_elements(args.binary, ["--profile", "cic"])
    ntl = set_elements(args.binary, ["--profile", "ntl"])
    ntlc = set_elements(args.binary, ["--feature-set", "ntl"])
    for table, eid, col, typ in ((cic, 1001, "Flow Duration", "signed64"), (cic, 1004, "Total Length of Fwd Packet", "float64"),
                                 (cic, 1034, "Fwd Header Length", "signed64"), (cic, 1076, "Idle Min", "float64"),
                                 (ntl, 2001, "duration", "float64"), (ntl, 2002, "packets_count", "unsigned64"),
                                 (ntl, 2232, "handshake_duration", "float64"),
                                 (ntl, 2234, "min_bwd_packets_delta_time", "float64"),
                                 (ntlc, 2234, "min_bwd_packets_delta_time", "float64"),
                                 (ntlc, 2340, "min_packets_delta_time", "float64"),
                                 (ntlc, 2341, "max_packets_delta_time", "float64")):
        check(table.get(eid) == (col, typ), f"element {eid}: {table.get(eid)}, want ({col!r}, {typ!r})")
    check(sorted(cic) == list(range(1001, 1077)), "cic ids are not 1001..1076")
    check(sorted(ntl) == list(range(2001, 2340)), "ntl ids are not 2001..2339")
    check(sorted(ntlc) == list(range(2001, 2342)), "--feature-set ntl ids are not 2001..2341")
    check(all(ntlc[k] == ntl[k] for k in ntl if k not in (2234, 2235)) and ntl[2234] == ntlc[2234],
          "ntl and --feature-set ntl disagree on an element shared by name")
    # The table is the CSV header: feature element names == CSV columns after the 7 identity ones.
    r = run_agent(args.binary, SRC / "tests" / "data" / "pcap_us_le.pcap", None, [])
    header = r.stdout.splitlines()[0].split(",") if r.stdout else []
    names = [n for _, (n, _) in sorted(info_model().items())]
    check(header[7:] == names, "enterprise element names (by id) != CSV columns 8..121")
    tunnel = {k: v for k, v in info_model(features_only=False).items() if k in TUNNEL_IDS}
    check(tunnel == {4001: ("tunnelType", "unsigned8"), 4002: ("tunnelSourceIPv6Address", "ipv6Address"),
                     4003: ("tunnelDestinationIPv6Address", "ipv6Address"), 4004: ("tunnelId", "unsigned32")},
          f"tunnel elements in the information model: {tunnel}")
    print(f"docs: {len(names)} feature elements match the CSV header")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--fixbuf-read")
    ap.add_argument("case", choices=["nfcapd", "nfacctd", "fixbuf_file", "fixbuf_tunnel", "fixbuf_tcp", "tcp_restart", "bad_input", "docs",
                                     "cic_set", "ntl_set", "ipfixdump", "nfcapd_defaults", "nfacctd_defaults",
                                     "exit_status"])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="nfm-ipfix-") as t:
        globals()["case_" + args.case](args, Path(t))
    if problems:
        print("FAIL:\n  " + "\n  ".join(problems), file=sys.stderr)
        sys.exit(1)
    print(f"{args.case}: PASS")


if __name__ == "__main__":
    main()
