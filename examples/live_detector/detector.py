#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""From captures to a live detector with nfm-xdp (docs/DATASETS.md "From captures to a live detector").

  detector.py build --nfm nfm-xdp --labels rules.csv --out train.jsonl CAPTURE...
      nfm-xdp replays the captures with --snapshot-interval 1 (so the training set also holds
      the partial flows a live detector sees) and --labels, writing JSON Lines.
  detector.py train train.jsonl model.pkl
      a random forest on every numeric feature column (identity, ports, row_kind and label
      left out), trained on final and snapshot rows; prints a held-out score.
  nfm-xdp --iface IF --snapshot-interval 1 --json - | detector.py watch model.pkl
      reads the rows as they come and prints one line per flow the model flags (label other than
      the benign one), with the time from the flow's first packet to the alert.

Needs Python 3 with pandas and scikit-learn (Debian: python3-pandas, python3-sklearn).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import pickle
import select
import subprocess
import sys
import time

import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

# Columns that name a flow rather than describe its behaviour: a model must not learn them
# (a port list or an address would make it a rule file, not a detector).
IDENTITY = {"flow_id", "timestamp", "src_ip", "src_port", "dst_ip", "dst_port", "protocol", "label",
            "row_kind", "capture_loss", "Flow ID", "Src IP", "Src Port", "Dst IP", "Dst Port", "Protocol",
            "Timestamp", "Label"}


def cmd_build(a) -> int:
    args = [a.nfm]
    for c in a.captures:
        args += ["--pcap", c]
    args += ["--snapshot-interval", str(a.snapshot_interval), "--labels", a.labels, "--default-label", a.benign,
             "--json", a.out, "-q"]
    print("+", " ".join(args), file=sys.stderr)
    return subprocess.run(args).returncode


def feature_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c not in IDENTITY and pd.api.types.is_numeric_dtype(df[c])]


def cmd_train(a) -> int:
    df = pd.read_json(a.train, lines=True)
    label_col = "label" if "label" in df.columns else "Label"
    cols = feature_columns(df)
    x = df[cols].fillna(0.0)
    y = df[label_col].astype(str)
    print(f"{len(df)} rows ({(df.get('row_kind') == 'snapshot').sum()} snapshots), {len(cols)} features; "
          f"labels: {y.value_counts().to_dict()}", file=sys.stderr)
    stratify = y if y.value_counts().min() >= 2 else None
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.25, random_state=0, stratify=stratify)
    model = RandomForestClassifier(n_estimators=40, random_state=0, class_weight="balanced", n_jobs=1)
    model.fit(x_tr, y_tr)
    print(f"held-out accuracy {model.score(x_te, y_te):.3f}", file=sys.stderr)
    model.fit(x, y)  # the final model sees every row
    with open(a.model, "wb") as f:
        pickle.dump({"model": model, "columns": cols, "benign": a.benign}, f)
    return 0


def first_packet_ns(row: dict) -> int:
    ts = row.get("timestamp") or row.get("Timestamp")
    t = dt.datetime.fromisoformat(ts.replace("Z", "+00:00").replace(" ", "T"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)  # nfm-xdp writes UTC unless --tz local
    return int(t.timestamp()) * 10**9 + t.microsecond * 1000


def cmd_watch(a) -> int:
    with open(a.model, "rb") as f:
        m = pickle.load(f)
    model, cols, benign = m["model"], m["columns"], m["benign"]
    alerted: set[tuple] = set()
    stdin = sys.stdin
    eof = False
    while not eof:
        # One row (blocking), then every row already waiting: the model scores them together.
        batch = []
        line = stdin.readline()
        if not line:
            break
        batch.append(line)
        while len(batch) < 2000 and select.select([stdin], [], [], 0)[0]:
            line = stdin.readline()
            if not line:
                eof = True
                break
            batch.append(line)
        rows = [json.loads(l) for l in batch]
        keys = [(r.get("src_ip", r.get("Src IP")), r.get("src_port", r.get("Src Port")), r.get("dst_ip", r.get("Dst IP")),
                 r.get("dst_port", r.get("Dst Port")), r.get("protocol", r.get("Protocol")),
                 r.get("timestamp", r.get("Timestamp"))) for r in rows]
        todo = [i for i, k in enumerate(keys) if k not in alerted]
        if not todo:
            continue
        x = pd.DataFrame([{c: rows[i].get(c) for c in cols} for i in todo], columns=cols).fillna(0.0)
        labels = model.predict(x)
        now_ns = time.time_ns()
        for i, lab in zip(todo, labels):
            if lab == benign or keys[i] in alerted:
                continue
            alerted.add(keys[i])
            r = rows[i]
            delay = (now_ns - first_packet_ns(r)) / 1e9
            print(f"ALERT {lab} {keys[i][0]}:{keys[i][1]} -> {keys[i][2]}:{keys[i][3]} proto {keys[i][4]} "
                  f"({r.get('row_kind', 'final')} row): {delay:.2f} s after the flow's first packet at {keys[i][5]}",
                  flush=True)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="captures + rule file -> labelled JSON Lines")
    b.add_argument("--nfm", default="nfm-xdp")
    b.add_argument("--labels", required=True)
    b.add_argument("--out", required=True)
    b.add_argument("--benign", default="BENIGN")
    b.add_argument("--snapshot-interval", type=float, default=1.0)
    b.add_argument("captures", nargs="+")
    t = sub.add_parser("train", help="JSON Lines -> model")
    t.add_argument("train")
    t.add_argument("model")
    t.add_argument("--benign", default="BENIGN")
    w = sub.add_parser("watch", help="score the JSON Lines on stdin")
    w.add_argument("model")
    a = ap.parse_args()
    return {"build": cmd_build, "train": cmd_train, "watch": cmd_watch}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
