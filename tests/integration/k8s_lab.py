# SPDX-License-Identifier: MIT
"""A Kubernetes-like lab in private network namespaces, built the way a CNI builds a node.

Each node is a network namespace with a Linux bridge (cni0). Pods are network namespaces wired
to it by Debian's containernetworking-plugins (/usr/lib/cni/bridge + host-local IPAM), run with
CNI_COMMAND=ADD / DEL exactly as a container runtime does (environment, config JSON on stdin,
the plugin run inside the node namespace). With Lab(ipv6=True) pods are dual-stack: host-local
gets two ranges, 10.<b>.<i>.0/24 and fd10:<b>:<i>::/64, and the gateway (cni0) holds the first
address of each; by default (ipv6=False) pods are IPv4 only and IPv6 is disabled in every lab
namespace.
Nodes are joined by a veth "underlay" (ul0, IPv4 only: 192.168.<b>.<i>/24 in each node, its peer
on a bridge in a "switch" namespace) with a VXLAN overlay (flannel.1, VNI 42, UDP 4789, MTU 1450)
and, like Flannel's vxlan backend, one onlink route per remote pod CIDR and family via the
remote VTEP address (10.<b>.<i>.0, and fd10:<b>::<i> when dual-stack) with a permanent
neighbour entry; both families share the VTEP's FDB entry, so IPv6 pod traffic crosses the IPv4
underlay.
Offloads (TSO/GSO/GRO) are off on every veth end, the bridge and the VXLAN device, so every hook
and every capture sees wire-sized packets.

IPv6 background traffic (dual-stack): DAD is off (accept_dad=0; addresses usable at once), pods send no
router solicitations (router_solicitations=0, accept_ra=0), ul0 and the switch have no IPv6,
neighbour entries stay REACHABLE for an hour (base_reachable_time_ms), and an entry learnt
STALE (from a received solicitation) is probed at its first use, not 5 s later
(delay_first_probe_time=0), so no NUD probe fires after the traffic that caused it, possibly
after a capture stopped (Lab.neigh_busy tells whether a resolution or probe is under way).
What remains (MLD reports, and the link-local addresses' packets, at
interface up) uses link-local, unspecified or multicast addresses only, never a pod's address;
neighbour solicitations and advertisements for pod addresses happen only when the pods' traffic
needs them, i.e. inside the captures.

Nothing is created in, or sends traffic to, the root namespace: all addresses are private to
the lab's namespaces and the underlay is a veth pair between two node namespaces.

    with Lab(nodes=2, ipv6=True) as lab:
        a = lab.create_pod(0, "a")              # pod on node 0 (eth0, 10.<b>.1.x/24, fd10:<b>:1::x/64)
        b = lab.create_pod(1, "b", host_ifname="calib")  # host veth renamed, like Calico
        lab.exec(a, ["ping", "-c", "1", b.ip])
        cap = lab.tcpdump(b, Path("/tmp/b.pcap")); ...; lab.stop_tcpdump(cap)
        lab.delete_pod(a)

Standard library only. Needs root, iproute2, ethtool, tcpdump (for captures) and the CNI
plugins in /usr/lib/cni (CNI_PATH); LabError names what is missing.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

CNI_PATH = "/usr/lib/cni"
VXLAN_PORT = 4789
VXLAN_VNI = 42
VXLAN_DEV = "flannel.1"
BRIDGE = "cni0"
POD_MTU = 1450  # 1500 - 50 bytes of VXLAN/UDP/IPv4/Ethernet outer headers (inner IPv4 or IPv6)
REACHABLE_MS = 3_600_000  # neighbour entries stay REACHABLE: no NUD probes during a test


class LabError(Exception):
    pass


def _run(cmd: list[str], stdin: str | None = None, env: dict | None = None,
         check: bool = True) -> subprocess.CompletedProcess:
    p = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if check and p.returncode != 0:
        raise LabError(f"{' '.join(cmd)} -> rc {p.returncode}: {(p.stderr or p.stdout).strip()}")
    return p


def missing_tools() -> list[str]:
    """What the lab needs and this machine lacks ([] when complete)."""
    out = [t for t in ("ip", "ethtool") if not shutil.which(t)]
    out += [f"{CNI_PATH}/{p} (package containernetworking-plugins)" for p in ("bridge", "host-local")
            if not os.access(f"{CNI_PATH}/{p}", os.X_OK)]
    return out


def _offloads_off(ns: str, dev: str, strict: bool = False) -> None:
    """TSO, GSO and GRO off. A bridge or vxlan device may refuse some of them; a veth takes all
    three, and with strict=True they are read back (ethtool -k) and set again until they are off:
    a pod whose eth0 kept GSO on would be captured as super-packets by tcpdump while every hook
    reports wire segments."""
    want = ("tcp-segmentation-offload", "generic-segmentation-offload", "generic-receive-offload")
    for _ in range(10):
        _run(["ip", "netns", "exec", ns, "ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off"],
             check=False)
        if not strict:
            return
        shown = _run(["ip", "netns", "exec", ns, "ethtool", "-k", dev], check=False).stdout
        if all(f"{k}: off" in shown for k in want):
            return
        time.sleep(0.1)
    raise LabError(f"offloads still on for {dev} in {ns} after 10 tries: {shown.strip()[:300]}")


def _ipv6_quiet(ns: str) -> None:
    """IPv6 on, but without spontaneous packets that could fall outside a capture: no DAD
    (addresses are usable at once, the CNI plugin need not wait for them to settle), no router
    solicitations or accepted advertisements, and long REACHABLE times for new interfaces."""
    for k in ("all", "default"):
        for key, val in (("disable_ipv6", 0), ("accept_dad", 0), ("router_solicitations", 0), ("accept_ra", 0)):
            _run(["ip", "netns", "exec", ns, "sysctl", "-qw", f"net.ipv6.conf.{k}.{key}={val}"])


def _neigh_prompt(ns: str, dev: str) -> None:
    """IPv6 neighbour discovery on `dev` only while the traffic that needs it flows: entries stay
    REACHABLE for REACHABLE_MS (setting the base time re-draws the device's reachable time at
    once), and a STALE entry (learnt from a neighbour's solicitation) is probed at its first use
    instead of 5 s later, when a capture may have stopped."""
    for key, val in (("base_reachable_time_ms", REACHABLE_MS), ("delay_first_probe_time", 0)):
        _run(["ip", "netns", "exec", ns, "sysctl", "-qw", f"net.ipv6.neigh.{dev}.{key}={val}"])


@dataclass
class Node:
    index: int           # 1-based: pod CIDRs 10.<b>.<index>.0/24 and fd10:<b>:<index>::/64
    ns: str              # network namespace name
    underlay_ip: str     # on ul0
    pod_cidr: str
    vtep_ip: str         # 10.<b>.<index>.0/32 on flannel.1
    pod_cidr6: str
    vtep_ip6: str        # fd10:<b>::<index>/128 on flannel.1
    ipam_dir: str        # host-local dataDir of this node
    pods: list["Pod"] = field(default_factory=list)


@dataclass
class Pod:
    name: str
    node: Node
    ns: str              # the pod's network namespace (/var/run/netns/<ns>)
    container_id: str
    ip: str = ""         # IPv4
    ip6: str = ""        # IPv6 (global, from the second host-local range; "" unless dual-stack)
    mac: str = ""
    host_ifname: str = ""  # the host (node-side) veth end
    host_ifindex: int = 0


class Lab:
    """Nodes and pods in network namespaces; removes everything on exit (also after errors).

    Names carry the process id, so parallel labs do not collide. `b` picks the second octet of
    the pod network (10.<b>.0.0/16) and the third of the underlay (192.168.<b>.0/24)."""

    def __init__(self, nodes: int = 2, b: int = 244, prefix: str = "nfk", ipv6: bool = False):
        if not 1 <= nodes <= 8:
            raise LabError("nodes: 1 .. 8")
        self.tag = f"{prefix}{os.getpid() % 100000}"
        self.b = b
        self.ipv6 = ipv6
        self.n_nodes = nodes
        self.nodes: list[Node] = []
        self.procs: list[subprocess.Popen] = []
        self.tmp = Path(tempfile.mkdtemp(prefix=f"{self.tag}-"))
        self._seq = 0

    # -- life cycle ---------------------------------------------------------------------------

    def __enter__(self) -> "Lab":
        missing = missing_tools()
        if missing:
            raise LabError("the k8s lab needs " + ", ".join(missing) + "; run scripts/install-deps.sh")
        try:
            self._build()
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.cleanup()

    def _build(self) -> None:
        for i in range(1, self.n_nodes + 1):
            ns = f"{self.tag}n{i}"
            _run(["ip", "netns", "add", ns])
            self._private_resolver(ns)
            node = Node(index=i, ns=ns, underlay_ip=f"192.168.{self.b}.{i}",
                        pod_cidr=f"10.{self.b}.{i}.0/24", vtep_ip=f"10.{self.b}.{i}.0",
                        pod_cidr6=f"fd10:{self.b}:{i}::/64", vtep_ip6=f"fd10:{self.b}::{i}",
                        ipam_dir=str(self.tmp / f"ipam-n{i}"))
            self.nodes.append(node)
            self.node_exec(node, ["sysctl", "-qw", "net.ipv4.ip_forward=1"])
            for k in ("all", "default"):
                self.node_exec(node, ["sysctl", "-qw", f"net.ipv4.conf.{k}.rp_filter=0"])
            self._ipv6_setup(ns)
            if self.ipv6:
                self.node_exec(node, ["sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"])
            _run(["ip", "-n", ns, "link", "set", "lo", "up"])
        if self.n_nodes < 2:
            return
        # Underlay: one veth pair per node to a bridge in a switch namespace (a bridge in one
        # node's namespace would put the other nodes' underlay on that node's interfaces).
        sw = f"{self.tag}sw"
        _run(["ip", "netns", "add", sw])
        self._switch = sw
        for k in ("all", "default") if self.ipv6 else ():  # the underlay is IPv4 only
            _run(["ip", "netns", "exec", sw, "sysctl", "-qw", f"net.ipv6.conf.{k}.disable_ipv6=1"])
        _run(["ip", "-n", sw, "link", "add", "br0", "type", "bridge"])
        _run(["ip", "-n", sw, "link", "set", "br0", "up"])
        for node in self.nodes:
            peer = f"sw{node.index}"
            _run(["ip", "link", "add", "ul0", "netns", node.ns, "type", "veth", "peer", "name", peer,
                  "netns", sw])
            _run(["ip", "-n", sw, "link", "set", peer, "master", "br0", "up"])
            if self.ipv6:
                _run(["ip", "netns", "exec", node.ns, "sysctl", "-qw", "net.ipv6.conf.ul0.disable_ipv6=1"])
            _run(["ip", "-n", node.ns, "addr", "add", f"{node.underlay_ip}/24", "dev", "ul0"])
            _run(["ip", "-n", node.ns, "link", "set", "ul0", "up"])
            _offloads_off(node.ns, "ul0")
            _offloads_off(sw, peer)
        for node in self.nodes:
            # nolearning + one static FDB entry per remote VTEP MAC (below), as Flannel does.
            _run(["ip", "-n", node.ns, "link", "add", VXLAN_DEV, "type", "vxlan", "id", str(VXLAN_VNI),
                  "dev", "ul0", "local", node.underlay_ip, "dstport", str(VXLAN_PORT), "nolearning"])
            _run(["ip", "-n", node.ns, "link", "set", VXLAN_DEV, "mtu", str(POD_MTU), "up"])
            _run(["ip", "-n", node.ns, "addr", "add", f"{node.vtep_ip}/32", "dev", VXLAN_DEV])
            if self.ipv6:
                _run(["ip", "-n", node.ns, "addr", "add", f"{node.vtep_ip6}/128", "dev", VXLAN_DEV, "nodad"])
            _offloads_off(node.ns, VXLAN_DEV)
        for node in self.nodes:
            for other in self.nodes:
                if other is node:
                    continue
                vtep_mac = self._mac(other.ns, VXLAN_DEV)
                # Flannel's vxlan backend: route via the remote VTEP address (onlink), a
                # permanent ARP entry for it, and an FDB entry sending its MAC to the node.
                _run(["ip", "-n", node.ns, "route", "add", other.pod_cidr, "via", other.vtep_ip, "dev",
                      VXLAN_DEV, "onlink"])
                _run(["ip", "-n", node.ns, "neigh", "replace", other.vtep_ip, "lladdr", vtep_mac, "dev",
                      VXLAN_DEV, "nud", "permanent"])
                if self.ipv6:
                    _run(["ip", "-n", node.ns, "-6", "route", "add", other.pod_cidr6, "via", other.vtep_ip6,
                          "dev", VXLAN_DEV, "onlink"])
                    _run(["ip", "-n", node.ns, "-6", "neigh", "replace", other.vtep_ip6, "lladdr", vtep_mac,
                          "dev", VXLAN_DEV, "nud", "permanent"])
                _run(["bridge", "-n", node.ns, "fdb", "append", vtep_mac, "dev", VXLAN_DEV, "dst",
                      other.underlay_ip])

    @staticmethod
    def _private_resolver(ns: str) -> None:
        """`ip netns exec` bind-mounts /etc/netns/<ns>/* over /etc: a resolver on the namespace's
        own loopback keeps name lookups (Python's http.server calls getfqdn) inside the lab."""
        d = Path("/etc/netns") / ns
        d.mkdir(parents=True, exist_ok=True)
        (d / "resolv.conf").write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")

    def cleanup(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                try:
                    p.kill()
                    p.wait(timeout=5)
                except (OSError, subprocess.TimeoutExpired):
                    pass
        namespaces = [p.ns for n in self.nodes for p in n.pods] + [n.ns for n in self.nodes]
        if getattr(self, "_switch", None):
            namespaces.append(self._switch)
        for ns in namespaces:
            pids = subprocess.run(["ip", "netns", "pids", ns], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
            shutil.rmtree(Path("/etc/netns") / ns, ignore_errors=True)
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- pods ---------------------------------------------------------------------------------

    def _ipv6_setup(self, ns: str) -> None:
        """Dual-stack: IPv6 on and quiet (_ipv6_quiet); else IPv6 off, so that nothing
        spontaneous (router solicitations, MLD) races the tests."""
        if self.ipv6:
            _ipv6_quiet(ns)
            return
        for k in ("all", "default"):
            _run(["ip", "netns", "exec", ns, "sysctl", "-qw", f"net.ipv6.conf.{k}.disable_ipv6=1"])

    def _cni_conf(self, node: Node) -> str:
        ranges = [[{"subnet": node.pod_cidr}]] + ([[{"subnet": node.pod_cidr6}]] if self.ipv6 else [])
        routes = [{"dst": "0.0.0.0/0"}] + ([{"dst": "::/0"}] if self.ipv6 else [])
        return json.dumps({
            "cniVersion": "1.0.0",
            "name": f"{self.tag}-net",
            "type": "bridge",
            "bridge": BRIDGE,
            "isGateway": True,
            "ipMasq": False,
            "hairpinMode": False,
            "mtu": POD_MTU,
            "ipam": {"type": "host-local", "ranges": ranges, "routes": routes, "dataDir": node.ipam_dir},
        })

    def _cni(self, command: str, pod: Pod) -> dict:
        env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "CNI_COMMAND": command,
               "CNI_CONTAINERID": pod.container_id, "CNI_NETNS": f"/var/run/netns/{pod.ns}",
               "CNI_IFNAME": "eth0", "CNI_PATH": CNI_PATH}
        p = _run(["ip", "netns", "exec", pod.node.ns, f"{CNI_PATH}/bridge"], stdin=self._cni_conf(pod.node),
                 env=env, check=False)
        if p.returncode != 0:
            raise LabError(f"CNI {command} of pod {pod.name} on {pod.node.ns}: rc {p.returncode}: "
                           f"{(p.stdout + p.stderr).strip()}")
        return json.loads(p.stdout) if p.stdout.strip() else {}

    def create_pod(self, node: int | Node, name: str, host_ifname: str = "") -> Pod:
        """CNI ADD of a new pod namespace on `node` (0-based index or Node). `host_ifname`
        renames the node-side veth afterwards (Calico-style deterministic names), so a pod
        re-created under the same name gets the same interface name."""
        node = self.nodes[node] if isinstance(node, int) else node
        self._seq += 1
        pod = Pod(name=name, node=node, ns=f"{self.tag}p{self._seq}", container_id=f"{self.tag}-{name}-{self._seq}")
        _run(["ip", "netns", "add", pod.ns])
        self._private_resolver(pod.ns)
        node.pods.append(pod)
        _run(["ip", "-n", pod.ns, "link", "set", "lo", "up"])
        self._ipv6_setup(pod.ns)
        result = self._cni("ADD", pod)
        ips = [i["address"].split("/")[0] for i in result.get("ips") or []]
        pod.ip = next((i for i in ips if ":" not in i), "")
        pod.ip6 = next((i for i in ips if ":" in i), "")
        if not pod.ip or bool(pod.ip6) != self.ipv6:
            want = "an IPv4 and an IPv6 address" if self.ipv6 else "an IPv4 address only"
            raise LabError(f"CNI ADD of pod {name}: want {want}, result {result}")
        if self.ipv6:
            _neigh_prompt(pod.ns, "eth0")
        pod.mac = self._mac(pod.ns, "eth0")
        host = [i for i in result.get("interfaces", []) if not i.get("sandbox") and i.get("name") != BRIDGE]
        if not host:
            raise LabError(f"CNI ADD of pod {name}: no host veth in the result {result}")
        pod.host_ifname = host[0]["name"]
        if host_ifname:
            _run(["ip", "-n", node.ns, "link", "set", pod.host_ifname, "down"])
            _run(["ip", "-n", node.ns, "link", "set", pod.host_ifname, "name", host_ifname])
            _run(["ip", "-n", node.ns, "link", "set", host_ifname, "up"])
            pod.host_ifname = host_ifname
        _offloads_off(pod.ns, "eth0", strict=True)
        _offloads_off(node.ns, pod.host_ifname, strict=True)
        _offloads_off(node.ns, BRIDGE)
        if self.ipv6:
            _neigh_prompt(node.ns, BRIDGE)
        pod.host_ifindex = int(json.loads(_run(["ip", "-n", node.ns, "-j", "link", "show",
                                                pod.host_ifname]).stdout)[0]["ifindex"])
        return pod

    def delete_pod(self, pod: Pod) -> None:
        """CNI DEL (removes the veth and releases the address), then the namespace."""
        self._cni("DEL", pod)
        _run(["ip", "netns", "del", pod.ns], check=False)
        shutil.rmtree(Path("/etc/netns") / pod.ns, ignore_errors=True)
        pod.node.pods.remove(pod)

    def neigh_busy(self, node: Node) -> list[str]:
        """IPv6 neighbour entries of `node` and its pods still resolving or being probed
        (INCOMPLETE, DELAY, PROBE): their solicitations are yet to come. [] when quiet."""
        out: list[str] = []
        if not self.ipv6:
            return out
        for ns in [node.ns] + [p.ns for p in node.pods]:
            for e in json.loads(_run(["ip", "-n", ns, "-6", "-j", "neigh", "show"]).stdout or "[]"):
                if set(e.get("state", [])) & {"INCOMPLETE", "DELAY", "PROBE"}:
                    out.append(f"{ns} {e.get('dst')} {e.get('dev')} {','.join(e['state'])}")
        return out

    def pods(self) -> list[Pod]:
        return [p for n in self.nodes for p in n.pods]

    # -- running things -----------------------------------------------------------------------

    def exec(self, where: Pod | Node, cmd: list[str], check: bool = True, **kw) -> subprocess.CompletedProcess:
        p = subprocess.run(["ip", "netns", "exec", where.ns, *cmd], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, **kw)
        if check and p.returncode != 0:
            raise LabError(f"in {where.ns}: {' '.join(cmd)} -> rc {p.returncode}: {p.stderr.strip()}")
        return p

    def node_exec(self, node: Node, cmd: list[str], check: bool = True) -> subprocess.CompletedProcess:
        return self.exec(node, cmd, check=check)

    def spawn(self, where: Pod | Node, cmd: list[str], **kw) -> subprocess.Popen:
        """Background process in a pod's or node's namespace, killed at cleanup."""
        p = subprocess.Popen(["ip", "netns", "exec", where.ns, *cmd], **kw)
        self.procs.append(p)
        return p

    def tcpdump(self, pod: Pod, pcap: Path, snaplen: int = 0) -> subprocess.Popen:
        """Capture on the pod's eth0 (the pod's own view); returns once tcpdump listens."""
        if not shutil.which("tcpdump"):
            raise LabError("tcpdump is not installed; run scripts/install-deps.sh")
        p = self.spawn(pod, ["tcpdump", "-i", "eth0", "-w", str(pcap), "-U", "-n", "-s", str(snaplen),
                             "-B", "65536", "--immediate-mode", "--time-stamp-precision=nano"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 10
        buf = ""
        while time.time() < deadline and "listening on" not in buf:
            line = p.stderr.readline()
            if not line:
                break
            buf += line
        if "listening on" not in buf:
            raise LabError(f"tcpdump in pod {pod.name} did not start: {buf.strip()}")
        return p

    @staticmethod
    def stop_tcpdump(p: subprocess.Popen) -> str:
        """Stops a capture; returns tcpdump's stderr (its drop statistics)."""
        time.sleep(1.0)  # let tcpdump write out what is still queued on its socket
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=20)
        return err

    @staticmethod
    def _mac(ns: str, dev: str) -> str:
        return json.loads(_run(["ip", "-n", ns, "-j", "link", "show", dev]).stdout)[0]["address"]

    def host_links(self, node: Node) -> dict[str, int]:
        """Interface name -> ifindex in a node's namespace."""
        return {l["ifname"]: int(l["ifindex"])
                for l in json.loads(_run(["ip", "-n", node.ns, "-j", "link", "show"]).stdout)}


if __name__ == "__main__":  # smoke test: python3 k8s_lab.py (root)
    with Lab(nodes=2, ipv6=True) as lab:
        a = lab.create_pod(0, "a")
        b = lab.create_pod(0, "b", host_ifname="calib")
        c = lab.create_pod(1, "c")
        for src, dst in ((a, b), (a, c), (c, b)):
            for sip, dip in ((src.ip, dst.ip), (src.ip6, dst.ip6)):
                r = lab.exec(src, ["ping", "-c", "1", "-W", "2", dip], check=False)
                print(f"{src.name} ({sip}, {src.host_ifname}) -> {dst.name} ({dip}): rc {r.returncode}")
        lab.delete_pod(b)
        b2 = lab.create_pod(0, "b", host_ifname="calib")
        print(f"b re-created: {b2.ip} {b2.ip6} on {b2.host_ifname} (ifindex {b2.host_ifindex})")
        print(lab.host_links(lab.nodes[0]))
