#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Consistency: `--profile corrected --feature-set ntl` against `--profile corrected`.

The corrected NTLFlowLyzer feature set shares 118 column names with the corrected 114
features (counts, payload/header statistics, IAT, bulk, flags, subflows, active/idle ...); both
come from the same flows, so every shared column must hold the same value (numerically; the
float format is .17g). Also: the same rows (flow_id + packets_count), 7 + 341 + label columns,
and the label text. Runs on ../shared/pcaps and tests/data; exits 77 (skipped) when neither
has a capture. Not an oracle for the ntl-only columns (the unit tests hand-compute those).
"""
from __future__ import annotations

import argparse
import csv
import io
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import nfmtest  # noqa: E402


def rows(binary: str, cap: Path, extra: list[str], out: Path):
    res = nfmtest.run_tool(binary, ["--pcap", str(cap), "--csv", str(out), "-q", "--float-format", ".17g"] + extra)
    if res.returncode not in (0, 2):
        return None, res.returncode
    data = out.read_text() if out.exists() else ""
    return list(csv.reader(io.StringIO(data))), res.returncode


def same(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    return x == y or (x != x and y != y)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--source-dir", default=None)
    args = ap.parse_args()
    caps: list[Path] = []
    shared = nfmtest.find_shared(args.source_dir)
    if shared is not None:
        caps += nfmtest.list_captures(shared / "pcaps")
    src = Path(args.source_dir) if args.source_dir else Path(__file__).resolve().parents[2]
    caps += nfmtest.list_captures(src / "tests" / "data")
    caps = nfmtest.only_filter(caps)
    if not caps:
        print("SKIP: no capture in ../shared/pcaps or tests/data")
        return nfmtest.SKIP_CODE
    if shared is None:
        print("NOTE: ../shared not found: checking tests/data only")
    bad = Counter()
    flows = 0
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for cap in caps:
            a, ra = rows(args.binary, cap, ["--feature-set", "ntl", "--label", "Lbl"], Path(tmp) / "a.csv")
            b, rb = rows(args.binary, cap, [], Path(tmp) / "b.csv")
            if ra == rb and a is None and b is None:
                continue  # both refuse the input the same way (e.g. an empty file)
            if a is None or b is None or ra != rb:
                print(f"FAIL {cap.name}: exit {ra} (ntl) vs {rb} (114)")
                failed += 1
                continue
            if not b:
                if a:
                    print(f"FAIL {cap.name}: ntl has rows, the 114 features none")
                    failed += 1
                continue
            ha, hb = a[0], b[0]
            if len(ha) != 7 + 341 + 1 or ha[-1] != "label":
                print(f"FAIL {cap.name}: ntl header has {len(ha)} columns")
                failed += 1
                continue
            ia = {h: i for i, h in enumerate(ha)}
            common = [h for h in hb if h in ia]
            ib = {h: i for i, h in enumerate(hb)}
            key = lambda r, ix: (r[0], r[ix["packets_count"]])  # noqa: E731
            ca = Counter(key(r, ia) for r in a[1:])
            cb = Counter(key(r, ib) for r in b[1:])
            if ca != cb:
                print(f"FAIL {cap.name}: different flows ({sum(ca.values())} vs {sum(cb.values())})")
                failed += 1
                continue
            by_a = {}
            for r in a[1:]:
                by_a.setdefault(key(r, ia), []).append(r)
            ok = True
            for r in b[1:]:
                cand = by_a[key(r, ib)]
                best = min(cand, key=lambda x: sum(not same(x[ia[h]], r[ib[h]]) for h in common))
                for h in common:
                    if not same(best[ia[h]], r[ib[h]]):
                        bad[h] += 1
                        ok = False
                if best[-1] != "Lbl":
                    bad["label"] += 1
                    ok = False
                flows += 1
            if not ok:
                failed += 1
                print(f"FAIL {cap.name}")
    for h, n in bad.most_common(20):
        print(f"  column {h}: {n} flows differ")
    print(f"{len(caps) - failed} captures consistent, {failed} not; {flows} flows compared")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
