#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Live row latency: time from a packet on the wire to the row that carries it on the
consumer's side, p50 and p99 (root; two network namespaces and a veth pair of our own).

The agent runs in namespace a with `--json -` (line-buffered live) and either
`--snapshot-interval S` (snapshot rows) or a short `--idle-timeout` (final rows only). A sender
in namespace b starts one UDP flow every --spacing seconds: one datagram whose wall-clock send
time it records. A reader thread timestamps each JSON line as it arrives on the agent's stdout;
a flow's latency is the arrival of its first row (snapshot or final) minus its send time.

usage: sudo bench/live/row_latency.py NFM_BINARY [--flows 200] [--spacing 0.05]
                                       [--mode snapshot|final] [--interval 1] [--idle 1]
Prints one line: mode, flows, p50, p90, p99, max (seconds).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "integration"))
import live_test as lt  # noqa: E402  (Net: namespaces, veth, offloads off)

SENDER = r"""
import socket, sys, time
dst, n, spacing = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 30000 + i))
    t = time.time()
    s.sendto(b"x" * 64, (dst, 7200))
    print(30000 + i, repr(t), flush=True)
    s.close()
    time.sleep(spacing)
"""


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("nfm")
    ap.add_argument("--flows", type=int, default=200)
    ap.add_argument("--spacing", type=float, default=0.05)
    ap.add_argument("--mode", choices=("snapshot", "final"), default="snapshot")
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--idle", type=float, default=1.0)
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("row_latency: needs root", file=sys.stderr)
        return 1
    with lt.Net(31) as net:
        net.spawn(net.ns_a, ["python3", "-c", lt.UDP_SINK, "7200"])
        extra = ["--snapshot-interval", str(a.interval)] if a.mode == "snapshot" else ["--idle-timeout", str(a.idle)]
        agent = net.spawn(net.ns_a, [a.nfm, "--iface", net.va, "--json", "-", "--metrics-addr", "", *extra],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
        arrivals: dict[int, float] = {}

        def read() -> None:
            for line in agent.stdout:
                t = time.time()
                try:
                    row = json.loads(line)
                except ValueError:
                    continue
                for port in (row.get("src_port"), row.get("dst_port")):
                    if isinstance(port, int) and 30000 <= port < 30000 + a.flows:
                        arrivals.setdefault(port, t)

        th = threading.Thread(target=read, daemon=True)
        th.start()
        t0 = time.time()
        while not net.xdp_attached():
            if time.time() - t0 > 20 or agent.poll() is not None:
                print("row_latency: agent did not attach", file=sys.stderr)
                return 1
            time.sleep(0.05)
        time.sleep(0.5)
        out = net.exec_b(["python3", "-c", SENDER, net.ip_a, str(a.flows), str(a.spacing)]).stdout
        sent = {int(p): float(t) for p, t in (l.split() for l in out.splitlines())}
        wait = (a.interval if a.mode == "snapshot" else a.idle) + 3.0
        deadline = time.time() + wait
        while len(arrivals) < len(sent) and time.time() < deadline:
            time.sleep(0.1)
        agent.send_signal(2)
        agent.wait(timeout=30)
        lat = [arrivals[p] - t for p, t in sent.items() if p in arrivals]
        if not lat:
            print("row_latency: no row arrived", file=sys.stderr)
            return 1
        how = f"--snapshot-interval {a.interval:g}" if a.mode == "snapshot" else f"--idle-timeout {a.idle:g}"
        print(f"row_latency {a.mode} ({how}): {len(lat)} of {len(sent)} flows, p50 {pct(lat, 50):.3f} s, "
              f"p90 {pct(lat, 90):.3f} s, p99 {pct(lat, 99):.3f} s, max {max(lat):.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
