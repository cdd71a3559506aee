# SPDX-License-Identifier: MIT
"""Pods, not nodes: nfm-xdp with `--iface k8s` inside a CNI-built lab node (k8s_lab.py).

Two nodes (bridge cni0 + host-local IPAM by the CNI plugins, VXLAN overlay flannel.1 between
them); the agent runs in node 1's namespace only. Pods are dual-stack (an IPv4 and an IPv6
address from host-local's two ranges; IPv6 crosses nodes in the same VXLAN overlay over the IPv4
underlay). Pods a and b (host veth renamed to "calib<pid>", Calico-style) on node 1, c and d on
node 2. TCP (HTTP), UDP (echo) and ICMP / ICMPv6 echo between pods on the same node and across
nodes, over IPv4 and over IPv6, started from both ends; pod e is created while the agent runs,
pod b is deleted and re-created under the same interface name.

Oracle: tcpdump on eth0 inside every node-1 pod. For every flow of a node-1 pod (one of whose
endpoints is one of the pod's two addresses):
  - packets and L4 bytes (transport header + payload) per direction, by tshark's dissection
    of the pod capture, equal the agent's fwd/bwd packet counts and header + payload bytes:
    each packet once, although it crossed 2 to 4 attached interfaces;
  - the pod capture replayed offline gives the same row (live_test.compare_flows: integers
    exact, time values within its stated tolerance).
IPv6 neighbour discovery for pod addresses (NS/NA between a pod and its gateway or a pod on the
same node) is part of the traffic and must match too: it happens only when the test's traffic
needs it, inside the captures (k8s_lab keeps entries REACHABLE and probes a STALE one at its
first use; before a capture or the agent stops, the test waits until no entry of node 1 or its
pods is INCOMPLETE, DELAY or PROBE).
Other IPv6 background (MLD reports, DAD is off, no router solicitations) has link-local,
unspecified or multicast addresses only and is outside every compared flow on both sides alike.
Underlay: a second agent on node 1's ul0 with --tunnel inner decapsulates the VXLAN overlay
(inner IPv4 and IPv6 in outer IPv4); per direction of every cross-node flow of a node-1 pod,
its packets and L4 bytes equal the pod capture's too, and it reports no flow on VXLAN's port.
Plus: --where-columns node,iface names the node and, for every TCP/UDP flow, the interface that
saw it first (the starting pod's veth, or flannel.1 for flows started on node 2); the interface metrics follow the pod churn (attach/detach counters, nfm_interface_up of
the re-created interface back to 1), copies were dropped and counted (nfm_packets_ignored_total
{reason="duplicate"}), and a second run shows --iface-exclude and the --max-ifaces refusal.

Exit codes: 0 pass, 1 fail, 77 skipped (not root, or a kernel feature missing). A missing
containernetworking-plugins package is a FAILURE, not a skip: scripts/install-deps.sh installs it.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import live_test as lt  # noqa: E402  (helpers: compare_flows, replay, Tools, tshark checks)
from k8s_lab import VXLAN_PORT, Lab, LabError, missing_tools  # noqa: E402

METRICS_PORT = 9591
NODE_NAME = "lab-node-1"

# ICMPv6 echo over a raw socket (the kernel fills in the ICMPv6 checksum); waits for each reply.
ICMP6_PING = r"""
import socket, struct, sys, time
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.settimeout(1)
for seq in range(int(sys.argv[2])):
    s.sendto(struct.pack('!BBHHH', 128, 0, 0, 0x4e46, seq) + b'x' * 56, (sys.argv[1], 0))
    end = time.time() + 1
    while time.time() < end:
        try: d = s.recv(2048)
        except OSError: break
        if d[:1] == b'\x81' and d[4:8] == struct.pack('!HH', 0x4e46, seq): break
    time.sleep(0.05)
"""


def check_where(lab: Lab, live_csv: Path, pods: list, stripped: Path) -> None:
    """--where-columns node,iface: node is the given name; a TCP/UDP flow is reported by the
    interface that saw it first: the veth of the node-1 pod that started it, else flannel.1
    (started on node 2). Writes the CSV without those columns to `stripped` (for comparing with
    an offline replay, which has no interface)."""
    flannel = lab.host_links(lab.nodes[0])["flannel.1"]
    local = {ip: (p.host_ifname, p.host_ifindex) for p in pods for ip in (p.ip, p.ip6)}
    with open(live_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    lt.check(rows and list(rows[0])[-3:] == ["node", "iface", "ifindex"],
             f"--where-columns node,iface: last columns {list(rows[0])[-3:] if rows else None}")
    checked = 0
    for r in rows:
        lt.check(r["node"] == NODE_NAME, f"node column {r['node']!r}, want {NODE_NAME!r}")
        if r["protocol"] not in ("TCP", "UDP") or not (r["src_ip"] in local or r["dst_ip"] in local):
            continue
        want = local.get(r["src_ip"], ("flannel.1", flannel))
        got = (r["iface"], int(r["ifindex"] or 0))
        lt.check(got == want, f"flow {r['src_ip']}:{r['src_port']} -> {r['dst_ip']}:{r['dst_port']} "
                              f"{r['protocol']}: reported by {got}, want {want}")
        checked += 1
    lt.check(checked >= 40, f"only {checked} TCP/UDP flows to check the interface of")
    lt.log(f"--where-columns: {checked} TCP/UDP flows reported by the interface that saw them first")
    with open(stripped, "w", newline="") as f:
        keep = list(rows[0])[:-3]
        w = csv.DictWriter(f, fieldnames=keep, extrasaction="ignore", lineterminator="\r\n")
        w.writeheader()
        w.writerows(rows)


def serve(lab: Lab, pod) -> None:
    """HTTP on 8080 and a UDP echo on 5353 on each of the pod's addresses; returns once all listen."""
    www = lab.tmp / f"www-{pod.name}"
    www.mkdir(exist_ok=True)
    (www / "small.txt").write_text("hello\n" * 40)
    (www / "big.bin").write_bytes(os.urandom(120_000))
    for ip in (pod.ip, pod.ip6):
        lab.spawn(pod, ["python3", "-m", "http.server", "8080", "--bind", ip, "--directory", str(www)],
                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        lab.spawn(pod, ["python3", "-c", lt.UDP_ECHO, ip, "5353"], stdout=subprocess.DEVNULL,
                  stderr=subprocess.DEVNULL)
    want = {f"{pod.ip}:8080", f"{pod.ip}:5353", f"[{pod.ip6}]:8080", f"[{pod.ip6}]:5353"}
    lt.wait_for(lambda: all(w in lab.exec(pod, ["ss", "-ltnu"]).stdout for w in want), 15,
                f"servers in pod {pod.name}")


def traffic(lab: Lab, src, dst) -> None:
    """TCP, UDP and ICMP (ICMPv6) echo from `src` to `dst` over IPv4 and over IPv6 (both
    directions of each flow)."""
    for ip, host, ping in ((dst.ip, dst.ip, lt.ICMP_PING), (dst.ip6, f"[{dst.ip6}]", ICMP6_PING)):
        for name in ("small.txt", "big.bin"):
            lab.exec(src, ["curl", "-gsS", "-o", "/dev/null", "--max-time", "10", f"http://{host}:8080/{name}"])
        lab.exec(src, ["python3", "-c", lt.UDP_CLIENT, ip, "5353", "3"])
        lab.exec(src, ["python3", "-c", ping, ip, "3"])


def neigh_quiet(lab: Lab) -> None:
    """Waits until node 1 and its pods have no IPv6 neighbour resolution or probe under way, so
    that no solicitation of the test's traffic comes after a capture or the agent stops."""
    deadline = time.time() + 10
    while busy := lab.neigh_busy(lab.nodes[0]):
        if time.time() > deadline:
            raise lt.Failure("IPv6 neighbour entries still busy after 10 s: " + "; ".join(busy))
        time.sleep(0.1)


def metrics(lab: Lab, port: int = METRICS_PORT) -> str:
    return lab.exec(lab.nodes[0], ["curl", "-s", "--max-time", "2", f"http://127.0.0.1:{port}/metrics"],
                    check=False).stdout


def directional_packets(pcap: Path, ips: set[str]) -> tuple[dict[tuple, tuple[int, int]], int]:
    """(src, sport, dst, dport, proto) -> (packets, L4 bytes), by tshark (independent of our
    decoders), and how many of those packets are neighbour solicitations or advertisements.
    L4 bytes: IPv4 total length - header length, or the IPv6 payload length."""
    fields = ["ip.src", "ip.dst", "ip.proto", "ip.len", "ip.hdr_len", "ipv6.src", "ipv6.dst", "ipv6.nxt", "ipv6.plen",
              "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport", "icmpv6.type"]
    cmd = ["tshark", "-r", str(pcap), "-n", "-T", "fields", "-E", "separator=\t", "-E", "occurrence=f"]
    for f in fields:
        cmd += ["-e", f]
    names = {"1": "ICMP", "6": "TCP", "17": "UDP", "58": "ICMPv6"}
    out: dict[tuple, tuple[int, int]] = {}
    nd = 0
    for line in lt.run(cmd).stdout.splitlines():
        v = dict(zip(fields, line.split("\t")))
        if v.get("ip.src"):
            src, dst, proto = v["ip.src"], v["ip.dst"], v.get("ip.proto", "")
            size = int(v.get("ip.len") or 0) - int(v.get("ip.hdr_len") or 0)
        elif v.get("ipv6.src"):
            # ipv6.nxt is the fixed header's next header: pod traffic carries no extension
            # headers; MLD (hop-by-hop first) has link-local addresses and is filtered below.
            src, dst, proto = v["ipv6.src"], v["ipv6.dst"], v.get("ipv6.nxt", "")
            size = int(v.get("ipv6.plen") or 0)
        else:
            continue
        proto = names.get(proto)
        if not proto or not (src in ips or dst in ips):
            continue
        sp = v.get("tcp.srcport") or v.get("udp.srcport") or "0"
        dp = v.get("tcp.dstport") or v.get("udp.dstport") or "0"
        k = (src, sp, dst, dp, proto)
        n, b = out.get(k, (0, 0))
        out[k] = (n + 1, b + size)
        nd += v.get("icmpv6.type") in ("135", "136")
    return out, nd


def csv_directional_packets(path: Path, ips: set[str]) -> dict[tuple, tuple[int, int]]:
    _, flows = lt.read_flows(path)
    out: dict[tuple, tuple[int, int]] = {}

    def add(k, n, b):
        n0, b0 = out.get(k, (0, 0))
        out[k] = (n0 + n, b0 + b)

    for k, r in flows.items():
        if not (k[0] in ips or k[2] in ips):
            continue
        for d, ep in (("fwd", (k[0], k[1], k[2], k[3], k[4])), ("bwd", (k[2], k[3], k[0], k[1], k[4]))):
            if int(r[f"{d}_packets_count"]):
                add(ep, int(r[f"{d}_packets_count"]),
                    int(r[f"{d}_total_header_bytes"]) + int(r[f"{d}_total_payload_bytes"]))
    return out


def t_k8s_pods(tools: lt.Tools, tmp: Path, extra: list[str]) -> None:
    calib = f"calib{os.getpid() % 100000}"[:15]
    with Lab(nodes=2, ipv6=True) as lab:
        n1 = lab.nodes[0]
        a = lab.create_pod(0, "a")
        b = lab.create_pod(0, "b", host_ifname=calib)
        c = lab.create_pod(1, "c")
        d = lab.create_pod(1, "d")
        for p in (a, b, c, d):
            serve(lab, p)
        caps = {}
        for p in (a, b):
            caps[p.name] = (tmp / f"{p.name}.pcap", lab.tcpdump(p, tmp / f"{p.name}.pcap"))
        live_csv, err = tmp / "live.csv", tmp / "agent.err"
        agent = lab.spawn(n1, [tools.live, "--iface", "k8s", "--csv", str(live_csv), "--metrics-addr",
                               f"127.0.0.1:{METRICS_PORT}", "--where-columns", "node,iface", "--node-name",
                               NODE_NAME, *extra], stdout=subprocess.DEVNULL, stderr=open(err, "w"))
        # Attached: flannel.1, cni0 and the two pod veths.
        lt.wait_for(lambda: agent.poll() is not None or (lt.metric(metrics(lab), "nfm_interfaces_attached") or 0) >= 4,
                    20, "the agent to attach to 4 interfaces")
        lt.check(agent.poll() is None, f"agent exited early: {err.read_text()}")
        m0 = metrics(lab)
        lt.check(lt.metric(m0, f'nfm_interface_up{{iface="{a.host_ifname}"}}') == 1, "pod a's veth not attached")
        lt.check(lt.metric(m0, f'nfm_interface_up{{iface="{calib}"}}') == 1, f"{calib} not attached")
        lt.check(lt.metric(m0, 'nfm_interface_up{iface="flannel.1"}') == 1, "flannel.1 not attached")
        lt.check(lt.metric(m0, 'nfm_interface_up{iface="ul0"}') is None, "the underlay ul0 matched the k8s preset")
        # The underlay view: pod-to-pod flows between nodes from inside the VXLAN packets.
        ul_csv, ul_err = tmp / "underlay.csv", tmp / "underlay.err"
        # (ul0 gets a tcx ingress link: the kernel refuses XDP below flannel.1's generic XDP.)
        ul_agent = lab.spawn(n1, [tools.live, "--iface", "ul0", "--tunnel", "inner", "--csv", str(ul_csv),
                                  "--metrics-addr", f"127.0.0.1:{METRICS_PORT + 1}"],
                             stdout=subprocess.DEVNULL, stderr=open(ul_err, "w"))
        lt.wait_for(lambda: ul_agent.poll() is not None
                    or (lt.metric(metrics(lab, METRICS_PORT + 1), "nfm_interfaces_attached") or 0) >= 1,
                    20, "the underlay agent to attach to ul0")
        lt.check(ul_agent.poll() is None, f"underlay agent exited early: {ul_err.read_text()}")

        # Same node and across nodes, each started from both ends.
        for src, dst in ((a, b), (b, a), (a, c), (c, a), (b, d), (d, b)):
            traffic(lab, src, dst)

        # A pod appears while the agent runs: attached within a second (netlink link events).
        e = lab.create_pod(0, "e")
        t0 = time.time()
        lt.wait_for(lambda: lt.metric(metrics(lab), f'nfm_interface_up{{iface="{e.host_ifname}"}}') == 1, 5,
                    f"new pod e's veth {e.host_ifname} to be attached")
        lt.log(f"pod e ({e.host_ifname}) attached {time.time() - t0:.2f} s after CNI ADD returned")
        lt.check(time.time() - t0 < 1.5, "new pod interface attached later than a second")
        caps["e"] = (tmp / "e.pcap", lab.tcpdump(e, tmp / "e.pcap"))
        serve(lab, e)
        traffic(lab, e, a)
        traffic(lab, c, e)

        # Pod b goes and comes back under the same interface name (and a new address).
        attached_before = lt.metric(metrics(lab), 'nfm_interface_events_total{event="attached"}')
        neigh_quiet(lab)
        caps["b"] = (caps["b"][0], caps["b"][1], lab.stop_tcpdump(caps["b"][1]))[:2]
        lab.delete_pod(b)
        lt.wait_for(lambda: lt.metric(metrics(lab), f'nfm_interface_up{{iface="{calib}"}}') is None, 5,
                    f"{calib}'s series to go after pod b was deleted")
        detached = lt.metric(metrics(lab), 'nfm_interface_events_total{event="detached"}')
        lt.check(detached is not None and detached >= 1, "no detach counted after pod b was deleted")
        b2 = lab.create_pod(0, "b", host_ifname=calib)
        lt.wait_for(lambda: lt.metric(metrics(lab), f'nfm_interface_up{{iface="{calib}"}}') == 1, 5,
                    f"{calib} to be attached again after pod b was re-created")
        attached_after = lt.metric(metrics(lab), 'nfm_interface_events_total{event="attached"}')
        lt.check(attached_after >= attached_before + 1, f"attach counter {attached_before} -> {attached_after}")
        caps["b2"] = (tmp / "b2.pcap", lab.tcpdump(b2, tmp / "b2.pcap"))
        serve(lab, b2)
        traffic(lab, b2, a)
        traffic(lab, d, b2)

        time.sleep(0.5)
        neigh_quiet(lab)
        final = metrics(lab)
        agent.send_signal(signal.SIGINT)
        ul_agent.send_signal(signal.SIGINT)
        try:
            agent.wait(timeout=30)
            ul_agent.wait(timeout=30)
        except subprocess.TimeoutExpired:
            raise lt.Failure("an agent did not stop within 30 s of SIGINT")
        lt.check(ul_agent.returncode == 0, f"underlay agent exit code {ul_agent.returncode}: {ul_err.read_text()}")
        lt.check(lt.parse_summary(ul_err.read_text())["lost"] == 0, "underlay agent: ring losses")
        stderr = err.read_text()
        lt.check(agent.returncode == 0, f"agent exit code {agent.returncode}: {stderr}")
        s = lt.parse_summary(stderr)
        lt.log(s["line"])
        lt.check(s["lost"] == 0, "ring losses in a light-traffic run")
        dup = lt.metric(final, 'nfm_packets_ignored_total{reason="duplicate"}')
        lt.log(f"copies dropped by dedup (metric): {dup}")
        lt.check(dup is not None and dup > 0, "no packet copy was dropped, though traffic crossed several interfaces")
        lt.check("dedup dropped" in stderr, "summary line lacks the dedup count")
        for line in stderr.splitlines():
            if "attached to" in line or "detached" in line or "gone" in line:
                lt.log("  agent: " + line)

        pods = {"a": a, "b": b, "e": e, "b2": b2}
        plain_csv = tmp / "live.plain.csv"
        check_where(lab, live_csv, list(pods.values()), plain_csv)
        for name, entry in caps.items():
            if len(entry) > 1 and entry[1] is not None and entry[1].poll() is None:
                lab.stop_tcpdump(entry[1])
        total = {4: 0, 6: 0}
        nd_total = 0
        ul_total = {4: 0, 6: 0}
        remote = {ip for p in lab.nodes[1].pods for ip in (p.ip, p.ip6)}
        ul_flows = lt.read_flows(ul_csv)[1]
        vxlan = [k for k in ul_flows if str(VXLAN_PORT) in (k[1], k[3])]
        lt.check(not vxlan, f"underlay agent with --tunnel inner reported flows on the VXLAN port: {vxlan[:5]}")
        for name, entry in caps.items():
            pcap, pod = entry[0], pods[name]
            ips = {pod.ip, pod.ip6}
            want, nd = directional_packets(pcap, ips)
            nd_total += nd
            got = csv_directional_packets(plain_csv, ips)
            diffs = [f"{k}: capture (packets, bytes) {want.get(k)} vs agent {got.get(k)}"
                     for k in sorted(set(want) | set(got)) if want.get(k) != got.get(k)]
            lt.check(not diffs, f"pod {name} ({pod.ip}, {pod.ip6}): per-direction packets/bytes differ:\n  "
                     + "\n  ".join(diffs[:30]))
            # The underlay agent sees the cross-node part, each packet once in its VXLAN packet.
            cross = lambda t: (t[0] in remote or t[2] in remote)  # noqa: E731
            ul_want = {k: v for k, v in want.items() if cross(k)}
            ul_got = {k: v for k, v in csv_directional_packets(ul_csv, ips).items() if cross(k)}
            diffs = [f"{k}: capture (packets, bytes) {ul_want.get(k)} vs underlay agent {ul_got.get(k)}"
                     for k in sorted(set(ul_want) | set(ul_got)) if ul_want.get(k) != ul_got.get(k)]
            lt.check(not diffs, f"pod {name}: cross-node directions differ on the underlay (--tunnel inner):\n  "
                     + "\n  ".join(diffs[:30]))
            for fam, ip in ((4, pod.ip), (6, pod.ip6)):
                ul_total[fam] += sum(1 for k in ul_want if ip in (k[0], k[2]))
            off_csv = tmp / f"{name}.off.csv"
            lt.replay(tools, pcap, off_csv)
            rows = lt.compare_flows(plain_csv, off_csv, lambda k: k[0] in ips or k[2] in ips)
            lt.check(not rows, f"pod {name}: live rows differ from the replayed capture:\n  " + "\n  ".join(rows[:30]))
            for fam, ip in ((4, pod.ip), (6, pod.ip6)):
                dirs = [k for k in want if ip in (k[0], k[2])]
                protos = sorted({k[4] for k in dirs})
                lt.log(f"pod {name} IPv{fam} ({ip}): {len(dirs)} directions, "
                       f"{sum(want[k][0] for k in dirs)} packets, {sum(want[k][1] for k in dirs)} bytes, "
                       f"protocols {', '.join(protos)}" + (f" ({nd} of them NS/NA)" if fam == 6 else "")
                       + ": equal")
                total[fam] += len(dirs)
        lt.log(f"directions compared: IPv4 {total[4]}, IPv6 {total[6]} (packets and L4 bytes each)")
        # Pods resolve their gateway and same-node peers by NS/NA on their own addresses: these
        # packets are in the comparison, not filtered out.
        lt.check(nd_total > 0, "no neighbour solicitation/advertisement on a pod address in any capture")
        lt.log(f"underlay agent (--tunnel inner): cross-node directions equal: IPv4 {ul_total[4]}, IPv6 {ul_total[6]}")
        for fam in (4, 6):
            lt.check(total[fam] >= 24, f"expected at least 24 IPv{fam} flow directions, got {total[fam]}")
            lt.check(ul_total[fam] >= 24, f"expected at least 24 IPv{fam} cross-node directions, got {ul_total[fam]}")

        # --iface-exclude and --max-ifaces: veths excluded; of flannel.1, cni0 and calib only 2 fit.
        err2 = tmp / "agent2.err"
        p2 = lab.spawn(n1, [tools.live, "--iface", "k8s", "--iface-exclude", "veth*", "--max-ifaces", "2",
                            "--duration", "1.5", "--csv", str(tmp / "limit.csv"), "--metrics-addr", ""],
                       stdout=subprocess.DEVNULL, stderr=open(err2, "w"))
        p2.wait(timeout=30)
        out2 = err2.read_text()
        lt.check(p2.returncode == 0, f"limited agent exit code {p2.returncode}: {out2}")
        lt.check("--max-ifaces limit" in out2, f"no --max-ifaces refusal printed:\n{out2}")
        attached = [l for l in out2.splitlines() if "note: attached to" in l]
        lt.check(len(attached) == 2, f"expected 2 attached interfaces with --max-ifaces 2:\n{out2}")
        lt.check(not any("attached to veth" in l for l in attached), f"--iface-exclude 'veth*' ignored:\n{out2}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nfm", required=True)
    ap.add_argument("--harness", default="")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--agent-arg", action="append", default=[],
                    help="extra agent argument (e.g. --agent-arg=--dedup=off shows the test failing)")
    a = ap.parse_args()
    lt.kernel_ready()
    missing = missing_tools() + [t for t in ("tcpdump", "tshark") if not shutil.which(t)]
    if missing:
        # Not a skip: scripts/install-deps.sh installs all of them, so CI must have them.
        print(f"FAIL k8s_pods: MISSING {', '.join(missing)}; run scripts/install-deps.sh", flush=True)
        return 1
    tools = lt.Tools(a.nfm, a.harness)
    tmp = Path(tempfile.mkdtemp(prefix="nfm-k8s-pods-"))

    def on_term(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    start = time.time()
    try:
        t_k8s_pods(tools, tmp, a.agent_arg)
    except (lt.Failure, LabError) as e:
        msg = str(e)
        if "lacks" in msg and "kernel" in msg:
            lt.skip(f"KERNEL FEATURE MISSING: {msg}")
        print(f"FAIL k8s_pods: {msg}", flush=True)
        print(f"(files in {tmp})")
        return 1
    print(f"PASS k8s_pods ({time.time() - start:.0f} s)")
    if not a.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
