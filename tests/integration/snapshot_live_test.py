#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Live snapshots through JSON Lines on stdout (CTest label "integration").

  snapshot_live_test.py --nfm PATH [--threads N]

In a private namespace pair (live_test.Net, 10.98.61.0/24) the agent runs
`--iface va --json - --snapshot-interval 1` (no CSV). Namespace b sends one UDP flow
(sport 41000 -> 7000), one 20-byte datagram every 100 ms for 5 s, 50 in all. A reader thread
timestamps every line as it arrives on the pipe. Expected by hand:
  * while the flow is still sending, snapshot rows of it arrive (line-buffered output): at least
    3 before its last packet, the first within 2.5 s of its first packet (interval 1 s, plus
    the drain loop's 1 s slack when no packet moves the clock);
  * its snapshots have strictly growing packet counts, all below 50;
  * after SIGINT its final row (row_kind final) has 50 packets;
  * every line parses with json.loads and has the same keys.
Exit 0 pass, 1 fail, 77 skip.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import live_test as lt  # noqa: E402


class Failure(Exception):
    pass


def check(cond: bool, msg: str) -> None:
    if not cond:
        raise Failure(msg)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nfm", required=True)
    ap.add_argument("--harness", default="")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    if os.geteuid() != 0:
        lt.skip("needs root (network namespaces, BPF)")
    helptext = subprocess.run([a.nfm, "--help"], stdout=subprocess.PIPE, text=True).stdout
    if "--iface" not in helptext:
        lt.skip("nfm-xdp was built without live capture (no --iface)")
    try:
        with lt.Net(61) as net:
            return run_test(a, net)
    except Failure as e:
        print(f"FAIL: {e}", flush=True)
        return 1


def run_test(a, net: lt.Net) -> int:
    cmd = [a.nfm, "--iface", net.va, "--json", "-", "--snapshot-interval", "1", "--metrics-addr", "",
           "--threads", str(a.threads), "--idle-timeout", "60"]
    agent = net.spawn(net.ns_a, cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines: list[tuple[float, str]] = []

    def reader():
        for raw in agent.stdout:
            lines.append((time.time(), raw.decode()))

    th = threading.Thread(target=reader, daemon=True)
    th.start()
    deadline = time.time() + 20
    while not net.xdp_attached():
        if agent.poll() is not None:
            raise Failure(f"agent exited early (rc {agent.returncode}): {agent.stderr.read().decode().strip()}")
        check(time.time() < deadline, "agent did not attach within 20 s")
        time.sleep(0.05)
    time.sleep(0.5)
    code = ("import socket,time,sys\n"
            "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('0.0.0.0',41000))\n"
            "for i in range(50):\n"
            "  s.sendto(b'x'*20,(sys.argv[1],7000)); time.sleep(0.1)\n")
    t_start = time.time()
    sender = net.spawn(net.ns_b, ["python3", "-c", code, net.ip_a])
    sender.wait(timeout=30)
    t_end = time.time()
    during = [(t, l) for t, l in lines if t <= t_end]
    time.sleep(0.3)
    agent.send_signal(signal.SIGINT)
    try:
        agent.wait(timeout=30)  # stdout belongs to the reader thread
    except subprocess.TimeoutExpired:
        agent.kill()
        raise Failure("agent did not stop within 30 s of SIGINT")
    th.join(timeout=5)
    err = agent.stderr.read()
    check(agent.returncode == 0, f"agent exit {agent.returncode}: {err.decode()[-500:]}")

    rows = []
    keys = None
    for t, l in lines:
        obj = json.loads(l)
        keys = keys or list(obj.keys())
        check(list(obj.keys()) == keys, "lines with different keys")
        rows.append((t, obj))
    mine = [(t, o) for t, o in rows if o["src_port"] == 41000 and o["dst_port"] == 7000]
    snaps = [(t, o) for t, o in mine if o["row_kind"] == "snapshot"]
    finals = [o for t, o in mine if o["row_kind"] == "final"]
    early = [(t, o) for t, o in snaps if t <= t_end]
    lt.log(f"{len(rows)} rows, flow: {len(snaps)} snapshots ({len(early)} while sending), {len(finals)} final; "
           f"first snapshot {snaps[0][0] - t_start:.2f} s after the first packet" if snaps else "no snapshot")
    check(len(early) >= 3, f"only {len(early)} snapshot rows arrived while the flow was sending "
          f"({len(during)} lines in all): not line-buffered or no snapshots")
    check(early[0][0] - t_start <= 2.5, f"first snapshot {early[0][0] - t_start:.2f} s after the flow started")
    counts = [o["packets_count"] for _, o in snaps]
    check(all(b > a for a, b in zip(counts, counts[1:])) and counts[-1] < 50, f"snapshot packet counts {counts}")
    check(len(finals) == 1 and finals[0]["packets_count"] == 50,
          f"final rows {[f['packets_count'] for f in finals]}; rows: "
          f"{[(o['src_port'], o['dst_port'], o['row_kind'], o['packets_count']) for _, o in rows]}; stderr {err.decode()[-300:]!r}")
    print("PASS", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
