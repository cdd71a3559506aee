// SPDX-License-Identifier: MIT
// Synthetic traffic for benchmarks: a deterministic stream of PacketMeta events from a pool
// of `concurrent` open flows. Shared by bench/engine (engine alone) and bench/replay (the
// pcap generator), so both measure the same mix.
//
// Model (all IPv4, seeded PRNG, reproducible):
//  * a pool of N concurrent flows; each event picks one pool slot uniformly at random and
//    emits that flow's next packet; a finished flow is replaced by a brand-new 5-tuple, so
//    the number of open flows stays ~N and lookups hit random memory;
//  * 85% TCP: SYN, SYN/ACK, ACK, D data packets, then FIN/ACK, FIN/ACK, ACK (5% end with
//    RST instead); D is Pareto(alpha 1.1, x_m 1) capped at 20000: Zipf-like sizes, most
//    flows short, a few elephants;
//  * 15% UDP: request/response pairs (DNS-like), Pareto packet count capped at 2000;
//  * TCP data: 35% forward / 65% backward; payload 25% 0 (pure ACK), 45% 1460, 30% uniform
//    1..1459; UDP payload uniform 20..1200;
//  * timestamps advance by `step_ns` (default 1 us) per event.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "engine/packet.hpp"

namespace nfm::bench {

class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() noexcept {  // splitmix64
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint32_t Below(uint32_t n) noexcept { return static_cast<uint32_t>((Next() >> 32) * n >> 32); }
  double Unit() noexcept { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }  // [0,1)

 private:
  uint64_t s_;
};

class TrafficModel {
 public:
  struct Options {
    uint32_t concurrent = 100000;
    uint64_t seed = 42;
    uint64_t start_ns = 1700000000ull * 1000000000ull;
    uint64_t step_ns = 1000;
    bool endless = false;  // flows never end (data packets forever): no exports, per-packet cost only
  };

  explicit TrafficModel(const Options& o) : opt_(o), rng_(o.seed), now_(o.start_ns) {
    pool_.resize(o.concurrent);
    for (auto& f : pool_) NewFlow(f);
  }

  // Fills *m with the next packet (all fields a decoder would set, incl. ts_ns/ts_exp).
  void Next(PacketMeta* m) noexcept {
    Flow& f = pool_[rng_.Below(static_cast<uint32_t>(pool_.size()))];
    Emit(f, m);
    now_ += opt_.step_ns;
    if (f.step >= f.total) {
      ++flows_finished_;
      NewFlow(f);
    }
  }
  uint64_t FlowsStarted() const noexcept { return flows_started_; }
  uint64_t FlowsFinished() const noexcept { return flows_finished_; }

 private:
  struct Flow {
    uint32_t cli, srv;  // IPv4, host order
    uint16_t cport, sport;
    uint8_t proto;
    bool rst_end;
    uint32_t step;   // packets emitted so far
    uint32_t total;  // packets this flow will emit
  };

  uint32_t Pareto(double alpha, uint32_t cap) noexcept {
    const double u = 1.0 - rng_.Unit();  // (0,1]
    const double x = std::pow(u, -1.0 / alpha);
    return x >= cap ? cap : static_cast<uint32_t>(x);
  }

  void NewFlow(Flow& f) noexcept {
    ++flows_started_;
    f.cli = 0x0a000000u | (rng_.Below(1u << 24));                    // 10.0.0.0/8 clients
    f.srv = 0xac100000u | rng_.Below(4096);                          // 172.16.0.0/20 servers
    f.cport = static_cast<uint16_t>(1024 + rng_.Below(64511));
    f.step = 0;
    if (opt_.endless || rng_.Below(100) < 85) {
      static constexpr uint16_t kTcpPorts[] = {443, 443, 443, 80, 22, 8080, 993, 5432};
      f.proto = 6;
      f.sport = kTcpPorts[rng_.Below(8)];
      f.rst_end = rng_.Below(100) < 5;
      f.total = 3 + Pareto(1.1, 20000) + (f.rst_end ? 1 : 3);
      if (opt_.endless) f.total = UINT32_MAX;
    } else {
      static constexpr uint16_t kUdpPorts[] = {53, 53, 53, 123, 443, 5353, 514, 4500};
      f.proto = 17;
      f.sport = kUdpPorts[rng_.Below(8)];
      f.rst_end = false;
      f.total = 2 * Pareto(1.3, 1000);
    }
  }

  static void PutV4(uint8_t* a, uint32_t ip) noexcept {
    std::memset(a, 0, 10);
    a[10] = a[11] = 0xff;
    a[12] = static_cast<uint8_t>(ip >> 24);
    a[13] = static_cast<uint8_t>(ip >> 16);
    a[14] = static_cast<uint8_t>(ip >> 8);
    a[15] = static_cast<uint8_t>(ip);
  }

  uint32_t DataPayload() noexcept {
    const uint32_t r = rng_.Below(100);
    if (r < 25) return 0;
    if (r < 70) return 1460;
    return 1 + rng_.Below(1459);
  }

  void Emit(Flow& f, PacketMeta* m) noexcept {
    *m = PacketMeta{};
    bool fwd = true;
    uint8_t flags = 0;
    uint32_t payload = 0;
    uint16_t l4 = 8;
    const uint32_t s = f.step++;
    if (f.proto == 6) {
      const uint32_t tail = f.rst_end ? 1 : 3;
      l4 = 32;  // timestamps option
      if (s == 0) { flags = 0x02; l4 = 40; }
      else if (s == 1) { fwd = false; flags = 0x12; l4 = 40; }
      else if (s == 2) { flags = 0x10; }
      else if (s + tail < f.total) {
        fwd = rng_.Below(100) < 35;
        flags = 0x10 | (rng_.Below(4) == 0 ? 0x08 : 0);
        payload = DataPayload();
      } else if (f.rst_end) { flags = 0x14; fwd = rng_.Below(2) == 0; }
      else {
        const uint32_t k = s - (f.total - 3);
        fwd = k != 1;
        flags = k == 2 ? 0x10 : 0x11;
      }
      m->window = static_cast<uint16_t>(fwd ? 64240 : 65160);
    } else {
      fwd = (s & 1) == 0;
      payload = 20 + rng_.Below(1181);
    }
    PutV4(fwd ? m->saddr : m->daddr, f.cli);
    PutV4(fwd ? m->daddr : m->saddr, f.srv);
    m->sport = fwd ? f.cport : f.sport;
    m->dport = fwd ? f.sport : f.cport;
    m->ts_ns = now_;
    m->ts_exp = -6;
    m->ip_version = 4;
    m->proto = f.proto;
    m->tcp_flags = flags;
    m->l4_header_len = l4;
    const uint32_t ip_len = 20 + l4 + payload;
    uint32_t frame = 14 + ip_len;
    if (frame < 60) {  // Ethernet minimum: padding counts in scapy's payload view
      m->flags |= kPktEthPadding;
      frame = 60;
    }
    m->wire_len = m->cap_len = frame;
    m->payload_ip = payload;
    m->payload_frame = frame - 14 - 20 - l4;
  }

  Options opt_;
  Rng rng_;
  uint64_t now_;
  std::vector<Flow> pool_;
  uint64_t flows_started_ = 0;
  uint64_t flows_finished_ = 0;
};

}  // namespace nfm::bench
