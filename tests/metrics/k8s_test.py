#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# deploy/k8s and deploy/Containerfile carry what the deployment depends on: this fails if
# someone removes hostNetwork, a capability, a probe, the BTF mount, the scrape annotations,
# the node-named rotated CSV, or makes the image depend on a registry. The optional IPFIX
# collector example (deploy/k8s/collector/) must select its pods, expose UDP 4739 and be the
# address the DaemonSet patch exports to.
# Usage: k8s_test.py [--binary nfm-xdp]  (with --binary: the DaemonSet's flags must exist)
import argparse
import glob
import os
import re
import subprocess
import sys

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
K8S = os.path.join(SRC, "deploy", "k8s")

try:
    import yaml
except ImportError:
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") \
            and subprocess.run(["/usr/bin/python3", "-c", "import yaml"]).returncode == 0:
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("SKIP: no PyYAML for this python (apt-get install python3-yaml; scripts/install-deps.sh)", file=sys.stderr)
    sys.exit(77)

problems = []


def check(cond, msg):
    if not cond:
        problems.append(msg)
    return cond


def load_all():
    docs = {}
    for path in sorted(glob.glob(os.path.join(K8S, "*.yaml"))):
        with open(path) as f:
            for d in yaml.safe_load_all(f):
                if d:
                    docs.setdefault(os.path.basename(path), []).append(d)
    return docs


def check_collector(ns, agent_container, binary):
    """deploy/k8s/collector: nfcapd Deployment + Service, and the DaemonSet patch exporting to it."""
    cdir = os.path.join(K8S, "collector")
    if not check(os.path.isdir(cdir), "deploy/k8s/collector exists"):
        return
    kinds = {}
    for path in sorted(glob.glob(os.path.join(cdir, "*.yaml"))):
        with open(path) as f:
            for d in yaml.safe_load_all(f):
                if d:
                    kinds.setdefault(d.get("kind"), []).append(d)
    deps, svcs = kinds.get("Deployment", []), kinds.get("Service", [])
    if not (check(len(deps) == 1, "collector: one Deployment") and check(len(svcs) == 1, "collector: one Service")):
        return
    dep, svc = deps[0], svcs[0]
    check(dep["metadata"].get("namespace") == ns and svc["metadata"].get("namespace") == ns,
          "collector Deployment and Service live in the agent's namespace")
    labels = dep["spec"]["template"]["metadata"]["labels"]
    check(dep["spec"]["selector"]["matchLabels"].items() <= labels.items(), "collector selector matches its pod labels")
    check(svc["spec"]["selector"].items() <= labels.items(), "collector Service selects the collector pods")
    cc = dep["spec"]["template"]["spec"]["containers"][0]
    cports = {p["name"]: p for p in cc.get("ports", [])}
    sp = svc["spec"]["ports"][0]
    check(sp.get("protocol") == "UDP" and sp.get("targetPort") in cports, "collector Service: UDP to a named container port")
    if sp.get("targetPort") in cports:
        cp = cports[sp["targetPort"]]
        check(cp.get("protocol") == "UDP", "collector container port is UDP")
        a = cc.get("args", [])
        check("-p" in a and a[a.index("-p") + 1] == str(cp["containerPort"]), "nfcapd -p equals the container port")
        check("-w" in a and any(m["mountPath"] == a[a.index("-w") + 1] for m in cc.get("volumeMounts", [])),
              "nfcapd -w directory is a volume")
    check(cc.get("image", "").startswith("localhost/nfm-collector:"), "collector image is the locally built one")
    cf = open(os.path.join(SRC, "deploy", "collector", "Containerfile")).read()
    check(re.search(r"^ENTRYPOINT \[\"/usr/bin/nfcapd\"\]", cf, re.M) is not None, "collector ENTRYPOINT is nfcapd")
    for f_ in re.findall(r"^FROM (\S+)", cf, re.M):
        base = re.sub(r"\$\{(\w+)\}", lambda m: dict(re.findall(r"^ARG (\w+)=(\S+)", cf, re.M)).get(m.group(1), ""), f_)
        check(base.startswith("localhost/") and "bookworm" in base, f"collector FROM {base}: local bookworm base")
    with open(os.path.join(cdir, "kustomization.yaml")) as f:
        kust = yaml.safe_load(f)
    for r in kust.get("resources", []):
        check(os.path.exists(os.path.join(cdir, r)), f"collector kustomization resource {r} exists")
    for pt in kust.get("patches", []):
        check(os.path.exists(os.path.join(cdir, pt["path"])), f"collector kustomization patch {pt['path']} exists")
    patch = next((d for d in kinds.get("DaemonSet", [])), None)
    if check(patch is not None, "collector: DaemonSet patch adds --ipfix"):
        pc = patch["spec"]["template"]["spec"]["containers"][0]
        check(pc["name"] == agent_container["name"], "patch targets the agent container")
        pargs = pc.get("args", [])
        check(all(a in pargs for a in agent_container.get("args", [])), "patch keeps every DaemonSet arg")
        want = f"--ipfix=udp://{svc['metadata']['name']}.{ns}:{sp['port']}"
        check(want in pargs, f"patch exports to the collector Service ({want})")
        if binary:
            helptext = subprocess.run([binary, "--help"], capture_output=True, text=True).stdout
            for a in pargs:
                flag = a.split("=", 1)[0]
                if flag.startswith("--ipfix"):
                    check(flag in helptext, f"patch flag {flag} exists in nfm-xdp --help")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary")
    args = ap.parse_args()
    docs = load_all()
    by_kind = {}
    for name, ds in docs.items():
        for d in ds:
            by_kind.setdefault(d.get("kind"), []).append(d)

    check(len(by_kind.get("Namespace", [])) == 1, "exactly one Namespace")
    ns = by_kind["Namespace"][0]["metadata"]["name"] if by_kind.get("Namespace") else None
    dss = by_kind.get("DaemonSet", [])
    if not check(len(dss) == 1, "exactly one DaemonSet"):
        return
    ds = dss[0]
    check(ds["metadata"].get("namespace") == ns, "DaemonSet lives in the namespace")
    tpl = ds["spec"]["template"]
    spec = tpl["spec"]
    pod_labels = tpl["metadata"]["labels"]
    check(ds["spec"]["selector"]["matchLabels"].items() <= pod_labels.items(), "selector matches pod labels")
    check(spec.get("hostNetwork") is True, "hostNetwork: true (hooks must see the node's interfaces)")
    check(spec.get("dnsPolicy") == "ClusterFirstWithHostNet", "dnsPolicy ClusterFirstWithHostNet with hostNetwork")
    ann = tpl["metadata"].get("annotations", {})
    check(ann.get("prometheus.io/scrape") == "true", "prometheus.io/scrape annotation")
    check(ann.get("prometheus.io/path") == "/metrics", "prometheus.io/path annotation")
    c = spec["containers"][0]
    sc = c.get("securityContext", {})
    caps = set(sc.get("capabilities", {}).get("add", []))
    for cap in ("BPF", "PERFMON", "NET_ADMIN", "SYS_RESOURCE"):
        check(cap in caps, f"capability {cap} added")
    check(sc.get("capabilities", {}).get("drop") == ["ALL"], "capabilities drop ALL")
    check(sc.get("privileged") is False, "not privileged by default (privileged-patch.yaml is the fallback)")
    args_ = c.get("args", [])
    flags = {}
    ifaces = []
    for a in args_:
        m = re.match(r"(--[\w-]+)=(.*)", a)
        if m:
            flags[m.group(1)] = m.group(2)
            if m.group(1) == "--iface":
                ifaces.append(m.group(2))
    check("k8s" in ifaces, "--iface=k8s (the pods' interfaces, attached as pods come and go)")
    check("auto" in ifaces, "--iface=auto (the node's default-route interfaces)")
    check(flags.get("--where-columns") == "node,iface", "--where-columns=node,iface (join with pod metadata)")
    check(float(flags.get("--csv-rotate-mb", "0") or 0) > 0, "--csv-rotate-mb > 0 (size-based rotation)")
    csv_path = flags.get("--csv", "")
    check("$(NODE_NAME)" in csv_path, "CSV file name includes the node name")
    env = {e["name"]: e for e in c.get("env", [])}
    check(env.get("NODE_NAME", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "spec.nodeName",
          "NODE_NAME from spec.nodeName")
    maddr = flags.get("--metrics-addr", "")
    mport = maddr.rsplit(":", 1)[-1] if ":" in maddr else ""
    ports = {p.get("name"): p for p in c.get("ports", [])}
    check("metrics" in ports and str(ports["metrics"]["containerPort"]) == mport,
          f"container port 'metrics' equals the --metrics-addr port ({mport})")
    check(ann.get("prometheus.io/port") == mport, "prometheus.io/port equals the --metrics-addr port")
    if "$(HOST_IP)" in maddr:
        check(env.get("HOST_IP", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "status.hostIP",
              "HOST_IP from status.hostIP")
    for probe, path in (("readinessProbe", "/healthz"), ("livenessProbe", "/livez")):
        p = c.get(probe)
        if check(p is not None, f"{probe} present"):
            g = p.get("httpGet", {})
            check(g.get("path") == path, f"{probe} uses {path}")
            check(g.get("port") in ("metrics", int(mport or 0)), f"{probe} targets the metrics port")
    res = c.get("resources", {})
    check("cpu" in res.get("requests", {}) and "memory" in res.get("requests", {}), "resource requests")
    check("memory" in res.get("limits", {}), "memory limit")
    vols = {v["name"]: v for v in spec.get("volumes", [])}
    mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
    btf = mounts.get("/sys/kernel/btf")
    if check(btf is not None, "BTF mounted at /sys/kernel/btf"):
        check(btf.get("readOnly") is True, "BTF mount is read-only")
        check(vols.get(btf["name"], {}).get("hostPath", {}).get("path") == "/sys/kernel/btf", "BTF from the host")
    csv_dir = os.path.dirname(csv_path)
    out = mounts.get(csv_dir)
    if check(out is not None, f"CSV directory {csv_dir} is a mount"):
        check("hostPath" in vols.get(out["name"], {}), "CSV directory is a host path")
        check(not out.get("readOnly", False), "CSV mount is writable")
    check(any(t.get("operator") == "Exists" for t in spec.get("tolerations", [])), "tolerates every taint")

    svcs = by_kind.get("Service", [])
    if check(len(svcs) == 1, "one Service"):
        s = svcs[0]
        check(s["spec"]["selector"].items() <= pod_labels.items(), "Service selects the agent pods")
        check(any(p.get("targetPort") == "metrics" for p in s["spec"]["ports"]), "Service targets port 'metrics'")
    pms = by_kind.get("PodMonitor", [])
    if check(len(pms) == 1, "one PodMonitor"):
        pm = pms[0]
        check(pm["spec"]["selector"]["matchLabels"].items() <= pod_labels.items(), "PodMonitor selects the agent pods")
        check(any(e.get("port") == "metrics" for e in pm["spec"]["podMetricsEndpoints"]), "PodMonitor scrapes 'metrics'")
    with open(os.path.join(K8S, "privileged-patch.yaml")) as f:
        patch = yaml.safe_load(f)
    pc = patch["spec"]["template"]["spec"]["containers"][0]
    check(pc["name"] == c["name"] and pc["securityContext"]["privileged"] is True, "privileged fallback patch")
    with open(os.path.join(K8S, "kustomization.yaml")) as f:
        kust = yaml.safe_load(f)
    for r in kust["resources"]:
        check(os.path.exists(os.path.join(K8S, r)), f"kustomization resource {r} exists")
    with open(os.path.join(SRC, "deploy", "prometheus", "scrape-kubernetes.yml")) as f:
        sk = yaml.safe_load(f)
    check(sk["scrape_configs"][0]["kubernetes_sd_configs"][0]["role"] == "pod", "scrape-kubernetes.yml: pod role")

    # Containerfile: multi-stage, bookworm bases that are local (no registry), agent entrypoint.
    cf = open(os.path.join(SRC, "deploy", "Containerfile")).read()
    arg_defaults = dict(re.findall(r"^ARG (\w+)=(\S+)", cf, re.M))
    froms = re.findall(r"^FROM (\S+)", cf, re.M)
    check(len(froms) >= 2, "Containerfile is multi-stage")
    for f_ in froms:
        base = re.sub(r"\$\{(\w+)\}", lambda m: arg_defaults.get(m.group(1), ""), f_)
        check(base == "scratch" or base.startswith("localhost/"), f"FROM {base}: local image, no registry")
        check(base == "scratch" or "bookworm" in base, f"FROM {base}: Debian bookworm based")
    check("COPY --from=build" in cf, "final stage copies only the build result")
    check(re.search(r'^ENTRYPOINT \["/usr/local/bin/nfm-xdp"\]', cf, re.M) is not None, "ENTRYPOINT is the agent")

    check_collector(ns, c, args.binary)

    if args.binary:
        helptext = subprocess.run([args.binary, "--help"], capture_output=True, text=True).stdout
        if re.search(r"^\s*(-\w,\s*)?--iface\b", helptext, re.M):
            for flag in flags:
                check(flag in helptext, f"DaemonSet flag {flag} exists in nfm-xdp --help")
        else:
            print("note: binary built without the live path; DaemonSet flags not compared with --help")

    if problems:
        print("FAIL:\n  " + "\n  ".join(problems), file=sys.stderr)
        sys.exit(1)
    print(f"k8s: {sum(len(v) for v in docs.values())} manifests, DaemonSet requirements present; PASS")


if __name__ == "__main__":
    main()
