#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Live --labels / --loss-column / manifest with the cic and ntl feature sets (CTest label
"integration"): issues 14 and 16 ask both sets to work live with the data-set outputs.

  dataset_sets_live_test.py --nfm PATH [--keep]

In a private namespace pair (live_test.Net, 10.98.14.0/24), for --feature-set cic,
--feature-set ntl, --profile cic and --profile ntl, the agent runs with --labels and
--loss-column (large ring: no loss expected) while namespace b sends three UDP flows (sports
30000, 30001, 30002 -> 9000), three packets each; for --profile ntl (IPv4 TCP only) three HTTP
requests from those source ports to a server in namespace a instead. Rule (by hand):
`A,*,*,<ip_b>,*,30000-30001,*,<udp|tcp>` -> flows 30000 and 30001 are A, 30002 is BENIGN (the
default). Checked: the set's own last column carries those labels (no
second label column), capture_loss is the column before it and 0 (the summary reports no ring
loss), and the manifest says mode live, the set, the columns of the header, rows_by_label.
Exit 0 pass, 1 fail, 77 skip.
"""
from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import live_test as lt  # noqa: E402
from dataset_live_test import send_udp  # noqa: E402

SETS = {  # name -> (arguments, feature set, label column, src ip column, src port column, traffic)
    "cic": (["--feature-set", "cic"], "cic", "Label", "Src IP", "Src Port", "udp"),
    "ntl": (["--feature-set", "ntl"], "ntl", "label", "src_ip", "src_port", "udp"),
    "profile-cic": (["--profile", "cic"], "cic", "Label", "Src IP", "Src Port", "udp"),
    "profile-ntl": (["--profile", "ntl"], "ntl", "label", "src_ip", "src_port", "tcp"),
}


def send_http(net: lt.Net, sports: list[int], port: int) -> subprocess.Popen:
    code = ("import socket,sys\n"
            f"for sp in {sports!r}:\n"
            "  s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(('0.0.0.0',sp))\n"
            "  s.connect((sys.argv[1],%d)); s.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n')\n"
            "  while s.recv(65536): pass\n"
            "  s.close()\n" % port)
    return net.spawn(net.ns_b, ["python3", "-c", code, net.ip_a])


def run_set(tools: lt.Tools, net: lt.Net, tmp: Path, name: str) -> None:
    args, fset, label_col, src_col, sport_col, traffic = SETS[name]
    out, err = tmp / f"{name}.csv", tmp / f"{name}.err"
    rules = tmp / "rules.csv"
    rules.write_text("label,start,end,src,dst,sport,dport,proto\n"
                     f"A,*,*,{net.ip_b},*,30000-30001,*,{traffic}\n")
    server = None
    if traffic == "tcp":
        server = net.spawn(net.ns_a, ["python3", "-m", "http.server", "8080", "--bind", net.ip_a],
                           cwd=str(tmp), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
    # --profile cic has no idle timeout (CICFlowMeter's fixed ones; the option is refused).
    idle = [] if "cic" in args and "--profile" in args else ["--idle-timeout", "30"]
    agent = lt.start_agent(tools, net, out, [*args, "--labels", str(rules), "--loss-column", *idle],
                           err_path=err)
    try:
        sender = send_udp(net, [30000, 30001, 30002], 9000, 3, 0.05) if traffic == "udp" else \
            send_http(net, [30000, 30001, 30002], 8080)
        lt.check(sender.wait(timeout=30) == 0, f"{name}: the {traffic} sender failed")
        time.sleep(0.5)
    finally:
        if server:
            server.terminate()
            server.wait(timeout=10)
    rc, stderr = lt.stop_agent(agent, err)
    lt.check(rc == 0, f"{name}: agent exit code {rc}: {stderr}")
    s = lt.parse_summary(stderr)
    lt.log(f"{name}: {s['line']}")
    with open(out, newline="") as f:
        rows = list(csv.reader(f))
    lt.check(len(rows) > 1, f"{name}: no flow rows in {out}")
    header, body = rows[0], rows[1:]
    lt.check(header[-2:] == ["capture_loss", label_col] and header.count(label_col) == 1
             and "label" not in header[:-1], f"{name}: header tail {header[-3:]}")
    idx = {c: i for i, c in enumerate(header)}
    got = {}
    for r in body:
        if r[idx[src_col]] == net.ip_b and r[idx[sport_col]] in ("30000", "30001", "30002"):
            got[r[idx[sport_col]]] = (r[-2], r[-1])
    lost = s["ring_full"] + s["no_ring"] + s["bad"]
    want_loss = "0" if lost == 0 else None
    lt.check(set(got) == {"30000", "30001", "30002"}, f"{name}: flows found {sorted(got)} ({len(body)} rows)")
    for sport, want_label in (("30000", "A"), ("30001", "A"), ("30002", "BENIGN")):
        loss, label = got[sport]
        lt.check(label == want_label, f"{name}: sport {sport}: label {label!r}, want {want_label!r}")
        lt.check(want_loss is None or loss == want_loss, f"{name}: sport {sport}: capture_loss {loss} with no loss")
    mpath = Path(str(out) + ".manifest.json")
    lt.check(mpath.exists(), f"{name}: no manifest next to the live CSV")
    m = json.loads(mpath.read_text())
    lt.check(m["run"]["mode"] == "live" and m["effective"]["feature_set"] == fset, f"{name}: {m['run']} {m['effective']}")
    lt.check([c["name"] for c in m["columns"]] == header, f"{name}: manifest columns != CSV header")
    counts: dict[str, int] = {}
    for r in body:
        counts[r[-1]] = counts.get(r[-1], 0) + 1
    lt.check(m["labels"]["rows_by_label"] == counts and m["file"]["rows"] == len(body),
             f"{name}: manifest labels {m['labels']} rows {m['file']['rows']} vs CSV {counts}")
    lt.check(m["capture_loss"]["column"] and m["capture_loss"]["source"] == "ring_losses", f"{name}: {m['capture_loss']}")
    lt.check("live" in m and m["live"]["counters_in_file"]["ring_full"] == s["ring_full"], f"{name}: manifest live")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nfm", required=True)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    lt.kernel_ready()
    p = subprocess.run([a.nfm, "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if "--iface" not in p.stdout or "--feature-set" not in p.stdout:
        lt.skip(f"{a.nfm} has no live capture or no --feature-set (built with NFM_WITH_BPF=OFF?)")
    tools = lt.Tools(a.nfm, "")
    tmp = Path(tempfile.mkdtemp(prefix="nfm-dataset-sets-live-"))
    try:
        with lt.Net(14) as net:
            for name in SETS:
                run_set(tools, net, tmp, name)
        print("PASS dataset_sets_live")
        return 0
    except lt.Failure as e:
        print(f"FAIL dataset_sets_live: {e}")
        return 1
    finally:
        if a.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
