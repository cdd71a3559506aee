// SPDX-License-Identifier: MIT
// pipeline_bench: the kernel -> user pipeline without a NIC.
//
// The real BPF object is loaded by the project's Loader (rings created exactly as RunLive
// does: --rings shards of --ring-size KiB, rodata nfm_wakeup_bytes = ring size / 4) and is
// attached to NOTHING: nfm_xdp is driven with BPF_PROG_RUN (bpf_prog_test_run_opts), which
// needs no attachment. The nfm_xdp program fd is found among this process's own fds by
// program name (Loader keeps the skeleton private).
//
//   producer thread (CPU 0): walks --flows crafted frames (distinct 5-tuples, ~80 % TCP ACK
//     with 0..1400 bytes of payload, ~20 % UDP, IPv4 with some IPv6), one
//     bpf_prog_test_run_opts call per frame with `repeat` = --burst, so each call emits
//     --burst events of one flow and consecutive calls hit different flows. Optional pacing
//     (--rate events/s) sleeps between calls to hold a target producer rate.
//     --live uses BPF_F_TEST_XDP_LIVE_FRAMES (in a private network namespace, so the XDP_PASS
//     frames the kernel injects land on that namespace's loopback only).
//   consumer (main thread, CPU 1): the real Drainer + FlowEngine (corrected profile, rows to
//     /dev/null through CsvFileSink), looping as RunLive does: Drainer::Poll(10) (ring_buffer
//     poll with 10 ms timeout, consume on timeout), every 100 ms AdvanceTime(wall - 1 s) and a
//     counter read. After the producer stops: DrainAll twice, then Flush (timed separately,
//     not part of the rate).
//
// Per run it prints events produced (NFM_CNT_EVENTS), consumed by the engine (Drainer
// Decoded == engine packets), ring_full losses (NFM_CNT_RING_FULL), wall time, rates, and the
// consumer thread's CPU ns per event. Then the median over --runs.
//
// --mode consume: consumer-only cost. Fills one big ring with no consumer running (producer
//   alone), then times Drainer::DrainAll + FlowEngine over the buffered events: ns/event of
//   ring read + decode + engine with no producer on the other CPU and no wake-ups.
//
//   sudo pipeline_bench [--mode pipe|consume] [--flows N] [--burst R] [--rings N]
//        [--ring-size KB] [--duration S] [--rate EV_PER_S] [--runs N] [--live] [--no-pin]
//        [--no-hold]
//
// --no-hold: no dispatcher holder (class Holder below): every call with --burst > 1 then
//   pays a ~20 ms XDP dispatcher rebuild, which an attached agent never pays.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <linux/bpf.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "output/csv_exporter.hpp"
#include "output/csv_writer.hpp"
#include "drain.hpp"
#include "engine/engine.hpp"
#include "profile/profile_table.hpp"
#include "loader.hpp"
#include "nfm/event.h"
#include "packet_builder.hpp"
#include "system.hpp"

#ifndef BPF_F_TEST_XDP_LIVE_FRAMES
#define BPF_F_TEST_XDP_LIVE_FRAMES (1U << 1)
#endif

namespace {

using nfm::test::PacketBuilder;

struct Options {
  std::string mode = "pipe";
  uint32_t flows = 65536;
  uint32_t burst = 32;
  uint32_t rings = 2;
  unsigned workers = 1;  // --workers: DrainPool shard workers (pipe mode)
  uint32_t ring_kb = 4096;
  double duration_s = 3.0;
  double rate = 0;  // events/s, 0 = unthrottled
  uint32_t runs = 5;
  bool live = false;
  bool pin = true;
  bool hold = true;
};

uint64_t NowNs(clockid_t c = CLOCK_MONOTONIC) {
  timespec ts;
  clock_gettime(c, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

void PinTo(int cpu) {
  cpu_set_t s;
  CPU_ZERO(&s);
  CPU_SET(cpu, &s);
  sched_setaffinity(0, sizeof(s), &s);
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Frames of `n` distinct flows: distinct (saddr, sport) per flow; TCP ACK (payload 0..1400)
// for 4 of 5 flows, UDP (payload 20..1200) for the rest; 1 in 8 flows IPv6.
std::vector<std::vector<uint8_t>> MakeFrames(uint32_t n) {
  std::vector<std::vector<uint8_t>> out;
  out.reserve(n);
  uint32_t x = 12345;
  auto rnd = [&x]() {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
  };
  for (uint32_t i = 0; i < n; ++i) {
    PacketBuilder b;
    b.Eth();
    const uint16_t sport = uint16_t(1024 + (i % 60000));
    if (i % 8 == 7) {
      char src[64];
      std::snprintf(src, sizeof src, "2001:db8::%x:%x", (i >> 16) & 0xffff, i & 0xffff);
      b.IPv6(src, "2001:db8:ffff::1");
    } else {
      char src[32];
      std::snprintf(src, sizeof src, "10.%u.%u.%u", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
      b.IPv4(src, "192.168.0.1");
    }
    if (i % 5 == 4) {
      b.Udp(sport, 53).Payload(20 + rnd() % 1181);
    } else {
      const uint32_t r = rnd() % 100;
      const size_t pay = r < 25 ? 0 : r < 70 ? 1400 : 1 + rnd() % 1399;
      b.Tcp(sport, 443, nfm::test::kAck, 65535).Payload(pay);
    }
    out.push_back(b.Bytes());
  }
  return out;
}

// nfm_xdp among this process's fds (the Loader keeps the skeleton private).
int FindProgFd(const char* name) {
  DIR* d = opendir("/proc/self/fd");
  if (!d) return -1;
  int found = -1;
  while (dirent* e = readdir(d)) {
    const int fd = std::atoi(e->d_name);
    if (fd <= 2) continue;
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) continue;
    if (info.type == BPF_PROG_TYPE_XDP && std::strcmp(info.name, name) == 0) {
      found = fd;
      break;
    }
  }
  closedir(d);
  return found;
}

// The dispatcher holder. BPF_PROG_RUN with repeat > 1 adds the program to the kernel's XDP
// dispatcher for the call and removes it afterwards; each change rebuilds the dispatcher and
// waits for an RCU grace period (~20 ms per call here: 88 calls/s with --no-hold). An XDP
// program attached in native mode stays in the dispatcher, so a live agent never pays this.
// To reproduce that state without attaching, this thread keeps one BPF_PROG_RUN of nfm_xdp
// running (huge repeat, an ARP frame: counted as not-IP, no event) at SCHED_IDLE priority:
// it only runs on otherwise idle CPU time and is preempted at the next repeat iteration
// (test_run checks need_resched every iteration). Stopped with a signal (test_run returns
// EINTR).
class Holder {
 public:
  explicit Holder(int prog_fd) {
    struct sigaction sa {};
    sa.sa_handler = [](int) {};
    sigaction(SIGUSR1, &sa, nullptr);
    frame_ = PacketBuilder().Eth(0x0806).Payload(28).Bytes();
    th_ = std::thread([this, prog_fd] {
      sched_param sp{};
      pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
      std::vector<uint8_t> out(256);
      while (!stop_.load()) {
        LIBBPF_OPTS(bpf_test_run_opts, t);
        t.data_in = frame_.data();
        t.data_size_in = uint32_t(frame_.size());
        t.data_out = out.data();
        t.data_size_out = uint32_t(out.size());
        t.repeat = 0x7fffffff;
        in_.store(true);
        bpf_prog_test_run_opts(prog_fd, &t);
      }
      done_.store(true);
    });
    while (!in_.load()) usleep(1000);
    usleep(50000);  // its dispatcher update (one grace period) is done
  }
  ~Holder() {
    stop_.store(true);
    for (int i = 0; i < 200; ++i) {
      pthread_kill(th_.native_handle(), SIGUSR1);
      usleep(1000);
      if (done_.load()) break;
    }
    th_.join();
  }

 private:
  std::vector<uint8_t> frame_;
  std::atomic<bool> stop_{false}, in_{false}, done_{false};
  std::thread th_;
};

struct ProducerResult {
  uint64_t calls = 0;
  uint64_t runs = 0;  // frames run (= calls * burst)
  uint64_t start_ns = 0, end_ns = 0;
  int err = 0;
};

// Runs until `stop` or until `max_runs` frames have been run (0 = no limit).
void Produce(const Options& o, int prog_fd, const std::vector<std::vector<uint8_t>>& frames,
             const std::atomic<bool>& stop, uint64_t max_runs, ProducerResult* r) {
  if (o.pin) PinTo(0);
  std::vector<uint8_t> out(2048);
  r->start_ns = NowNs();
  size_t i = 0;
  while (!stop.load(std::memory_order_relaxed) && (!max_runs || r->runs < max_runs)) {
    const auto& f = frames[i];
    if (++i == frames.size()) i = 0;
    LIBBPF_OPTS(bpf_test_run_opts, t);
    t.data_in = f.data();
    t.data_size_in = uint32_t(f.size());
    t.repeat = o.burst;
    if (o.live) {
      t.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
      t.batch_size = std::min<uint32_t>(o.burst, 256);
    } else {
      t.data_out = out.data();
      t.data_size_out = uint32_t(out.size());
    }
    if (bpf_prog_test_run_opts(prog_fd, &t) != 0) {
      r->err = errno;
      break;
    }
    ++r->calls;
    r->runs += o.burst;
    if (o.rate > 0) {  // pacing: sleep until this many events are due
      const uint64_t due = r->start_ns + uint64_t(double(r->runs) / o.rate * 1e9);
      const uint64_t now = NowNs();
      if (due > now + 20000) {
        timespec ts{time_t((due) / 1000000000ull), long((due) % 1000000000ull)};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
      }
    }
  }
  r->end_ns = NowNs();
}

struct RunResult {
  uint64_t produced = 0, consumed = 0, ring_full = 0, no_ring = 0, bad = 0, xdp_packets = 0;
  double prod_s = 0, wall_s = 0, flush_s = 0, cons_cpu_ns_per_ev = 0;
  double prod_rate = 0, e2e_rate = 0;
  uint64_t flows = 0;
  double fill_peak = 0;
  int err = 0;
};

struct Engine {
  std::unique_ptr<nfm::CsvFileSink> sink;
  std::unique_ptr<nfm::CsvExporter> csv;
  std::unique_ptr<nfm::FlowEngine> engine;
  Engine() {
    std::string err;
    sink = nfm::CsvFileSink::Open("/dev/null", 0, &err);
    if (!sink) {
      std::fprintf(stderr, "pipeline_bench: %s\n", err.c_str());
      std::exit(1);
    }
    nfm::EngineConfig cfg;  // corrected profile
    nfm::ApplyProfileDefaults(cfg, false, false, false);
    engine = std::make_unique<nfm::FlowEngine>(cfg);
    csv = std::make_unique<nfm::CsvExporter>(*sink, false, nfm::fmt::FloatSpec{});
    engine->AddExporter(*csv);
  }
};

nfm::live::LoaderConfig MakeLoaderConfig(const Options& o) {
  nfm::live::LoaderConfig lc;
  lc.rings = o.rings;
  lc.ring_size_bytes = o.ring_kb * 1024u;
  lc.sample = 1;
  lc.wakeup_bytes = lc.ring_size_bytes / 4;  // as RunLive
  return lc;
}

RunResult RunPipe(const Options& o, const std::vector<std::vector<uint8_t>>& frames) {
  RunResult res;
  const uint32_t ring_bytes = o.ring_kb * 1024u;
  nfm::live::Loader loader(MakeLoaderConfig(o), false);
  const int prog_fd = FindProgFd("nfm_xdp");
  if (prog_fd < 0) {
    std::fprintf(stderr, "pipeline_bench: nfm_xdp program fd not found\n");
    std::exit(1);
  }
  Engine eng;
  // --workers N > 1: DrainPool's shard workers (worker i drains rings r mod N == i) and its
  // output thread, as RunLive with --threads N; 1: one Drainer on this thread.
  if (o.pin) PinTo(1);  // before the workers start: they inherit the mask unless workers > 1
  if (o.workers > 1) {
    cpu_set_t all;
    CPU_ZERO(&all);
    for (int c = 0; c < CPU_SETSIZE; ++c) CPU_SET(c, &all);
    sched_setaffinity(0, sizeof(all), &all);
  }
  auto pool = nfm::live::DrainPool::Create(loader.RingFds(), ring_bytes, o.workers, *eng.engine);
  nfm::live::DrainPool& drainer = *pool;
  drainer.SetClockOffset(nfm::live::MonotonicToWallOffsetNs());
  std::unique_ptr<Holder> holder;
  if (o.hold && o.burst > 1) holder = std::make_unique<Holder>(prog_fd);

  std::atomic<bool> stop{false}, done{false};
  ProducerResult pr;
  const uint64_t t0 = NowNs();
  const uint64_t cpu0 = NowNs(CLOCK_THREAD_CPUTIME_ID);
  std::thread prod([&] {
    Produce(o, prog_fd, frames, stop, 0, &pr);
    done.store(true);
  });
  const uint64_t end = t0 + uint64_t(o.duration_s * 1e9);
  uint64_t next_tick = t0 + 100000000ull;
  uint64_t counters[NFM_CNT_MAX] = {};
  while (!done.load(std::memory_order_relaxed)) {
    const int n = drainer.Poll(10);
    if (n < 0 && n != -EINTR) {
      std::fprintf(stderr, "pipeline_bench: poll: %s\n", std::strerror(-n));
      break;
    }
    const uint64_t now = NowNs();
    if (now >= end) stop.store(true);
    if (now >= next_tick) {  // what RunLive does every 100 ms
      next_tick = now + 100000000ull;
      const uint64_t wall = nfm::live::WallNowNs();
      if (wall > 1000000000ull) drainer.AdvanceTime(wall - 1000000000ull);
      loader.ReadCounters(counters);
      res.fill_peak = std::max(res.fill_peak, drainer.FillRatio());
    }
  }
  stop.store(true);
  prod.join();
  holder.reset();
  drainer.DrainAll();
  usleep(5000);
  drainer.DrainAll();
  const uint64_t t1 = NowNs();
  const uint64_t cpu1 = NowNs(CLOCK_THREAD_CPUTIME_ID);
  drainer.Flush();
  eng.sink->Finish();
  const uint64_t t2 = NowNs();

  loader.ReadCounters(counters);
  res.err = pr.err;
  res.produced = counters[NFM_CNT_EVENTS];
  res.xdp_packets = counters[NFM_CNT_XDP_PACKETS];
  res.ring_full = counters[NFM_CNT_RING_FULL];
  res.no_ring = counters[NFM_CNT_NO_RING];
  res.consumed = drainer.Decoded();
  res.bad = drainer.Bad();
  res.prod_s = double(pr.end_ns - pr.start_ns) / 1e9;
  res.wall_s = double(t1 - t0) / 1e9;
  res.flush_s = double(t2 - t1) / 1e9;
  res.prod_rate = double(res.produced) / res.prod_s;
  res.e2e_rate = double(res.consumed) / res.wall_s;
  res.cons_cpu_ns_per_ev = res.consumed ? double(cpu1 - cpu0) / double(res.consumed) : 0;
  res.flows = drainer.Stats().flows_created;
  return res;
}

// Consumer-only: the producer fills the rings with no consumer (sized to hold everything),
// then DrainAll + engine is timed alone.
RunResult RunConsume(const Options& o, const std::vector<std::vector<uint8_t>>& frames) {
  RunResult res;
  Options oc = o;
  const uint32_t ring_bytes = oc.ring_kb * 1024u;
  nfm::live::Loader loader(MakeLoaderConfig(oc), false);
  const int prog_fd = FindProgFd("nfm_xdp");
  if (prog_fd < 0) std::exit(1);
  Engine eng;
  nfm::live::Drainer drainer(loader.RingFds(), ring_bytes, nfm::live::PacketTarget::Of(*eng.engine));
  drainer.SetClockOffset(nfm::live::MonotonicToWallOffsetNs());
  std::unique_ptr<Holder> holder;
  if (o.hold && o.burst > 1) holder = std::make_unique<Holder>(prog_fd);
  // 72-byte records (64 + 8 header); fill each ring to ~60 % at most (flows spread unevenly).
  const uint64_t max_events = uint64_t(ring_bytes) * oc.rings / 72 * 6 / 10;
  // Warm the engine's flow table first (every flow created once), then measure steady state.
  std::atomic<bool> stop{false};
  ProducerResult warm;
  Options ow = oc;
  ow.burst = 1;
  ow.rate = 0;
  Produce(ow, prog_fd, frames, stop, frames.size(), &warm);
  drainer.DrainAll();
  uint64_t before[NFM_CNT_MAX] = {};
  loader.ReadCounters(before);
  const uint64_t decoded0 = drainer.Decoded();
  ProducerResult pr;
  oc.rate = 0;
  Produce(oc, prog_fd, frames, stop, max_events, &pr);
  holder.reset();
  if (o.pin) PinTo(1);
  const uint64_t t0 = NowNs();
  const uint64_t cpu0 = NowNs(CLOCK_THREAD_CPUTIME_ID);
  drainer.DrainAll();
  const uint64_t t1 = NowNs();
  const uint64_t cpu1 = NowNs(CLOCK_THREAD_CPUTIME_ID);
  uint64_t counters[NFM_CNT_MAX] = {};
  loader.ReadCounters(counters);
  res.err = pr.err;
  res.produced = counters[NFM_CNT_EVENTS] - before[NFM_CNT_EVENTS];
  res.ring_full = counters[NFM_CNT_RING_FULL];
  res.consumed = drainer.Decoded() - decoded0;
  res.bad = drainer.Bad();
  res.prod_s = double(pr.end_ns - pr.start_ns) / 1e9;
  res.prod_rate = double(res.produced) / res.prod_s;
  res.wall_s = double(t1 - t0) / 1e9;
  res.e2e_rate = double(res.consumed) / res.wall_s;
  res.cons_cpu_ns_per_ev = res.consumed ? double(cpu1 - cpu0) / double(res.consumed) : 0;
  res.flows = eng.engine->Stats().flows_created;
  return res;
}

int Usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--mode pipe|consume] [--flows N] [--burst R] [--rings N] [--workers N] [--ring-size KB]\n"
               "          [--duration S] [--rate EV_PER_S] [--runs N] [--live] [--no-pin] [--no-hold]\n",
               argv0);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "--live") o.live = true;
    else if (a == "--no-pin") o.pin = false;
    else if (a == "--no-hold") o.hold = false;
    else if (!(v = next())) return Usage(argv[0]);
    else if (a == "--mode") o.mode = v;
    else if (a == "--flows") o.flows = uint32_t(std::strtoul(v, nullptr, 10));
    else if (a == "--burst") o.burst = uint32_t(std::strtoul(v, nullptr, 10));
    else if (a == "--rings") o.rings = uint32_t(std::strtoul(v, nullptr, 10));
    else if (a == "--workers") o.workers = unsigned(std::strtoul(v, nullptr, 10));
    else if (a == "--ring-size") o.ring_kb = uint32_t(std::strtoul(v, nullptr, 10));
    else if (a == "--duration") o.duration_s = std::strtod(v, nullptr);
    else if (a == "--rate") o.rate = std::strtod(v, nullptr);
    else if (a == "--runs") o.runs = uint32_t(std::strtoul(v, nullptr, 10));
    else return Usage(argv[0]);
  }
  if (o.flows == 0 || o.burst == 0 || o.runs == 0 || (o.mode != "pipe" && o.mode != "consume"))
    return Usage(argv[0]);
  libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
  if (o.live && unshare(CLONE_NEWNET) != 0) {
    std::fprintf(stderr, "pipeline_bench: unshare(CLONE_NEWNET): %s\n", std::strerror(errno));
    return 1;
  }
  const auto frames = MakeFrames(o.flows);
  std::printf("mode %s, %u flows, burst %u (%s), %u rings x %u KiB, wakeup %u KiB, %s, %.1f s, %u runs\n",
              o.mode.c_str(), o.flows, o.burst, o.live ? "BPF_F_TEST_XDP_LIVE_FRAMES" : "repeat",
              o.rings, o.ring_kb, o.ring_kb / 4,
              o.rate > 0 ? ("paced at " + std::to_string(o.rate / 1e6) + " M ev/s").c_str() : "unthrottled",
              o.duration_s, o.runs);
  std::vector<double> prod, e2e, cpu, loss;
  uint64_t total_full = 0;
  for (uint32_t r = 0; r < o.runs; ++r) {
    RunResult x;
    try {
      x = o.mode == "pipe" ? RunPipe(o, frames) : RunConsume(o, frames);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "pipeline_bench: %s\n", e.what());
      return 1;
    }
    if (x.err) std::fprintf(stderr, "pipeline_bench: BPF_PROG_RUN: %s\n", std::strerror(x.err));
    std::printf("run %u: produced %llu (%.3f s, %.3f M ev/s) consumed %llu (%.3f s, %.3f M ev/s) "
                "ring_full %llu no_ring %llu bad %llu flows %llu fill_peak %.2f consumer_cpu %.0f ns/ev "
                "flush %.3f s\n",
                r, (unsigned long long)x.produced, x.prod_s, x.prod_rate / 1e6,
                (unsigned long long)x.consumed, x.wall_s, x.e2e_rate / 1e6,
                (unsigned long long)x.ring_full, (unsigned long long)x.no_ring,
                (unsigned long long)x.bad, (unsigned long long)x.flows, x.fill_peak,
                x.cons_cpu_ns_per_ev, x.flush_s);
    std::fflush(stdout);
    prod.push_back(x.prod_rate);
    e2e.push_back(x.e2e_rate);
    cpu.push_back(x.cons_cpu_ns_per_ev);
    loss.push_back(x.produced ? double(x.ring_full) / double(x.produced + x.ring_full) : 0);
    total_full += x.ring_full;
  }
  std::printf("median: producer %.3f M ev/s, consumed %.3f M ev/s, consumer %.0f ns/ev (CPU), "
              "loss %.4f %%, ring_full total %llu%s\n",
              Median(prod) / 1e6, Median(e2e) / 1e6, Median(cpu), Median(loss) * 100,
              (unsigned long long)total_full, total_full ? "" : " (ZERO LOSS)");
  return 0;
}
