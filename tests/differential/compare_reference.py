#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Differential test: nfm-xdp --profile P vs the reference CSVs in <shared>/expected/P.

P = nfm2022 (NetFlowMeter 019dde4, default) or ntl (NTLFlowLyzer e2def39, --profile ntl).
For every capture in <shared>/pcaps that has <shared>/expected/P/<name>.csv, run
  nfm-xdp --pcap X --csv out.csv --profile P --float-format .17g --tz utc
and require the same multiset of rows: rows matched by flow_id (duplicated flow_ids by full
row content), every column textually equal, same header, CRLF line ends, and a 0-byte file
when the reference is 0 bytes. Captures without a reference CSV (the reference crashed) are
only run: exit status 0 or 2 and no crash.

With --rel-tol T (default 0 = textual equality; ntl: 1e-9) a numeric cell that differs in
text but not by more than T relative still passes and is counted as "close" (not 0 ulp).

Output: one line per capture (PASS/FAIL, flows), for failures the first differing flows as
  flow_id | column: ours=... ref=...
and a per-column mismatch census; final line 'N passed, N failed'. Exit 1 if any failed,
77 (CTest skip) if ../shared is absent.

Environment:
  NFM_DIFF_ONLY      comma/space separated capture names (or substrings) to restrict to
  NFM_DIFF_MAX       max differing flows printed per capture (default 5)
  NFM_DIFF_KEEP      directory where our CSVs are kept (default: a temp dir, removed)
  NFM_SHARED_DIR     override the ../shared location
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import nfmtest  # noqa: E402

NO_REFERENCE_OK_RC = (0, 2)


def pair_rows(ours: list[list[str]], ref: list[list[str]]):
    """Remove exact matches; pair the rest greedily by fewest differing columns."""
    co = Counter(tuple(r) for r in ours)
    cr = Counter(tuple(r) for r in ref)
    common = co & cr
    rest_o = list((co - common).elements())
    rest_r = list((cr - common).elements())
    pairs = []
    while rest_o and rest_r:
        best = None
        for i, o in enumerate(rest_o):
            for j, r in enumerate(rest_r):
                d = sum(1 for a, b in zip(o, r) if a != b)
                if best is None or d < best[0]:
                    best = (d, i, j)
        _, i, j = best
        pairs.append((rest_o.pop(i), rest_r.pop(j)))
    return pairs, rest_o, rest_r


CELLS = Counter()  # compared / exact / close cells over all captures


def close_enough(a: str, b: str, tol: float) -> bool:
    if tol <= 0:
        return False
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    if x != x or y != y:
        return x != x and y != y
    if x == y:
        return True
    return abs(x - y) <= tol * max(abs(x), abs(y))


def compare(ours_bytes: bytes, ref_bytes: bytes, max_flows: int, tol: float = 0.0):
    """Returns (ok, n_ref_flows, n_our_flows, messages)."""
    msgs: list[str] = []
    if not ref_bytes:
        if ours_bytes:
            h, rows, _ = nfmtest.read_csv_text(ours_bytes)
            msgs.append(f"  reference is a 0-byte file (no flow); ours is {len(ours_bytes)} bytes "
                        f"({len(rows)} rows{', header present' if h else ''})")
            return False, 0, len(rows), msgs
        return True, 0, 0, msgs
    rh, rrows, _ = nfmtest.read_csv_text(ref_bytes)
    if not ours_bytes:
        msgs.append(f"  ours is a 0-byte file; reference has {len(rrows)} flows")
        return False, len(rrows), 0, msgs
    oh, orows, crlf = nfmtest.read_csv_text(ours_bytes)
    ok = True
    if not crlf:
        ok = False
        msgs.append("  line ends are not CRLF (spec §6.2)")
    if oh != rh:
        ok = False
        msgs.append(f"  header differs: {len(oh)} columns vs reference {len(rh)}")
        for i, (a, b) in enumerate(zip(oh, rh)):
            if a != b:
                msgs.append(f"    first difference at column {i}: ours={a!r} ref={b!r}")
                break
        extra = [c for c in oh if c not in rh]
        missing = [c for c in rh if c not in oh]
        if extra:
            msgs.append(f"    extra columns: {' '.join(extra)}")
        if missing:
            msgs.append(f"    missing columns: {' '.join(missing)}")
    # Compare by column name (so a header bug does not hide value checks).
    ref_cols = rh
    o_index = {c: i for i, c in enumerate(oh)}
    bad_width = [r for r in orows if len(r) != len(oh)]
    if bad_width:
        ok = False
        msgs.append(f"  {len(bad_width)} of our rows have a field count != header ({len(oh)})")
    if "flow_id" not in o_index:
        msgs.append("  our CSV has no flow_id column; cannot match rows")
        return False, len(rrows), len(orows), msgs

    def project(row):
        return [row[o_index[c]] if c in o_index and o_index[c] < len(row) else "<absent>" for c in ref_cols]

    orows_p = [project(r) for r in orows]
    fid = ref_cols.index("flow_id")
    by_o: dict[str, list[list[str]]] = defaultdict(list)
    by_r: dict[str, list[list[str]]] = defaultdict(list)
    for r in orows_p:
        by_o[r[fid]].append(r)
    for r in rrows:
        by_r[r[fid]].append(r)

    missing_flows = []   # in ref only
    extra_flows = []     # in ours only
    diffs = []           # (flow_id, [(col, ours, ref)])
    col_census: Counter = Counter()
    for key in sorted(set(by_o) | set(by_r)):
        pairs, only_o, only_r = pair_rows(by_o.get(key, []), by_r.get(key, []))
        n_exact = len(by_r.get(key, [])) - len(pairs) - len(only_r)
        CELLS["compared"] += n_exact * len(ref_cols)
        CELLS["exact"] += n_exact * len(ref_cols)
        CELLS["rows_exact"] += n_exact
        for o, r in pairs:
            CELLS["compared"] += len(ref_cols)
            d = [(ref_cols[i], o[i], r[i]) for i in range(len(ref_cols)) if o[i] != r[i]]
            near = [x for x in d if close_enough(x[1], x[2], tol)]
            CELLS["exact"] += len(ref_cols) - len(d)
            CELLS["close"] += len(near)
            d = [x for x in d if not close_enough(x[1], x[2], tol)]
            if not d:
                continue
            diffs.append((key, d))
            for c, _, _ in d:
                col_census[c] += 1
        missing_flows += [(key, r) for r in only_r]
        extra_flows += [(key, o) for o in only_o]
    if diffs or missing_flows or extra_flows:
        ok = False
    if diffs:
        msgs.append(f"  {len(diffs)} flows differ; columns (flows affected): "
                    + ", ".join(f"{c}({n})" for c, n in col_census.most_common()))
        for key, d in diffs[:max_flows]:
            msgs.append(f"  flow {key}: {len(d)} columns differ")
            for c, o, r in d[:12]:
                msgs.append(f"    {c}: ours={o} ref={r}")
            if len(d) > 12:
                msgs.append(f"    ... {len(d) - 12} more: {' '.join(c for c, _, _ in d[12:])}")
    if missing_flows:
        msgs.append(f"  {len(missing_flows)} reference flows missing from ours, e.g.:")
        pc = ref_cols.index("packets_count") if "packets_count" in ref_cols else None
        for key, r in missing_flows[:max_flows]:
            msgs.append(f"    - {key}" + (f" (packets_count={r[pc]})" if pc is not None else ""))
    if extra_flows:
        msgs.append(f"  {len(extra_flows)} flows in ours not in the reference, e.g.:")
        pc = ref_cols.index("packets_count") if "packets_count" in ref_cols else None
        for key, o in extra_flows[:max_flows]:
            msgs.append(f"    + {key}" + (f" (packets_count={o[pc]})" if pc is not None else ""))
    return ok, len(rrows), len(orows), msgs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", required=True, help="path to nfm-xdp")
    ap.add_argument("--source-dir", default=None, help="repository root (../shared is resolved from it)")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--profile", default="nfm2022", choices=["nfm2022", "ntl"])
    ap.add_argument("--rel-tol", type=float, default=None,
                    help="relative tolerance of numeric cells (default 0; ntl 1e-9)")
    args = ap.parse_args()
    tol = args.rel_tol if args.rel_tol is not None else (1e-9 if args.profile == "ntl" else 0.0)

    shared = nfmtest.find_shared(args.source_dir)
    if shared is None:
        nfmtest.loud("SKIP: ../shared not found: differential tests against the reference were not run")
        return nfmtest.SKIP_CODE
    if not os.access(args.binary, os.X_OK):
        print(f"FAIL: binary not found or not executable: {args.binary}")
        return 1
    expected_dir = shared / "expected" / args.profile
    if not expected_dir.is_dir():
        nfmtest.loud(f"SKIP: {expected_dir} not found: no reference CSVs for --profile {args.profile}")
        return nfmtest.SKIP_CODE
    captures = nfmtest.only_filter(nfmtest.list_captures(shared / "pcaps"))
    if not captures:
        print("no capture selected (NFM_DIFF_ONLY matched nothing?)")
        return 1
    max_flows = int(os.environ.get("NFM_DIFF_MAX", "5"))
    keep = os.environ.get("NFM_DIFF_KEEP")
    outdir = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="nfm-diff-"))
    outdir.mkdir(parents=True, exist_ok=True)
    passed = failed = 0
    try:
        for cap in captures:
            ref = expected_dir / (cap.name + ".csv")
            out = outdir / (cap.name + ".csv")
            if out.exists():
                out.unlink()
            cmd = ["--pcap", str(cap), "--csv", str(out), "--profile", args.profile,
                   "--float-format", ".17g", "--tz", "utc"]
            try:
                res = nfmtest.run_tool(args.binary, cmd, timeout=args.timeout)
            except Exception as e:  # timeout
                print(f"FAIL {cap.name}: {e}")
                failed += 1
                continue
            err_tail = res.stderr.decode(errors="replace").strip().splitlines()[-3:]
            if not ref.exists():
                if res.returncode in NO_REFERENCE_OK_RC:
                    print(f"PASS {cap.name}: no reference CSV (reference crashed); ours {nfmtest.describe_rc(res.returncode)}")
                    passed += 1
                else:
                    print(f"FAIL {cap.name}: no reference CSV; ours {nfmtest.describe_rc(res.returncode)} "
                          f"(want 0 or 2); stderr: {' | '.join(err_tail)}")
                    failed += 1
                continue
            if res.returncode not in (0, 2):
                print(f"FAIL {cap.name}: ours {nfmtest.describe_rc(res.returncode)}; stderr: {' | '.join(err_tail)}")
                failed += 1
                continue
            ours_bytes = out.read_bytes() if out.exists() else b""
            ok, nref, nours, msgs = compare(ours_bytes, ref.read_bytes(), max_flows, tol)
            rc_note = "" if res.returncode == 0 else f", ours exit {res.returncode}"
            if ok:
                print(f"PASS {cap.name}: {nref} flows{rc_note}")
                passed += 1
            else:
                print(f"FAIL {cap.name}: ours {nours} flows, reference {nref}{rc_note}")
                for m in msgs:
                    print(m)
                failed += 1
            sys.stdout.flush()
    finally:
        if not keep:
            shutil.rmtree(outdir, ignore_errors=True)
    print(f"cells: {CELLS['compared']} compared, {CELLS['exact']} textually identical, "
          f"{CELLS['close']} within {tol:g} relative; {CELLS['rows_exact']} rows identical")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
