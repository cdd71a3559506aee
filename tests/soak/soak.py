#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Soak test (outside CI: `make soak`, about 10 minutes; root, BPF, network namespaces).

The live agent runs for --minutes in a lab of two network namespaces with two veth pairs:
- interface churn: the second pair is deleted and re-created every --churn-s seconds;
- traffic: UDP flows of known packet counts on both pairs, a few per second;
- an IPFIX collector over TCP (inside the agent's namespace, on its loopback) that is stopped
  and started again every --collector-s seconds;
- CSV rotation and compression (`--csv flows.csv.zst --csv-rotate-mb 1`);
- a scrape of /metrics every second, with the agent's RSS, open file descriptors and the BPF
  maps it holds sampled at the same time.

It fails when after the warm-up (the first third of the run) RSS grows by more than 10 % or
8 MiB, the descriptor count or the held BPF maps' count and memory drift, when a flow sent on
the stable interface is missing from the CSV or has another packet count, when the agent's
counters disagree (sent + dropped != rows), or when the collector got more records than the
agent says it sent. It prints a figures table for docs/PERFORMANCE.md.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))
import live_test as lt  # noqa: E402  (Net, agent start/stop, metrics helpers)

# A TCP IPFIX collector that serves one connection for `period` seconds, closes it and its
# listening socket, stays down 1 s, and listens again; on SIGTERM it writes its counts.
COLLECTOR = r"""
import json, signal, socket, sys, time
port, period, out = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
sys.path.insert(0, sys.argv[4])
from ipfix_stream import IpfixStreamCounter
st = {"records": 0, "templates": 0, "connections": 0, "restarts": 0, "errors": []}
stop = False
def term(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, term)
while not stop:
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port)); ls.listen(1); ls.settimeout(0.5)
    end = time.time() + period
    c = None
    while not stop and time.time() < end and c is None:
        try:
            c, _ = ls.accept()
        except socket.timeout:
            pass
    ls.close()
    if c is None:
        continue
    st["connections"] += 1
    c.settimeout(0.5)
    counter = IpfixStreamCounter()
    while not stop and time.time() < end:
        try:
            d = c.recv(65536)
        except socket.timeout:
            continue
        if not d:
            break
        counter.feed(d)
    c.close()
    st["records"] += counter.records
    st["templates"] += counter.templates
    st["errors"] += counter.errors
    if not stop:
        st["restarts"] += 1
        time.sleep(1.0)
json.dump(st, open(out, "w"))
"""

# Reads "ip sport dst dport n" lines and sends n UDP datagrams for each (from ip:sport).
SENDER = r"""
import socket, sys, time
for line in sys.stdin:
    ip, sport, dst, dport, n = line.split()
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((ip, int(sport)))
        for i in range(int(n)):
            s.sendto(b"s" * (20 + i), (dst, int(dport)))
            time.sleep(0.005)
        s.close()
        print("ok", flush=True)
    except OSError as e:
        print("err", e, flush=True)
"""


def proc_sample(pid: int) -> dict:
    rss = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) * 1024
    fd_dir = Path(f"/proc/{pid}/fd")
    fds = maps = map_bytes = 0
    for fd in os.listdir(fd_dir):
        fds += 1
        try:
            if os.readlink(fd_dir / fd) != "anon_inode:bpf-map":
                continue
            info = (Path(f"/proc/{pid}/fdinfo") / fd).read_text()
        except OSError:  # closed meanwhile
            continue
        maps += 1
        m = re.search(r"^memlock:\s+(\d+)", info, re.M)
        map_bytes += int(m.group(1)) if m else 0
    return {"rss": rss, "fds": fds, "maps": maps, "map_bytes": map_bytes}


def second_pair(net: lt.Net) -> tuple[str, str, str, str]:
    tag = f"{os.getpid() % 100000}"
    return f"nfv{tag}c21"[:15], f"nfv{tag}d21"[:15], "10.98.121.1", "10.98.121.2"


def make_pair(net: lt.Net, va2: str, vb2: str, ip_a2: str, ip_b2: str) -> None:
    lt.run(["ip", "link", "add", va2, "netns", net.ns_a, "type", "veth", "peer", "name", vb2, "netns", net.ns_b])
    for ns, dev, ip in ((net.ns_a, va2, ip_a2), (net.ns_b, vb2, ip_b2)):
        lt.run(["ip", "netns", "exec", ns, "sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=1"])
        lt.run(["ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", dev])
        lt.run(["ip", "-n", ns, "link", "set", dev, "up"])
        lt.run(["ip", "netns", "exec", ns, "ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off"])
    lt.run(["ip", "-n", net.ns_b, "neigh", "replace", ip_a2, "lladdr", net.mac(net.ns_a, va2), "dev", vb2,
            "nud", "permanent"])
    lt.run(["ip", "-n", net.ns_a, "neigh", "replace", ip_b2, "lladdr", net.mac(net.ns_b, vb2), "dev", va2,
            "nud", "permanent"])


def read_rows(folder: Path) -> tuple[list[str], list[list[str]], int]:
    """Every CSV part (rotated and current), decompressed; header checked equal across parts."""
    header, rows, parts = None, [], 0
    for p in sorted(folder.glob("flows*.csv.zst")):
        text = subprocess.run(["zstd", "-dc", str(p)], capture_output=True, check=True).stdout.decode()
        h, r, _ = lt_csv(text)
        if header is not None and h != header:
            raise lt.Failure(f"{p.name}: header differs from the first part's")
        header = h
        rows += r
        parts += 1
    return header or [], rows, parts


def lt_csv(text: str):
    import csv
    import io
    all_rows = list(csv.reader(io.StringIO(text)))
    return (all_rows[0], all_rows[1:], None) if all_rows else ([], [], None)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nfm", required=True)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--churn-s", type=float, default=45)
    ap.add_argument("--collector-s", type=float, default=60)
    ap.add_argument("--flows-per-s", type=float, default=4)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("SKIP soak: needs root (BPF, network namespaces)")
        return 77
    lt.kernel_ready()
    tmp = Path(tempfile.mkdtemp(prefix="nfm-soak-"))
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        run(a, tmp)
    except lt.Failure as e:
        print(f"FAIL soak: {e}\n(files in {tmp})", flush=True)
        return 1
    print("PASS soak")
    if not a.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def run(a, tmp: Path) -> None:
    duration = a.minutes * 60
    with lt.Net(21) as net:
        va2, vb2, ip_a2, ip_b2 = second_pair(net)
        make_pair(net, va2, vb2, ip_a2, ip_b2)
        mport, cport = 19521, 19522
        cstats = tmp / "collector.json"
        coll = net.spawn(net.ns_a, ["python3", "-c", COLLECTOR, str(cport), str(a.collector_s), str(cstats),
                             str(HERE.parent / "tools")])
        net.spawn(net.ns_a, ["python3", "-c", lt.UDP_SINK, "7100", "7101"])
        sender = net.spawn(net.ns_b, ["python3", "-c", SENDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           text=True)
        outdir = tmp / "csv"
        outdir.mkdir()
        err = tmp / "agent.err"
        agent = lt.start_agent(lt.Tools(a.nfm, ""), net, outdir / "flows.csv.zst",
                               ["--iface", va2, "--csv-rotate-mb", "1", "--idle-timeout", "3",
                                "--ipfix", f"tcp://127.0.0.1:{cport}", "--metrics-addr", f"127.0.0.1:{mport}"],
                               err_path=err)
        lt.log(f"soak: agent pid {agent.pid}, {a.minutes:g} min, churn every {a.churn_s:g} s, "
               f"collector restart every {a.collector_s:g} s")
        samples: list[dict] = []
        sent: dict[tuple, int] = {}      # (src ip, sport) -> packets, stable interface
        sent_churn: dict[tuple, int] = {}  # (src ip, sport) -> packets, churned interface
        va2_up = True
        stop = threading.Event()
        lock = threading.Lock()

        def scrape() -> None:
            while not stop.is_set():
                t0 = time.time()
                try:
                    m = lt.metrics_text(net, mport)
                    s = proc_sample(agent.pid)
                    s["t"] = t0
                    s["flows_active"] = lt.metric(m, "nfm_flows_active") or 0
                    s["csv_rows"] = lt.metric(m, "nfm_csv_rows_total") or 0
                    s["ok"] = True
                except Exception as e:  # a failed scrape is a finding, not a crash of the soak
                    s = {"t": t0, "ok": False, "error": repr(e)}
                with lock:
                    samples.append(s)
                stop.wait(max(0.0, 1.0 - (time.time() - t0)))

        th = threading.Thread(target=scrape, daemon=True)
        th.start()
        start = time.time()
        next_churn = start + a.churn_s
        sport = 20000
        interval = 1.0 / a.flows_per_s
        churns = 0
        while time.time() - start < duration:
            sport += 1
            if sport > 60000:
                sport = 20001
            sender.stdin.write(f"{net.ip_b} {sport} {net.ip_a} 7100 {3 + sport % 5}\n")
            sender.stdin.flush()
            if sender.stdout.readline().startswith("ok"):
                sent[(net.ip_b, str(sport))] = sent.get((net.ip_b, str(sport)), 0) + 3 + sport % 5
            if va2_up:
                sender.stdin.write(f"{ip_b2} {sport} {ip_a2} 7101 3\n")
                sender.stdin.flush()
                if sender.stdout.readline().startswith("ok"):
                    sent_churn[(ip_b2, str(sport))] = 3
            if time.time() >= next_churn:
                va2_up = False
                lt.run(["ip", "-n", net.ns_a, "link", "del", va2])
                time.sleep(2)
                mark = len(err.read_text())
                make_pair(net, va2, vb2, ip_a2, ip_b2)
                lt.wait_stderr(err, f"attached to {va2}", 5, mark)
                va2_up = True
                churns += 1
                next_churn = time.time() + a.churn_s
            time.sleep(interval)
        time.sleep(4)  # the last flows end by idle timeout (3 s)
        stop.set()
        th.join(timeout=5)
        rc, stderr = lt.stop_agent(agent, err, timeout=60)
        coll.send_signal(signal.SIGTERM)
        coll.wait(timeout=10)
        if rc != 0:
            raise lt.Failure(f"agent exit {rc}: {stderr[-400:]}")
        report(a, tmp, outdir, samples, sent, sent_churn, churns, stderr, json.loads(cstats.read_text()), duration)


def report(a, tmp, outdir, samples, sent, sent_churn, churns, stderr, coll, duration) -> None:
    problems = []
    bad = [s for s in samples if not s.get("ok")]
    if bad:
        problems.append(f"{len(bad)} of {len(samples)} scrapes failed, first: {bad[0]['error']}")
    good = [s for s in samples if s.get("ok")]
    warm = [s for s in good if s["t"] - good[0]["t"] >= duration / 3] if good else []
    if len(warm) < 10:
        raise lt.Failure(f"only {len(warm)} samples after warm-up")
    rss0, rss_max = warm[0]["rss"], max(s["rss"] for s in warm)
    fds = sorted({s["fds"] for s in warm})
    maps = sorted({s["maps"] for s in warm})
    mapb = sorted({s["map_bytes"] for s in warm})
    if rss_max - rss0 > max(0.10 * rss0, 8 << 20):
        problems.append(f"RSS grew after warm-up: {rss0 >> 10} KiB -> {rss_max >> 10} KiB")
    if fds[-1] - fds[0] > 4:
        problems.append(f"open descriptors drift after warm-up: {fds}")
    if len(maps) > 1 or len(mapb) > 1:
        problems.append(f"BPF maps held change after warm-up: count {maps}, memlock {mapb}")
    header, rows, parts = read_rows(outdir)
    ix = {c: i for i, c in enumerate(header)}
    got: dict[tuple, int] = {}
    for r in rows:
        if r[ix["protocol"]] not in ("UDP", "17"):
            continue
        for end in ((r[ix["src_ip"]], r[ix["src_port"]]), (r[ix["dst_ip"]], r[ix["dst_port"]])):
            if end in sent or end in sent_churn:
                got[end] = got.get(end, 0) + int(r[ix["packets_count"]])
    for name, want in (("stable", sent), ("churned", sent_churn)):
        missing = [k for k in want if k not in got]
        wrong = [(k, want[k], got[k]) for k in want if k in got and got[k] != want[k]]
        if missing:
            problems.append(f"{len(missing)} of {len(want)} flows on the {name} interface have no row, "
                            f"e.g. {missing[:3]}")
        if wrong:
            problems.append(f"{len(wrong)} flows on the {name} interface with another packet count, e.g. {wrong[:3]}")
    m = re.search(r"(\d+) records sent, (\d+) dropped", stderr)
    if not m:
        problems.append("no IPFIX summary on the agent's stderr")
        isent = idrop = -1
    else:
        isent, idrop = int(m.group(1)), int(m.group(2))
        if isent + idrop != len(rows):
            problems.append(f"IPFIX sent {isent} + dropped {idrop} != {len(rows)} CSV rows")
        if coll["records"] > isent:
            problems.append(f"collector got {coll['records']} records, agent sent {isent}")
    if coll["errors"]:
        problems.append(f"collector: {coll['errors'][:3]}")
    lost_unseen = isent - coll["records"] if isent >= 0 else -1
    lt.log("\nsoak figures (for docs/PERFORMANCE.md):")
    lt.log(f"| run | {a.minutes:g} min, {len(samples)} scrapes, {churns} interface re-creations, "
           f"{coll['restarts']} collector restarts ({coll['connections']} connections) |")
    thirds = [warm[int(i * (len(warm) - 1) / 4)]["rss"] >> 10 for i in range(5)]
    lt.log(f"| RSS after warm-up | {rss0 >> 10} KiB -> max {rss_max >> 10} KiB; at each quarter of the rest: "
           f"{' / '.join(str(x) for x in thirds)} KiB |")
    lt.log(f"| open descriptors after warm-up | {fds[0]}..{fds[-1]} |")
    lt.log(f"| BPF maps held | {maps} maps, memlock {mapb} bytes |")
    lt.log(f"| CSV | {len(rows)} rows in {parts} zstd parts; flows sent: {len(sent)} on the stable interface, "
           f"{len(sent_churn)} on the churned one (while attached); rows present with their packet counts: "
           f"{sum(1 for k in got if got[k] == sent.get(k, sent_churn.get(k)))} |")
    lt.log(f"| IPFIX over TCP | sent {isent}, dropped {idrop} (counted), collector stored {coll['records']}; "
           f"{lost_unseen} sent but not stored (in flight when the collector closed) |")
    if problems:
        raise lt.Failure("; ".join(problems))


if __name__ == "__main__":
    sys.exit(main())
