#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Differential test of --profile cic against CICFlowMeter master's own output.

For every ../shared/expected/cic/<capture>.csv, runs `nfm-xdp --pcap ../shared/pcaps/<capture>
--profile cic --tz utc` and compares byte for byte: the same header line and the same multiset
of rows (row order may differ; the engine emulates the reference's Java HashMap order at the end
of input, and the summary also counts files that are identical including the order).
Exit 0 all match, 1 a mismatch (first differing rows printed), 77 skipped (no ../shared).
NFM_DIFF_ONLY=a.pcap,b.pcap limits the run to those captures.
"""
import argparse
import collections
import os
import subprocess
import sys
import tempfile


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    shared = os.path.normpath(os.path.join(args.source_dir, "..", "shared"))
    exp_dir = os.path.join(shared, "expected", "cic")
    pcap_dir = os.path.join(shared, "pcaps")
    if not os.path.isdir(exp_dir) or not os.path.isdir(pcap_dir):
        print(f"SKIP: {exp_dir} or {pcap_dir} is missing (the CICFlowMeter reference outputs live in "
              "../shared next to the checkout)", flush=True)
        return 77
    only = [x for x in os.environ.get("NFM_DIFF_ONLY", "").split(",") if x]
    names = sorted(f[:-4] for f in os.listdir(exp_dir) if f.endswith(".csv"))
    if only:
        names = [n for n in names if n in only]
    ok, bad, same_order = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            pcap = os.path.join(pcap_dir, name)
            if not os.path.exists(pcap):
                print(f"SKIP {name}: capture missing")
                continue
            out = os.path.join(tmp, name + ".csv")
            env = dict(os.environ, TZ="UTC")
            r = subprocess.run([args.binary, "--pcap", pcap, "--profile", "cic", "--tz", "utc", "--csv", out, "-q"],
                               env=env, capture_output=True, text=True)
            if r.returncode not in (0, 2):
                bad.append(name)
                print(f"FAIL {name}: exit {r.returncode}: {r.stderr.strip()}")
                continue
            with open(os.path.join(exp_dir, name + ".csv"), "rb") as f:
                exp = f.read().split(b"\n")
            with open(out, "rb") as f:
                got = f.read().split(b"\n")
            exp_rows = collections.Counter(x for x in exp[1:] if x)
            got_rows = collections.Counter(x for x in got[1:] if x)
            if exp[0] == got[0] and exp_rows == got_rows:
                ok.append(name)
                if exp == got:
                    same_order.append(name)
                if args.verbose:
                    print(f"ok   {name}: {sum(exp_rows.values())} rows"
                          f"{'' if exp == got else ' (row order differs)'}")
                continue
            bad.append(name)
            print(f"FAIL {name}: header {'same' if exp[0] == got[0] else 'differs'}; "
                  f"expected {sum(exp_rows.values())} rows, got {sum(got_rows.values())}")
            missing = list((exp_rows - got_rows).elements())
            extra = list((got_rows - exp_rows).elements())
            for row in missing[:3]:
                print("  expected:", row.decode())
            for row in extra[:3]:
                print("  got:     ", row.decode())
    print(f"cic reference: {len(ok)}/{len(ok) + len(bad)} captures match byte for byte (same header, same "
          f"multiset of rows); {len(same_order)} of them also in the same row order (whole file identical)")
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main())
