#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Command-line contract tests for nfm-xdp (label "cli").

  cli_test.py --binary build/nfm-xdp CASE     run one case (CTest registers each separately)
  cli_test.py --binary build/nfm-xdp all      run all cases

Contract: nfm-xdp (--pcap FILE | --iface IF...) [--csv FILE (default '-')] [--profile
corrected|nfm2022|nfm2022-seed|cic] [--feature-set nfm|cic] [--float-format SPEC] [--tz utc|local] [--idle-timeout S]
[--active-timeout S] [--activity-threshold S] [--subflow-gap S] [--max-flows N]
[--metrics-addr HOST:PORT] [--version] [--help].
Exit codes: 0 success, 1 usage/fatal error, 2 capture corrupt or truncated (flows before the
damage written). Captures are generated here (tests/tools/nfmtest.py), so nothing outside
the repository is needed.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import nfmtest  # noqa: E402

BIN = ""
TMP = Path(".")
TIMEOUT = 30


class Failure(Exception):
    pass


def check(cond: bool, msg: str):
    if not cond:
        raise Failure(msg)


def run(args, **kw) -> subprocess.CompletedProcess:
    kw.setdefault("timeout", TIMEOUT)
    return subprocess.run([BIN, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def show(res) -> str:
    return (f"{nfmtest.describe_rc(res.returncode)}; stdout={res.stdout[:300]!r}; "
            f"stderr={res.stderr[:500]!r}")


def nonempty_lines(b: bytes) -> list[str]:
    return [l for l in b.decode(errors="replace").splitlines() if l.strip()]


def usage_error(args, flag_regex: str | None = None, one_line: bool = True):
    res = run(args)
    check(res.returncode == 1, f"{args}: want exit 1 (usage error), got {show(res)}")
    err = nonempty_lines(res.stderr)
    check(err, f"{args}: no error message on stderr: {show(res)}")
    if one_line:
        check(len(err) == 1, f"{args}: want a one-line error, got {len(err)} lines: {err}")
    if flag_regex:
        check(re.search(flag_regex, res.stderr.decode(errors="replace")),
              f"{args}: error does not name {flag_regex!r}: {err}")
    check(res.stdout == b"", f"{args}: stdout must stay empty on a usage error, got {res.stdout[:200]!r}")


def sample_pcap() -> tuple[Path, bytes, list[int]]:
    data, offsets = nfmtest.pcap_bytes(nfmtest.sample_records())
    p = TMP / "sample.pcap"
    p.write_bytes(data)
    return p, data, offsets


def csv_rows(data: bytes):
    h, rows, crlf = nfmtest.read_csv_text(data)
    return h, rows, crlf


# ----------------------------------------------------------------------------- cases
def case_help():
    res = run(["--help"])
    check(res.returncode == 0, f"--help: want exit 0, got {show(res)}")
    text = (res.stdout + res.stderr).decode(errors="replace")
    for flag in ("--pcap", "--iface", "--csv", "--profile"):
        check(flag in text, f"--help does not mention {flag}")


def case_version():
    res = run(["--version"])
    check(res.returncode == 0, f"--version: want exit 0, got {show(res)}")
    out = res.stdout.decode(errors="replace").strip()
    check(re.fullmatch(r"nfm-xdp \d+\.\d+\.\d+\S*", out) is not None,
          f"--version: want 'nfm-xdp <version>', got {out!r}")


def case_no_source():
    usage_error([])


def case_pcap_and_iface():
    p, _, _ = sample_pcap()
    usage_error(["--pcap", str(p), "--iface", "lo"], r"--pcap|--iface")


def case_bad_profile():
    p, _, _ = sample_pcap()
    usage_error(["--pcap", str(p), "--profile", "nfm2099"], r"--profile")


def case_bad_float_format():
    p, _, _ = sample_pcap()
    usage_error(["--pcap", str(p), "--float-format", "%x"], r"--float-format")
    usage_error(["--pcap", str(p), "--float-format", ".17q"], r"--float-format")


def case_negative_timeout():
    p, _, _ = sample_pcap()
    usage_error(["--pcap", str(p), "--idle-timeout", "-5"], r"--idle-timeout")
    usage_error(["--pcap", str(p), "--active-timeout", "-1"], r"--active-timeout")


def case_bad_tz():
    p, _, _ = sample_pcap()
    usage_error(["--pcap", str(p), "--tz", "mars"], r"--tz")


def case_tunnel_options():
    """--tunnel / --vxlan-port: bad values, a reference profile, ports without --tunnel inner, too many
    ports; each a one-line error naming the option; without a tunnel the output is the same."""
    p, _, _ = sample_pcap()
    usage_error(["--pcap", str(p), "--tunnel", "both"], r"--tunnel")
    for prof in ("nfm2022", "nfm2022-seed", "cic", "ntl"):
        usage_error(["--pcap", str(p), "--profile", prof, "--tunnel", "inner"], r"--tunnel inner")
    usage_error(["--pcap", str(p), "--vxlan-port", "9999"], r"--vxlan-port")
    usage_error(["--pcap", str(p), "--tunnel", "inner", "--vxlan-port", "0"], r"--vxlan-port")
    usage_error(["--pcap", str(p), "--tunnel", "inner", "--vxlan-port", "70000"], r"--vxlan-port")
    many = [a for port in range(9000, 9007) for a in ("--vxlan-port", str(port))]
    usage_error(["--pcap", str(p), "--tunnel", "inner", *many], r"--vxlan-port")
    ok = run(["--pcap", str(p), "--csv", "-", "--tunnel", "inner", *many[:12]])
    check(ok.returncode == 0, f"6 extra VXLAN ports must be accepted: {show(ok)}")
    plain = run(["--pcap", str(p), "--csv", "-"])
    for extra in (["--tunnel", "outer"], ["--tunnel", "inner"]):
        res = run(["--pcap", str(p), "--csv", "-", *extra])
        check(res.returncode == 0 and res.stdout == plain.stdout,
              f"{extra}: a capture without tunnels must give the same CSV: {show(res)}")


def case_missing_pcap():
    missing = TMP / "does-not-exist.pcap"
    res = run(["--pcap", str(missing), "--csv", str(TMP / "o.csv")])
    check(res.returncode == 1, f"nonexistent pcap: want exit 1, got {show(res)}")
    err = nonempty_lines(res.stderr)
    check(len(err) == 1, f"nonexistent pcap: want a one-line error, got {err}")
    check(str(missing) in err[0] or missing.name in err[0], f"error does not name the file: {err}")


def _unwritable(target: str):
    # --pcap - with a stdin pipe that never delivers data: if the tool read the capture before
    # opening the CSV it would block here and time out. It must fail first.
    proc = subprocess.Popen([BIN, "--pcap", "-", "--csv", target], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise Failure(f"--csv {target}: the tool waited for input instead of failing on the "
                      f"unwritable output first")
    finally:
        if proc.stdin and not proc.stdin.closed:
            try:
                proc.stdin.close()
            except BrokenPipeError:
                pass
    check(proc.returncode == 1, f"--csv {target}: want exit 1, got {nfmtest.describe_rc(proc.returncode)}; "
                                f"stderr={err[:300]!r}")
    lines = nonempty_lines(err)
    check(lines, f"--csv {target}: no error message")
    check(target in err.decode(errors="replace") or "--csv" in err.decode(errors="replace"),
          f"--csv {target}: error names neither the file nor --csv: {lines}")


def case_unwritable_csv():
    _unwritable("/proc/nope/out.csv")
    d = TMP / "a_directory"
    d.mkdir(exist_ok=True)
    _unwritable(str(d))


def case_truncated():
    _, data, offsets = sample_pcap()
    # Cut in the middle of record 5 (its header is complete, its frame is not): records 1-4
    # (the TCP conversation) are whole.
    cut_at = offsets[4] + 16 + 20
    p = TMP / "truncated.pcap"
    p.write_bytes(data[:cut_at])
    out = TMP / "trunc.csv"
    res = run(["--pcap", str(p), "--csv", str(out)])
    check(res.returncode == 2, f"truncated capture: want exit 2, got {show(res)}")
    err = res.stderr.decode(errors="replace")
    nums = set(re.findall(r"\d+", err))
    check(str(offsets[4]) in nums or str(cut_at) in nums,
          f"truncated capture: stderr names neither the damaged record offset {offsets[4]} "
          f"nor the end of data {cut_at}: {err.strip()!r}")
    h, rows, _ = csv_rows(out.read_bytes() if out.exists() else b"")
    check(len(rows) == 1, f"truncated capture: want the 1 flow before the damage written, got {len(rows)} rows")
    idx = {c: i for i, c in enumerate(h)}
    # The TCP conversation's 4 whole packets (hand count: records 1-4 of sample_records()).
    check(rows[0][idx["packets_count"]] == "4", f"truncated: packets_count {rows[0][idx['packets_count']]} != 4")
    check(rows[0][idx["protocol"]] == "TCP", "truncated: the written flow is not the TCP one")


def case_truncated_header():
    # Only 10 bytes of the 24-byte global header: nothing to read -> corrupt (2) or error (1).
    _, data, _ = sample_pcap()
    p = TMP / "short_header.pcap"
    p.write_bytes(data[:10])
    res = run(["--pcap", str(p), "--csv", str(TMP / "sh.csv")])
    check(res.returncode in (1, 2), f"10-byte file: want exit 1 or 2, got {show(res)}")
    check(nonempty_lines(res.stderr), "10-byte file: no error message")


def case_not_a_capture():
    p = TMP / "notes.txt"
    p.write_bytes(b"this is not a packet capture, just some text\n" * 20)
    res = run(["--pcap", str(p), "--csv", str(TMP / "nc.csv")])
    check(res.returncode in (1, 2), f"non-capture file: want exit 1 or 2, got {show(res)}")
    err = nonempty_lines(res.stderr)
    check(err, "non-capture file: no error message")
    check(any(p.name in l for l in err), f"non-capture file: error does not name the file: {err}")


def case_empty_pcap():
    data, _ = nfmtest.pcap_bytes([])
    p = TMP / "empty.pcap"
    p.write_bytes(data)
    out = TMP / "empty.csv"
    res = run(["--pcap", str(p), "--csv", str(out)])
    check(res.returncode == 0, f"empty pcap: want exit 0, got {show(res)}")
    check(out.exists(), "empty pcap: CSV file not created")
    check(out.stat().st_size == 0, f"empty pcap: want a 0-byte CSV (spec §6.2), got {out.stat().st_size} bytes")
    for prof in ("nfm2022", "nfm2022-seed", "corrected"):
        res = run(["--pcap", str(p), "--csv", str(out), "--profile", prof])
        check(res.returncode == 0 and out.stat().st_size == 0, f"empty pcap --profile {prof}: {show(res)}")


def case_cic():
    """--profile cic writes CICFlowMeter's header even without flows (its header-only file);
    --feature-set cic needs the corrected (or cic) profile; unknown sets are usage errors."""
    data, _ = nfmtest.pcap_bytes([])
    p = TMP / "empty_cic.pcap"
    p.write_bytes(data)
    out = TMP / "empty_cic.csv"
    res = run(["--pcap", str(p), "--csv", str(out), "--profile", "cic"])
    check(res.returncode == 0, f"empty pcap --profile cic: {show(res)}")
    text = out.read_bytes()
    check(text.startswith(b"Flow ID,Src IP,Src Port,Dst IP,Dst Port,Protocol,Timestamp,Flow Duration,")
          and text.endswith(b",Idle Max,Idle Min,Label\n") and text.count(b"\n") == 1
          and text.count(b",") == 83, f"--profile cic header-only file: {text[:120]!r}...")
    res = run(["--pcap", str(p), "--csv", str(out), "--feature-set", "cic"])
    check(res.returncode == 0 and out.read_bytes() == text, f"--feature-set cic header-only file: {show(res)}")
    usage_error(["--pcap", str(p), "--profile", "nfm2022", "--feature-set", "cic"], r"--feature-set")
    usage_error(["--pcap", str(p), "--feature-set", "ntl2099"], r"--feature-set")


def case_header_version_rejected():
    # libpcap 1.10 refuses these versions at open (checked with tcpdump 4.99.3): exit 1,
    # nothing read, one message naming the version and its byte offset.
    d = Path(__file__).resolve().parents[1] / "data"
    for name, version, offset in (("pcap_version_2_5.pcap", "2.5", "4"),
                                  ("pcap_version_1_0_be.pcap", "1.0", "4"),
                                  ("pcapng_version_1_1.pcapng", "1.1", "12"),
                                  ("pcapng_version_2_0_be.pcapng", "2.0", "12")):
        out = TMP / "ver.csv"
        out.write_bytes(b"stale")
        res = run(["--pcap", str(d / name), "--csv", str(out)])
        check(res.returncode == 1, f"{name}: want exit 1 (nothing read), got {show(res)}")
        err = nonempty_lines(res.stderr)
        check(len(err) == 1, f"{name}: want one error line, got {err}")
        check(f"version {version}" in err[0] and f"byte offset {offset}" in err[0] and name in err[0],
              f"{name}: error must name the file, version {version} and byte offset {offset}: {err}")
    # A later section of major version 2: the record before it is read, then exit 2.
    out = TMP / "ver2.csv"
    res = run(["--pcap", str(d / "pcapng_second_section_v2.pcapng"), "--csv", str(out)])
    check(res.returncode == 2, f"second section v2: want exit 2, got {show(res)}")
    err = res.stderr.decode(errors="replace")
    check("version 2.0" in err and "byte offset 144" in err, f"second section v2: {err!r}")
    _, rows, _ = csv_rows(out.read_bytes())
    check(len(rows) == 1, f"second section v2: want the 1 flow before the bad section, got {len(rows)}")
    # Versions libpcap accepts are read as before.
    res = run(["--pcap", str(d / "pcapng_version_1_2.pcapng"), "--csv", str(TMP / "v12.csv")])
    check(res.returncode == 0, f"pcapng 1.2: want exit 0, got {show(res)}")


def case_skip_reasons_named():
    # tests/data/encap_ethernet.pcap (make_captures.py): 14 frames twice; the encrypted MACsec
    # frame and the NSH frame with next protocol 0x41 are the only ones not decoded.
    cap = Path(__file__).resolve().parents[1] / "data" / "encap_ethernet.pcap"
    res = run(["--pcap", str(cap), "--csv", str(TMP / "encap.csv")])
    check(res.returncode == 0, f"encap: {show(res)}")
    err = res.stderr.decode(errors="replace")
    check(re.search(r"\(24 in flows, 4 skipped: encrypted 2, unsupported_encap 2\)", err),
          f"encap: summary must count the 4 skipped frames by name: {err!r}")


def case_encap_nfm2022_as_scapy():
    # nfm2022 decodes what scapy 2.5 dissects: none of the encapsulations in tests/data/encap_*
    # (their EtherTypes and PPP 0x0281/0x0283 stay Raw; IPv4 AH keeps TCP/UDP inside its Raw),
    # so NetFlowMeter 2022 sees no IPv4 packet with a TCP/UDP layer there: hand count 0 flows.
    # When Debian's scapy is present it is asked too (IP in p and (TCP in p or UDP in p)).
    d = Path(__file__).resolve().parents[1] / "data"
    files = [d / "encap_ethernet.pcap", d / "encap_ppp_mpls.pcap"]
    for f in files:
        out = TMP / (f.name + ".2022.csv")
        res = run(["--pcap", str(f), "--csv", str(out), "--profile", "nfm2022"])
        check(res.returncode == 0, f"{f.name} nfm2022: {show(res)}")
        _, rows, _ = csv_rows(out.read_bytes())
        check(len(rows) == 0, f"{f.name} nfm2022: want 0 flows (scapy 2.5 dissects no TCP/UDP there), got {len(rows)}")
    code = ("import sys\nfrom scapy.all import rdpcap, IP, TCP, UDP\n"
            "print(sum(1 for f in sys.argv[1:] for p in rdpcap(f) if IP in p and (TCP in p or UDP in p)))")
    try:
        sc = subprocess.run(["/usr/bin/python3", "-c", code, *map(str, files)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, timeout=120)
    except FileNotFoundError:
        sc = None
    if sc is None or sc.returncode != 0:
        print("NOTE: /usr/bin/python3 with scapy is missing: encap_nfm2022_as_scapy checked against "
              "the hand count only, NOT against scapy")
        return
    check(sc.stdout.decode().strip() == "0", f"scapy 2.5 sees TCP/UDP packets in encap_*: {sc.stdout!r}")


def case_link_type_named():
    # LINKTYPE_FRELAY (107) and an unregistered value: the warning names the link type.
    for lt, want in ((107, "107 (FRELAY: Frame Relay)"), (10, "10 (FDDI: FDDI)"),
                     (6, "Token Ring"), (4321, "4321 (not a link type we know of)")):
        data, _ = nfmtest.pcap_bytes([(1700000000, 0, b"\x00" * 40)], linktype=lt)
        p = TMP / f"lt{lt}.pcap"
        p.write_bytes(data)
        res = run(["--pcap", str(p), "--csv", str(TMP / "lt.csv")])
        check(res.returncode == 0, f"link type {lt}: {show(res)}")
        err = res.stderr.decode(errors="replace")
        check(want in err and "unknown" not in err, f"link type {lt}: warning must name it ({want!r}): {err!r}")


def case_csv_stdout():
    p, _, _ = sample_pcap()
    f = TMP / "file.csv"
    res1 = run(["--pcap", str(p), "--csv", str(f)])
    check(res1.returncode == 0, f"--csv FILE: {show(res1)}")
    res2 = run(["--pcap", str(p), "--csv", "-"])
    check(res2.returncode == 0, f"--csv -: {show(res2)}")
    check(res2.stdout == f.read_bytes(), "--csv - output differs from --csv FILE output")
    res3 = run(["--pcap", str(p)])
    check(res3.returncode == 0 and res3.stdout == f.read_bytes(), "default --csv is not stdout")
    h, rows, crlf = csv_rows(res2.stdout)
    check(len(rows) == 2, f"sample capture: want 2 flows (TCP + UDP), got {len(rows)}")
    check(len(h) == 121, f"header has {len(h)} columns, want 121 (7 identity + 114)")
    check(crlf, "rows must end with CRLF (spec §6.2)")


def case_csv_rotation():
    # --csv-rotate-mb 0.001 (~1 KiB): every ~1.5 KiB row starts a new file, each with the
    # header; the sample capture has 2 flows, so one file is closed and named
    # <path>.<UTC time>.1 and the last one keeps <path>.
    p, _, _ = sample_pcap()
    d = TMP / "rot"
    d.mkdir(exist_ok=True)
    f = d / "flows.csv"
    res = run(["--pcap", str(p), "--csv", str(f), "--csv-rotate-mb", "0.001"])
    check(res.returncode == 0, f"--csv-rotate-mb: {show(res)}")
    # (each closed file also gets <file>.manifest.json: dataset_test.py checks those)
    rotated = sorted(x for x in d.iterdir() if x.name != "flows.csv" and not x.name.endswith(".manifest.json"))
    check(len(rotated) == 1 and re.fullmatch(r"flows\.csv\.\d{8}T\d{6}Z\.1", rotated[0].name),
          f"want one closed file flows.csv.<UTC time>.1, got {[x.name for x in rotated]}")
    total = 0
    for x in [*rotated, f]:
        h, rows, crlf = csv_rows(x.read_bytes())
        check(len(h) == 121 and crlf, f"{x.name}: every rotated file starts with the 121-column header")
        total += len(rows)
    check(total == 2, f"rows over all files: want 2, got {total}")


def case_pcap_stdin():
    p, data, _ = sample_pcap()
    f = TMP / "file.csv"
    res1 = run(["--pcap", str(p), "--csv", str(f)])
    check(res1.returncode == 0, f"--pcap FILE: {show(res1)}")
    res2 = run(["--pcap", "-", "--csv", "-"], input=data)
    check(res2.returncode == 0, f"--pcap -: {show(res2)}")
    check(res2.stdout == f.read_bytes(), "--pcap - (stdin) output differs from --pcap FILE output")


def case_sample_values():
    """End-to-end sanity of the sample capture (corrected profile), hand-computed:
    TCP flow: 4 packets (3 fwd from 10.1.0.1:40000, 1 bwd), payload_ip 0+0+0+18 = 18 bytes
    ('GET / HTTP/1.0\\r\\n\\r\\n' is 18 bytes; Ethernet padding never counts, D14).
    UDP flow: 2 packets, payload 30 + 60 = 90."""
    p, _, _ = sample_pcap()
    res = run(["--pcap", str(p), "--csv", "-", "--tz", "utc"])
    check(res.returncode == 0, show(res))
    h, rows, _ = csv_rows(res.stdout)
    idx = {c: i for i, c in enumerate(h)}
    by_proto = {r[idx["protocol"]]: r for r in rows}
    check(set(by_proto) == {"TCP", "UDP"}, f"protocols {sorted(by_proto)}")
    t, u = by_proto["TCP"], by_proto["UDP"]
    want_t = {"src_ip": "10.1.0.1", "src_port": "40000", "dst_ip": "10.1.0.2", "dst_port": "80",
              "packets_count": "4", "fwd_packets_count": "3", "bwd_packets_count": "1",
              "total_payload_bytes": "18", "fwd_init_win_bytes": "64240", "bwd_init_win_bytes": "65160",
              "flow_id": "10.1.0.1_40000_10.1.0.2_80_TCP_2023-11-14 22:13:20",
              "timestamp": "2023-11-14 22:13:20"}
    for k, v in want_t.items():
        check(t[idx[k]] == v, f"TCP flow {k}={t[idx[k]]!r}, want {v!r}")
    want_u = {"src_ip": "10.1.0.3", "src_port": "5353", "packets_count": "2", "total_payload_bytes": "90",
              "fwd_total_payload_bytes": "30", "bwd_total_payload_bytes": "60"}
    for k, v in want_u.items():
        check(u[idx[k]] == v, f"UDP flow {k}={u[idx[k]]!r}, want {v!r}")
    # duration 0.03 s, 0.005 s: compare numerically (default float text is shortest round-trip)
    check(abs(float(t[idx["duration"]]) - 0.03) < 1e-12, f"TCP duration {t[idx['duration']]}")
    check(abs(float(u[idx["duration"]]) - 0.005) < 1e-12, f"UDP duration {u[idx['duration']]}")


def case_where_columns():
    """--where-columns node,iface offline: node from --node-name, else $NODE_NAME; iface and
    ifindex empty (a capture file names no interface); before capture_loss. Bad values are
    usage errors naming the flag, as are a --max-ifaces out of range and an unknown --dedup."""
    p, _, _ = sample_pcap()
    out = TMP / "where.csv"
    res = run(["--pcap", str(p), "--csv", str(out), "--where-columns", "node,iface", "--node-name", "n-7",
               "--loss-column", "--no-manifest"])
    check(res.returncode == 0, f"--where-columns: want exit 0, got {show(res)}")
    h, rows, _ = csv_rows(out.read_bytes())
    check(h[-4:] == ["node", "iface", "ifindex", "capture_loss"], f"--where-columns: last columns {h[-4:]}")
    check(rows and all(r[-4:-1] == ["n-7", "", ""] for r in rows), f"--where-columns: values {[r[-4:] for r in rows]}")
    env = dict(os.environ, NODE_NAME="from-env")
    res = run(["--pcap", str(p), "--csv", str(out), "--where-columns", "node", "--no-manifest"], env=env)
    check(res.returncode == 0, f"--where-columns node: want exit 0, got {show(res)}")
    h, rows, _ = csv_rows(out.read_bytes())
    check(h[-1] == "node" and all(r[-1] == "from-env" for r in rows), f"node from $NODE_NAME: {h[-1]} {rows[:1]}")
    usage_error(["--pcap", str(p), "--where-columns", "pod"], r"--where-columns", one_line=False)
    usage_error(["--iface", "lo", "--max-ifaces", "0"], r"--max-ifaces", one_line=False)
    usage_error(["--iface", "lo", "--dedup", "maybe"], r"--dedup", one_line=False)


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def main() -> int:
    global BIN, TMP
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("case", choices=sorted(CASES) + ["all", "list"])
    a = ap.parse_args()
    if a.case == "list":
        print("\n".join(sorted(CASES)))
        return 0
    BIN = a.binary
    if not os.access(BIN, os.X_OK):
        print(f"FAIL: binary not executable: {BIN}")
        return 1
    names = sorted(CASES) if a.case == "all" else [a.case]
    failed = 0
    with tempfile.TemporaryDirectory(prefix="nfm-cli-") as d:
        TMP = Path(d)
        for n in names:
            try:
                CASES[n]()
                print(f"PASS {n}")
            except Failure as e:
                print(f"FAIL {n}: {e}")
                failed += 1
            except subprocess.TimeoutExpired as e:
                print(f"FAIL {n}: timeout: {e}")
                failed += 1
    if len(names) > 1:
        print(f"{len(names) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
