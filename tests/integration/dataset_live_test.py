#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Live --loss-column test (CTest label "integration"): a one-page ring under a trafgen flood.

  dataset_live_test.py --nfm PATH [--harness PATH] [--threads N] [--keep]

In a private namespace pair (live_test.Net, 10.98.13.0/24) the agent runs with --rings 1,
--ring-size <one page>, --idle-timeout 1 and --loss-column. Traffic from namespace b:
  1. early flows (UDP sport 30000..30004): sent, then 3.5 s of quiet, so they idle out and are
     exported before the flood;
  2. a long flow (UDP sport 31000 -> 7000), one packet every 100 ms from before the flood to
     after it: open during the losses;
  3. the flood (trafgen, 300k 64-byte packets over 4000 ports): the ring overflows;
  4. a late flow (UDP sport 32000) 1.5 s after the flood: it starts after the losses.
Reference: the drainer's own loss record (manifest live.loss_intervals). Expected by hand:
early flows 0, long flow 1, late flow 0; every flow whose packet span overlaps a loss interval
1; no flow that started after the last loss interval 1. The manifest's ring_full counter must
equal the summary line's, and its flows_run_total.exported the CSV's rows. With --threads N the
agent runs N rings and N drain workers (no fallback to one thread with a manifest and
--loss-column: stderr must not say "--threads ... ignored"). --labels runs too: early flows EARLY (a time window around now), the
long flow LONG (rule written server -> client), the rest BENIGN. Exit 0 pass, 1 fail, 77 skip.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import live_test as lt  # noqa: E402


def send_udp(net: lt.Net, sports: list[int], dport: int, count: int, gap: float) -> subprocess.Popen:
    code = ("import socket,time,sys\n"
            "ss=[]\n"
            f"for sp in {sports!r}:\n"
            "  s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('0.0.0.0',sp)); ss.append(s)\n"
            f"for i in range({count}):\n"
            "  for s in ss: s.sendto(b'x'*20,(sys.argv[1],%d))\n"
            "  time.sleep(%f)\n" % (dport, gap))
    return net.spawn(net.ns_b, ["python3", "-c", code, net.ip_a])


def row_times(r: dict) -> tuple[int, int]:
    t = dt.datetime.fromisoformat(r["timestamp"]).replace(tzinfo=dt.timezone.utc)
    first = int(t.timestamp()) * 10**9 + t.microsecond * 1000
    return first, first + int(round(float(r["duration"]) * 1e9))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nfm", required=True)
    ap.add_argument("--harness", default="")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    lt.kernel_ready()
    if not shutil.which("trafgen"):
        lt.skip("trafgen (Debian package netsniff-ng) is not installed")
    p = subprocess.run([a.nfm, "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if "--loss-column" not in p.stdout or "--iface" not in p.stdout:
        lt.skip(f"{a.nfm} has no --loss-column or no live capture (built with NFM_WITH_BPF=OFF?)")
    tools = lt.Tools(a.nfm, a.harness)
    tmp = Path(tempfile.mkdtemp(prefix="nfm-dataset-live-"))
    try:
        run_test(tools, tmp, a.threads)
        print("PASS loss_column_live")
        return 0
    except lt.Failure as e:
        print(f"FAIL loss_column_live: {e}")
        return 1
    finally:
        if a.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def run_test(tools: lt.Tools, tmp: Path, threads: int) -> None:
    n_pkts, n_ports = 300_000, 4000
    with lt.Net(13) as net:
        out, err = tmp / "live.csv", tmp / "agent.err"
        page_kb = max(4, os.sysconf("SC_PAGESIZE") // 1024)
        cfg = tmp / "flood.cfg"
        cfg.write_text(
            "{ eth(da=%s, sa=%s, type=0x0800), ipv4(sa=%s, da=%s, ttl=64, df), "
            "udp(sp=dinc(20000, %d), dp=9), fill(0x41, 18) }\n"
            % (net.mac(net.ns_a, net.va), net.mac(net.ns_b, net.vb), net.ip_b, net.ip_a, 20000 + n_ports - 1))
        # Labels live: the early flows by a time window around now (ISO 8601 with a zone), the
        # long flow by its endpoints in the server -> client orientation.
        now = dt.datetime.now(dt.timezone.utc)
        rules = tmp / "rules.csv"
        rules.write_text("label,start,end,src,dst,sport,dport,proto\n"
                         f"EARLY,{(now - dt.timedelta(minutes=1)).isoformat()},{(now + dt.timedelta(minutes=10)).isoformat()},"
                         f"{net.ip_b},*,30000-30004,*,udp\n"
                         f"LONG,*,*,{net.ip_a},{net.ip_b}/32,7000,31000,17\n")
        agent = lt.start_agent(tools, net, out, ["--ring-size", str(page_kb), "--rings", str(threads), "--threads",
                                                 str(threads), "--idle-timeout", "1", "--loss-column", "--labels",
                                                 str(rules)], err_path=err)
        early = send_udp(net, list(range(30000, 30005)), 9000, 3, 0.05)
        early.wait(timeout=30)
        time.sleep(3.5)  # idle 1 s + the drainer's 1 s slack + ticks: exported before the flood
        long_flow = send_udp(net, [31000], 7000, 60, 0.1)  # ~6 s
        time.sleep(1.0)
        tg = net.exec_b(["trafgen", "--dev", net.vb, "--conf", str(cfg), "--num", str(n_pkts), "--cpus", "1",
                         "--no-sock-mem", "--notouch-irq", "--no-cpu-stats"], check_rc=False)
        # trafgen can end with "Flushing TX_RING failed: Resource temporarily unavailable" on a
        # loaded machine after it has sent most of the flood; the checks below still need (and
        # verify) that events were lost, so only other failures fail here.
        tg_err = tg.stderr.strip()
        lt.check(tg.returncode == 0 or "Flushing TX_RING failed" in tg_err,
                 f"trafgen failed (rc {tg.returncode}): {tg_err[-500:]}")
        if tg.returncode != 0:
            print(f"note: trafgen: {tg_err[-200:]} (the loss checks below decide)")
        long_flow.wait(timeout=60)
        time.sleep(1.5)
        late = send_udp(net, [32000], 9001, 3, 0.05)
        late.wait(timeout=30)
        time.sleep(0.3)
        rc, stderr = lt.stop_agent(agent, err)
        lt.check(rc == 0, f"agent exit code {rc}: {stderr}")
        lt.check("ignored" not in stderr, f"the agent fell back: {stderr[-300:]}")
        s = lt.parse_summary(stderr)
        lt.log(s["line"])
        lt.check(s["ring_full"] > 0, f"the flood lost nothing on a {page_kb} KiB ring: {s['line']}")
        mpath = Path(str(out) + ".manifest.json")
        lt.check(mpath.exists(), "no manifest next to the live CSV")
        m = json.loads(mpath.read_text())
        live = m["live"]
        lt.check(live["counters_in_file"]["ring_full"] == s["ring_full"],
                 f"manifest ring_full {live['counters_in_file']['ring_full']} != summary {s['ring_full']}")
        iv = [(v["from_ns"], v["to_ns"], v["lost"]) for v in live["loss_intervals"]]
        lt.check(iv, "the drainer recorded no loss interval")
        lt.check(sum(x[2] for x in iv) == s["ring_full"] + s["no_ring"] + s["bad"],
                 f"loss intervals sum {sum(x[2] for x in iv)} != lost {s['ring_full'] + s['no_ring'] + s['bad']}")
        lt.log(f"loss intervals (ms): {[((f - iv[0][0]) / 1e6, (t - iv[0][0]) / 1e6, n) for f, t, n in iv]}")
        with open(out, newline="") as f:
            rows = list(csv.DictReader(f))
        lt.check(rows and list(rows[0].keys())[-2:] == ["capture_loss", "label"],
                 f"last columns {list(rows[0].keys())[-2:] if rows else None}, want capture_loss, label")
        lt.check(m["flows_run_total"]["exported"] == len(rows),
                 f"manifest flows_run_total.exported {m['flows_run_total']['exported']} != {len(rows)} CSV rows")
        by_port = {}
        for r in rows:
            by_port.setdefault(int(r["src_port"]), []).append(r)
        for sp in range(30000, 30005):
            lt.check(sp in by_port, f"early flow {sp} missing")
            lt.check(all(r["capture_loss"] == "0" for r in by_port[sp]),
                     f"early flow {sp} (exported before the flood) has capture_loss 1")
        for sp in range(30000, 30005):
            lt.check(by_port[sp][0]["label"] == "EARLY", f"early flow {sp}: label {by_port[sp][0]['label']}")
        lt.check(31000 in by_port and by_port[31000][0]["label"] == "LONG",
                 f"long flow label {[r['label'] for r in by_port.get(31000, [])]}")
        lt.check(32000 in by_port and by_port[32000][0]["label"] == "BENIGN", "late flow label")
        lt.check(31000 in by_port and by_port[31000][0]["capture_loss"] == "1",
                 f"the flow open across the flood: {[r['capture_loss'] for r in by_port.get(31000, [])]}")
        lt.check(32000 in by_port and by_port[32000][0]["capture_loss"] == "0",
                 f"the flow that started after the losses: {[r['capture_loss'] for r in by_port.get(32000, [])]}")
        last_loss = max(t for _, t, _ in iv)
        n1 = 0
        for r in rows:
            first, last = row_times(r)
            overlaps = any(f <= last + 1000 and t >= first for f, t, _ in iv)  # 1 µs: CSV time resolution
            if overlaps:
                lt.check(r["capture_loss"] == "1", f"flow {r['flow_id']} overlaps a loss interval but has 0")
            if r["capture_loss"] == "1":
                n1 += 1
                lt.check(first <= last_loss, f"flow {r['flow_id']} started after the last loss but has 1")
        lt.log(f"{len(rows)} flows, {n1} with capture_loss 1; early 0, long 1, late 0 as expected")


if __name__ == "__main__":
    sys.exit(main())
