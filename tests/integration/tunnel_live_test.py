#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Live --tunnel inner on a VXLAN underlay (CTest integration.tunnel_live).

  tunnel_live_test.py --nfm PATH [--harness PATH] [--keep]

Two namespaces joined by a veth pair (the underlay, live_test.Net, 10.98.21.0/24, offloads off);
in each a VXLAN device vx0 (VNI 42, UDP 4789, local/remote = the underlay addresses) with the
"pod" addresses 10.99.21.1 / 10.99.21.2 (static neighbours: no ARP in the tunnel). The agent
runs in namespace a on the underlay veth (XDP ingress + tcx egress); tcpdump captures the
pod side (vx0 in namespace a) and the underlay (the veth) at the same time. Traffic between
the pod addresses: an HTTP download and a 300 kB upload (TCP), UDP request/response, ICMP echo.

  1. --tunnel inner: per 5-tuple of the pod traffic, the live flows have exactly the packet
     and payload-byte counts per direction that the pod-side capture gives (replayed offline,
     no tunnel option: nothing to open there), and that the underlay capture replayed offline
     with --tunnel inner gives. No flow is keyed on the tunnel's outer UDP 5-tuple.
     --where-columns tunnel: every pod flow's tunnel_type is vxlan, tunnel_src / tunnel_dst the
     two VTEP underlay addresses oriented like the flow (the flow from POD_A: namespace a's
     address first), tunnel_id the VNI 42; the offline replay of the underlay capture says the
     same per flow.
  2. --tunnel outer (the default): the same traffic comes back as UDP flows between the
     underlay addresses to port 4789, one packet per pod-side packet of that run, and no flow
     carries a pod address.
  3. --tunnel inner with TSO/GSO on vx0: the underlay's tcx egress sees UDP-tunnel GSO
     super-packets (one skb, several wire packets); live must still equal the underlay capture
     replayed offline with --tunnel inner (tcpdump sees the wire segments), per 5-tuple and
     direction, and at least one gso_split must have happened; the tunnel columns as in 1 (a
     GSO super-packet's first segment carries the tunnel trailer).
Exit 0 pass, 1 fail, 77 skipped (not root; no vxlan module; tcpdump/curl missing).
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

N = 21
# A TCP sink (namespace b) and a sender (namespace a): the upload leaves through the agent's
# tcx egress, where TSO/GSO on vx0 makes super-packets.
TCP_SINK = r"""
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(4)
while True:
    c, _ = s.accept()
    while c.recv(65536):
        pass
    c.close()
"""
TCP_SEND = r"""
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
c.sendall(bytes(range(256)) * (int(sys.argv[3]) // 256))
c.shutdown(socket.SHUT_WR)
c.recv(1)
c.close()
"""
POD_A, POD_B = f"10.99.{N}.1", f"10.99.{N}.2"


def setup_vxlan(net: lt.Net) -> None:
    for ns, local, remote, pod in ((net.ns_a, net.ip_a, net.ip_b, POD_A), (net.ns_b, net.ip_b, net.ip_a, POD_B)):
        dev = net.va if ns == net.ns_a else net.vb
        p = lt.run(["ip", "-n", ns, "link", "add", "vx0", "type", "vxlan", "id", "42", "dstport", "4789", "local",
                    local, "remote", remote, "dev", dev], check_rc=False)
        if p.returncode != 0:
            lt.skip(f"cannot create a VXLAN device (vxlan module?): {p.stderr.strip()}")
        lt.run(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.vx0.disable_ipv6=1"])
        lt.run(["ip", "-n", ns, "addr", "add", f"{pod}/24", "dev", "vx0"])
        lt.run(["ip", "-n", ns, "link", "set", "vx0", "up"])
        lt.run(["ip", "netns", "exec", ns, "ethtool", "-K", "vx0", "tso", "off", "gso", "off", "gro", "off"])
    mac_a, mac_b = lt.Net.mac(net.ns_a, "vx0"), lt.Net.mac(net.ns_b, "vx0")
    lt.run(["ip", "-n", net.ns_a, "neigh", "replace", POD_B, "lladdr", mac_b, "dev", "vx0", "nud", "permanent"])
    lt.run(["ip", "-n", net.ns_b, "neigh", "replace", POD_A, "lladdr", mac_a, "dev", "vx0", "nud", "permanent"])


def capture(net: lt.Net, dev: str, pcap: Path) -> subprocess.Popen:
    p = net.spawn(net.ns_a, ["tcpdump", "-i", dev, "-w", str(pcap), "-U", "-n", "-s", "0", "-B", "65536",
                             "--immediate-mode", "--time-stamp-precision=nano"],
                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline, buf = time.time() + 10, ""
    while time.time() < deadline and "listening on" not in buf:
        line = p.stderr.readline()
        if not line:
            break
        buf += line
    lt.check("listening on" in buf, f"tcpdump on {dev} did not start: {buf}")
    return p


def pod_traffic(net: lt.Net, tmp: Path) -> None:
    www = tmp / "www"
    www.mkdir(exist_ok=True)
    (www / "big.bin").write_bytes(bytes(range(256)) * 800)  # 204,800 bytes
    http = net.spawn(net.ns_b, ["python3", "-m", "http.server", "8080", "--bind", POD_B, "--directory", str(www)],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    udp = net.spawn(net.ns_b, ["python3", "-c", lt.UDP_ECHO, POD_B, "5353"])
    sink = net.spawn(net.ns_b, ["python3", "-c", TCP_SINK, POD_B, "9000"])
    deadline = time.time() + 15
    while time.time() < deadline:
        ss = net.exec_b(["ss", "-ltnu"]).stdout
        if ":8080" in ss and ":5353" in ss and ":9000" in ss:
            break
        time.sleep(0.1)
    net.exec_a(["curl", "-sS", "-o", "/dev/null", f"http://{POD_B}:8080/big.bin"])
    net.exec_a(["python3", "-c", TCP_SEND, POD_B, "9000", "300000"])
    net.exec_a(["python3", "-c", lt.UDP_CLIENT, POD_B, "5353", "5"])
    net.exec_a(["python3", "-c", lt.ICMP_PING, POD_B, "4"])
    time.sleep(0.3)
    for p in (http, udp, sink):
        p.kill()
        p.wait()


def per_direction(path: Path, keep) -> dict:
    """{canonical 5-tuple: {(src ip, src port): [packets, payload bytes]}} of the rows `keep` accepts."""
    out: dict = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if not keep(r):
                continue
            a, pa, b, pb = r["src_ip"], int(r["src_port"]), r["dst_ip"], int(r["dst_port"])
            key = tuple(sorted([(a, pa), (b, pb)])) + (r["protocol"],)
            d = out.setdefault(key, {})
            for ep, pk, by in (((a, pa), "fwd_packets_count", "fwd_total_payload_bytes"),
                               ((b, pb), "bwd_packets_count", "bwd_total_payload_bytes")):
                v = d.setdefault(ep, [0, 0])
                v[0] += int(r[pk])
                v[1] += int(r[by])
    return out


def check_tunnel_columns(net: lt.Net, what: str, path: Path, offline: Path | None = None) -> None:
    """Every pod flow came through vx0: vxlan, the VTEPs oriented like the flow, VNI 42."""
    n = 0
    by_key = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if not is_pod(r):
                continue
            n += 1
            outer = (net.ip_a, net.ip_b) if r["src_ip"] == POD_A else (net.ip_b, net.ip_a)
            want = ("vxlan", outer[0], outer[1], "42")
            got = tuple(r.get(c) for c in ("tunnel_type", "tunnel_src", "tunnel_dst", "tunnel_id"))
            lt.check(got == want, f"{what}: flow {r['src_ip']}:{r['src_port']} -> {r['dst_ip']}:{r['dst_port']} "
                                  f"{r['protocol']}: tunnel columns {got}, want {want}")
            by_key.setdefault((r["src_ip"], r["src_port"], r["dst_ip"], r["dst_port"], r["protocol"]), got)
    lt.check(n >= 3, f"{what}: {n} pod flows with tunnel columns")
    lt.log(f"{what}: tunnel columns of {n} pod flows: vxlan {net.ip_a} <-> {net.ip_b}, VNI 42")
    if offline is None:
        return
    with open(offline, newline="") as f:
        for r in csv.DictReader(f):
            k = (r["src_ip"], r["src_port"], r["dst_ip"], r["dst_port"], r["protocol"])
            if k in by_key:
                got = tuple(r.get(c) for c in ("tunnel_type", "tunnel_src", "tunnel_dst", "tunnel_id"))
                lt.check(got == by_key[k], f"offline {k}: tunnel columns {got}, live {by_key[k]}")


def is_pod(r) -> bool:
    return r["src_ip"] in (POD_A, POD_B) and r["dst_ip"] in (POD_A, POD_B)


def is_underlay_vxlan(net: lt.Net):
    return lambda r: ({r["src_ip"], r["dst_ip"]} == {net.ip_a, net.ip_b} and r["protocol"] == "UDP"
                      and "4789" in (r["src_port"], r["dst_port"]))


def diff(name_a: str, a: dict, name_b: str, b: dict) -> list[str]:
    out = []
    for k in sorted(set(a) | set(b), key=str):
        if a.get(k) != b.get(k):
            out.append(f"{k}: {name_a} {a.get(k)} vs {name_b} {b.get(k)}")
    return out


def run_once(tools: lt.Tools, net: lt.Net, tmp: Path, tunnel: str, tag: str) -> tuple[Path, Path, Path, dict]:
    live, err = tmp / f"live_{tag}.csv", tmp / f"agent_{tag}.err"
    pod_pcap, under_pcap = tmp / f"pod_{tag}.pcap", tmp / f"underlay_{tag}.pcap"
    td_pod = capture(net, "vx0", pod_pcap)
    td_under = capture(net, net.va, under_pcap)
    extra = ["--tunnel", "inner", "--where-columns", "tunnel"] if tunnel == "inner" else []
    agent = lt.start_agent(tools, net, live, extra, err_path=err)
    time.sleep(0.3)
    pod_traffic(net, tmp)
    time.sleep(0.5)
    rc, stderr = lt.stop_agent(agent, err)
    errs = [lt.stop_tcpdump(td_pod), lt.stop_tcpdump(td_under)]
    lt.check(rc == 0, f"agent (--tunnel {tunnel}) exit code {rc}: {stderr}")
    s = lt.parse_summary(stderr)
    lt.log(f"--tunnel {tunnel}: {s['line']}")
    lt.check(s["lost"] == 0, "ring losses in a light-traffic run")
    for e in errs:
        lt.check(lt.tcpdump_dropped(e) == 0, f"tcpdump dropped packets: {e}")
    return live, pod_pcap, under_pcap, s


def t_tunnel_live(tools: lt.Tools, tmp: Path) -> None:
    with lt.Net(N) as net:
        setup_vxlan(net)
        # 1. --tunnel inner
        live, pod_pcap, under_pcap, _ = run_once(tools, net, tmp, "inner", "inner")
        pod_csv, under_csv = tmp / "pod.csv", tmp / "underlay_inner.csv"
        lt.replay(tools, pod_pcap, pod_csv)
        p = lt.run([tools.offline, "--pcap", str(under_pcap), "--csv", str(under_csv), "--tunnel", "inner",
                    "--where-columns", "tunnel"], check_rc=False)
        lt.check(p.returncode == 0, f"offline --tunnel inner failed: {p.stderr.strip()}")
        want = per_direction(pod_csv, is_pod)
        got = per_direction(live, is_pod)
        off = per_direction(under_csv, is_pod)
        protos = sorted({k[-1] for k in want})
        lt.log(f"pod flows: {len(want)} ({', '.join(protos)}); "
               f"{sum(v[0] for d in want.values() for v in d.values())} packets on the pod side")
        lt.check(len(want) >= 3 and {"TCP", "UDP", "ICMP"} <= set(protos),
                 f"expected TCP, UDP and ICMP pod flows in the pod-side capture, got {want}")
        d = diff("pod-side capture", want, "live --tunnel inner", got)
        lt.check(not d, "live --tunnel inner differs from the pod-side capture:\n  " + "\n  ".join(d[:20]))
        d = diff("live --tunnel inner", got, "underlay capture offline --tunnel inner", off)
        lt.check(not d, "live and offline --tunnel inner differ:\n  " + "\n  ".join(d[:20]))
        outer = per_direction(live, is_underlay_vxlan(net))
        lt.check(not outer, f"--tunnel inner still has flows on the tunnel's outer UDP 5-tuple: {outer}")
        check_tunnel_columns(net, "live --where-columns tunnel", live, under_csv)
        # 2. --tunnel outer (default)
        live_o, pod_pcap_o, _, _ = run_once(tools, net, tmp, "outer", "outer")
        pods = per_direction(live_o, is_pod)
        lt.check(not pods, f"--tunnel outer shows pod flows: {pods}")
        tun = per_direction(live_o, is_underlay_vxlan(net))
        n = sum(v[0] for dd in tun.values() for v in dd.values())
        pod_csv_o = tmp / "pod_outer.csv"
        lt.replay(tools, pod_pcap_o, pod_csv_o)
        # Offloads off: each pod-side packet of this run is one VXLAN packet on the underlay.
        want_n = sum(v[0] for dd in per_direction(pod_csv_o, is_pod).values() for v in dd.values())
        lt.log(f"--tunnel outer: {len(tun)} VXLAN flows on UDP 4789, {n} packets; {want_n} on the pod side")
        lt.check(n == want_n, f"--tunnel outer: {n} tunnel packets, but {want_n} packets on the pod side")
        # 3. GSO on the pod side of the tunnel
        for ns in (net.ns_a, net.ns_b):
            lt.run(["ip", "netns", "exec", ns, "ethtool", "-K", "vx0", "tso", "on", "gso", "on"])
        live_g, _, under_g, _ = run_once(tools, net, tmp, "inner", "gso")
        off_g = tmp / "underlay_gso.csv"
        p = lt.run([tools.offline, "--pcap", str(under_g), "--csv", str(off_g), "--tunnel", "inner"], check_rc=False)
        lt.check(p.returncode == 0, f"offline --tunnel inner failed: {p.stderr.strip()}")
        got_g, off_gd = per_direction(live_g, is_pod), per_direction(off_g, is_pod)
        d = diff("live --tunnel inner (GSO)", got_g, "underlay capture offline --tunnel inner", off_gd)
        lt.check(not d, "with GSO, live and offline --tunnel inner differ:\n  " + "\n  ".join(d[:20]))
        lt.check(len(got_g) >= 3, f"with GSO: expected the pod flows, got {got_g}")
        check_tunnel_columns(net, "live --where-columns tunnel (GSO)", live_g)
        man = json.loads(Path(str(live_g) + ".manifest.json").read_text())
        split = man["live"]["counters_run_total"]["gso_split"]
        lt.log(f"with GSO on vx0: {split} GSO super-packets split at tcx egress, "
               f"{man['live']['counters_run_total']['decapsulated']} events decapsulated")
        lt.check(split > 0, "with TSO/GSO on vx0 no GSO super-packet reached the underlay's tcx egress")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nfm", default="")
    ap.add_argument("--harness", default="")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    a = ap.parse_args()
    lt.kernel_ready()
    for tool in ("tcpdump", "curl", "ethtool"):
        if not shutil.which(tool):
            lt.skip(f"{tool} is not installed")
    tools = lt.Tools(a.nfm, a.harness)
    help_text = subprocess.run([tools.live, "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True).stdout
    if "--tunnel" not in help_text:
        lt.skip(f"{tools.live} has no --tunnel")
    tmp = Path(tempfile.mkdtemp(prefix="nfm-tunnel-live-"))
    try:
        t_tunnel_live(tools, tmp)
    except lt.Failure as e:
        print(f"FAIL tunnel_live: {e}", flush=True)
        print(f"(files in {tmp})")
        return 1
    print("PASS tunnel_live")
    if not a.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
