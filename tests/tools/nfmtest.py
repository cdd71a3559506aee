# SPDX-License-Identifier: MIT
"""Shared helpers for the python-driven tests (differential, cli).

Standard library only. Nothing here computes a feature: expected values come from the
reference CSVs in ../shared/expected, from tshark, or from hand computation in the tests.
"""
from __future__ import annotations

import csv
import io
import ipaddress
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

SKIP_CODE = 77  # CTest SKIP_RETURN_CODE

CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap")


def find_shared(source_dir: str | None = None) -> Path | None:
    """../shared relative to the source dir (env NFM_SHARED_DIR overrides)."""
    env = os.environ.get("NFM_SHARED_DIR")
    if env:
        p = Path(env)
        return p if p.is_dir() else None
    if source_dir is None:
        source_dir = str(Path(__file__).resolve().parents[2])
    p = (Path(source_dir) / ".." / "shared").resolve()
    return p if (p / "pcaps").is_dir() else None



def loud(message: str) -> None:
    """A line that must not be missed in a long log (a skipped tier, a narrowed check)."""
    print("*" * 78)
    print(message)
    print("*" * 78)


def find_tshark() -> str | None:
    """tshark's path: $NFM_TSHARK, else the one on PATH; None when absent."""
    return os.environ.get("NFM_TSHARK") or shutil.which("tshark")

def list_captures(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.name.lower().endswith(CAPTURE_SUFFIXES))


def only_filter(paths: list[Path], env_var: str = "NFM_DIFF_ONLY") -> list[Path]:
    """Restrict to a comma/space separated list of file names (or substrings) in env_var."""
    spec = os.environ.get(env_var, "").replace(",", " ").split()
    if not spec:
        return paths
    return [p for p in paths if any(s == p.name or s in p.name for s in spec)]


def sanitizer_subset(paths: list[Path], what: str) -> list[Path]:
    """Under the sanitizer lane (NFM_SANITIZER_SUBSET=N, set by scripts/run-tests.sh for the
    ASan+UBSan build), the capture-matrix drivers check every Nth capture of the sorted list
    (rounds of the same code paths; the full matrix runs in the main build), and say so."""
    n = int(os.environ.get("NFM_SANITIZER_SUBSET", "0") or 0)
    if n <= 1 or len(paths) <= n:
        return paths
    kept = [p for i, p in enumerate(sorted(paths)) if i % n == 0]
    print(f"SANITIZER SUBSET: {what}: {len(kept)} of {len(paths)} captures (every {n}th; NFM_SANITIZER_SUBSET); "
          "the main build checks all of them")
    return kept


def run_tool(binary: str, args: list[str], timeout: float = 300, stdin=None,
             input_bytes: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([binary, *args], stdin=stdin, input=input_bytes,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)


def describe_rc(rc: int) -> str:
    if rc < 0:
        import signal
        try:
            return f"killed by signal {signal.Signals(-rc).name}"
        except ValueError:
            return f"killed by signal {-rc}"
    return f"exit {rc}"


def read_csv_text(data: bytes) -> tuple[list[str], list[list[str]], bool]:
    """Parse CSV bytes. Returns (header, rows, all_lines_crlf). Empty input -> ([], [], True)."""
    if not data:
        return [], [], True
    text = data.decode("ascii", errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]
    crlf = all(l.endswith("\r") for l in lines) and text.endswith("\r\n")
    rdr = csv.reader(io.StringIO(text, newline=""))
    all_rows = [r for r in rdr]
    if not all_rows:
        return [], [], crlf
    return all_rows[0], all_rows[1:], crlf


def canon_ip(text: str) -> str:
    try:
        a = ipaddress.ip_address(text)
    except ValueError:
        return text
    if isinstance(a, ipaddress.IPv6Address) and a.ipv4_mapped is not None:
        a = a.ipv4_mapped
    return str(a)


def canon_5tuple(ip1: str, p1: int, ip2: str, p2: int, proto: int):
    a = (canon_ip(ip1), int(p1))
    b = (canon_ip(ip2), int(p2))
    lo, hi = (a, b) if a <= b else (b, a)
    return (lo[0], lo[1], hi[0], hi[1], int(proto))


PROTO_NUM = {"TCP": 6, "UDP": 17, "ICMP": 1, "ICMPv6": 58}


# ---------------------------------------------------------------- pcap writing (tests)
def _csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ipv4_tcp_frame(src: str, dst: str, sport: int, dport: int, flags: int,
                   payload: bytes = b"", win: int = 65535, seq: int = 1, ack: int = 0) -> bytes:
    """Ethernet + IPv4 + TCP (20-byte header) frame; padded to 60 bytes like the wire."""
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, win, 0, 0) + payload
    total = 20 + len(tcp)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 1, 0x4000, 64, 6, 0,
                     ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed)
    ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
    eth = bytes.fromhex("020000000002" "020000000001" "0800")
    frame = eth + ip + tcp
    if len(frame) < 60:
        frame += b"\0" * (60 - len(frame))
    return frame


def ipv4_udp_frame(src: str, dst: str, sport: int, dport: int, payload: bytes = b"") -> bytes:
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    total = 20 + len(udp)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 1, 0, 64, 17, 0,
                     ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed)
    ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
    eth = bytes.fromhex("020000000002" "020000000001" "0800")
    frame = eth + ip + udp
    if len(frame) < 60:
        frame += b"\0" * (60 - len(frame))
    return frame


def pcap_bytes(records: list[tuple[int, int, bytes]], linktype: int = 1) -> tuple[bytes, list[int]]:
    """Classic little-endian microsecond pcap. records = [(sec, usec, frame)].
    Returns (file bytes, offsets of each record header)."""
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype))
    offsets = []
    for sec, usec, frame in records:
        offsets.append(len(out))
        out += struct.pack("<IIII", sec, usec, len(frame), len(frame))
        out += frame
    return bytes(out), offsets


def sample_records() -> list[tuple[int, int, bytes]]:
    """A small valid capture: one TCP conversation (4 packets) and one UDP exchange (2)."""
    c, s = "10.1.0.1", "10.1.0.2"
    return [
        (1700000000, 0, ipv4_tcp_frame(c, s, 40000, 80, 0x02, win=64240)),
        (1700000000, 10000, ipv4_tcp_frame(s, c, 80, 40000, 0x12, win=65160)),
        (1700000000, 20000, ipv4_tcp_frame(c, s, 40000, 80, 0x10, win=502)),
        (1700000000, 30000, ipv4_tcp_frame(c, s, 40000, 80, 0x18, b"GET / HTTP/1.0\r\n\r\n", win=502)),
        (1700000001, 0, ipv4_udp_frame("10.1.0.3", "10.1.0.4", 5353, 53, b"q" * 30)),
        (1700000001, 5000, ipv4_udp_frame("10.1.0.4", "10.1.0.3", 53, 5353, b"r" * 60)),
    ]


def eprint(*a):
    print(*a, file=sys.stderr)


# ---- the case runner every python test driver shares -------------------------------------

class Failure(Exception):
    """A check failed: the case fails with this message."""


class Skip(Exception):
    """A prerequisite is missing: the case is skipped, and says what is missing."""


def check(cond: bool, msg: str) -> None:
    if not cond:
        raise Failure(msg)


def run_cases(cases: dict, module: dict, prefix: str, argv: list[str] | None = None) -> int:
    """The command line of the test drivers: `--binary BIN CASE|all|list`. Each case runs with
    the driver module's globals BIN (the binary) and TMP (a fresh folder of its own) set, and
    prints `PASS name`, `SKIP name: why` or `FAIL name: why`; several cases end with the line
    `N passed, N failed, N skipped`. Exit status: 1 if a case failed, SKIP_CODE (77) when every
    case skipped, else 0."""
    import argparse
    import tempfile
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("case", choices=[*cases, "all", "list"])
    a = ap.parse_args(argv)
    if a.case == "list":
        print("\n".join(cases))
        return 0
    if not os.access(a.binary, os.X_OK):
        print(f"FAIL: binary not executable: {a.binary}")
        return 1
    module["BIN"] = a.binary
    names = list(cases) if a.case == "all" else [a.case]
    failed = skipped = 0
    with tempfile.TemporaryDirectory(prefix=prefix) as d:
        for n in names:
            module["TMP"] = Path(d) / n
            module["TMP"].mkdir()
            try:
                cases[n]()
                print(f"PASS {n}", flush=True)
            except Skip as e:
                print(f"SKIP {n}: {e}", flush=True)
                skipped += 1
            except Failure as e:
                print(f"FAIL {n}: {e}", flush=True)
                failed += 1
            except subprocess.TimeoutExpired as e:
                print(f"FAIL {n}: timeout: {e}", flush=True)
                failed += 1
    if len(names) > 1:
        print(f"{len(names) - failed - skipped} passed, {failed} failed, {skipped} skipped")
    if failed:
        return 1
    return SKIP_CODE if skipped == len(names) else 0
