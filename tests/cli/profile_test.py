#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Profile rows on the command line (label "cli"): profile/profile_table.hpp seen from outside.

  profile_test.py --binary build/nfm-xdp CASE | all | list

  * refused: an option the resolved profile row does not use, given explicitly, ends the run
    with exit status 1, one line naming the option and the profile, and no rows; the same option
    with a row that uses it is accepted.
  * pairs: --profile/--feature-set pairs without a row are refused the same way.
  * manifest_effective: the manifest's "effective" settings list only what the row uses, with
    the values its engine uses: CICFlowMeter's fixed 120 s flow timeout and 5 s activity
    threshold (CIC.md §3) for --profile cic and its 120 s flow timeout for --feature-set cic;
    NTLFlowLyzer's code defaults 5000 s / 120000 s and the 100 s threshold (spec §9.2, §4.2) for
    --profile ntl. Expected values come from those documents, not from an earlier run.
  * help_float_defaults: --help names every profile's float default (ntl: .4f, spec §9.2).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import nfmtest  # noqa: E402
from nfmtest import check  # noqa: E402

BIN = ""
TMP = Path(".")
TIMEOUT = 120


def run(args) -> subprocess.CompletedProcess:
    return subprocess.run([BIN, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)


def sample_pcap() -> Path:
    p = TMP / "sample.pcap"
    if not p.exists():
        data, _ = nfmtest.pcap_bytes(nfmtest.sample_records())
        p.write_bytes(data)
    return p


def show(res) -> str:
    return f"{nfmtest.describe_rc(res.returncode)}; stderr={res.stderr[:600]!r}"


# (row arguments, option arguments, words the one-line message must hold)
REFUSED = [
    (["--profile", "cic"], ["--idle-timeout", "30"],
     ["--idle-timeout", "--profile cic", "CICFlowMeter's fixed timeouts (120 s flow, 5 s activity)",
      "--profile corrected --feature-set cic"]),
    (["--profile", "cic"], ["--active-timeout", "30"], ["--active-timeout", "--profile cic", "120 s flow"]),
    (["--profile", "cic"], ["--activity-threshold", "2"], ["--activity-threshold", "--profile cic", "5 s activity"]),
    (["--profile", "cic"], ["--subflow-gap", "2"], ["--subflow-gap", "--profile cic", "1 s"]),
    (["--feature-set", "cic"], ["--active-timeout", "30"],
     ["--active-timeout", "--feature-set cic", "120 s", "drop the option"]),
    (["--feature-set", "cic"], ["--subflow-gap", "2"], ["--subflow-gap", "--feature-set cic", "1 s"]),
    (["--feature-set", "cic"], ["--ntl-max-packets", "16"], ["--ntl-max-packets", "--feature-set cic"]),
    (["--profile", "corrected"], ["--ntl-max-packets", "16"],
     ["--ntl-max-packets", "--profile corrected", "--feature-set ntl"]),
    (["--profile", "nfm2022"], ["--subflow-gap", "2"], ["--subflow-gap", "--profile nfm2022", "NetFlowMeter", "1 s"]),
    (["--profile", "nfm2022-seed"], ["--ntl-max-packets", "16"], ["--ntl-max-packets", "--profile nfm2022-seed"]),
    (["--profile", "nfm2022"], ["--snapshot-interval", "1"], ["--snapshot-interval", "--profile nfm2022", "corrected"]),
    (["--profile", "nfm2022"], ["--tunnel", "inner"], ["--tunnel inner", "--profile nfm2022", "corrected"]),
    (["--profile", "ntl"], ["--subflow-gap", "2"], ["--subflow-gap", "--profile ntl", "NTLFlowLyzer", "1 s"]),
    (["--profile", "ntl"], ["--snapshot-interval", "1"], ["--snapshot-interval", "--profile ntl"]),
    (["--profile", "ntl"], ["--tunnel", "inner"], ["--tunnel inner", "--profile ntl"]),
    (["--profile", "cic"], ["--snapshot-interval", "1"],
     ["--snapshot-interval", "--profile cic", "--profile corrected --feature-set cic"]),
    # The tunnel columns describe what --tunnel inner opens: refused where it is, and without it.
    (["--profile", "nfm2022"], ["--where-columns", "tunnel"], ["--where-columns tunnel", "--profile nfm2022", "corrected"]),
    (["--profile", "cic"], ["--where-columns", "tunnel"],
     ["--where-columns tunnel", "--profile cic", "--profile corrected --feature-set cic"]),
    (["--profile", "ntl"], ["--where-columns", "node,tunnel"], ["--where-columns tunnel", "--profile ntl"]),
    (["--profile", "corrected"], ["--where-columns", "tunnel"], ["--where-columns tunnel", "add --tunnel inner"]),
    (["--feature-set", "cic"], ["--where-columns", "tunnel", "--tunnel", "outer"],
     ["--where-columns tunnel", "add --tunnel inner"]),
    (["--feature-set", "ntl"], ["--where-columns", "iface,tunnel"], ["--where-columns tunnel", "add --tunnel inner"]),
]

# The same options with rows that read them: accepted.
ACCEPTED = [
    ["--profile", "corrected", "--float-format", ".6f", "--idle-timeout", "3", "--active-timeout", "20"],
    ["--profile", "corrected", "--subflow-gap", "2", "--activity-threshold", "2"],
    ["--feature-set", "cic", "--idle-timeout", "30", "--activity-threshold", "2"],
    ["--feature-set", "ntl", "--ntl-max-packets", "16", "--active-timeout", "30"],
    ["--profile", "nfm2022", "--idle-timeout", "30", "--active-timeout", "60", "--activity-threshold", "2"],
    ["--profile", "ntl", "--idle-timeout", "30", "--ntl-max-packets", "16"],
    ["--profile", "cic", "--max-flows", "1000"],
    ["--tunnel", "inner", "--where-columns", "tunnel"],
    ["--feature-set", "cic", "--tunnel", "inner", "--where-columns", "node,tunnel"],
    ["--feature-set", "ntl", "--tunnel", "inner", "--where-columns", "tunnel"],
]


def case_refused():
    p = sample_pcap()
    for row, opt, words in REFUSED:
        res = run(["--pcap", str(p), "--csv", "-", *row, *opt])
        err = res.stderr.decode(errors="replace")
        what = " ".join(row + opt)
        check(res.returncode == 1, f"{what}: want exit 1, got {show(res)}")
        check(err.count("\n") == 1 and err.startswith("nfm-xdp: "), f"{what}: want one line, got {err!r}")
        for w in words:
            check(w in err, f"{what}: message lacks {w!r}: {err!r}")
        check(not res.stdout, f"{what}: rows were written")
    for args in ACCEPTED:
        res = run(["--pcap", str(p), "--csv", "-", "-q", *args])
        check(res.returncode == 0 and res.stdout, f"{' '.join(args)}: want rows and exit 0, got {show(res)}")


def case_pairs():
    p = sample_pcap()
    for prof, fset in (("nfm2022", "cic"), ("nfm2022-seed", "ntl"), ("cic", "ntl"), ("ntl", "cic"),
                       ("cic", "nfm"), ("ntl", "nfm"), ("nfm2022", "ntl")):
        res = run(["--pcap", str(p), "--csv", "-", "--profile", prof, "--feature-set", fset])
        err = res.stderr.decode(errors="replace")
        check(res.returncode == 1 and err.count("\n") == 1 and f"--feature-set {fset}" in err and not res.stdout,
              f"--profile {prof} --feature-set {fset}: {show(res)}")
    for prof, fset in (("cic", "cic"), ("ntl", "ntl"), ("corrected", "cic"), ("corrected", "ntl"),
                       ("nfm2022-seed", "nfm")):
        res = run(["--pcap", str(p), "--csv", "-", "-q", "--profile", prof, "--feature-set", fset])
        check(res.returncode == 0 and res.stdout, f"--profile {prof} --feature-set {fset}: {show(res)}")


def effective(args) -> dict:
    out = TMP / ("m%d.csv" % len(list(TMP.glob("m*.csv"))))
    res = run(["--pcap", str(sample_pcap()), "--csv", str(out), "-q", *args])
    check(res.returncode == 0, f"{args}: {show(res)}")
    m = json.loads((out.parent / (out.name + ".manifest.json")).read_text())
    return m["effective"]


def expect(args, want: dict, absent: list[str]):
    eff = effective(args)
    for k, v in want.items():
        check(eff.get(k) == v, f"{args}: effective {k} = {eff.get(k)!r}, want {v!r} ({eff})")
    for k in absent:
        check(k not in eff, f"{args}: effective has {k} = {eff.get(k)!r}, which the row does not use ({eff})")


def case_manifest_effective():
    # CICFlowMeter (CIC.md §3): FLOW_TIMEOUT 120 s from the flow start, ACTIVITY_TIMEOUT 5 s,
    # subflows at 1 s; no idle timeout and no FIN grace (C11).
    expect(["--profile", "cic"],
           {"profile": "cic", "feature_set": "cic", "active_timeout_s": "120", "activity_threshold_s": "5",
            "subflow_gap_s": "1", "float_format": "Java Double.toString"},
           ["idle_timeout_s", "close_grace_s", "ntl_max_packets"])
    # Corrected CIC set: idle timeout and threshold as given or defaulted (120 s, 5 s), the flow
    # timeout CICFlowMeter's 120 s (there is no --active-timeout for it).
    expect(["--feature-set", "cic"],
           {"profile": "corrected", "feature_set": "cic", "idle_timeout_s": "120", "active_timeout_s": "120",
            "activity_threshold_s": "5", "subflow_gap_s": "1", "close_grace_s": "1"},
           ["ntl_max_packets"])
    expect(["--feature-set", "cic", "--idle-timeout", "7", "--activity-threshold", "2"],
           {"idle_timeout_s": "7", "active_timeout_s": "120", "activity_threshold_s": "2"}, [])
    # NTLFlowLyzer e2def39 code defaults (spec §9.2: activity_timeout 5000, max_flow_duration
    # 120000; §4.2 threshold 100 s; §4.1 subflow gap 1 s); no FIN grace: flows end lazily.
    expect(["--profile", "ntl"],
           {"profile": "ntl", "feature_set": "ntl", "idle_timeout_s": "5000", "active_timeout_s": "120000",
            "activity_threshold_s": "100", "subflow_gap_s": "1", "ntl_max_packets": "65536", "float_format": ".4f"},
           ["close_grace_s"])
    expect(["--profile", "ntl", "--idle-timeout", "30", "--ntl-max-packets", "16"],
           {"idle_timeout_s": "30", "active_timeout_s": "120000", "ntl_max_packets": "16"}, [])
    # NetFlowMeter 2022 (spec §3.2, §4.2, §6.3).
    expect(["--profile", "nfm2022"],
           {"idle_timeout_s": "5000", "active_timeout_s": "120000", "activity_threshold_s": "100",
            "subflow_gap_s": "1", "float_format": ".64f"},
           ["close_grace_s", "ntl_max_packets"])
    # Corrected (docs/FEATURES.md): 120 s / 1800 s / 5 s, FIN grace 1 s.
    expect(["--profile", "corrected", "--subflow-gap", "2"],
           {"idle_timeout_s": "120", "active_timeout_s": "1800", "activity_threshold_s": "5", "subflow_gap_s": "2",
            "close_grace_s": "1", "float_format": "shortest round-trip"},
           ["ntl_max_packets"])


def case_help_float_defaults():
    res = run(["--help"])
    text = res.stdout.decode(errors="replace").replace("\n", " ")
    text = " ".join(text.split())
    check(res.returncode == 0, f"--help: {show(res)}")
    for want in ("corrected: shortest round-trip", "nfm2022-seed: .64f", "ntl: .4f", "cic: Java Double.toString"):
        check(want in text, f"--help lacks the float default {want!r}")


CASES = {
    "refused": case_refused,
    "pairs": case_pairs,
    "manifest_effective": case_manifest_effective,
    "help_float_defaults": case_help_float_defaults,
}

if __name__ == "__main__":
    sys.exit(nfmtest.run_cases(CASES, globals(), "nfm-profile-"))
