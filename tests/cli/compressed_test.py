#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Compressed captures in (label "cli"): gzip, zstd, xz and bzip2 captures, recognised by their
magic bytes, must give the same CSV bytes as the uncompressed capture.

  compressed_test.py --binary build/nfm-xdp CASE | all | list

The compressed files are made here, at test time, by the command-line tools (gzip, zstd, xz,
bzip2): the expected output is always nfm-xdp's run on the uncompressed capture, and the
expected digests come from sha256sum. A missing tool or a missing ../shared/pcaps is a loud
SKIP (exit 77 when nothing could be tested).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import nfmtest  # noqa: E402
from nfmtest import Failure, Skip, check  # noqa: E402

BIN = ""
TMP = Path(".")
TIMEOUT = 120
SRC = Path(__file__).resolve().parents[2]
PROFILES = ("corrected", "nfm2022", "nfm2022-seed", "cic", "ntl")
# name -> (compress command, reading stdin, writing stdout; manifest "compression" value)
TOOLS = {
    "gzip": (["gzip", "-c", "-n"], "gzip"),
    "zstd": (["zstd", "-q", "-c"], "zstd"),
    "xz": (["xz", "-c"], "xz"),
    "bzip2": (["bzip2", "-c"], "bzip2"),
}





def run(args, **kw) -> subprocess.CompletedProcess:
    kw.setdefault("timeout", TIMEOUT)
    return subprocess.run([BIN, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def show(res) -> str:
    return f"{nfmtest.describe_rc(res.returncode)}; stderr={res.stderr[:600]!r}"


def tools() -> dict:
    have = {k: v for k, v in TOOLS.items() if shutil.which(v[0][0])}
    for k in TOOLS:
        if k not in have:
            print(f"SKIP part: {TOOLS[k][0][0]} not installed: {k} captures not tested "
                  f"(Debian: apt-get install {'xz-utils' if k == 'xz' else k})", flush=True)
    if not have:
        raise Skip("none of gzip, zstd, xz, bzip2 is installed")
    return have


def compress(tool: str, data: bytes) -> bytes:
    return subprocess.run(TOOLS[tool][0], input=data, stdout=subprocess.PIPE, check=True, timeout=TIMEOUT).stdout


def replay(capture: Path | str, profile: str, extra=(), stdin: bytes | None = None):
    """(exit code, CSV bytes, stderr) of one run, CSV to stdout, no manifest."""
    res = run(["--pcap", str(capture), "--csv", "-", "--profile", profile, "--threads", "1", *extra],
              input=stdin)
    return res.returncode, res.stdout, res.stderr.decode(errors="replace")


def same_rows(captures: list[Path], profiles=PROFILES) -> int:
    """Every capture x profile x tool: the compressed file (named .bin, so no suffix can give it
    away) gives the uncompressed run's exit code and CSV bytes. Returns the number of runs."""
    have = tools()
    n = 0
    for cap in captures:
        data = cap.read_bytes()
        packed = {}
        for tool in have:
            p = TMP / f"{cap.name}.{tool}.bin"
            p.write_bytes(compress(tool, data))
            packed[tool] = p
        for profile in profiles:
            rc, out, err = replay(cap, profile)
            for tool, p in packed.items():
                rc2, out2, err2 = replay(p, profile)
                check(rc2 == rc, f"{cap.name} {tool} --profile {profile}: exit {rc2}, uncompressed {rc}; "
                                 f"stderr {err2[:400]!r}")
                check(out2 == out, f"{cap.name} {tool} --profile {profile}: CSV differs from the uncompressed "
                                   f"run ({len(out2)} vs {len(out)} bytes)")
                n += 1
        for p in packed.values():
            p.unlink()
    return n


def data_captures() -> list[Path]:
    return nfmtest.list_captures(SRC / "tests" / "data")


def case_data():
    n = same_rows(nfmtest.sanitizer_subset(data_captures(), "compressed captures (tests/data)"))
    print(f"{n} compressed runs of tests/data identical to the uncompressed ones")


def case_shared():
    shared = nfmtest.find_shared(str(SRC))
    if shared is None:
        raise Skip("../shared/pcaps not found (set NFM_SHARED_DIR): the real-capture part is not tested")
    caps = nfmtest.only_filter(nfmtest.list_captures(shared / "pcaps"))
    check(len(caps) > 0, f"no capture in {shared / 'pcaps'}")
    caps = nfmtest.sanitizer_subset(caps, "compressed captures (shared)")
    n = same_rows(caps)
    print(f"{n} compressed runs of {len(caps)} shared captures identical to the uncompressed ones")


def sample() -> Path:
    """A capture of several flows that reads cleanly: the shared ppp_example.pcap (4,631
    records, 3.8 MB: several compressed blocks) when present, else the largest in tests/data."""
    shared = nfmtest.find_shared(str(SRC))
    if shared is not None and (shared / "pcaps" / "ppp_example.pcap").is_file():
        return shared / "pcaps" / "ppp_example.pcap"
    return SRC / "tests" / "data" / "ber_ldap_openldap_localhost.pcap"


def case_concatenated():
    """cat a.gz b.gz: two gzip members (zstd frames, xz streams, bzip2 streams) read as one."""
    cap = sample()
    data = cap.read_bytes()
    for profile in ("corrected", "nfm2022"):
        rc, out, _ = replay(cap, profile)
        check(rc == 0, f"{cap.name}: uncompressed run exit {rc}")
        for tool in tools():
            for cut in (len(data) // 3, 2 * len(data) // 3):
                p = TMP / f"concat.{tool}"
                p.write_bytes(compress(tool, data[:cut]) + compress(tool, data[cut:]))
                rc2, out2, err2 = replay(p, profile)
                check(rc2 == 0 and out2 == out, f"{tool}, two members split at byte {cut}, --profile {profile}: "
                                                f"exit {rc2}, CSV {'same' if out2 == out else 'differs'}; {err2[:300]!r}")


def case_stdin():
    cap = sample()
    data = cap.read_bytes()
    for profile in ("corrected", "cic"):
        rc, out, _ = replay(cap, profile)
        for tool in tools():
            rc2, out2, err2 = replay("-", profile, stdin=compress(tool, data))
            check(rc2 == rc and out2 == out, f"--pcap - with {tool} data, --profile {profile}: exit {rc2} "
                                             f"(want {rc}), CSV {'same' if out2 == out else 'differs'}; {err2[:300]!r}")


def case_directory():
    """--pcap DIR with compressed and plain files (names without a telling suffix) is read as the
    same files uncompressed; with one and two threads."""
    caps = [c for c in data_captures() if c.name in ("pcap_us_le.pcap", "pcap_ns_be.pcap", "pcapng_multi.pcapng",
                                                     "encap_ethernet.pcap")]
    caps.append(sample())
    check(len(caps) >= 3, "test captures missing from tests/data")
    plain, packed = TMP / "plain", TMP / "packed"
    plain.mkdir()
    packed.mkdir()
    names = list(tools()) + [None]
    for i, cap in enumerate(caps):
        shutil.copy(cap, plain / cap.name)
        tool = names[i % len(names)]
        (packed / cap.name).write_bytes(compress(tool, cap.read_bytes()) if tool else cap.read_bytes())
    for profile in ("corrected", "nfm2022-seed", "ntl"):
        for threads in ("1", "2"):
            r1 = run(["--pcap", str(plain), "--csv", "-", "--profile", profile, "--threads", threads])
            r2 = run(["--pcap", str(packed), "--csv", "-", "--profile", profile, "--threads", threads])
            check(r1.returncode == 0, f"plain directory: {show(r1)}")
            check(r2.returncode == 0, f"compressed directory, --profile {profile} --threads {threads}: {show(r2)}")
            check(r2.stdout == r1.stdout, f"compressed directory, --profile {profile} --threads {threads}: CSV "
                                          "differs from the uncompressed directory's")


def case_truncated():
    """A .gz cut in the middle: exit 2, one line naming the file and the truncation, and the rows
    of every record gzip itself can recover (the uncompressed prefix `gzip -dc` writes)."""
    if not shutil.which("gzip"):
        raise Skip("gzip not installed")
    cap = sample()
    whole = compress("gzip", cap.read_bytes())
    cut = TMP / "cut.pcap.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    prefix = subprocess.run(["gzip", "-dc"], input=cut.read_bytes(), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, timeout=TIMEOUT).stdout
    check(len(prefix) > 24, "gzip -dc recovered nothing from the cut file")
    plain = TMP / "prefix.pcap"
    plain.write_bytes(prefix)
    for profile in ("corrected", "nfm2022"):
        rc, out, err = replay(cut, profile)
        check(rc == 2, f"cut .gz, --profile {profile}: want exit 2, got {rc}; {err[:300]!r}")
        lines = [l for l in err.splitlines() if "cut.pcap.gz" in l]
        check(len(lines) == 1 and "truncated" in lines[0] and "gzip" in lines[0],
              f"cut .gz: want one line naming the file and a truncated gzip stream, got {err[:600]!r}")
        rc2, out2, _ = replay(plain, profile)
        check(rc2 == 2, f"the recovered prefix as a plain pcap should end inside a record (exit 2), got {rc2}")
        check(out == out2 and out.count(b"\n") > 1,
              f"cut .gz, --profile {profile}: rows differ from those of the recovered prefix")
    # A damaged byte in the middle of the deflate data: a corrupt stream, not a crash.
    bad = bytearray(whole)
    for i in range(len(bad) // 2, len(bad) // 2 + 64):
        bad[i] ^= 0x55
    p = TMP / "damaged.pcap.gz"
    p.write_bytes(bytes(bad))
    rc, out, err = replay(p, "corrected")
    check(rc == 2, f"damaged .gz: want exit 2, got {rc}; {err[:300]!r}")
    check("damaged.pcap.gz" in err and ("corrupt" in err or "truncated" in err),
          f"damaged .gz: message names neither the file nor the damage: {err[:400]!r}")


def case_manifest():
    """The manifest hashes the file as stored (sha256sum of the compressed bytes) and says it was
    compressed."""
    cap = sample()
    data = cap.read_bytes()
    for tool in tools():
        p = TMP / f"m.{tool}"
        p.write_bytes(compress(tool, data))
        csv = TMP / f"m.{tool}.csv"
        res = run(["--pcap", str(p), "--csv", str(csv)])
        check(res.returncode == 0, f"{tool}: {show(res)}")
        m = json.loads((TMP / f"m.{tool}.csv.manifest.json").read_text())
        inp = m["inputs"][0]
        stored = p.read_bytes()
        want = subprocess.run(["sha256sum", str(p)], stdout=subprocess.PIPE, check=True).stdout.split()[0].decode() \
            if shutil.which("sha256sum") else hashlib.sha256(stored).hexdigest()
        check(inp.get("compression") == TOOLS[tool][1], f"{tool}: manifest compression {inp.get('compression')!r}")
        check(inp["sha256"] == want and inp["sha256_complete"] is True,
              f"{tool}: manifest sha256 {inp['sha256']} is not sha256sum of the stored file {want}")
        check(inp["size"] == len(stored) and inp["sha256_bytes"] == len(stored),
              f"{tool}: size {inp['size']}, sha256_bytes {inp['sha256_bytes']}, stored {len(stored)}")
    res = run(["--pcap", str(cap), "--csv", str(TMP / "plain.csv")])
    m = json.loads((TMP / "plain.csv.manifest.json").read_text())
    check(m["inputs"][0].get("compression") == "none", f"plain capture: compression {m['inputs'][0].get('compression')!r}")


def case_manifest_modes():
    """The input digest is the same in every reading mode: one thread, --threads 2 with each
    NFM_SHARD_READ mode, stdin; plain and compressed. The capture (generated, 6 MB) is large
    enough to be hashed on the helper thread."""
    recs = []
    for i in range(6000):
        frame = nfmtest.ipv4_udp_frame(f"10.2.{i % 7}.1", "10.3.0.1", 1000 + i % 50, 53, bytes([i % 251]) * 1000)
        recs.append((1700000000 + i // 100, (i % 100) * 10000, frame))
    data, _ = nfmtest.pcap_bytes(recs)
    check(len(data) > 4 << 20, f"generated capture of {len(data)} bytes is under 4 MiB")
    stored = {"none": data}
    for tool in tools():
        stored[TOOLS[tool][1]] = compress(tool, data)
    modes = [({}, ["--threads", "1"]), ({}, ["--threads", "2"])]
    modes += [({"NFM_SHARD_READ": m}, ["--threads", "2"]) for m in ("pipelined", "replicated", "cooperative")]
    for kind, blob in stored.items():
        p = TMP / f"modes.{kind}"
        p.write_bytes(blob)
        want = hashlib.sha256(blob).hexdigest()
        for env, args in modes + [({}, ["--stdin"])]:
            csv = TMP / "modes.csv"
            if args == ["--stdin"]:
                res = run(["--pcap", "-", "--csv", str(csv)], input=blob)
            else:
                res = run(["--pcap", str(p), "--csv", str(csv), *args], env={**os.environ, **env})
            check(res.returncode == 0, f"{kind} {env} {args}: {show(res)}")
            inp = json.loads((TMP / "modes.csv.manifest.json").read_text())["inputs"][0]
            check(inp["sha256"] == want and inp["sha256_bytes"] == len(blob) and inp.get("compression") == kind,
                  f"{kind} {env} {args}: manifest sha256 {inp['sha256']} over {inp['sha256_bytes']} bytes "
                  f"({inp.get('compression')}), want {want} over {len(blob)}")


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}



if __name__ == "__main__":
    sys.exit(nfmtest.run_cases(CASES, globals(), "nfm-compressed-"))
