#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The DaemonSet's pod and the collector's, run for real: the images under runc, started from
bundles generated from deploy/k8s as the kubelet and containerd would start them, inside a lab
node of tests/integration/k8s_lab.py (pods on a CNI bridge, a VXLAN overlay to a second node).

Checks:
- the agent container attaches as the manifest says, becomes ready (/healthz on the node's
  address, as the readinessProbe asks) and sees the traffic between pods;
- SIGTERM (runc kill TERM, as the kubelet sends it) makes it flush and exit 0 within the pod's
  terminationGracePeriodSeconds;
- its CSV lands in the mounted host directory under the name the manifest builds from NODE_NAME,
  and its flows and /metrics (scraped on the node's address) match the same agent binary run
  bare with the same arguments and the same traffic;
- the collector Deployment's container (nfcapd) in its own pod namespace stores the agent's IPFIX
  records: per flow and direction, nfdump's packet counts equal the CSV's;
- a deliberately broken manifest (a capability or the BTF mount removed) makes the run fail with
  a message naming what is missing.

Fails (never skips) when runc, podman or the CNI plugins are missing; skips only without root.
Usage: runc_test.py --cache BUILD/image-cache --nfm BUILD/nfm-xdp
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

SRC = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(SRC / "tests" / "integration"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import k8s_lab  # noqa: E402
import k8s_oci as oci  # noqa: E402

NODE_NAME = "lab-node-1"
DS = SRC / "deploy" / "k8s" / "daemonset.yaml"
COLLECTOR = SRC / "deploy" / "k8s" / "collector" / "collector.yaml"
IPFIX_PATCH = SRC / "deploy" / "k8s" / "collector" / "daemonset-ipfix-patch.yaml"

UDP_SEND = r"""
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[2])))
for i in range(int(sys.argv[4])):
    s.sendto(b"k" * (30 + i), (sys.argv[1], int(sys.argv[3])))
    time.sleep(0.01)
"""
UDP_SINK = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
while True:
    s.recv(4096)
"""


SINKS_STARTED: list[bool] = []  # the UDP sinks outlive one agent run


class Failure(Exception):
    pass


def log(msg: str) -> None:
    print(msg, flush=True)


def check(cond: bool, msg: str) -> None:
    if not cond:
        raise Failure(msg)


def podman_cmd(cache: Path) -> list[str]:
    return ["podman", "--root", str(cache / "storage"), "--runroot", str(cache / "runroot"), "--storage-driver", "vfs"]


def have_image(podman: list[str], image: str) -> bool:
    return subprocess.run([*podman, "image", "exists", image]).returncode == 0


def ensure_images(podman: list[str], cache: Path, agent_image: str, collector_image: str) -> None:
    """The images the manifests name, built here when the store lacks them (the image tier
    builds the agent image as localhost/nfm-xdp:test first; it is tagged as the manifest says)."""
    env = dict(os.environ, PODMAN=" ".join(podman))
    if not have_image(podman, agent_image):
        if have_image(podman, "localhost/nfm-xdp:test"):
            subprocess.run([*podman, "tag", "localhost/nfm-xdp:test", agent_image], check=True)
        else:
            log(f"building {agent_image} (deploy/image/build-image.sh)")
            r = subprocess.run([str(SRC / "deploy/image/build-image.sh"), str(cache), agent_image], env=env,
                               capture_output=True, text=True)
            check(r.returncode == 0, f"agent image build failed: {r.stdout[-1500:]}{r.stderr[-1500:]}")
    if not have_image(podman, collector_image):
        log(f"building {collector_image} (deploy/image/build-collector-image.sh)")
        r = subprocess.run([str(SRC / "deploy/image/build-collector-image.sh"), str(cache), collector_image],
                           env=env, capture_output=True, text=True)
        check(r.returncode == 0, f"collector image build failed: {r.stdout[-1500:]}{r.stderr[-1500:]}")


def http_get(lab: k8s_lab.Lab, node: k8s_lab.Node, url: str) -> tuple[int, str]:
    code = "import sys, urllib.request\ntry:\n r = urllib.request.urlopen(sys.argv[1], timeout=2)\n" \
           " print(r.status); print(r.read().decode())\nexcept Exception as e:\n print(0); print(e)\n"
    p = lab.exec(node, ["python3", "-c", code, url], check=False)
    first, _, rest = p.stdout.partition("\n")
    return int(first or 0), rest


def wait_ready(lab, node, url: str, cont: oci.Container, timeout: float = 30) -> float:
    t0 = time.time()
    while time.time() - t0 < timeout:
        if not cont.running():
            raise Failure(f"container {cont.cid} exited ({cont.proc.returncode}) before it was ready: "
                          f"{cont.stderr().strip()[-600:]}")
        code, _ = http_get(lab, node, url)
        if code == 200:
            return time.time() - t0
        time.sleep(0.3)
    raise Failure(f"{url} not ready within {timeout:.0f} s; agent stderr: {cont.stderr().strip()[-600:]}")


def traffic(lab: k8s_lab.Lab, pods: dict) -> dict[tuple, int]:
    """UDP flows of known sizes between pods on the same node and across nodes, both ways, and
    pings. Returns the UDP flows sent: (src ip, sport, dst ip, dport) -> packets."""
    sent = {}
    plan = [("a", "c", 41001, 7001, 7), ("c", "a", 41002, 7002, 4), ("a", "b", 41003, 7003, 5),
            ("b", "a", 41004, 7004, 3)]
    if not SINKS_STARTED:
        for _, dst, _, dport, _ in plan:
            lab.spawn(pods[dst], ["python3", "-c", UDP_SINK, str(dport)])
        SINKS_STARTED.append(True)
        time.sleep(0.5)
    for src, dst, sport, dport, n in plan:
        lab.exec(pods[src], ["python3", "-c", UDP_SEND, pods[dst].ip, str(sport), str(dport), str(n)])
        sent[(pods[src].ip, str(sport), pods[dst].ip, str(dport))] = n
    lab.exec(pods["a"], ["ping", "-c", "3", "-i", "0.2", "-W", "1", pods["c"].ip])
    time.sleep(0.5)
    return sent


def csv_flows(path: Path) -> dict[tuple, tuple[int, int, int, int]]:
    """UDP rows: (src ip, sport, dst ip, dport) -> (fwd pkts, bwd pkts, fwd bytes, bwd bytes)."""
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    out = {}
    for r in rows:
        if r["protocol"] not in ("UDP", "17"):
            continue
        out[(r["src_ip"], r["src_port"], r["dst_ip"], r["dst_port"])] = (
            int(r["fwd_packets_count"]), int(r["bwd_packets_count"]),
            int(r["fwd_total_payload_bytes"]), int(r["bwd_total_payload_bytes"]))
    return out


def metric_shape(text: str) -> tuple[set[str], dict[str, str]]:
    """Metric family names, and the label sets + values of the series that describe the setup
    (what must be equal between the container and the bare run)."""
    names = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
    keep = {}
    for line in text.splitlines():
        if line.startswith(("nfm_attach_info", "nfm_interface_up", "nfm_interfaces_attached", "nfm_capture_attached",
                            "nfm_flow_table_capacity", "nfm_ring_size_bytes")):
            k, _, v = line.rpartition(" ")
            keep[k] = v
        elif line.startswith("nfm_build_info"):
            keep[re.sub(r',?attach_mode="[^"]*"', "", line.rpartition(" ")[0])] = "1"
    return names, keep


def run_agent_once(lab, node, how: str, argv: list[str], env: dict, bundle=None, state=None, logs=None,
                   pods=None, url=""):
    """One agent run (container or bare) with the test traffic. Returns (sent, metrics text,
    exit status, stop seconds, stderr)."""
    if how == "container":
        cont = oci.Container(bundle, f"nfm-agent-{os.getpid()}", state, logs)
        with cont:
            ready = wait_ready(lab, node, url, cont)
            log(f"container: ready after {ready:.1f} s")
            # After attach the agent keeps no capability (the bounding set stays what the runtime
            # granted: lowering it needs CAP_SETPCAP, which the manifest does not give).
            pid = json.loads(cont.runc("state", cont.cid).stdout)["pid"]
            for tid in os.listdir(f"/proc/{pid}/task"):
                st = Path(f"/proc/{pid}/task/{tid}/status").read_text()
                caps = dict(re.findall(r"^(Cap\w+):\s+([0-9a-f]+)$", st, re.M))
                left = {k: v for k, v in caps.items() if k in ("CapEff", "CapPrm", "CapAmb") and int(v, 16)}
                check(not left, f"container: thread {tid} keeps capabilities after attach: {left}")
            log("container: no thread keeps a capability after attach")
            sent = traffic(lab, pods)
            code, metrics = http_get(lab, node, url.replace("/healthz", "/metrics"))
            check(code == 200, f"/metrics on the node address: HTTP {code}: {metrics[:200]}")
            rc = cont.stop()
            return sent, metrics, rc, cont.stop_s, cont.stderr(), cont.killed
    p = subprocess.Popen(["ip", "netns", "exec", node.ns, *argv], env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    try:
        t0 = time.time()
        while True:
            if p.poll() is not None:
                raise Failure(f"bare agent exited ({p.returncode}): {p.stderr.read()[-600:]}")
            if http_get(lab, node, url)[0] == 200:
                break
            check(time.time() - t0 < 30, "bare agent not ready within 30 s")
            time.sleep(0.3)
        sent = traffic(lab, pods)
        code, metrics = http_get(lab, node, url.replace("/healthz", "/metrics"))
        t1 = time.time()
        p.terminate()
        _, err = p.communicate(timeout=60)
        return sent, metrics, p.returncode, time.time() - t1, err, False
    finally:
        if p.poll() is None:
            p.kill()


def nfdump_flows(folder: Path) -> dict[tuple, int]:
    files = [str(f) for f in folder.rglob("nfcapd.*")]
    check(files, f"the collector wrote no nfcapd file in its volume ({folder})")
    r = subprocess.run(["nfdump", "-R", str(folder), "-q", "-o", "fmt:%sa %sp %da %dp %pr %pkt"],
                       capture_output=True, text=True)
    check(r.returncode == 0, f"nfdump -R: {r.stderr.strip()}")
    out: dict[tuple, int] = {}
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) < 6 or f[4] != "UDP":
            continue
        k = (f[0], f[1], f[2], f[3])
        out[k] = out.get(k, 0) + int(float(f[5]))
    return out


def break_checks(podman, lab, node, facts, work: Path, agent_image: str, state: Path, logs: Path) -> None:
    """A manifest with a capability or the BTF mount removed must make the run fail with a
    message naming what is missing."""
    base = oci.find_workload(oci.load_docs(DS), "DaemonSet", "nfm-xdp")
    cases = []
    for cap in ("NET_ADMIN", "BPF", "PERFMON"):
        w = oci.copy.deepcopy(base)
        c = w["spec"]["template"]["spec"]["containers"][0]
        c["securityContext"]["capabilities"]["add"] = [x for x in c["securityContext"]["capabilities"]["add"]
                                                       if x != cap]
        cases.append((f"capability {cap} removed", w, [f"lacks CAP_{cap}", f"CAP_{cap}"]))
    # The flows volume: without it the CSV would go to the read-only root file system. (The BTF
    # mount is not a break here: the runtime's own /sys mount already shows /sys/kernel/btf.)
    w = oci.copy.deepcopy(base)
    c = w["spec"]["template"]["spec"]["containers"][0]
    c["volumeMounts"] = [m for m in c["volumeMounts"] if m["mountPath"] != "/var/lib/nfm-xdp"]
    cases.append(("flows volume mount removed", w, ["/var/lib/nfm-xdp"]))
    for name, w, needles in cases:
        with oci.Rootfs(podman, agent_image, work / f"break-{len(name)}") as rf:
            b = oci.make_bundle(w, "nfm-xdp", facts, work / f"bundle-break-{len(name)}", podman, rf.merged)
            cont = oci.Container(b, f"nfm-break-{os.getpid()}", state, logs)
            with cont:
                t0 = time.time()
                while cont.running() and time.time() - t0 < 20:
                    time.sleep(0.2)
                still = cont.running()
                rc = cont.stop()
                err = cont.stderr()
            check(not still and rc != 0, f"{name}: the agent kept running (or exit 0) — the break went unnoticed")
            hit = [n for n in needles[:1] if n in err]
            check(hit, f"{name}: exit {rc}, but stderr does not say {needles[0]!r}: {err.strip()[-400:]}")
            log(f"break check: {name}: exit {rc}, stderr names {hit[0]}: {err.strip().splitlines()[-1][:160]}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", required=True, type=Path)
    ap.add_argument("--nfm", required=True)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("SKIP runc tier: needs root (runc, network namespaces, BPF)")
        return 77
    missing = [t for t in ("runc", "podman", "nfdump") if not shutil.which(t)] + k8s_lab.missing_tools()
    if missing:
        print(f"FAIL runc tier: missing {', '.join(missing)} (scripts/install-deps.sh installs them)")
        return 1
    work = Path(tempfile.mkdtemp(prefix="nfm-runc-"))
    try:
        run(a, work)
    except (Failure, oci.BundleError, k8s_lab.LabError) as e:
        print(f"FAIL runc tier: {e}\n(files in {work})", flush=True)
        return 1
    print("PASS runc tier")
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def run(a, work: Path) -> None:
    cache = a.cache.resolve()
    podman = podman_cmd(cache)
    ds = oci.strategic_merge(oci.find_workload(oci.load_docs(DS), "DaemonSet", "nfm-xdp"),
                             oci.load_docs(IPFIX_PATCH)[0])
    coll = oci.find_workload(oci.load_docs(COLLECTOR), "Deployment", "nfm-collector")
    agent_image = ds["spec"]["template"]["spec"]["containers"][0]["image"]
    collector_image = coll["spec"]["template"]["spec"]["containers"][0]["image"]
    ensure_images(podman, cache, agent_image, collector_image)
    state, logs = work / "runc-state", work / "logs"
    state.mkdir()
    logs.mkdir()
    with k8s_lab.Lab(nodes=2, b=246) as lab:
        node = lab.nodes[0]
        # --iface=auto attaches to the interfaces that carry the default route: give the node one
        # (over the underlay, like a real node's uplink).
        lab.node_exec(node, ["ip", "route", "replace", "default", "dev", "ul0"])
        pods = {"a": lab.create_pod(0, "a"), "b": lab.create_pod(0, "b"), "c": lab.create_pod(1, "c")}
        cpod = lab.create_pod(0, "collector")
        # The collector Deployment: its own pod sandbox (CNI ADD above), not hostNetwork.
        cfacts = oci.PodFacts(node_name=NODE_NAME, host_ip=node.underlay_ip, pod_ip=cpod.ip, pod_name="nfm-collector-0",
                              namespace="nfm-xdp", netns_path=f"/var/run/netns/{cpod.ns}")
        with oci.Rootfs(podman, collector_image, work / "collector-fs") as crf:
            cb = oci.make_bundle(coll, "nfcapd", cfacts, work / "bundle-collector", podman, crf.merged)
            coll_dir = Path(next(m["source"] for m in cb.config["mounts"] if m["destination"] == "/var/cache/nfcapd"))
            collector = oci.Container(cb, f"nfm-collector-{os.getpid()}", state, logs)
            with collector:
                t0 = time.time()
                while "4739" not in lab.exec(cpod, ["ss", "-lun"], check=False).stdout:
                    check(collector.running(), f"collector exited: {collector.stderr()[-400:]}")
                    check(time.time() - t0 < 15, "nfcapd did not bind UDP 4739 within 15 s")
                    time.sleep(0.2)
                log(f"collector: nfcapd listening in pod {cpod.ip} after {time.time() - t0:.1f} s")
                host_dir = work / "host-var-log-nfm-xdp"
                facts = oci.PodFacts(node_name=NODE_NAME, host_ip=node.underlay_ip, pod_name=f"nfm-xdp-{NODE_NAME}",
                                     namespace="nfm-xdp", netns_path=f"/var/run/netns/{node.ns}",
                                     host_paths={"/var/log/nfm-xdp": str(host_dir)},
                                     hosts={"nfm-collector.nfm-xdp": cpod.ip})
                url = f"http://{node.underlay_ip}:9477/healthz"
                with oci.Rootfs(podman, agent_image, work / "agent-fs") as arf:
                    b = oci.make_bundle(ds, "nfm-xdp", facts, work / "bundle-agent", podman, arf.merged)
                    log("agent argv (from the manifest): " + " ".join(b.config["process"]["args"]))
                    log("agent capabilities: " + " ".join(b.config["process"]["capabilities"]["effective"]))
                    # SYS_RESOURCE only raises RLIMIT_MEMLOCK for kernels < 5.11 (the manifest says
                    # so); any other capability this host cannot grant makes the test meaningless.
                    if b.ungranted:
                        log(f"NOTE: this host's bounding set lacks {', '.join(b.ungranted)}: "
                            f"the container runs without {'it' if len(b.ungranted) == 1 else 'them'}")
                    check(not set(b.ungranted) - {"CAP_SYS_RESOURCE"},
                          f"this host cannot grant {b.ungranted}: the agent's run would not be the manifest's")
                    sent, m_cont, rc, stop_s, err, killed = run_agent_once(
                        lab, node, "container", [], {}, bundle=b, state=state, logs=logs, pods=pods, url=url)
                check(not killed and rc == 0,
                      f"agent container: exit {rc}{' (SIGKILL after the grace period)' if killed else ''}: {err[-400:]}")
                check(stop_s <= b.grace_s, f"agent took {stop_s:.1f} s to stop, grace period {b.grace_s:.0f} s")
                log(f"container: SIGTERM -> exit 0 in {stop_s:.2f} s (grace {b.grace_s:.0f} s)")
                time.sleep(1.0)
                rc_c = collector.stop()
                log(f"collector: SIGTERM -> exit {rc_c} in {collector.stop_s:.2f} s")
        files = sorted(host_dir.glob("*.csv"))
        check([f.name for f in files] == [f"flows-{NODE_NAME}.csv"],
              f"CSV files in the host directory: {[f.name for f in files]}, expected flows-{NODE_NAME}.csv "
              f"(the manifest's --csv with $(NODE_NAME))")
        cont_flows = csv_flows(files[0])
        agent_args = b.config["process"]["args"]
        # What the manifest attaches to: the pods' interfaces (the k8s preset: the CNI bridge's
        # veths) or only the uplink (--iface=auto).
        pods_seen = any(x in ("--iface=k8s", "--iface=veth*") for x in agent_args)
        if not pods_seen:
            # --iface=auto: the node's uplink only. Same-node pod traffic never reaches it and the
            # cross-node traffic crosses it inside VXLAN: tunnel flows (outer UDP 4789).
            tunnel = sum(v[0] + v[1] for k, v in cont_flows.items() if k[3] == "4789" or k[1] == "4789")
            cross = sum(n for k, n in sent.items() if k[0].split(".")[2] != k[2].split(".")[2])
            check(tunnel >= cross, f"container: {tunnel} packets in VXLAN flows on the uplink, "
                                   f"{cross} pod packets sent across nodes")
            log(f"container: --iface=auto sees the uplink: {tunnel} packets in VXLAN tunnel flows "
                f"({cross} pod UDP packets sent across nodes)")
        else:
            # Each packet once (--dedup across the pods' veths, the bridge and the uplink with
            # --tunnel inner): every pod flow with exactly the packets sent, none twice.
            for k, n in sent.items():
                got = cont_flows.get(k)
                check(got is not None and got[0] == n and got[1] == 0,
                      f"container: flow {k}: {got}, sent {n} packets one way")
            tunnel = [k for k in cont_flows if "4789" in (k[1], k[3])]
            if "--tunnel=inner" in agent_args:
                check(not tunnel, f"container: --tunnel=inner, yet flows keyed on the VXLAN port: {tunnel}")
            log(f"container: {len(sent)} pod UDP flows (same node and across nodes) with their packet counts, "
                f"{len(tunnel)} tunnel flows")
        got_coll = nfdump_flows(coll_dir)
        for k, v in cont_flows.items():
            back = (k[2], k[3], k[0], k[1])
            check(got_coll.get(k, 0) == v[0] and got_coll.get(back, 0) == v[1],
                  f"collector: flow {k}: nfdump has {got_coll.get(k, 0)} + {got_coll.get(back, 0)} packets, "
                  f"the CSV {v[0]} + {v[1]}")
        log(f"collector: nfdump's per-direction packet counts equal the CSV's for all {len(cont_flows)} UDP flows")

        # The same agent binary, bare, with the same arguments (paths mapped to the test's folder,
        # the collector's service name by its address: no resolver here), the same traffic.
        bare_dir = work / "bare"
        bare_dir.mkdir()
        argv = [a.nfm] + [x.replace("/var/lib/nfm-xdp", str(bare_dir)).replace("nfm-collector.nfm-xdp", cpod.ip)
                          for x in b.config["process"]["args"][1:]]
        env = dict(os.environ, **dict(kv.split("=", 1) for kv in b.config["process"]["env"]))
        sent2, m_bare, rc2, _, err2, _ = run_agent_once(lab, node, "bare", argv, env, pods=pods, url=url)
        check(rc2 == 0, f"bare agent exit {rc2}: {err2[-400:]}")
        bare_flows = csv_flows(bare_dir / f"flows-{NODE_NAME}.csv")
        check(cont_flows == bare_flows, f"UDP flows differ: container only {sorted(set(cont_flows.items()) - set(bare_flows.items()))}, "
                                        f"bare only {sorted(set(bare_flows.items()) - set(cont_flows.items()))}")
        n_c, s_c = metric_shape(m_cont)
        n_b, s_b = metric_shape(m_bare)
        check(n_c == n_b, f"metric families differ: only container {sorted(n_c - n_b)}, only bare {sorted(n_b - n_c)}")
        check(s_c == s_b, f"setup series differ: container {sorted(set(s_c.items()) - set(s_b.items()))} "
                          f"bare {sorted(set(s_b.items()) - set(s_c.items()))}")
        log(f"bare run: same flows, {len(n_c)} metric families and {len(s_c)} setup series equal")

        facts_b = oci.PodFacts(node_name=NODE_NAME, host_ip=node.underlay_ip, netns_path=f"/var/run/netns/{node.ns}",
                               host_paths={"/var/log/nfm-xdp": str(work / "host-break")})
        break_checks(podman, lab, node, facts_b, work, agent_image, state, logs)


if __name__ == "__main__":
    sys.exit(main())
