#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""thr_bench.py NFM [ROUNDS]: --threads 1 vs 2, interleaved round by round (docs/PERFORMANCE.md
"Threads"): `NFM --pcap F --csv /dev/null -q --no-manifest --threads T`, wall by perf_counter,
CPU (user+sys) by getrusage; prints medians, speed-up and the per-round range. The captures are
read from $NFM_BENCH_DIR (default /tmp), made once with:
  build/bench/replay/gen_pcap syn2m.pcap 2000000 100000
  python3 bench/replay/loop_pcap.py ../shared/pcaps/ppp_example.pcap real400.pcap 400 200
  build/bench/replay/gen_pcap e2e275k.pcap 275000 8500 0 flows 650
"""
import os, resource, statistics, subprocess, sys, time
BIN = sys.argv[1]
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 9
D = os.environ.get("NFM_BENCH_DIR", "/tmp")
CAPS = {"synthetic 2M/100k": f"{D}/syn2m.pcap", "ppp_example x400": f"{D}/real400.pcap",
        "e2e 275k/8.5k/650B": f"{D}/e2e275k.pcap"}
PKTS = {"synthetic 2M/100k": 2000000, "ppp_example x400": 1852400, "e2e 275k/8.5k/650B": 275000}
res = {}
for r in range(ROUNDS):
    for name, f in CAPS.items():
        for t in (1, 2):
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run([BIN, "--pcap", f, "--csv", "/dev/null", "-q", "--no-manifest", "--threads", str(t)], check=True)
            dt = time.perf_counter() - t0
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
            res.setdefault((name, t), []).append((dt, cpu))
print(f"{ROUNDS} interleaved rounds, load {os.getloadavg()[0]:.2f}, {time.strftime('%H:%M:%S')}")
for name in CAPS:
    w1 = statistics.median(x[0] for x in res[(name, 1)]); w2 = statistics.median(x[0] for x in res[(name, 2)])
    c1 = statistics.median(x[1] for x in res[(name, 1)]); c2 = statistics.median(x[1] for x in res[(name, 2)])
    ratios = sorted(a[0] / b[0] for a, b in zip(res[(name, 1)], res[(name, 2)]))
    print(f"| {name} | {w1:.3f} s (cpu {c1:.2f}, {PKTS[name]/w1/1e6:.2f} M pkt/s) | {w2:.3f} s (cpu {c2:.2f}, "
          f"{PKTS[name]/w2/1e6:.2f} M pkt/s) | {w1/w2:.2f}x | per-round ratios {min(ratios):.2f}-{max(ratios):.2f} |")
    print("   t1:", " ".join(f"{x[0]:.3f}" for x in res[(name, 1)]), " t2:", " ".join(f"{x[0]:.3f}" for x in res[(name, 2)]))
