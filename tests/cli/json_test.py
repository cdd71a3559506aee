#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""JSON Lines output tests for nfm-xdp (label "cli").

  json_test.py --binary build/nfm-xdp CASE | all | list

The oracle is the CSV of the same run: every JSON line must parse with Python's json module
(strict: no NaN/Infinity literals) and equal its CSV row value for value — the same keys in
the CSV header's order, texts equal, integers equal, floats within half a unit of the last digit
the CSV printed, null exactly where the CSV has nan/inf/an empty field. Runs cover every capture
in tests/data and ../shared/pcaps (loudly skipped when absent), every profile and feature set,
the data-set columns and --threads 2. Compression, rotation and the manifest are checked with
gzip/zstd from Python and the manifest's own row count.
"""
from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import re
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
REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 120

# (name, options): every profile and feature set the CSV supports.
COMBOS = [
    ("corrected", []),
    ("nfm2022", ["--profile", "nfm2022"]),
    ("nfm2022-seed", ["--profile", "nfm2022-seed"]),
    ("cic", ["--profile", "cic"]),
    ("ntl", ["--profile", "ntl"]),
    ("corrected-cic", ["--feature-set", "cic"]),
    ("corrected-ntl", ["--feature-set", "ntl"]),
]

NULL_TEXTS = {"", "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "-Infinity"}
NUM_RE = re.compile(r"[+-]?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?")





def run(args, **kw) -> subprocess.CompletedProcess:
    kw.setdefault("timeout", TIMEOUT)
    return subprocess.run([BIN, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def half_unit(text: str) -> float | None:
    """Half a unit in the last place the CSV text printed (None: not a number)."""
    m = NUM_RE.fullmatch(text)
    if not m or not (m.group(1) or m.group(2)):
        return None
    frac = len(m.group(2) or "")
    exp = int(m.group(3) or 0)
    return 0.5 * 10.0 ** (exp - frac)


def strict_loads(line: str):
    def bad_constant(name):
        raise ValueError(f"non-standard JSON constant {name}")
    return json.loads(line, parse_constant=bad_constant)


def compare_cell(where: str, key: str, text: str, value) -> None:
    if value is None:
        check(text in NULL_TEXTS, f"{where}: {key}: JSON null but CSV {text!r}")
        return
    if isinstance(value, bool):
        raise Failure(f"{where}: {key}: unexpected JSON boolean")
    if isinstance(value, str):
        check(text == value, f"{where}: {key}: JSON {value!r} != CSV {text!r}")
        return
    check(text not in NULL_TEXTS, f"{where}: {key}: CSV {text!r} but JSON {value!r}")
    if isinstance(value, int):
        check(re.fullmatch(r"-?\d+", text) is not None and int(text) == value,
              f"{where}: {key}: JSON integer {value} != CSV {text!r}")
        return
    check(isinstance(value, float), f"{where}: {key}: JSON {type(value).__name__}")
    h = half_unit(text)
    check(h is not None, f"{where}: {key}: CSV {text!r} is not a number (JSON {value!r})")
    ref = float(text)
    tol = h * (1 + 1e-9) + 4e-16 * abs(value) + 1e-300
    check(math.isfinite(value) and abs(value - ref) <= tol,
          f"{where}: {key}: JSON {value!r} vs CSV {text!r} (tolerance {tol:g})")


def compare_outputs(where: str, csv_bytes: bytes, json_bytes: bytes) -> int:
    header, rows, _ = nfmtest.read_csv_text(csv_bytes)
    text = json_bytes.decode("utf-8")
    lines = text.split("\n")
    check(text == "" or text.endswith("\n"), f"{where}: JSON output does not end with a line break")
    if lines and lines[-1] == "":
        lines.pop()
    check(len(lines) == len(rows), f"{where}: {len(lines)} JSON lines, {len(rows)} CSV rows")
    for i, (line, row) in enumerate(zip(lines, rows)):
        try:
            obj = strict_loads(line)
        except ValueError as e:
            raise Failure(f"{where}: line {i + 1} is not JSON: {e}: {line[:200]!r}")
        check(isinstance(obj, dict), f"{where}: line {i + 1} is not an object")
        check(list(obj.keys()) == header, f"{where}: line {i + 1}: keys differ from the CSV header "
              f"({len(obj)} vs {len(header)} columns)")
        check(len(row) == len(header), f"{where}: CSV row {i + 1} has {len(row)} fields")
        for k, t in zip(header, row):
            compare_cell(f"{where} row {i + 1}", k, t, obj[k])
    return len(rows)


def rules_file() -> Path:
    p = TMP / "rules.csv"
    if not p.exists():
        # Every flow from 10.0.0.0/8 or to TCP port 80 labelled; the rest get --default-label.
        p.write_text("label,start,end,src,dst,sport,dport,proto\n"
                     "PRIVATE,*,*,10.0.0.0/8,*,*,*,*\n"
                     "WEB,*,*,*,*,*,80,6\n")
    return p


def roundtrip(captures: list[Path], extra: list[str], tag: str) -> tuple[int, int]:
    runs = rows = 0
    for cap in nfmtest.sanitizer_subset(captures, f"JSON Lines roundtrip ({tag})"):
        for name, opts in COMBOS:
            csv_path = TMP / f"{tag}-{cap.name}-{name}.csv"
            json_path = TMP / f"{tag}-{cap.name}-{name}.jsonl"
            res = run(["--pcap", str(cap), *opts, *extra, "--csv", str(csv_path), "--json", str(json_path),
                       "-q", "--no-manifest"])
            if res.returncode == 1 and not csv_path.stat().st_size:
                # A capture the run rejects (corrupt, wrong version): both outputs must stay empty,
                # and the run without --json must fail the same way.
                check(json_path.stat().st_size == 0, f"{cap.name} {name}: failed run left JSON rows")
                alone = run(["--pcap", str(cap), *opts, *extra, "-q", "--no-manifest"])
                check(alone.returncode == 1 and not alone.stdout, f"{cap.name} {name}: fails only with --json: "
                      f"{res.stderr[:300]!r}")
                continue
            csv_bytes = csv_path.read_bytes()
            rows += compare_outputs(f"{cap.name} [{name} {' '.join(extra)}]", csv_bytes, json_path.read_bytes())
            header = nfmtest.read_csv_text(csv_bytes)[0]
            if "--labels" in extra and header:
                check(header[-1] in ("label", "Label") and header[-2] == "capture_loss",
                      f"{cap.name} {name}: data-set columns missing: {header[-3:]}")
            runs += 1
            csv_path.unlink()
            json_path.unlink()
    return runs, rows


def local_captures() -> list[Path]:
    caps = nfmtest.list_captures(REPO / "tests" / "data")
    check(len(caps) > 5, "tests/data has no captures")
    return nfmtest.only_filter(caps, "NFM_JSON_ONLY")


def shared_captures() -> list[Path]:
    shared = nfmtest.find_shared(str(REPO))
    if shared is None:
        raise Skip("../shared/pcaps is missing (set NFM_SHARED_DIR): the real captures were NOT compared")
    return nfmtest.only_filter(nfmtest.list_captures(shared / "pcaps"), "NFM_JSON_ONLY")


def case_roundtrip_data():
    runs, rows = roundtrip(local_captures(), [], "data")
    check(rows > 0, "no rows compared")
    print(f"  {runs} runs, {rows} rows equal")


def case_roundtrip_shared():
    runs, rows = roundtrip(shared_captures(), [], "shared")
    check(rows > 100, f"only {rows} rows compared")
    print(f"  {runs} runs, {rows} rows equal")


def case_roundtrip_dataset_columns():
    extra = ["--labels", str(rules_file()), "--default-label", "OTHER", "--loss-column",
             "--where-columns", "node,iface", "--node-name", "lab-node-1"]
    caps = local_captures()
    shared = nfmtest.find_shared(str(REPO))
    if shared is not None:
        caps += nfmtest.list_captures(shared / "pcaps")
    else:
        print("SKIP-PART: ../shared/pcaps missing: data-set columns checked on tests/data only")
    runs, rows = roundtrip(caps, extra, "ds")
    check(rows > 0, "no rows compared")
    print(f"  {runs} runs, {rows} rows equal")


def case_roundtrip_threads():
    caps = local_captures()
    shared = nfmtest.find_shared(str(REPO))
    if shared is not None:
        caps += nfmtest.list_captures(shared / "pcaps")
    else:
        print("SKIP-PART: ../shared/pcaps missing: --threads 2 checked on tests/data only")
    runs, rows = roundtrip(caps, ["--threads", "2"], "thr")
    check(rows > 0, "no rows compared")
    print(f"  {runs} runs, {rows} rows equal")


def a_capture() -> Path:
    shared = nfmtest.find_shared(str(REPO))
    if shared is not None and (shared / "pcaps" / "zeek_ssh.pcap").exists():
        return shared / "pcaps" / "zeek_ssh.pcap"
    return REPO / "tests" / "data" / "pcapng_multi.pcapng"


def case_json_alone_and_stdout():
    cap = a_capture()
    ref_csv = run(["--pcap", str(cap), "-q"])
    check(ref_csv.returncode == 0, f"csv run: {ref_csv.stderr!r}")
    # --json alone writes no CSV (stdout carries the JSON).
    res = run(["--pcap", str(cap), "-q", "--json", "-"])
    check(res.returncode == 0, f"--json -: {nfmtest.describe_rc(res.returncode)} {res.stderr!r}")
    compare_outputs("--json -", ref_csv.stdout, res.stdout)
    both = run(["--pcap", str(cap), "--csv", "-", "--json", "-"])
    check(both.returncode == 1 and b"--json" in both.stderr and b"stdout" in both.stderr,
          f"--csv - --json - accepted: {both.stderr!r}")
    bad = run(["--pcap", str(cap), "--json", str(TMP / "no" / "such" / "dir.jsonl")])
    check(bad.returncode == 1 and b"JSON output" in bad.stderr and b"--json" in bad.stderr,
          f"unwritable --json: {bad.stderr!r}")


def pandas_python() -> str:
    """A Python with pandas: this one, or Debian's (python3-pandas) when this is another install."""
    for py in (sys.executable, "/usr/bin/python3"):
        if os.access(py, os.X_OK) and subprocess.run([py, "-c", "import pandas"], stderr=subprocess.DEVNULL).returncode == 0:
            return py
    raise Skip("python3-pandas is not installed: pandas.read_json(lines=True) NOT checked")


PANDAS_READ = """
import json, sys
import pandas as pd
df = pd.read_json(sys.argv[1], lines=True)
print(json.dumps({"columns": list(df.columns), "rows": len(df),
                  "numeric": [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])]}))
"""


def case_pandas():
    py = pandas_python()
    cap = a_capture()
    for name, opts in COMBOS:
        out = TMP / f"p-{name}.jsonl"
        res = run(["--pcap", str(cap), *opts, "-q", "--json", str(out), "--no-manifest"])
        check(res.returncode == 0, f"{name}: {res.stderr!r}")
        csv_res = run(["--pcap", str(cap), *opts, "-q"])
        header, rows, _ = nfmtest.read_csv_text(csv_res.stdout)
        got = subprocess.run([py, "-c", PANDAS_READ, str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             timeout=TIMEOUT)
        check(got.returncode == 0, f"{name}: pandas.read_json failed: {got.stderr[-400:]!r}")
        info = json.loads(got.stdout)
        check(info["columns"] == header, f"{name}: pandas columns differ from the CSV header")
        check(info["rows"] == len(rows), f"{name}: pandas read {info['rows']} rows, CSV has {len(rows)}")
        # Every feature column is numeric to pandas (texts only in identity/label columns).
        for col in ("duration", "Flow Duration", "packets_count", "Total Fwd Packet"):
            if col in header and rows:
                check(col in info["numeric"], f"{name}: pandas did not read {col} as a number")


def case_compressed_rotation():
    cap = a_capture()
    plain = TMP / "plain.jsonl"
    res = run(["--pcap", str(cap), "-q", "--json", str(plain)])
    check(res.returncode == 0, f"plain: {res.stderr!r}")
    want = plain.read_bytes()
    check(want.count(b"\n") >= 3, "too few rows for a rotation test")
    man = json.loads((TMP / "plain.jsonl.manifest.json").read_text())
    check(man["file"]["format"] == "jsonl", f"manifest format {man['file']['format']!r}")
    check(man["file"]["rows"] == want.count(b"\n"), "manifest rows != JSON lines")
    check([c["name"] for c in man["columns"]] == list(strict_loads(want.split(b"\n")[0]).keys()),
          "manifest columns differ from the JSON keys")
    for ext in ("gz", "zst"):
        if ext == "zst" and shutil.which("zstd") is None:
            print("SKIP-PART: zstd tool missing: .jsonl.zst not decompressed")
            continue
        d = TMP / ext
        d.mkdir()
        out = d / f"out.jsonl.{ext}"
        # A rotation size below one row's length: every part holds one row.
        res = run(["--pcap", str(cap), "-q", "--json", str(out), "--json-rotate-mb", "0.0001"])
        check(res.returncode == 0, f"{ext}: {res.stderr!r}")
        parts = sorted(p for p in d.iterdir() if p.name.endswith(f".jsonl.{ext}"))
        check(len(parts) >= 2, f"{ext}: no rotation ({[p.name for p in d.iterdir()]})")
        got = b""
        rotated = [p for p in parts if p.name != out.name]
        for p in sorted(rotated, key=lambda p: int(p.name.split(".")[-3])) + [out]:
            if ext == "gz":
                data = gzip.decompress(p.read_bytes())
            else:
                data = subprocess.run(["zstd", "-dc", str(p)], stdout=subprocess.PIPE, check=True).stdout
            got += data
            check((d / (p.name + ".manifest.json")).exists(), f"{ext}: no manifest for {p.name}")
        check(got == want, f"{ext}: rotated parts do not add up to the plain output")


CASES = {
    "roundtrip_data": case_roundtrip_data,
    "roundtrip_shared": case_roundtrip_shared,
    "roundtrip_dataset_columns": case_roundtrip_dataset_columns,
    "roundtrip_threads": case_roundtrip_threads,
    "json_alone_and_stdout": case_json_alone_and_stdout,
    "pandas": case_pandas,
    "compressed_rotation": case_compressed_rotation,
}



if __name__ == "__main__":
    sys.exit(nfmtest.run_cases(CASES, globals(), "nfm-json-"))
