// SPDX-License-Identifier: MIT
// xdp_cost: measures the per-packet cost of nfm_xdp against an empty XDP program
// (r0 = XDP_PASS; exit) loaded in the same process, with BPF_PROG_RUN on one 64-byte
// TCP/IPv4 frame. It attaches nothing. Prints ns/packet (median of the runs) and the ratio.
//
//   sudo ./xdp_cost [--repeat N] [--runs R] [--mode drain|nodrain] [--wakeup BYTES]
//
// drain (default): a consumer thread on another CPU drains the 128 MiB ring with
//   ring_buffer__poll while the benchmark runs (the live steady state).
// nodrain: nobody reads during a run; the 128 MiB ring holds all repeat * 72 bytes
//   (repeat <= 1.8M), so every reservation succeeds; it is drained between runs.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "nfm.skel.h"
#include "nfm/event.h"
#include "packet_builder.hpp"

namespace {

constexpr uint32_t kRingBytes = 128u << 20;

void PinTo(int cpu) {
  cpu_set_t s;
  CPU_ZERO(&s);
  CPU_SET(cpu, &s);
  sched_setaffinity(0, sizeof(s), &s);
}

// Returns the average ns per run reported by the kernel, or a negative errno.
double RunOnce(int prog_fd, const std::vector<uint8_t>& frame, uint32_t repeat) {
  std::vector<uint8_t> out(frame.size() + 256);
  LIBBPF_OPTS(bpf_test_run_opts, opts);
  opts.data_in = frame.data();
  opts.data_size_in = static_cast<uint32_t>(frame.size());
  opts.data_out = out.data();
  opts.data_size_out = static_cast<uint32_t>(out.size());
  opts.repeat = repeat;
  if (bpf_prog_test_run_opts(prog_fd, &opts)) return -errno;
  if (opts.retval != XDP_PASS) return -EPROTO;
  return opts.duration;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int Count(void* ctx, void*, size_t) {
  ++*static_cast<uint64_t*>(ctx);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t repeat = 1000000, runs = 7, wakeup = NFM_WAKEUP_BYTES_DEFAULT;
  bool drain = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--repeat" && i + 1 < argc) repeat = uint32_t(std::strtoul(argv[++i], nullptr, 10));
    else if (a == "--runs" && i + 1 < argc) runs = uint32_t(std::strtoul(argv[++i], nullptr, 10));
    else if (a == "--mode" && i + 1 < argc) drain = std::string(argv[++i]) != "nodrain";
    else if (a == "--wakeup" && i + 1 < argc) wakeup = uint32_t(std::strtoul(argv[++i], nullptr, 0));
    else {
      std::fprintf(stderr, "usage: %s [--repeat N] [--runs R] [--mode drain|nodrain] [--wakeup BYTES]\n", argv[0]);
      return 2;
    }
  }
  if (!drain && uint64_t(repeat) * 72 > kRingBytes) {
    std::fprintf(stderr, "--mode nodrain: repeat %u does not fit the 128 MiB ring\n", repeat);
    return 2;
  }

  nfm_bpf* skel = nfm_bpf__open();
  if (skel) {
    skel->rodata->nfm_wakeup_bytes = wakeup;
    if (nfm_bpf__load(skel)) {
      nfm_bpf__destroy(skel);
      skel = nullptr;
    }
  }
  if (!skel) {
    int e = errno;
    std::fprintf(stderr, "load nfm_bpf: %s; needs root (CAP_BPF + CAP_NET_ADMIN)\n", strerror(e));
    return 1;
  }
  int ring = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "nfm_bench_ring", 0, 0, kRingBytes, nullptr);
  uint32_t zero = 0;
  if (ring < 0 || bpf_map_update_elem(bpf_map__fd(skel->maps.nfm_rings), &zero, &ring, BPF_ANY)) {
    std::fprintf(stderr, "create/install ring: %s\n", strerror(errno));
    return 1;
  }
  uint64_t consumed = 0;
  ring_buffer* rb = ring_buffer__new(ring, Count, &consumed, nullptr);
  const bpf_insn empty[] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, XDP_PASS},
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  int empty_fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "nfm_empty", "GPL", empty, 2, nullptr);
  if (!rb || empty_fd < 0) {
    std::fprintf(stderr, "ring_buffer__new / load empty XDP: %s\n", strerror(errno));
    return 1;
  }
  const auto frame = nfm::test::PacketBuilder()
                         .Eth()
                         .IPv4("10.0.0.1", "10.0.0.2")
                         .Tcp(40000, 443, nfm::test::kAck | nfm::test::kPsh, 512)
                         .Payload(10)
                         .Bytes();  // 64 bytes

  std::atomic<bool> stop{false};
  std::thread consumer;
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  PinTo(0);
  if (drain) {
    consumer = std::thread([&] {
      if (ncpu > 1) PinTo(1);
      while (!stop.load(std::memory_order_relaxed)) ring_buffer__poll(rb, 10);
    });
  }

  const int nfm_fd = bpf_program__fd(skel->progs.nfm_xdp);
  std::vector<double> t_empty, t_nfm;
  for (uint32_t r = 0; r < runs; ++r) {  // interleaved, so drift hits both alike
    double e = RunOnce(empty_fd, frame, repeat), n = RunOnce(nfm_fd, frame, repeat);
    if (e < 0 || n < 0) {
      std::fprintf(stderr, "BPF_PROG_RUN: %s\n", strerror(int(-(e < 0 ? e : n))));
      return 1;
    }
    t_empty.push_back(e);
    t_nfm.push_back(n);
    if (!drain) ring_buffer__consume(rb);
  }
  stop = true;
  if (consumer.joinable()) consumer.join();
  ring_buffer__consume(rb);

  std::vector<uint64_t> per_cpu(size_t(std::max(1, libbpf_num_possible_cpus())));
  uint64_t cnt[NFM_CNT_MAX] = {};
  for (uint32_t k = 0; k < NFM_CNT_MAX; ++k) {
    if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.nfm_counters), &k, per_cpu.data())) continue;
    for (uint64_t v : per_cpu) cnt[k] += v;
  }
  const double me = Median(t_empty), mn = Median(t_nfm);
  std::printf("xdp_cost: %u runs x %u repeats, %zu-byte TCP/IPv4 frame, mode %s, ring 128 MiB, "
              "nfm_wakeup_bytes %u\n",
              runs, repeat, frame.size(), drain ? "drain (consumer thread)" : "nodrain", wakeup);
  std::printf("empty XDP : %.1f ns/packet (median)\n", me);
  std::printf("nfm_xdp   : %.1f ns/packet (median)\n", mn);
  std::printf("ratio     : %.2fx (target <= 2.5x)\n", mn / me);
  std::printf("events %llu, ring_full %llu, consumed %llu\n", (unsigned long long)cnt[NFM_CNT_EVENTS],
              (unsigned long long)cnt[NFM_CNT_RING_FULL], (unsigned long long)consumed);
  ring_buffer__free(rb);
  close(ring);
  close(empty_fd);
  nfm_bpf__destroy(skel);
  return 0;
}
