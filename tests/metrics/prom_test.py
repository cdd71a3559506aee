#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# End-to-end metrics tests: a real Prometheus server (Debian package) on loopback scrapes a real
# nfm-xdp agent; the scraped counters must equal what the agent wrote to its CSV.
#   offline      replay a capture made here (known packets/flows), --metrics-linger
#   live         netns + veth (10.97.x.0/24), agent on the veth with --duration, known traffic
#   exposition   promtool check metrics on the agent's /metrics
#   refs         every PromQL expression of the dashboard and the alert rules names only metrics
#                that the agent exports (compared with a live /metrics); Prometheus evaluates each
# Exit 77 = skipped (CTest SKIP_RETURN_CODE), only when a prerequisite is really missing.
import argparse
import csv
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

SKIP = 77
SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY = os.path.join(SRC, "deploy")


def skip(msg):
    print(f"SKIP: {msg}", file=sys.stderr)
    sys.exit(SKIP)


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except (urllib.error.URLError, ConnectionError, socket.timeout):
        return 0, ""


# ---------------------------------------------------------------- capture made by the test
def pcap_bytes(packets):
    """packets: list of (ts_seconds, frame bytes). Classic pcap, Ethernet, microseconds."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for ts, frame in packets:
        out.append(struct.pack("<IIII", int(ts), int(round((ts - int(ts)) * 1e6)), len(frame), len(frame)))
        out.append(frame)
    return b"".join(out)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, l4):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0, 64, proto, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + hdr + l4


def tcp(src, dst, sp, dp, flags, payload=b""):
    return ipv4(src, dst, 6, struct.pack("!HHIIBBHHH", sp, dp, 1, 1, 0x50, flags, 65535, 0, 0) + payload)


def udp(src, dst, sp, dp, payload=b""):
    return ipv4(src, dst, 17, struct.pack("!HHHH", sp, dp, 8 + len(payload), 0) + payload)


def make_capture(path):
    """3 TCP flows closed by FIN/RST, 2 UDP flows, 1 ARP (not IP), 1 cut IPv4 header.
    Returns (packets in the file, packets that belong to flows)."""
    t = 1_700_000_000.0
    pk = []
    SYN, ACK, FIN, RST, PSH = 0x02, 0x10, 0x01, 0x04, 0x08
    for i in range(3):
        c, s, sp = f"10.97.200.{10 + i}", "10.97.200.1", 40000 + i
        pk += [(t, tcp(c, s, sp, 80, SYN)), (t + 0.001, tcp(s, c, 80, sp, SYN | ACK)),
               (t + 0.002, tcp(c, s, sp, 80, ACK)), (t + 0.003, tcp(c, s, sp, 80, PSH | ACK, b"x" * (100 * (i + 1)))),
               (t + 0.004, tcp(s, c, 80, sp, PSH | ACK, b"y" * 1000))]
        if i == 2:
            pk += [(t + 0.005, tcp(c, s, sp, 80, RST))]
        else:
            pk += [(t + 0.005, tcp(c, s, sp, 80, FIN | ACK)), (t + 0.006, tcp(s, c, 80, sp, FIN | ACK)),
                   (t + 0.007, tcp(c, s, sp, 80, ACK))]
        t += 0.5
    for i in range(2):
        for j in range(4):
            pk.append((t + 0.01 * j, udp("10.97.200.50", "10.97.200.1", 5000 + i, 53, b"q" * (20 + j))))
        t += 0.2
    in_flows = len(pk)
    arp = b"\xff" * 6 + b"\x02\0\0\0\0\x02\x08\x06" + b"\0" * 28
    pk.append((t, arp))
    pk.append((t + 0.001, b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + b"\x45\x00\x00"))  # cut IPv4 header
    pk.sort(key=lambda p: p[0])
    with open(path, "wb") as f:
        f.write(pcap_bytes(pk))
    return len(pk), in_flows


# ---------------------------------------------------------------- Prometheus server
class Prometheus:
    def __init__(self, workdir, target, netns_prefix=()):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cfg = os.path.join(workdir, "prometheus.yml")
        rules = os.path.join(workdir, "alerts.yml")
        shutil.copy(os.path.join(DEPLOY, "prometheus", "alerts.yml"), rules)
        with open(cfg, "w") as f:
            f.write(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [{rules}]
scrape_configs:
  - job_name: nfm-xdp
    scrape_interval: 1s
    scrape_timeout: 900ms
    static_configs:
      - targets: ["{target}"]
""")
        self.log = open(os.path.join(workdir, "prometheus.log"), "w")
        self.proc = subprocess.Popen(
            list(netns_prefix) + ["prometheus", f"--config.file={cfg}", f"--storage.tsdb.path={workdir}/tsdb",
                                  f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                fail(f"prometheus exited early; see {workdir}/prometheus.log")
            if http_get(self.url + "/-/ready")[0] == 200:
                return
            time.sleep(0.3)
        fail("prometheus did not become ready within 60 s")

    at = None  # evaluation time of queries (the final scrape), None = now

    def query(self, expr):
        params = {"query": expr}
        if self.at is not None:
            params["time"] = f"{self.at:.3f}"
        st, body = http_get(self.url + "/api/v1/query?" + urllib.parse.urlencode(params))
        if st != 200:
            return None, body
        return json.loads(body)["data"], None

    def scalar(self, expr):
        data, _ = self.query(expr)
        if not data or not data["result"]:
            return None
        return float(data["result"][0]["value"][1])

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def wait_final_scrape(prom, timeout):
    """The agent calls Update() at the end of a run; afterwards capture_attached is 0 and the
    last-update timestamp is set. Wait until Prometheus holds such a scrape, then pin later
    queries to that moment (the agent may exit, and its series go stale, before we compare:
    the CSV is complete only once the agent has exited)."""
    deadline = time.time() + timeout
    expr = 'nfm_capture_attached{job="nfm-xdp"} == 0 and on (instance) nfm_last_update_timestamp_seconds > 0'
    while time.time() < deadline:
        data, _ = prom.query(expr)
        if data and data["result"]:
            time.sleep(2.5)  # more scrapes: every series of the final state is in
            prom.at = time.time() - 0.5
            return True
        time.sleep(0.5)
    return False


def csv_totals(path):
    rows = pkts = 0
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            rows += 1
            pkts += int(r["packets_count"])
    return rows, pkts


def compare(prom, rows, pkts, label):
    got = {
        "sum(nfm_flows_exported_total)": prom.scalar('sum(nfm_flows_exported_total{job="nfm-xdp"})'),
        "nfm_csv_rows_total": prom.scalar('nfm_csv_rows_total{job="nfm-xdp"}'),
        "nfm_flow_packets_count": prom.scalar('nfm_flow_packets_count{job="nfm-xdp"}'),
        "nfm_flow_packets_sum": prom.scalar('nfm_flow_packets_sum{job="nfm-xdp"}'),
        "nfm_packets_in_flows_total": prom.scalar('nfm_packets_in_flows_total{job="nfm-xdp"}'),
    }
    want = {"sum(nfm_flows_exported_total)": rows, "nfm_csv_rows_total": rows, "nfm_flow_packets_count": rows,
            "nfm_flow_packets_sum": pkts, "nfm_packets_in_flows_total": pkts}
    bad = [f"{k}: scraped {got[k]}, CSV says {want[k]}" for k in want if got[k] != want[k]]
    print(f"{label}: CSV {rows} rows / {pkts} packets; scraped {got}")
    if bad:
        fail(f"{label}: " + "; ".join(bad))


def need(tool):
    if shutil.which(tool) is None:
        skip(f"'{tool}' not installed (scripts/install-deps.sh installs it)")


def check_agent_has_metrics(binary):
    out = subprocess.run([binary, "--help"], capture_output=True, text=True).stdout
    if "--metrics-linger" not in out or "--metrics-addr" not in out:
        fail(f"{binary} --help lists no --metrics-addr/--metrics-linger")
    return out


def run_offline_agent(binary, workdir, linger=20):
    cap = os.path.join(workdir, "flows.pcap")
    n_pkts, n_in_flows = make_capture(cap)
    port = free_port()
    out = os.path.join(workdir, "out.csv")
    cmd = [binary, "--pcap", cap, "--csv", out, "--metrics-addr", f"127.0.0.1:{port}",
           "--metrics-linger", str(linger), "-q"]
    log = open(os.path.join(workdir, "agent.log"), "w")
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT), port, out, n_pkts, n_in_flows


# ---------------------------------------------------------------- cases
def case_offline(binary, workdir):
    need("prometheus")
    check_agent_has_metrics(binary)
    agent, port, out, n_pkts, n_in_flows = run_offline_agent(binary, workdir)
    prom = Prometheus(workdir, f"127.0.0.1:{port}")
    try:
        if not wait_final_scrape(prom, 30):
            fail(f"Prometheus never scraped the final offline values; agent log: {open(workdir + '/agent.log').read()}")
        agent.wait(60)
        rows, pkts = csv_totals(out)
        if rows != 5 or pkts != n_in_flows:
            fail(f"the agent's CSV has {rows} rows / {pkts} packets; the capture has 5 flows / {n_in_flows} packets")
        compare(prom, rows, pkts, "offline")
        total = prom.scalar('nfm_packets_total{job="nfm-xdp"}')
        if total != n_pkts:
            fail(f"nfm_packets_total scraped {total}, the capture holds {n_pkts} packets")
        # Offline identity: every packet read is in a flow, lost (parse error) or ignored.
        ident = prom.scalar('nfm_packets_in_flows_total{job="nfm-xdp"} + on (instance) sum by (instance) '
                            '(nfm_events_lost_total{job="nfm-xdp"}) + on (instance) sum by (instance) '
                            '(nfm_packets_ignored_total{job="nfm-xdp"})')
        if ident != n_pkts:
            fail(f"in flows + lost + ignored = {ident}, expected every packet read ({n_pkts})")
        for expr, want in [('nfm_packets_ignored_total{job="nfm-xdp",reason="not_ip"}', 1),
                           ('sum(nfm_events_lost_total{job="nfm-xdp",reason=~"decode_.*"})', 1),
                           ('nfm_flows_active{job="nfm-xdp"}', 0),
                           # 2 FIN-closed flows end after their close grace; the RST flow's grace
                           # outlasts the capture, so it may end as "shutdown" with the UDP flows.
                           ('sum(nfm_flows_exported_total{job="nfm-xdp",reason=~"fin|rst"}) >= bool 2', 1),
                           ('nfm_hook_packets_total{job="nfm-xdp",hook="pcap"}', n_pkts),
                           ('count(nfm_build_info{job="nfm-xdp",mode="offline"})', 1)]:
            got = prom.scalar(expr)
            if got != want:
                fail(f"{expr} = {got}, expected {want}")
        print(f"offline: nfm_packets_total = {n_pkts} = in flows + lost + ignored; PASS")
    finally:
        agent.wait(60)
        prom.stop()
    if agent.returncode != 0:
        fail(f"agent exited {agent.returncode}: {open(workdir + '/agent.log').read()}")


def case_exposition(binary, workdir):
    need("promtool")
    check_agent_has_metrics(binary)
    agent, port, *_ = run_offline_agent(binary, workdir, linger=3)
    try:
        text = ""
        deadline = time.time() + 20
        while time.time() < deadline:
            st, text = http_get(f"http://127.0.0.1:{port}/metrics")
            if st == 200 and "nfm_last_update_timestamp_seconds" in text and \
                    re.search(r"^nfm_last_update_timestamp_seconds [1-9]", text, re.M):
                break
            time.sleep(0.2)
        else:
            fail("no final /metrics from the agent")
        st, health = http_get(f"http://127.0.0.1:{port}/healthz")
        print(f"/healthz after the run: {st} {health.strip()}")
        if st != 503 or '"attached":false' not in health:
            fail("/healthz must report 503/not attached once the offline run has ended")
    finally:
        agent.wait(60)
    # prometheus-cpp's own exposer_* metrics are outside our control; lint ours.
    ours = "\n".join(l for l in text.splitlines() if "exposer_" not in l) + "\n"
    r = subprocess.run(["promtool", "check", "metrics"], input=ours, capture_output=True, text=True)
    print(r.stdout + r.stderr)
    if r.returncode != 0:
        fail("promtool check metrics reported problems")
    print("exposition: promtool check metrics clean; PASS")


PROMQL_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and", "or",
                   "unless", "inf", "nan", "atan2"}


def metric_names(expr):
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)       # strings
    e = re.sub(r"\{[^}]*\}", "", e)                    # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)                   # ranges
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", e)
    e = re.sub(r"\$\{?\w+\}?", "", e)                  # Grafana variables
    names = set()
    for m in re.finditer(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?", e):
        word, call = m.group(1), m.group(2)
        if call or word.lower() in PROMQL_KEYWORDS or re.fullmatch(r"\d.*|e\d+", word):
            continue
        names.add(word)
    return names


def dashboard_exprs(path):
    d = json.load(open(path))
    exprs = []
    for p in d["panels"]:
        for t in p.get("targets", []):
            exprs.append(t["expr"])
    for v in d["templating"]["list"]:
        q = v.get("query")
        if isinstance(q, dict):
            q = q.get("query")
        if v.get("type") == "query" and q:
            m = re.fullmatch(r"label_values\((\w+),\s*\w+\)", q)
            if not m:
                fail(f"unexpected variable query {q}")
            exprs.append(m.group(1))
    return exprs


def rules_exprs(path):
    # promtool already validated the syntax; read expr: lines (PyYAML when available).
    try:
        import yaml
        doc = yaml.safe_load(open(path))
        return [r["expr"] for g in doc["groups"] for r in g["rules"]]
    except ImportError:
        out, cur = [], None
        for line in open(path):
            m = re.match(r"\s+expr:\s*(\|)?\s*(.*)$", line)
            if m:
                if cur is not None:
                    out.append(cur)
                cur = m.group(2) if not m.group(1) else ""
            elif cur is not None and line.startswith(" " * 12) and not re.match(r"\s+\w+:", line):
                cur += " " + line.strip()
            elif cur is not None:
                out.append(cur)
                cur = None
        return out


LIVE_ONLY = {"nfm_interface_up", "nfm_attach_info"}


def case_refs(binary, workdir):
    need("prometheus")
    need("promtool")
    r = subprocess.run(["promtool", "check", "rules", os.path.join(DEPLOY, "prometheus", "alerts.yml")],
                       capture_output=True, text=True)
    print(r.stdout + r.stderr)
    if r.returncode != 0:
        fail("promtool check rules failed")
    r = subprocess.run(["promtool", "check", "config", os.path.join(DEPLOY, "prometheus", "prometheus.yml")],
                       capture_output=True, text=True)
    if r.returncode != 0:
        fail("promtool check config deploy/prometheus/prometheus.yml failed:\n" + r.stdout + r.stderr)
    check_agent_has_metrics(binary)
    agent, port, *_ = run_offline_agent(binary, workdir, linger=20)
    prom = Prometheus(workdir, f"127.0.0.1:{port}")
    try:
        if not wait_final_scrape(prom, 30):
            fail("Prometheus never scraped the agent")
        _, text = http_get(f"http://127.0.0.1:{port}/metrics")
        exported = set()
        for line in text.splitlines():
            m = re.match(r"# TYPE (\S+) (\S+)", line)
            if m:
                name, typ = m.groups()
                exported.add(name)
                if typ in ("histogram", "summary"):
                    exported |= {name + "_bucket", name + "_sum", name + "_count"}
        exported.add("up")  # made by Prometheus for every target
        # Per-capture-interface families have no series in an offline agent (no interface), so
        # its /metrics does not list them; metrics.live checks that the dashboard queries using
        # them return data, tests/unit/metrics_test.cpp checks their names and labels.
        exported |= LIVE_ONLY
        sources = [("dashboard", e) for e in dashboard_exprs(os.path.join(DEPLOY, "grafana", "nfm-xdp.json"))]
        sources += [("alerts.yml", e) for e in rules_exprs(os.path.join(DEPLOY, "prometheus", "alerts.yml"))]
        problems = []
        for where, expr in sources:
            unknown = metric_names(expr) - exported
            if unknown:
                problems.append(f"{where}: {expr!r} uses {sorted(unknown)}, not exported by the agent")
            # Prometheus must accept and evaluate it (Grafana variables replaced by values).
            concrete = expr.replace("$__rate_interval", "10s").replace("$__range", "1m").replace("$node", ".*")
            data, err = prom.query(concrete)
            if data is None:
                problems.append(f"{where}: Prometheus rejects {concrete!r}: {err}")
        used = set().union(*(metric_names(e) for _, e in sources))
        print(f"refs: {len(sources)} expressions, metrics used: {sorted(used)}")
        if problems:
            fail("\n".join(problems))
        # The alert rules were loaded by the real server too.
        st, body = http_get(prom.url + "/api/v1/rules")
        groups = json.loads(body)["data"]["groups"]
        if not groups or len(groups[0]["rules"]) < 4:
            fail("Prometheus did not load deploy/prometheus/alerts.yml")
        print("refs: every dashboard/rule expression uses exported metrics and evaluates; PASS")
    finally:
        agent.terminate()
        agent.wait(30)
        prom.stop()


def sh(*cmd, check=True):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip()}")
    return r


def case_live(binary, workdir):
    if os.geteuid() != 0:
        skip("live metrics test needs root (netns, BPF)")
    need("prometheus")
    need("ip")
    helptext = check_agent_has_metrics(binary)
    if not re.search(r"^\s*(-\w,\s*)?--iface\b", helptext, re.M):
        skip(f"{binary} was built without the live capture path (NFM_WITH_BPF=OFF)")
    tag = f"{os.getpid() % 100000}"
    ns_a, ns_b = f"nfmmet{tag}a", f"nfmmet{tag}b"
    va, vb = f"nfmm{tag}a", f"nfmm{tag}b"
    subnet = 10 + os.getpid() % 200
    ip_a, ip_b = f"10.97.{subnet}.1", f"10.97.{subnet}.2"
    try:
        sh("ip", "netns", "add", ns_a)
        sh("ip", "netns", "add", ns_b)
        sh("ip", "link", "add", va, "type", "veth", "peer", "name", vb)
        sh("ip", "link", "set", va, "netns", ns_a)
        sh("ip", "link", "set", vb, "netns", ns_b)
        for ns, dev, addr in ((ns_a, va, ip_a), (ns_b, vb, ip_b)):
            sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
            sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"{addr}/24", "dev", dev)
            sh("ip", "netns", "exec", ns, "ip", "link", "set", dev, "up")
            if shutil.which("ethtool"):
                sh("ip", "netns", "exec", ns, "ethtool", "-K", dev, "tx", "off", "rx", "off", "tso", "off", "gso", "off",
                   "gro", "off", check=False)
        in_a = ["ip", "netns", "exec", ns_a]
        port = 9477
        out = os.path.join(workdir, "live.csv")
        # Prometheus runs in namespace A too: it scrapes the agent on A's loopback.
        prom_port_file = os.path.join(workdir, "prom")
        os.makedirs(prom_port_file, exist_ok=True)
        log = open(os.path.join(workdir, "agent.log"), "w")
        agent = subprocess.Popen(in_a + [binary, "--iface", va, "--csv", out, "--duration", "8",
                                         "--metrics-addr", f"127.0.0.1:{port}", "--metrics-linger", "10", "-q"],
                                 stdout=log, stderr=subprocess.STDOUT)
        # Talk to Prometheus inside A through a helper: urllib in this process cannot enter A.
        inner = subprocess.run(in_a + [sys.executable, os.path.abspath(__file__), "--binary", binary,
                                       "live-inner", "--workdir", workdir, "--agent-port", str(port),
                                       "--peer-ns", ns_b, "--peer-ip", ip_a, "--csv", out,
                                       "--agent-pid", str(agent.pid)],
                               timeout=120)
        agent.wait(60)
        if agent.returncode != 0:
            text = open(os.path.join(workdir, "agent.log")).read()
            if re.search(r"not supported|EOPNOTSUPP|ENOSYS|BTF|unknown program type", text):
                skip(f"kernel feature missing for live capture:\n{text}")
            fail(f"agent exited {agent.returncode}:\n{text}")
        sys.exit(inner.returncode)
    finally:
        sh("ip", "netns", "del", ns_a, check=False)
        sh("ip", "netns", "del", ns_b, check=False)


def case_live_inner(args):
    workdir = args.workdir
    prom = Prometheus(workdir, f"127.0.0.1:{args.agent_port}")
    try:
        # Wait until the agent's hooks are attached (ready), then send known traffic from B.
        deadline = time.time() + 20
        while time.time() < deadline and http_get(f"http://127.0.0.1:{args.agent_port}/healthz")[0] != 200:
            time.sleep(0.2)
        st, body = http_get(f"http://127.0.0.1:{args.agent_port}/healthz")
        print(f"live: /healthz while capturing: {st} {body.strip()}")
        if st != 200:
            fail("/healthz is not 200 while the agent is attached and draining")
        in_b = ["ip", "netns", "exec", args.peer_ns]
        subprocess.run(in_b + ["ping", "-c", "5", "-i", "0.2", "-W", "1", args.peer_ip], capture_output=True)
        client = ("import socket\n"
                  f"for p in range(3):\n"
                  f"  s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.sendto(b'x'*(50+p),('{args.peer_ip}',7000+p))\n")
        subprocess.run(in_b + [sys.executable, "-c", client], capture_output=True)
        if not wait_final_scrape(prom, 40):
            fail("Prometheus never scraped the final live values")
        deadline = time.time() + 60
        while time.time() < deadline:  # the CSV is complete once the agent has exited
            try:
                os.kill(args.agent_pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.3)
        rows, pkts = csv_totals(args.csv)
        if rows < 2 or pkts < 10:
            fail(f"the live CSV has only {rows} rows / {pkts} packets (sent 5 pings + 3 UDP datagrams)")
        compare(prom, rows, pkts, "live")
        seen = prom.scalar('nfm_packets_total{job="nfm-xdp"}')
        xdp = prom.scalar('nfm_hook_packets_total{job="nfm-xdp",hook="xdp",direction="ingress"}')
        tc = prom.scalar('nfm_hook_packets_total{job="nfm-xdp",hook="tc",direction="egress"}')
        print(f"live: hooks saw {seen} packets (xdp {xdp}, tc {tc})")
        if seen is None or seen < pkts or not xdp or not tc:
            fail("hook packet counters do not cover the packets in the CSV")
        if prom.scalar('count(nfm_build_info{job="nfm-xdp",mode="live"})') != 1:
            fail("nfm_build_info{mode=\"live\"} missing")
        # Every dashboard query returns data from a Prometheus scraping a live agent (the
        # panels must not stay empty on a healthy system), evaluated at the final scrape.
        empty = []
        exprs = dashboard_exprs(os.path.join(DEPLOY, "grafana", "nfm-xdp.json"))
        for expr in exprs:
            concrete = expr.replace("$__rate_interval", "5s").replace("$__range", "1m").replace("$node", ".*")
            data, err = prom.query(concrete)
            if data is None or not data["result"]:
                empty.append(f"{concrete!r}: {err or 'no data'}")
        if empty:
            fail("dashboard queries without data against the live agent:\n" + "\n".join(empty))
        print(f"live: all {len(exprs)} dashboard queries return data")
        print("live: scraped counters equal the CSV; PASS")
    finally:
        prom.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("case", choices=["offline", "exposition", "refs", "live", "live-inner"])
    ap.add_argument("--workdir")
    ap.add_argument("--agent-port", type=int)
    ap.add_argument("--peer-ns")
    ap.add_argument("--peer-ip")
    ap.add_argument("--csv")
    ap.add_argument("--agent-pid", type=int)
    args = ap.parse_args()
    if args.case == "live-inner":
        case_live_inner(args)
        return
    with tempfile.TemporaryDirectory(prefix=f"nfm-met-{args.case}-") as wd:
        {"offline": case_offline, "exposition": case_exposition, "refs": case_refs, "live": case_live}[args.case](
            os.path.abspath(args.binary), wd)


if __name__ == "__main__":
    main()
