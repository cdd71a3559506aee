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
#include <cstdio>
#include <cstdlib>
#include <cstring>
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

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUT.pcap [packets] [concurrent_flows] [snaplen]\n", argv[0]);
    return 1;
  }
  const uint64_t packets = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 5000000;
  nfm::bench::TrafficModel::Options mo;
  if (argc > 3) mo.concurrent = static_cast<uint32_t>(std::strtoul(argv[3], nullptr, 10));
  const uint32_t snaplen = argc > 4 ? static_cast<uint32_t>(std::strtoul(argv[4], nullptr, 10)) : 0;
  const bool hold = argc > 5 && std::strcmp(argv[5], "hold") == 0;
  const bool sized = argc > 5 && std::strcmp(argv[5], "flows") == 0;
  const uint32_t avg_frame = argc > 6 ? static_cast<uint32_t>(std::strtoul(argv[6], nullptr, 10)) : 650;
  if (sized) mo.concurrent = 1;  // the model is not used
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
