#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""dataset_bench.py NFM SET [ROUNDS=5]: the replay variants of docs/PERFORMANCE.md "Dataset-sized
captures", interleaved round by round (each round runs every variant once, so all see the same
machine load); wall by perf_counter, CPU (user+sys) by getrusage, and the time the process's threads were
runnable but waited for a CPU (run queue wait, /proc/PID/task/*/schedstat polled every 5 ms: how
much of the wall time the machine's other load took); prints best, median, CPU and wait medians,
every round, and the load before and after. The CSV goes to a file (out.csv in $NFM_BENCH_DIR,
default /tmp), a new one each run: the last run's is deleted before the clock starts (opening
a 60 MB CSV with O_TRUNC drops its page cache first: 22 ms, the same for every variant, that
measure the file system's clean-up of the previous run, not this one). Captures (bench/replay/make_captures.sh):
  bench.pcap    gen_pcap bench.pcap mix 5500 3000 300 275000 655        (184 MB)
  dataset.pcap  gen_pcap dataset.pcap mix 44000 24000 2400 2190000 655  (1.47 GB)
SET:
  threads-dataset  --threads 1 vs --threads 2 vs the default thread count, --no-manifest, on dataset.pcap
  threads-bench    the same on bench.pcap
  manifest         the default run (its digest remembered after the first round: --digest-cache,
                   here $NFM_BENCH_DIR/digests.cache) vs --no-manifest with the default threads and
                   with --threads 1, on bench.pcap
  manifest-cold    the default run hashing every time (--digest-cache off) vs --no-manifest
  snapshot         --snapshot-interval 10 vs without (--no-manifest --threads 1), on bench.pcap
  snapshot-default the same with the default options (manifest, default threads)
  snapshot-t2      the same with --no-manifest --threads 2
"""
import glob, os, resource, statistics, subprocess, sys, time


def run(cmd):
    """Runs cmd; returns (wall s, user+sys s, run queue wait s of all its threads)."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd)
    last = {}
    while p.poll() is None:
        for f in glob.glob(f"/proc/{p.pid}/task/*/schedstat"):
            try:
                with open(f) as h:
                    last[f] = int(h.read().split()[1])
            except OSError:
                pass
        time.sleep(0.005)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"{cmd}: exit {p.returncode}")
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return dt, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime), sum(last.values()) / 1e9
BIN, SET = sys.argv[1], sys.argv[2]
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 5
D = os.environ.get("NFM_BENCH_DIR", "/tmp")
OUT = f"{D}/out.csv"
NM = ["--no-manifest"]
SETS = {
    "threads-dataset": ("dataset.pcap", 2190000, {"t1": NM + ["--threads", "1"], "t2": NM + ["--threads", "2"],
                                                  "default threads": NM}),
    "threads-bench": ("bench.pcap", 275000, {"t1": NM + ["--threads", "1"], "t2": NM + ["--threads", "2"],
                                             "default threads": NM}),
    "manifest": ("bench.pcap", 275000, {"default": ["--digest-cache", f"{D}/digests.cache"], "no-manifest": NM,
                                        "no-manifest t1": NM + ["--threads", "1"]}),
    "manifest-cold": ("bench.pcap", 275000, {"default, no cache": ["--digest-cache", "off"], "no-manifest": NM}),
    "snapshot": ("bench.pcap", 275000, {"off": NM + ["--threads", "1"],
                                        "snapshot 10 s": NM + ["--threads", "1", "--snapshot-interval", "10"]}),
    "snapshot-default": ("bench.pcap", 275000, {"off": [], "snapshot 10 s": ["--snapshot-interval", "10"]}),
    "snapshot-t2": ("bench.pcap", 275000, {"off": NM + ["--threads", "2"],
                                           "snapshot 10 s": NM + ["--threads", "2", "--snapshot-interval", "10"]}),
}
cap, pkts, variants = SETS[SET]
cap = f"{D}/{cap}"
load0 = os.getloadavg()
res = {}
for r in range(ROUNDS):
    for name, args in variants.items():
        if os.path.exists(OUT):
            os.unlink(OUT)
        res.setdefault(name, []).append(run([BIN, "--pcap", cap, "--csv", OUT, "-q", *args]))
load1 = os.getloadavg()
rows = {}
for name, args in variants.items():  # rows once per variant (snapshot rows: row_kind "snapshot")
    subprocess.run([BIN, "--pcap", cap, "--csv", OUT, "-q", *args], check=True)
    with open(OUT, "rb") as f:
        lines = f.read().split(b"\n")[1:-1]
    rows[name] = (len(lines), sum(1 for l in lines if b",snapshot" in l))
print(f"{SET}: {ROUNDS} interleaved rounds, {time.strftime('%H:%M:%S')}, load {load0[0]:.2f} -> {load1[0]:.2f}")
names = list(variants)
base = statistics.median(x[0] for x in res[names[0]])
for name in names:
    w = [x[0] for x in res[name]]
    c = statistics.median(x[1] for x in res[name])
    q = statistics.median(x[2] for x in res[name])
    med = statistics.median(w)
    print(f"| {name} | best {min(w):.3f} s ({pkts / min(w) / 1e6:.2f} M pkt/s) | median {med:.3f} s "
          f"({pkts / med / 1e6:.2f} M pkt/s) | cpu {c:.3f} s | run-queue wait {q:.3f} s | {base / med:.2f}x of {names[0]} | rows {rows[name][0]} "
          f"({rows[name][1]} snapshot) |")
    print("   rounds:", " ".join(f"{x[0]:.3f}" for x in res[name]), " waits:", " ".join(f"{x[2]:.3f}" for x in res[name]))
if len(names) == 2:
    a, b = res[names[0]], res[names[1]]
    ratios = sorted(x[0] / y[0] for x, y in zip(a, b))
    print(f"   per-round {names[0]}/{names[1]} ratio {min(ratios):.2f}-{max(ratios):.2f}, "
          f"best/best {min(x[0] for x in a) / min(x[0] for x in b):.2f}x")
