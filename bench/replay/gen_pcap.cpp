// SPDX-License-Identifier: MIT
// gen_pcap: writes a synthetic classic pcap (microsecond, little endian, LINKTYPE_ETHERNET)
// from bench/engine/traffic_model.hpp: Ethernet/IPv4/TCP|UDP frames with valid lengths and
// checksums left 0 (nfm-xdp does not verify them). For benchmarks only; written at run time
// to a temporary directory, never committed.
//
//   gen_pcap OUT.pcap [packets=5000000] [concurrent_flows=100000] [snaplen=0 (full frames)] [mode]
//            [avg_frame=650]
// mode "mix" (default): the traffic model. mode "hold": packet i is a UDP packet of flow
// i % concurrent_flows (distinct 5-tuples, never ending), so after `concurrent_flows`
// packets exactly that many flows are open: for memory-per-flow measurements.
// mode "flows": exactly `concurrent_flows` TCP flows in all (the third argument is the total
// here), packets/flows packets each (SYN, SYN/ACK, ACK, data, FIN, FIN, ACK), at most 512 open
// at once, picked at random; data payloads uniform so that frames average `avg_frame` bytes
// (e.g. `gen_pcap F 275000 8500 0 flows 650`: the issue-12 end-to-end capture).
//
//   gen_pcap OUT.pcap mix TCP_FLOWS UDP_FLOWS SECONDS PACKETS AVG_FRAME
// mode "mix" with a span (the "bench capture" and the "dataset-sized capture" of
// docs/PERFORMANCE.md, made by bench/replay/make_captures.sh): exactly TCP_FLOWS + UDP_FLOWS
// flows and exactly PACKETS packets over SECONDS of capture time, frames averaging AVG_FRAME
// bytes, packets in timestamp order, fixed seed (the same arguments give the same bytes).
// Distributions (class TimedMix):
//   * flow starts: uniform over [0, SECONDS) (flow 0 starts at 0), each flow clipped to end
//     by SECONDS, so the capture spans ~SECONDS;
//   * packets per flow: a minimum (TCP 8: SYN, SYN/ACK, ACK, one data packet each way,
//     FIN/ACK, FIN/ACK, ACK; UDP 2: one request and its response), plus a share of the
//     remaining packets by weight lognormal(0, 1.2) (UDP weights x0.25: UDP flows are short),
//     rounded so the total is exactly PACKETS (or the minimums, if PACKETS is smaller); UDP flows
//     get an even count (request/response pairs), so without TCP flows an odd PACKETS is one short;
//   * duration: TCP lognormal(median 3 s, sigma 1.5), UDP lognormal(median 0.5 s, sigma 1.5),
//     capped at 100 s (below the default 120-s idle timeout: one row per flow) and at the
//     end of the span (less 20 ms); a flow has a round-trip time uniform in 0.1-5 ms: TCP
//     handshake at start, +RTT, +RTT+10 µs, data packet times uniform over the duration after
//     it (sorted), teardown FIN 10 µs after the last data packet, FIN +RTT, ACK +RTT+10 µs
//     (a late final ACK would start a new flow); UDP request times uniform over the duration,
//     each response one (per-exchange uniform 0.1-5 ms) later;
//   * direction of TCP data after the first exchange: 40 % client->server, 60 % back;
//   * payload of data packets (TCP and UDP): with probability p the full 1460 (TCP) / 1472
//     (UDP) bytes, else uniform 6..600 (TCP) / 18..600 (UDP) (frames >= 60 B), p solved so the
//     frames average AVG_FRAME; control frames are 60 B;
//   * addresses: TCP client 10.0.0.0 + i -> 172.16.0.(1 + i % 64):443, UDP client
//     11.0.0.0 + i -> 172.17.0.(1 + i % 64):53, client ports 1024 + i % 60000: every flow a
//     distinct 5-tuple. Capture time starts at 1700000000 s (2023-11-14 22:13:20 UTC).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "traffic_model.hpp"

namespace {

void Put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void Put32le(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }  // x86: host order is LE

// Mode "flows": a fixed number of TCP flows of equal packet count and a target frame size.
class SizedFlows {
 public:
  SizedFlows(uint32_t flows, uint64_t packets, uint32_t avg_frame) : rng_(7), total_flows_(flows ? flows : 1) {
    per_flow_ = static_cast<uint32_t>(packets / total_flows_);
    if (per_flow_ < 7) per_flow_ = 7;
    extra_ = packets > static_cast<uint64_t>(per_flow_) * total_flows_
                 ? static_cast<uint32_t>(packets - static_cast<uint64_t>(per_flow_) * total_flows_)
                 : 0;
    // Control frames are 60 B (54 padded); data payload mean so frames average avg_frame.
    const double data_frames = per_flow_ - 6;
    const double mean = (static_cast<double>(avg_frame) * per_flow_ - 60.0 * 6) / data_frames - 54.0;
    max_payload_ = mean <= 0 ? 0 : static_cast<uint32_t>(mean * 2 > 1460 ? 1460 : mean * 2);
    const uint32_t open = total_flows_ < 512 ? total_flows_ : 512;
    pool_.resize(open);
    for (auto& f : pool_) Start(f);
  }
  uint32_t Flows() const noexcept { return started_; }
  void Next(nfm::PacketMeta* m, uint64_t ts) {
    if (pool_.empty()) Restart();
    const uint32_t k = rng_.Below(static_cast<uint32_t>(pool_.size()));
    F& f = pool_[k];
    *m = nfm::PacketMeta{};
    m->saddr[10] = m->saddr[11] = m->daddr[10] = m->daddr[11] = 0xff;
    const bool fwd = f.step == 0 || f.step == 2 || f.step == f.total - 3 || f.step == f.total - 1 ||
                     (f.step > 2 && f.step < f.total - 3 && rng_.Below(10) < 4);
    const uint32_t cli = 0x0a000000u + f.id, srv = 0xac100001u + (f.id % 64);
    const uint32_t s = fwd ? cli : srv, d = fwd ? srv : cli;
    for (int i = 0; i < 4; ++i) {
      m->saddr[12 + i] = static_cast<uint8_t>(s >> (24 - 8 * i));
      m->daddr[12 + i] = static_cast<uint8_t>(d >> (24 - 8 * i));
    }
    const uint16_t cport = static_cast<uint16_t>(1024 + f.id % 60000);
    m->sport = fwd ? cport : 443;
    m->dport = fwd ? 443 : cport;
    m->proto = 6;
    m->l4_header_len = 20;
    m->window = 65535;
    uint32_t payload = 0;
    if (f.step == 0) m->tcp_flags = 0x02;
    else if (f.step == 1) m->tcp_flags = 0x12;
    else if (f.step == 2) m->tcp_flags = 0x10;
    else if (f.step == f.total - 3 || f.step == f.total - 2) m->tcp_flags = 0x11;
    else if (f.step == f.total - 1) m->tcp_flags = 0x10;
    else {
      m->tcp_flags = 0x18;
      payload = max_payload_ ? rng_.Below(max_payload_ + 1) : 0;
    }
    m->payload_ip = payload;
    m->wire_len = 14 + 20 + 20 + payload < 60 ? 60 : 14 + 20 + 20 + payload;
    m->ts_ns = ts;
    m->ts_exp = -6;
    if (++f.step == f.total) {  // the flow ends: the next one takes its slot, or the slot goes
      if (started_ < total_flows_) {
        Start(f);
      } else {
        pool_[k] = pool_.back();
        pool_.pop_back();
      }
    }
  }

 private:
  struct F {
    uint32_t id, step, total;
  };
  void Start(F& f) {
    f.id = started_++;
    f.step = 0;
    f.total = per_flow_ + (extra_ ? (--extra_, 1) : 0);
  }
  void Restart() {  // more packets than flows * per_flow: a second round of new 5-tuples
    pool_.resize(1);
    total_flows_ += 1;
    Start(pool_[0]);
  }
  nfm::bench::Rng rng_;
  uint32_t total_flows_, per_flow_ = 0, extra_ = 0, started_ = 0, max_payload_ = 0;
  std::vector<F> pool_;
};


// Mode "mix" with a span: see the header comment for the distributions.
class TimedMix {
 public:
  struct Pkt {
    uint64_t ts_us;
    uint32_t flow, step;
  };
  TimedMix(uint32_t tcp, uint32_t udp, double seconds, uint64_t packets, uint32_t avg_frame)
      : rng_(20261207), tcp_(tcp) {
    const uint32_t n = tcp + udp;
    flows_.resize(n);
    uint64_t min_total = 0;
    std::vector<double> w(n);
    double wsum = 0;
    for (uint32_t i = 0; i < n; ++i) {
      F& f = flows_[i];
      f.udp = i >= tcp;
      f.total = f.udp ? 2 : 8;
      min_total += f.total;
      w[i] = std::exp(1.2 * Normal()) * (f.udp ? 0.25 : 1.0);
      wsum += w[i];
    }
    // Share the packets above the minimum by weight; the rounding remainder goes round-robin.
    uint64_t left = packets > min_total ? packets - min_total : 0, given = 0;
    for (uint32_t i = 0; i < n; ++i) {
      uint64_t extra = static_cast<uint64_t>(static_cast<double>(left) * w[i] / wsum);
      if (flows_[i].udp) extra &= ~1ull;  // request/response pairs
      flows_[i].total += static_cast<uint32_t>(extra);
      given += extra;
    }
    for (uint64_t r = left - given, k = 0; n > 0 && r > 0 && (tcp > 0 || r >= 2); ++k) {
      const uint32_t i = static_cast<uint32_t>(k % n);
      if (flows_[i].udp) {
        if (r >= 2) flows_[i].total += 2, r -= 2;
      } else {
        flows_[i].total += 1, r -= 1;
      }
    }
    // Frame sizes: control frames 60 B; data frames 54 + payload (TCP), 42 + payload (UDP).
    uint64_t ctl = 0, tcp_data = 0, udp_data = 0;
    for (const F& f : flows_) {
      if (f.udp) udp_data += f.total;
      else ctl += 6, tcp_data += f.total - 6;
    }
    const double target = static_cast<double>(packets) * avg_frame;
    const double small = tcp_data * (54 + 303.0) + udp_data * (42 + 309.0) + ctl * 60.0;
    const double large = tcp_data * (54 + 1460.0) + udp_data * (42 + 1472.0) + ctl * 60.0;
    p_full_ = large > small ? (target - small) / (large - small) : 0;
    if (p_full_ < 0) p_full_ = 0;
    if (p_full_ > 1) p_full_ = 1;
    // Times.
    const uint64_t span_us = static_cast<uint64_t>(seconds * 1e6);
    pkts_.reserve(packets);
    std::vector<uint64_t> t;
    for (uint32_t i = 0; i < n; ++i) {
      F& f = flows_[i];
      const uint64_t start = i == 0 ? 0 : static_cast<uint64_t>(rng_.Unit() * static_cast<double>(span_us));
      double dur_s = std::exp(1.5 * Normal()) * (f.udp ? 0.5 : 3.0);
      if (dur_s > 100.0) dur_s = 100.0;
      uint64_t dur = static_cast<uint64_t>(dur_s * 1e6);
      if (start + dur + 20000 > span_us) dur = span_us > start + 20000 ? span_us - start - 20000 : 0;
      const uint32_t slots = f.udp ? f.total / 2 : f.total - 6;  // TCP: the data packets
      t.resize(slots);
      const uint64_t rtt = 100 + rng_.Below(4901);  // µs
      const uint64_t t0 = f.udp ? start : start + 2 * rtt;
      for (auto& x : t) x = t0 + static_cast<uint64_t>(rng_.Unit() * static_cast<double>(dur));
      std::sort(t.begin(), t.end());
      if (!f.udp) {  // handshake and teardown one round trip apart, as on the wire
        pkts_.push_back({start, i, 0});
        pkts_.push_back({start + rtt, i, 1});
        pkts_.push_back({start + rtt + 10, i, 2});
        for (uint32_t s = 0; s < slots; ++s) pkts_.push_back({t[s], i, 3 + s});
        const uint64_t fin = t.back() + 10;
        pkts_.push_back({fin, i, f.total - 3});
        pkts_.push_back({fin + rtt, i, f.total - 2});
        pkts_.push_back({fin + rtt + 10, i, f.total - 1});
      } else {
        for (uint32_t s = 0; s < slots; ++s) {
          pkts_.push_back({t[s], i, 2 * s});
          pkts_.push_back({t[s] + 100 + rng_.Below(4901), i, 2 * s + 1});
        }
      }
    }
    std::sort(pkts_.begin(), pkts_.end(), [](const Pkt& a, const Pkt& b) {
      return a.ts_us != b.ts_us ? a.ts_us < b.ts_us : a.flow != b.flow ? a.flow < b.flow : a.step < b.step;
    });
  }
  uint64_t Packets() const noexcept { return pkts_.size(); }
  void Get(uint64_t k, nfm::PacketMeta* m, uint64_t start_ns) {
    const Pkt& pk = pkts_[k];
    const F& f = flows_[pk.flow];
    const uint32_t id = f.udp ? pk.flow - tcp_ : pk.flow;
    *m = nfm::PacketMeta{};
    m->saddr[10] = m->saddr[11] = m->daddr[10] = m->daddr[11] = 0xff;
    bool fwd;
    uint32_t payload = 0;
    if (f.udp) {
      fwd = pk.step % 2 == 0;
      payload = Payload(18, 1472);
    } else {
      const uint32_t s = pk.step, last = f.total - 1;
      fwd = s == 0 || s == 2 || s == 3 || s == last - 2 || s == last ||
            (s > 4 && s < last - 2 && rng_.Below(10) < 4);
      if (s == 0) m->tcp_flags = 0x02;
      else if (s == 1) m->tcp_flags = 0x12;
      else if (s == 2) m->tcp_flags = 0x10;
      else if (s == last - 2 || s == last - 1) m->tcp_flags = 0x11;
      else if (s == last) m->tcp_flags = 0x10;
      else m->tcp_flags = 0x18, payload = Payload(6, 1460);
    }
    const uint32_t cli = (f.udp ? 0x0b000000u : 0x0a000000u) + id;
    const uint32_t srv = (f.udp ? 0xac110001u : 0xac100001u) + (id % 64);
    const uint32_t sa = fwd ? cli : srv, da = fwd ? srv : cli;
    for (int i = 0; i < 4; ++i) {
      m->saddr[12 + i] = static_cast<uint8_t>(sa >> (24 - 8 * i));
      m->daddr[12 + i] = static_cast<uint8_t>(da >> (24 - 8 * i));
    }
    const uint16_t cport = static_cast<uint16_t>(1024 + id % 60000), sport = f.udp ? 53 : 443;
    m->sport = fwd ? cport : sport;
    m->dport = fwd ? sport : cport;
    m->proto = f.udp ? 17 : 6;
    m->l4_header_len = f.udp ? 8 : 20;
    m->window = 65535;
    m->payload_ip = payload;
    const uint32_t wire = 14 + 20 + m->l4_header_len + payload;
    m->wire_len = wire < 60 ? 60 : wire;
    m->ts_ns = start_ns + pk.ts_us * 1000;
    m->ts_exp = -6;
  }
  uint32_t TcpFlows() const noexcept { return tcp_; }
  uint32_t UdpFlows() const noexcept { return static_cast<uint32_t>(flows_.size()) - tcp_; }

 private:
  struct F {
    uint32_t total;
    bool udp;
  };
  double Normal() {  // Box-Muller, one value per call
    const double u1 = 1.0 - rng_.Unit(), u2 = rng_.Unit();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  uint32_t Payload(uint32_t lo, uint32_t full) {
    if (rng_.Unit() < p_full_) return full;
    return lo + rng_.Below(600 - lo + 1);
  }
  nfm::bench::Rng rng_;
  uint32_t tcp_;
  double p_full_ = 0;
  std::vector<F> flows_;
  std::vector<Pkt> pkts_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUT.pcap [packets] [concurrent_flows] [snaplen] [mix|hold|flows] [avg_frame]\n"
                         "       %s OUT.pcap mix TCP_FLOWS UDP_FLOWS SECONDS PACKETS AVG_FRAME\n", argv[0], argv[0]);
    return 1;
  }
  // `gen_pcap OUT mix TCP_FLOWS UDP_FLOWS SECONDS PACKETS AVG_FRAME`: the timed mix.
  const bool timed = argc > 2 && std::strcmp(argv[2], "mix") == 0;
  if (timed && argc != 8) {
    std::fprintf(stderr, "usage: %s OUT.pcap mix TCP_FLOWS UDP_FLOWS SECONDS PACKETS AVG_FRAME\n", argv[0]);
    return 1;
  }
  std::unique_ptr<TimedMix> mix;
  if (timed)
    mix = std::make_unique<TimedMix>(static_cast<uint32_t>(std::strtoul(argv[3], nullptr, 10)),
                                     static_cast<uint32_t>(std::strtoul(argv[4], nullptr, 10)),
                                     std::strtod(argv[5], nullptr), std::strtoull(argv[6], nullptr, 10),
                                     static_cast<uint32_t>(std::strtoul(argv[7], nullptr, 10)));
  const uint64_t packets = timed ? mix->Packets() : argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 5000000;
  nfm::bench::TrafficModel::Options mo;
  if (argc > 3 && !timed) mo.concurrent = static_cast<uint32_t>(std::strtoul(argv[3], nullptr, 10));
  const uint32_t snaplen = argc > 4 && !timed ? static_cast<uint32_t>(std::strtoul(argv[4], nullptr, 10)) : 0;
  const bool hold = argc > 5 && !timed && std::strcmp(argv[5], "hold") == 0;
  const bool sized = argc > 5 && !timed && std::strcmp(argv[5], "flows") == 0;
  const uint32_t avg_frame = argc > 6 && !timed ? static_cast<uint32_t>(std::strtoul(argv[6], nullptr, 10)) : 650;
  if (sized || timed) mo.concurrent = 1;  // the model is not used
  nfm::bench::TrafficModel model(mo);
  SizedFlows flows(sized ? static_cast<uint32_t>(argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 8500) : 1,
                   packets, avg_frame);

  std::FILE* f = std::fopen(argv[1], "wb");
  if (!f) {
    std::perror(argv[1]);
    return 1;
  }
  static char buf[1 << 22];
  std::setvbuf(f, buf, _IOFBF, sizeof(buf));
  uint8_t gh[24] = {};
  Put32le(gh, 0xa1b2c3d4u);
  gh[4] = 2;
  gh[6] = 4;
  Put32le(gh + 16, snaplen ? snaplen : 65535);
  Put32le(gh + 20, 1);
  std::fwrite(gh, 1, sizeof(gh), f);

  uint8_t frame[16 + 1600];
  nfm::PacketMeta m;
  uint16_t ip_id = 0;
  for (uint64_t i = 0; i < packets; ++i) {
    if (hold) {
      const uint32_t k = static_cast<uint32_t>(i % mo.concurrent);
      m = nfm::PacketMeta{};
      m.saddr[10] = m.saddr[11] = m.daddr[10] = m.daddr[11] = 0xff;
      m.saddr[12] = 10;
      m.saddr[13] = static_cast<uint8_t>(k >> 16);
      m.saddr[14] = static_cast<uint8_t>(k >> 8);
      m.saddr[15] = static_cast<uint8_t>(k);
      m.daddr[12] = 172; m.daddr[13] = 16; m.daddr[15] = 1;
      m.sport = static_cast<uint16_t>(1024 + (k >> 24));
      m.dport = 53;
      m.proto = 17;
      m.l4_header_len = 8;
      m.payload_ip = 64;
      m.wire_len = 14 + 20 + 8 + 64;
      m.ts_ns = mo.start_ns + i * 1000;
    } else if (timed) {
      mix->Get(i, &m, mo.start_ns);
    } else if (sized) {
      flows.Next(&m, mo.start_ns + i * 1000);
    } else {
      model.Next(&m);
    }
    uint8_t* rec = frame;
    uint8_t* p = frame + 16;
    std::memset(p, 0, 14 + 20 + 40);
    // Ethernet
    p[0] = 0x02; p[5] = 0x01; p[6] = 0x02; p[11] = 0x02;
    Put16(p + 12, 0x0800);
    // IPv4
    uint8_t* ip = p + 14;
    const uint32_t ip_len = 20 + m.l4_header_len + m.payload_ip;
    ip[0] = 0x45;
    Put16(ip + 2, static_cast<uint16_t>(ip_len));
    Put16(ip + 4, ip_id++);
    ip[6] = 0x40;  // DF
    ip[8] = 64;
    ip[9] = m.proto;
    std::memcpy(ip + 12, m.saddr + 12, 4);
    std::memcpy(ip + 16, m.daddr + 12, 4);
    uint8_t* l4 = ip + 20;
    Put16(l4, m.sport);
    Put16(l4 + 2, m.dport);
    if (m.proto == 6) {
      Put16(l4 + 4, static_cast<uint16_t>(i >> 16));  // seq: anything
      l4[12] = static_cast<uint8_t>((m.l4_header_len / 4) << 4);
      l4[13] = m.tcp_flags;
      Put16(l4 + 14, m.window);
      for (int o = 20; o < m.l4_header_len; ++o) l4[o] = 1;  // NOP options
    } else {
      Put16(l4 + 4, static_cast<uint16_t>(8 + m.payload_ip));
    }
    // Payload bytes and Ethernet padding: zeros are fine (only lengths matter). Only the
    // header part was cleared above; clear the rest lazily via a pattern-free fill.
    const uint32_t wire = m.wire_len;
    const uint32_t cap = snaplen && wire > snaplen ? snaplen : wire;
    const uint32_t hdr = 14 + 20 + m.l4_header_len;
    if (cap > hdr) std::memset(p + hdr, 0x5a, cap - hdr);
    if (14 + ip_len < wire && cap > 14 + ip_len) std::memset(p + 14 + ip_len, 0, cap - (14 + ip_len));
    const uint64_t us = m.ts_ns / 1000;
    Put32le(rec, static_cast<uint32_t>(us / 1000000));
    Put32le(rec + 4, static_cast<uint32_t>(us % 1000000));
    Put32le(rec + 8, cap);
    Put32le(rec + 12, wire);
    if (std::fwrite(frame, 1, 16 + cap, f) != 16 + cap) {
      std::perror(argv[1]);
      return 1;
    }
  }
  if (std::fclose(f) != 0) {
    std::perror(argv[1]);
    return 1;
  }
  if (timed) {
    std::fprintf(stderr, "gen_pcap: %s: %llu packets, %u TCP + %u UDP flows over %s s\n", argv[1],
                 static_cast<unsigned long long>(packets), mix->TcpFlows(), mix->UdpFlows(), argv[5]);
    return 0;
  }
  if (sized) {
    std::fprintf(stderr, "gen_pcap: %s: %llu packets, %u TCP flows\n", argv[1], static_cast<unsigned long long>(packets),
                 flows.Flows());
    return 0;
  }
  std::fprintf(stderr, "gen_pcap: %s: %llu packets, %llu flows started, %llu finished\n", argv[1],
               static_cast<unsigned long long>(packets), static_cast<unsigned long long>(model.FlowsStarted()),
               static_cast<unsigned long long>(model.FlowsFinished()));
  return 0;
}
