// SPDX-License-Identifier: MIT
// xdp_cost: measures the per-packet cost of nfm_xdp against an empty XDP program
// (r0 = XDP_PASS; exit) loaded in the same process, with BPF_PROG_RUN on one 64-byte
// TCP/IPv4 frame. It attaches nothing. Prints ns/packet (median of the runs) and the ratio.
// It also runs a "ring floor" program (hand-written: bpf_ringbuf_reserve, bpf_ktime_get_ns,
// eight 8-byte stores, bpf_ringbuf_query, the same threshold-crossing wake-up rule,
// bpf_ringbuf_submit; no parsing, hashing or counters) on its own 128 MiB ring: the part of
// nfm_xdp's cost that the event contract (a CLOCK_MONOTONIC timestamp per event, one ring
// record per event) makes unavoidable on this kernel/CPU. Fairness: the same frame and
// repeat count for all three programs, one process, runs interleaved and the order rotated
// every run (so no program always runs first), median of --runs.
//
//   sudo ./xdp_cost [--repeat N] [--runs R] [--mode drain|nodrain] [--wakeup BYTES]
//                   [--compare OBJ] [--no-rings] [--tunnel-inner] [--frame tcp|vxlan] [--dedup]
//
// --tunnel-inner: loads nfm_xdp with rodata nfm_tunnel_inner = 1 (--tunnel inner), so every
//   packet also goes through the decapsulation step (an untunnelled frame: the tunnel test).
// --frame vxlan: the 64-byte frame inside VXLAN (UDP 4789): 114 bytes.
// --dedup: also runs a second instance of this build's nfm_xdp with nfm_dedup_on = 1 (--dedup,
//   bpf/dedup.bpf.h) in the same runs on its own 128 MiB ring. Every packet of the bench flow
//   takes the owner path (the flow is owned by the interface that sees it: the kept-packet
//   cost, the common case); the copy path drops the packet before the ring and is cheaper.
//
// --no-rings: leaves nfm_rings empty (nfm_xdp and --compare), so they stop at the ring lookup
//   and count NFM_CNT_NO_RING: the cost of parse + hash + counters alone.
//
// --compare OBJ: also runs nfm_xdp from another build of the BPF object (e.g. the previous
//   version: a bpftool gen object output like build/bpf/nfm.o), interleaved in the same runs
//   on its own 128 MiB ring, for a before/after that the VM's noise cannot skew. It runs with
//   its built-in rodata defaults (nfm_wakeup_bytes 65536, one ring, no sampling).
//
// drain (default): a consumer thread on another CPU drains the 128 MiB rings with
//   ring_buffer__poll(10 ms) while the benchmark runs (the live steady state); a poll that
//   times out is followed by ring_buffer__consume, because ring_buffer__poll only reads
//   rings epoll reported (without it, --wakeup 0xffffffff never drained and measured failed
//   reservations: ring_full > 0, which is now reported as INVALID).
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

// The ring floor program (see the header comment), writing to ring_fd. wakeup_bytes as in
// nfm_xdp: BPF_RB_FORCE_WAKEUP only when the unread data crosses it, 0 = flags 0.
int LoadFloor(int ring_fd, uint32_t wakeup_bytes) {
  const int32_t lo = int32_t(std::min<uint64_t>(wakeup_bytes, INT32_MAX));
  const int32_t hi = int32_t(std::min<uint64_t>(uint64_t(wakeup_bytes) + 72, INT32_MAX));
  const bpf_insn ld_ring[2] = {
      {BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, ring_fd},
      {0, 0, 0, 0, 0},
  };
  std::vector<bpf_insn> p;
  auto add = [&p](bpf_insn i) { p.push_back(i); };
  add(ld_ring[0]);
  add(ld_ring[1]);
  add({BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, 64});
  add({BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, 0});
  add({BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_ringbuf_reserve});
  const size_t j_null = p.size();
  add({BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 0, 0});  // -> exit, patched below
  add({BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_0, 0, 0});
  add({BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_ktime_get_ns});
  add({BPF_STX | BPF_MEM | BPF_DW, BPF_REG_6, BPF_REG_0, 0, 0});
  add({BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 0});
  for (int16_t off = 8; off < 64; off += 8)
    add({BPF_STX | BPF_MEM | BPF_DW, BPF_REG_6, BPF_REG_1, off, 0});
  add({BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_7, 0, 0, 0});  // flags 0 when wakeup_bytes == 0
  if (wakeup_bytes) {
    add(ld_ring[0]);
    add(ld_ring[1]);
    add({BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, BPF_RB_AVAIL_DATA});
    add({BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_ringbuf_query});
    add({BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_7, 0, 0, BPF_RB_NO_WAKEUP});
    add({BPF_JMP | BPF_JLT | BPF_K, BPF_REG_0, 0, 2, lo});
    add({BPF_JMP | BPF_JGE | BPF_K, BPF_REG_0, 0, 1, hi});
    add({BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_7, 0, 0, BPF_RB_FORCE_WAKEUP});
  }
  add({BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_6, 0, 0});
  add({BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_7, 0, 0});
  add({BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_ringbuf_submit});
  p[j_null].off = int16_t(p.size() - j_null - 1);
  add({BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, XDP_PASS});
  add({BPF_JMP | BPF_EXIT, 0, 0, 0, 0});
  return bpf_prog_load(BPF_PROG_TYPE_XDP, "nfm_ring_floor", "GPL", p.data(), p.size(), nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t repeat = 1000000, runs = 9, wakeup = NFM_WAKEUP_BYTES_DEFAULT;
  bool drain = true;
  std::string compare;
  bool no_rings = false, tunnel_inner = false, vxlan = false, dedup = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--repeat" && i + 1 < argc) repeat = uint32_t(std::strtoul(argv[++i], nullptr, 10));
    else if (a == "--runs" && i + 1 < argc) runs = uint32_t(std::strtoul(argv[++i], nullptr, 10));
    else if (a == "--mode" && i + 1 < argc) drain = std::string(argv[++i]) != "nodrain";
    else if (a == "--wakeup" && i + 1 < argc) wakeup = uint32_t(std::strtoul(argv[++i], nullptr, 0));
    else if (a == "--compare" && i + 1 < argc) compare = argv[++i];
    else if (a == "--no-rings") no_rings = true;
    else if (a == "--tunnel-inner") tunnel_inner = true;
    else if (a == "--frame" && i + 1 < argc) vxlan = std::string(argv[++i]) == "vxlan";
    else if (a == "--dedup") dedup = true;
    else {
      std::fprintf(stderr,
                   "usage: %s [--repeat N] [--runs R] [--mode drain|nodrain] [--wakeup BYTES] "
                   "[--compare OBJ] [--no-rings] [--tunnel-inner] [--frame tcp|vxlan] [--dedup]\n",
                   argv[0]);
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
    skel->rodata->nfm_tunnel_inner = tunnel_inner ? 1 : 0;
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
  if (ring < 0 ||
      (!no_rings && bpf_map_update_elem(bpf_map__fd(skel->maps.nfm_rings), &zero, &ring, BPF_ANY))) {
    std::fprintf(stderr, "create/install ring: %s\n", strerror(errno));
    return 1;
  }
  uint64_t consumed = 0, floor_consumed = 0;
  ring_buffer* rb = ring_buffer__new(ring, Count, &consumed, nullptr);
  int floor_ring = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "nfm_floor_ring", 0, 0, kRingBytes, nullptr);
  int floor_fd = floor_ring < 0 ? -1 : LoadFloor(floor_ring, wakeup);
  if (!rb || floor_fd < 0 || ring_buffer__add(rb, floor_ring, Count, &floor_consumed)) {
    std::fprintf(stderr, "ring floor program / ring: %s\n", strerror(errno));
    return 1;
  }
  const bpf_insn empty[] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, XDP_PASS},
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  int empty_fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "nfm_empty", "GPL", empty, 2, nullptr);
  if (!rb || empty_fd < 0) {
    std::fprintf(stderr, "ring_buffer__new / load empty XDP: %s\n", strerror(errno));
    return 1;
  }
  nfm::test::PacketBuilder fb;
  if (vxlan) fb.Eth().IPv4("192.168.0.1", "192.168.0.2").Udp(40000, 4789).Raw({0x08, 0, 0, 0, 0, 0, 42, 0});
  const auto frame = fb.Eth()
                         .IPv4("10.0.0.1", "10.0.0.2")
                         .Tcp(40000, 443, nfm::test::kAck | nfm::test::kPsh, 512)
                         .Payload(10)
                         .Bytes();  // 64 bytes (vxlan: 114)

  int cmp_fd = -1;
  bpf_object* cmp_obj = nullptr;
  int cmp_ring = -1;
  uint64_t cmp_consumed = 0;
  if (!compare.empty()) {
    cmp_obj = bpf_object__open_file(compare.c_str(), nullptr);
    bpf_program* prog = cmp_obj ? bpf_object__find_program_by_name(cmp_obj, "nfm_xdp") : nullptr;
    bpf_map* rings = cmp_obj ? bpf_object__find_map_by_name(cmp_obj, "nfm_rings") : nullptr;
    if (!prog || !rings || bpf_object__load(cmp_obj)) {
      std::fprintf(stderr, "--compare %s: cannot open/load nfm_xdp, nfm_rings\n", compare.c_str());
      return 1;
    }
    cmp_ring = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "nfm_cmp_ring", 0, 0, kRingBytes, nullptr);
    if (cmp_ring < 0 ||
        (!no_rings && bpf_map_update_elem(bpf_map__fd(rings), &zero, &cmp_ring, BPF_ANY)) ||
        ring_buffer__add(rb, cmp_ring, Count, &cmp_consumed)) {
      std::fprintf(stderr, "--compare ring: %s\n", strerror(errno));
      return 1;
    }
    cmp_fd = bpf_program__fd(prog);
  }

  nfm_bpf* skel_d = nullptr;  // --dedup: the same object with nfm_dedup_on = 1
  int dd_ring = -1;
  uint64_t dd_consumed = 0;
  if (dedup) {
    skel_d = nfm_bpf__open();
    if (skel_d) {
      skel_d->rodata->nfm_wakeup_bytes = wakeup;
      skel_d->rodata->nfm_dedup_on = 1;
    }
    if (!skel_d || nfm_bpf__load(skel_d)) {
      std::fprintf(stderr, "--dedup: load nfm_bpf with nfm_dedup_on = 1: %s\n", strerror(errno));
      return 1;
    }
    dd_ring = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "nfm_dd_ring", 0, 0, kRingBytes, nullptr);
    if (dd_ring < 0 ||
        (!no_rings && bpf_map_update_elem(bpf_map__fd(skel_d->maps.nfm_rings), &zero, &dd_ring, BPF_ANY)) ||
        ring_buffer__add(rb, dd_ring, Count, &dd_consumed)) {
      std::fprintf(stderr, "--dedup ring: %s\n", strerror(errno));
      return 1;
    }
  }

  std::atomic<bool> stop{false};
  std::thread consumer;
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  PinTo(0);
  if (drain) {
    consumer = std::thread([&] {
      if (ncpu > 1) PinTo(1);
      while (!stop.load(std::memory_order_relaxed))
        if (ring_buffer__poll(rb, 10) == 0) ring_buffer__consume(rb);
    });
  }

  const int nfm_fd = bpf_program__fd(skel->progs.nfm_xdp);
  std::vector<int> fds = {empty_fd, nfm_fd, floor_fd};
  if (cmp_fd >= 0) fds.push_back(cmp_fd);
  const size_t dd_index = fds.size();
  if (skel_d) fds.push_back(bpf_program__fd(skel_d->progs.nfm_xdp));
  const uint32_t nprog = uint32_t(fds.size());
  std::vector<std::vector<double>> t(nprog);
  for (uint32_t r = 0; r < runs; ++r) {  // interleaved, so drift hits all alike
    for (uint32_t k = 0; k < nprog; ++k) {  // rotated order: no program always runs first
      const uint32_t i = (r + k) % nprog;
      const double d = RunOnce(fds[i], frame, repeat);
      if (d < 0) {
        std::fprintf(stderr, "BPF_PROG_RUN: %s\n", strerror(int(-d)));
        return 1;
      }
      t[i].push_back(d);
      if (!drain) ring_buffer__consume(rb);
    }
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
  const double me = Median(t[0]), mn = Median(t[1]), mf = Median(t[2]);
  std::printf("xdp_cost: %u runs x %u repeats, %zu-byte TCP/IPv4%s frame, mode %s, ring 128 MiB, "
              "nfm_wakeup_bytes %u%s%s\n",
              runs, repeat, frame.size(), vxlan ? " in VXLAN" : "", drain ? "drain (consumer thread)" : "nodrain",
              wakeup, no_rings ? ", nfm_rings EMPTY (--no-rings)" : "",
              tunnel_inner ? ", nfm_xdp with --tunnel inner" : "");
  std::printf("empty XDP : %.1f ns/packet (median)\n", me);
  std::printf("nfm_xdp   : %.1f ns/packet (median)\n", mn);
  std::printf("ratio     : %.2fx (target <= 2.5x)\n", mn / me);
  std::printf("ring floor: %.1f ns/packet (median), %.2fx: reserve + ktime + 64-byte write + %s"
              "submit only\n",
              mf, mf / me, wakeup ? "query + " : "");
  std::printf("events %llu, ring_full %llu, no_ring %llu, consumed %llu (floor consumed %llu)\n",
              (unsigned long long)cnt[NFM_CNT_EVENTS], (unsigned long long)cnt[NFM_CNT_RING_FULL],
              (unsigned long long)cnt[NFM_CNT_NO_RING], (unsigned long long)consumed,
              (unsigned long long)floor_consumed);
  if (cmp_obj) {
    const double mc = Median(t[3]);
    std::printf("compare   : %.1f ns/packet (median), %.2fx: nfm_xdp of %s (consumed %llu)\n", mc,
                mc / me, compare.c_str(), (unsigned long long)cmp_consumed);
  }
  bool dd_invalid = false;
  if (skel_d) {
    uint64_t dcnt[NFM_CNT_MAX] = {};
    for (uint32_t k = 0; k < NFM_CNT_MAX; ++k) {
      if (bpf_map_lookup_elem(bpf_map__fd(skel_d->maps.nfm_counters), &k, per_cpu.data())) continue;
      for (uint64_t v : per_cpu) dcnt[k] += v;
    }
    const double md = Median(t[dd_index]);
    std::printf("dedup     : %.1f ns/packet (median), %.2fx: nfm_xdp with --dedup, %+.1f ns (%+.1f %%) vs nfm_xdp "
                "(consumed %llu, duplicate %llu, table_full %llu, ring_full %llu)\n",
                md, md / me, md - mn, 100.0 * (md - mn) / mn, (unsigned long long)dd_consumed,
                (unsigned long long)dcnt[NFM_CNT_DEDUP], (unsigned long long)dcnt[NFM_CNT_DEDUP_FULL],
                (unsigned long long)dcnt[NFM_CNT_RING_FULL]);
    dd_invalid = dcnt[NFM_CNT_RING_FULL] || dcnt[NFM_CNT_DEDUP] || (!no_rings && dd_consumed != uint64_t(runs) * repeat);
  }
  if (dd_invalid || cnt[NFM_CNT_RING_FULL] || floor_consumed != uint64_t(runs) * repeat ||
      (cmp_obj && !no_rings && cmp_consumed != uint64_t(runs) * repeat))
    std::printf("INVALID: reservations failed (ring full); these numbers are not the cost of "
                "delivered events\n");
  ring_buffer__free(rb);
  close(ring);
  close(floor_ring);
  close(floor_fd);
  if (cmp_obj) bpf_object__close(cmp_obj);
  if (cmp_ring >= 0) close(cmp_ring);
  close(empty_fd);
  if (dd_ring >= 0) close(dd_ring);
  if (skel_d) nfm_bpf__destroy(skel_d);
  nfm_bpf__destroy(skel);
  return 0;
}
