#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""snapshot_bench.py NFM [ROUNDS] [INTERVAL] [CAPTURE]: replay speed without and with --snapshot-interval
(docs/PERFORMANCE.md "Snapshots"), interleaved round by round:
`NFM --pcap F --csv /dev/null -q --no-manifest --threads 1 [--snapshot-interval INTERVAL]`,
wall by perf_counter, CPU (user+sys) by getrusage; prints medians, the rate ratio and the rows
written (counted once, into a file). The capture (default e2e275k.pcap) is read from
$NFM_BENCH_DIR (default /tmp), made once with:
  build/bench/replay/gen_pcap e2e275k.pcap 275000 8500 0 flows 650
  python3 bench/replay/stretch_pcap.py e2e275k.pcap e2e275k_x1000.pcap 1000   # 275 s long
"""
import os, resource, statistics, subprocess, sys, tempfile, time
BIN = sys.argv[1]
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 9
INTERVAL = sys.argv[3] if len(sys.argv) > 3 else "10"
D = os.environ.get("NFM_BENCH_DIR", "/tmp")
CAP = f"{D}/{sys.argv[4] if len(sys.argv) > 4 else 'e2e275k.pcap'}"
PKTS = 275000
MODES = {"off": [], f"every {INTERVAL} s": ["--snapshot-interval", INTERVAL]}
res = {}
for r in range(ROUNDS):
    for name, extra in MODES.items():
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run([BIN, "--pcap", CAP, "--csv", "/dev/null", "-q", "--no-manifest", "--threads", "1", *extra],
                       check=True)
        dt = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        res.setdefault(name, []).append((dt, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)))
rows = {}
with tempfile.TemporaryDirectory() as d:
    for name, extra in MODES.items():
        out = os.path.join(d, "out.csv")
        subprocess.run([BIN, "--pcap", CAP, "--csv", out, "-q", "--no-manifest", "--threads", "1", *extra], check=True)
        with open(out, "rb") as f:
            lines = f.read().split(b"\n")[1:-1]
        rows[name] = (len(lines), sum(1 for l in lines if b",snapshot" in l))
print(f"{ROUNDS} interleaved rounds, load {os.getloadavg()[0]:.2f}, {time.strftime('%H:%M:%S')}")
base = statistics.median(x[0] for x in res["off"])
for name in MODES:
    w = statistics.median(x[0] for x in res[name])
    c = statistics.median(x[1] for x in res[name])
    print(f"| {name} | {w:.3f} s (cpu {c:.3f}, {PKTS / w / 1e6:.2f} M pkt/s) | rate {base / w:.2f} of off | "
          f"rows {rows[name][0]} ({rows[name][1]} snapshots) |")
    print("   rounds:", " ".join(f"{x[0]:.3f}" for x in res[name]))
