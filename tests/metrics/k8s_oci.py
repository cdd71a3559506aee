# SPDX-License-Identifier: MIT
"""Turns a container of a Kubernetes manifest into an OCI runtime bundle, the way the kubelet
and containerd would start it, and runs it with runc.

What is taken from the manifest (so that the bundle breaks when the manifest breaks):
- the pod template's container by name: image, command/args (Kubernetes rules: `command`
  replaces the image ENTRYPOINT, `args` its CMD; `$(VAR)` expands from the container's env,
  `$$` escapes), env (`value`, and `valueFrom.fieldRef` for spec.nodeName, status.hostIP,
  status.podIP, metadata.name, metadata.namespace given values by the caller; anything else is
  an error naming the field), workingDir (else the image's);
- securityContext: runAsUser/runAsGroup, privileged (every capability, /sys read-write, no
  masked paths), capabilities drop/add applied to containerd's default set,
  readOnlyRootFilesystem, allowPrivilegeEscalation (no_new_privs);
- volumeMounts with their volumes: hostPath (type Directory must exist, DirectoryOrCreate is
  created; the caller may map host paths elsewhere so a test writes under its own folder),
  emptyDir (a fresh folder); readOnly;
- hostNetwork: the pod shares the node's network namespace, else the pod sandbox's (the caller
  passes the namespace a CNI plugin made); terminationGracePeriodSeconds for the stop;
- strategic-merge patches of the kind kustomize applies to this project's manifests
  (containers merged by name, scalar lists such as args replaced).

What a real node adds and this does not: cgroup limits (resources), seccomp/AppArmor profiles,
probes run by the kubelet (the caller can poll the same endpoints), image pulls, rlimits (not
settable on this machine; containerd passes its own).
"""
from __future__ import annotations

import copy
import json
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

# containerd's default capability set for a container without privileged (CRI plugin,
# oci.defaultUnixCaps): what `capabilities.drop`/`add` are applied to.
CONTAINERD_DEFAULT_CAPS = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
    "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
    "CAP_AUDIT_WRITE",
]


class BundleError(Exception):
    """The manifest cannot be turned into a bundle (names the field and why)."""


def all_caps() -> list[str]:
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    names = ["CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
             "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
             "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
             "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
             "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
             "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE"]
    return ["CAP_" + n for n in names[:last + 1]]


def load_docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def find_workload(docs: list[dict], kind: str, name: str) -> dict:
    for d in docs:
        if d.get("kind") == kind and d.get("metadata", {}).get("name") == name:
            return copy.deepcopy(d)
    raise BundleError(f"no {kind} named {name!r} in the manifest")


def strategic_merge(base: dict, patch: dict) -> dict:
    """The subset of kubectl/kustomize strategic merge used by this project's patches: maps
    merge recursively, `containers`/`volumes`/`volumeMounts`/`env` merge by `name`, any other
    list (args, command, ports) is replaced."""
    out = copy.deepcopy(base)
    for k, v in patch.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = strategic_merge(out[k], v)
        elif isinstance(v, list) and k in ("containers", "volumes", "volumeMounts", "env") and \
                isinstance(out.get(k), list):
            by_name = {e.get("name"): i for i, e in enumerate(out[k])}
            for e in v:
                if e.get("name") in by_name:
                    i = by_name[e["name"]]
                    out[k][i] = strategic_merge(out[k][i], e)
                else:
                    out[k].append(copy.deepcopy(e))
        else:
            out[k] = copy.deepcopy(v)
    return out


def expand(s: str, env: dict[str, str]) -> str:
    """Kubernetes' $(VAR) expansion: defined variables are replaced, $$ is a literal $,
    undefined references stay as written."""
    def rep(m: re.Match) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1)
        return env.get(name, m.group(0))
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)", rep, s)


@dataclass
class PodFacts:
    """What the API server and the kubelet fill in for a pod on a node."""
    node_name: str
    host_ip: str
    pod_ip: str = ""
    pod_name: str = "pod-0"
    namespace: str = "default"
    netns_path: str = ""          # the pod sandbox's network namespace (hostNetwork: the node's)
    host_paths: dict[str, str] = field(default_factory=dict)  # hostPath -> where the test keeps it
    hosts: dict[str, str] = field(default_factory=dict)       # /etc/hosts entries (service DNS names)


@dataclass
class Bundle:
    path: Path
    config: dict
    container: dict
    grace_s: float
    image: str
    ungranted: list[str] = field(default_factory=list)  # asked for, outside this host's bounding set


def host_bounding_caps() -> set[str]:
    """Capabilities this process may grant (its bounding set): a runtime cannot give more."""
    v = int(re.search(r"^CapBnd:\s+([0-9a-f]+)", Path("/proc/self/status").read_text(), re.M).group(1), 16)
    return {c for i, c in enumerate(all_caps()) if v >> i & 1}


def image_config(podman: list[str], image: str) -> dict:
    p = subprocess.run([*podman, "image", "inspect", image], capture_output=True, text=True)
    if p.returncode != 0:
        raise BundleError(f"image {image} is not in the local store ({p.stderr.strip()[:200]}); "
                          f"build it with deploy/image/build-*.sh")
    return json.loads(p.stdout)[0].get("Config", {})


def container_env(c: dict, facts: PodFacts, image_env: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for kv in image_env or []:
        k, _, v = kv.partition("=")
        env[k] = v
    fields = {"spec.nodeName": facts.node_name, "status.hostIP": facts.host_ip,
              "status.podIP": facts.pod_ip or facts.host_ip, "metadata.name": facts.pod_name,
              "metadata.namespace": facts.namespace}
    for e in c.get("env", []):
        name = e["name"]
        if "value" in e:
            env[name] = expand(str(e["value"]), env)
        elif "valueFrom" in e:
            ref = e["valueFrom"].get("fieldRef", {}).get("fieldPath")
            if ref not in fields:
                raise BundleError(f"env {name}: valueFrom {e['valueFrom']} is not supported here")
            env[name] = fields[ref]
        else:
            env[name] = ""
    return env


def make_bundle(workload: dict, container_name: str, facts: PodFacts, out: Path, podman: list[str],
                rootfs: Path) -> Bundle:
    spec = workload["spec"]["template"]["spec"]
    cs = [c for c in spec.get("containers", []) if c.get("name") == container_name]
    if not cs:
        raise BundleError(f"no container {container_name!r} in {workload['kind']} {workload['metadata']['name']}")
    c = cs[0]
    image = c.get("image") or ""
    icfg = image_config(podman, image)
    env = container_env(c, facts, icfg.get("Env", []))
    entry = c["command"] if "command" in c else (icfg.get("Entrypoint") or [])
    args = c["args"] if "args" in c else ([] if "command" in c else (icfg.get("Cmd") or []))
    argv = [expand(str(a), env) for a in (*entry, *args)]
    if not argv:
        raise BundleError(f"container {container_name}: no command (neither the manifest nor the image has one)")
    sc = c.get("securityContext", {}) or {}
    psc = spec.get("securityContext", {}) or {}
    privileged = bool(sc.get("privileged", False))
    if privileged:
        caps = all_caps()
    else:
        caps = list(CONTAINERD_DEFAULT_CAPS)
        drop = [("CAP_" + x.upper()).replace("CAP_CAP_", "CAP_") for x in sc.get("capabilities", {}).get("drop", [])]
        add = [("CAP_" + x.upper()).replace("CAP_CAP_", "CAP_") for x in sc.get("capabilities", {}).get("add", [])]
        caps = [] if "CAP_ALL" in drop else [x for x in caps if x not in drop]
        known = set(all_caps())
        for x in add:
            if x not in known:
                raise BundleError(f"container {container_name}: capability {x} unknown to this kernel")
            if x not in caps:
                caps.append(x)
    # A runtime cannot grant what its own bounding set lacks (runc: "unable to apply caps").
    # Such capabilities are left out and reported, so the caller decides whether that matters.
    bounding = host_bounding_caps()
    ungranted = [x for x in caps if x not in bounding]
    caps = [x for x in caps if x in bounding]
    uid = int(sc.get("runAsUser", psc.get("runAsUser", 0)))
    gid = int(sc.get("runAsGroup", psc.get("runAsGroup", 0)))

    out.mkdir(parents=True, exist_ok=True)
    mounts = [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
        # containerd: sysfs read-only unless privileged. With hostNetwork it shows the node's devices.
        {"destination": "/sys", "type": "sysfs", "source": "sysfs",
         "options": ["nosuid", "noexec", "nodev"] + ([] if privileged else ["ro"])},
    ]
    # /etc/hosts and /etc/resolv.conf, as the kubelet writes them (service names given values).
    etc = out / "etc"
    etc.mkdir(exist_ok=True)
    (etc / "hosts").write_text("127.0.0.1 localhost\n" + "".join(f"{ip} {n}\n" for n, ip in facts.hosts.items()))
    (etc / "resolv.conf").write_text("# no DNS in this lab: service names are in /etc/hosts\n")
    for name in ("hosts", "resolv.conf"):
        mounts.append({"destination": f"/etc/{name}", "type": "bind", "source": str(etc / name),
                       "options": ["rbind", "ro"]})
    vols = {v["name"]: v for v in spec.get("volumes", [])}
    for vm in c.get("volumeMounts", []):
        v = vols.get(vm["name"])
        if v is None:
            raise BundleError(f"volumeMount {vm['name']}: no volume of that name in the pod spec")
        if "hostPath" in v:
            hp = v["hostPath"]["path"]
            src = facts.host_paths.get(hp, hp)
            typ = v["hostPath"].get("type", "")
            if typ == "DirectoryOrCreate":
                Path(src).mkdir(parents=True, exist_ok=True)
            elif typ == "Directory" and not Path(src).is_dir():
                raise BundleError(f"volume {vm['name']}: hostPath {hp} (type Directory) does not exist on the node")
        elif "emptyDir" in v:
            src = str(out / "volumes" / vm["name"])
            Path(src).mkdir(parents=True, exist_ok=True)
        else:
            raise BundleError(f"volume {vm['name']}: only hostPath and emptyDir are supported here")
        mounts.append({"destination": vm["mountPath"], "type": "bind", "source": src,
                       "options": ["rbind", "ro" if vm.get("readOnly") else "rw"]})
    namespaces = [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}]
    netns = facts.netns_path
    if not netns:
        raise BundleError("the pod needs a network namespace (hostNetwork: the node's; else the CNI's)")
    namespaces.append({"type": "network", "path": netns})
    config = {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False,
            "user": {"uid": uid, "gid": gid},
            "args": argv,
            "env": [f"{k}={v}" for k, v in env.items()],
            "cwd": c.get("workingDir") or icfg.get("WorkingDir") or "/",
            "capabilities": {k: list(caps) for k in ("bounding", "effective", "permitted")},
            "noNewPrivileges": sc.get("allowPrivilegeEscalation", True) is False,
        },
        "root": {"path": str(rootfs), "readonly": bool(sc.get("readOnlyRootFilesystem", False))},
        "hostname": facts.node_name if spec.get("hostNetwork") else facts.pod_name,
        "mounts": mounts,
        "linux": {
            "namespaces": namespaces,
            "maskedPaths": [] if privileged else [
                "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
                "/sys/devices/virtual/powercap"],
            "readonlyPaths": [] if privileged else [
                "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
            "resources": {"devices": [{"allow": privileged, "access": "rwm"}]},
        },
    }
    (out / "config.json").write_text(json.dumps(config, indent=1))
    grace = float(spec.get("terminationGracePeriodSeconds", 30))
    return Bundle(out, config, c, grace, image, ungranted)


class Rootfs:
    """The image's root file system as containerd's overlay snapshotter gives it: the image
    (podman image mount, read-only lower layer) under a per-container upper layer, so nothing a
    runtime does (mount points for volumes) changes the image."""

    def __init__(self, podman: list[str], image: str, work: Path):
        self.podman, self.image, self.work = podman, image, work
        self.merged = work / "rootfs"

    def __enter__(self) -> "Rootfs":
        p = subprocess.run([*self.podman, "image", "mount", self.image], capture_output=True, text=True)
        if p.returncode != 0:
            raise BundleError(f"podman image mount {self.image}: {p.stderr.strip()[:200]}")
        lower = p.stdout.strip()
        for d in ("upper", "work", "rootfs"):
            (self.work / d).mkdir(parents=True, exist_ok=True)
        r = subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                            f"lowerdir={lower},upperdir={self.work / 'upper'},workdir={self.work / 'work'}",
                            str(self.merged)], capture_output=True, text=True)
        if r.returncode != 0:
            raise BundleError(f"overlay mount of {self.image}: {r.stderr.strip()}")
        return self

    def __exit__(self, *exc) -> None:
        subprocess.run(["umount", "-l", str(self.merged)], capture_output=True)
        subprocess.run([*self.podman, "image", "unmount", self.image], capture_output=True)


class Container:
    """`runc run` of a bundle, stopped as the kubelet stops it: SIGTERM, then SIGKILL after
    terminationGracePeriodSeconds."""

    def __init__(self, bundle: Bundle, cid: str, state: Path, log_dir: Path):
        self.bundle, self.cid, self.state = bundle, cid, state
        self.out = open(log_dir / f"{cid}.out", "w")
        self.err_path = log_dir / f"{cid}.err"
        self.err = open(self.err_path, "w")
        self.proc: subprocess.Popen | None = None
        self.stop_s: float | None = None
        self.killed = False

    def runc(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["runc", "--root", str(self.state), *args], capture_output=True, text=True)

    def start(self) -> "Container":
        self.proc = subprocess.Popen(["runc", "--root", str(self.state), "run", "--bundle", str(self.bundle.path),
                                      self.cid], stdin=subprocess.DEVNULL, stdout=self.out, stderr=self.err)
        return self

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stderr(self) -> str:
        if not self.err.closed:
            self.err.flush()
        return self.err_path.read_text()

    def stop(self) -> int:
        """SIGTERM, wait up to the grace period, then SIGKILL. Returns the exit status."""
        if self.proc is None:
            return -1
        t0 = time.time()
        if self.proc.poll() is None:
            self.runc("kill", self.cid, "TERM")
            try:
                self.proc.wait(timeout=self.bundle.grace_s)
            except subprocess.TimeoutExpired:
                self.killed = True
                self.runc("kill", self.cid, "KILL")
                self.proc.wait(timeout=10)
        self.stop_s = time.time() - t0
        self.runc("delete", "--force", self.cid)
        self.out.close()
        self.err.close()
        return self.proc.returncode

    def __enter__(self) -> "Container":
        return self.start()

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.runc("kill", self.cid, "KILL")
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.runc("delete", "--force", self.cid)
