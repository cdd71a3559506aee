#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Replays every file of the given directories through nfm-xdp for every profile (and the
corrected profile with --feature-set cic and --feature-set ntl).

Each run: `nfm-xdp --pcap F --csv /dev/null -q --profile P [...]` must
  * end by exit (no signal) with code 0, 1 or 2, within --timeout seconds;
  * when the code is not 0, print exactly one error line on stderr ("nfm-xdp: ...";
    "nfm-xdp: warning: ..." lines are allowed besides it).
Files named README.md, CMakeLists.txt or *.py in tests/regress are skipped (not inputs);
tests/data is replayed whole (its non-captures exercise the "not a capture" error).
"""
import argparse
import os
import subprocess
import sys

SKIP_IN_REGRESS = {"README.md", "CMakeLists.txt", "replay_test.py"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("dirs", nargs="+")
    args = ap.parse_args()
    files = []
    for d in args.dirs:
        regress = os.path.basename(os.path.normpath(d)) == "regress"
        for name in sorted(os.listdir(d)):
            path = os.path.join(d, name)
            if not os.path.isfile(path) or (regress and name in SKIP_IN_REGRESS):
                continue
            files.append(path)
    failures = []
    runs = 0
    for path in files:
        for profile in ("corrected", "nfm2022", "cic", "corrected --feature-set cic", "ntl",
                        "corrected --feature-set ntl"):
            cmd = [args.binary, "--pcap", path, "--csv", "/dev/null", "-q", "--profile", *profile.split()]
            runs += 1
            try:
                p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=args.timeout)
            except subprocess.TimeoutExpired:
                failures.append(f"{path} [{profile}]: no exit within {args.timeout} s")
                continue
            err = p.stderr.decode("utf-8", "replace")
            lines = [l for l in err.splitlines() if l.strip()]
            errors = [l for l in lines if not l.startswith("nfm-xdp: warning:")]
            if p.returncode < 0:
                failures.append(f"{path} [{profile}]: killed by signal {-p.returncode}; stderr: {err.strip()[:300]}")
            elif p.returncode not in (0, 1, 2):
                failures.append(f"{path} [{profile}]: exit {p.returncode}; stderr: {err.strip()[:300]}")
            elif p.returncode != 0 and (len(errors) != 1 or not errors[0].startswith("nfm-xdp: ")):
                failures.append(f"{path} [{profile}]: exit {p.returncode} with {len(errors)} error lines "
                                f"(want exactly one 'nfm-xdp: ...' line): {err.strip()[:300]!r}")
    for f in failures:
        print("FAIL", f)
    print(f"regress: {len(files)} files, {runs} runs, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
