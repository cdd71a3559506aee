// SPDX-License-Identifier: MIT
// NtlEngine (see ntl_engine.hpp). Per flow: O(1) online state for what NTLFlowLyzer updates
// per packet (counts, flags, bulk, active/idle, subflows, handshake, end test) and a bounded
// packet list (16 bytes per packet, in 256-byte chunks from a pool) for the list statistics,
// which are computed once when the flow ends, in the reference's arithmetic (ntl_stats).
#include "engine/ntl/ntl_engine.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "engine/exact.hpp"
#include "engine/flow_table.hpp"
#include "engine/ntl/ntl_compute.hpp"
#include "engine/ntl/ntl_features.hpp"
#include "engine/ntl/ntl_stats.hpp"

namespace nfm {

namespace {

constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10;

enum NtlBit : uint16_t {
  kAddrSwapped = 1u << 0,
  kPortSwapped = 1u << 1,
  kNsTime = 1u << 2,      // nanosecond capture: the reference's timestamps are Decimals
  kRstSeen = 1u << 3,
  kHsDone = 1u << 4,      // handshake features computed (a packet came after state 3)
  kHsOther = 1u << 5,     // a non-handshake packet time is recorded
  kBulkDurF = 1u << 6,    // forward bulk duration was updated (int 0 until then)
  kBulkDurB = 1u << 7,
  kCapped = 1u << 8,
};

struct NtlBulk {
  double start, last, dur;
  uint64_t cnt, size, states, pkts, bytes;
};

struct NtlRecord {
  FlowKey key;
  uint16_t bits;
  uint8_t hs_state;
  uint8_t pad_;
  uint16_t init_win[2];
  uint32_t n[2];
  uint32_t fin[2];
  uint32_t sfcount;
  uint32_t periods;  // period-list slot + 1; 0 = none
  uint32_t chunk_head, chunk_tail, listed;
  uint32_t hs_seq, hs_ack;
  uint64_t pay[2];
  uint64_t ip_bytes[2];  // FlowView: IP header + payload bytes as dpkt saw them
  uint8_t flags_or[2];
  uint32_t flags[2][8];
  int64_t first_ns, last_ns;
  double first_ts, last_ts;  // float(timestamp) of the first / last packet
  double sf_last;
  double start_act, end_act;
  int64_t hs_first_ns, hs_last_ns, hs_other_ns;
  NtlBulk bulk[2];
};

int AddrCmp(const uint8_t* x, const uint8_t* y) noexcept { return std::memcmp(x, y, 16); }

FlowKey KeyOf(const PacketMeta& p) noexcept {
  FlowKey k{};
  const int c = AddrCmp(p.saddr, p.daddr);
  const bool swap = c > 0 || (c == 0 && p.sport > p.dport);
  std::memcpy(k.a, swap ? p.daddr : p.saddr, 16);
  std::memcpy(k.b, swap ? p.saddr : p.daddr, 16);
  k.pa = swap ? p.dport : p.sport;
  k.pb = swap ? p.sport : p.dport;
  k.proto = p.proto;
  return k;
}

}  // namespace

struct NtlEngine::Impl {
  Impl(NtlEngine& e, const NtlConfig& c) : engine(e), cfg(c), table(c.base.max_flows) {
    idle_s = c.base.idle_timeout_s;
    active_s = c.base.active_timeout_s;
    threshold_s = c.base.activity_threshold_s;
    max_list = c.max_list_packets;
  }

  NtlEngine& engine;
  NtlConfig cfg;
  std::vector<FlowExporter*> exporters;
  FlowTable<NtlRecord> table;
  ChunkPool chunks;
  PeriodPool periods;
  double idle_s, active_s, threshold_s;
  uint32_t max_list;
  // Export scratch (reused: no allocation per flow once grown).
  std::vector<ListedPacket> pk;
  NtlScratch scratch_lists;

  EngineStats& stats() { return engine.stats_; }

  // ---- packet path --------------------------------------------------------------------------
  uint32_t Create(const PacketMeta& p, const FlowKey& k, uint64_t h) {
    if (table.Full()) Export(table.Head(kListCreated), EndReason::kEviction);
    const uint32_t id = table.Insert(k, h);
    NtlRecord& f = table.At(id);
    if (std::memcmp(p.saddr, k.a, 16) != 0) f.bits |= kAddrSwapped;
    if (p.sport != k.pa) f.bits |= kPortSwapped;
    if (p.ts_exp == -9) f.bits |= kNsTime;
    f.first_ns = static_cast<int64_t>(p.ts_ns);
    f.first_ts = NtlTsDouble(f.first_ns, f.bits & kNsTime);
    f.start_act = f.end_act = f.first_ts;
    f.sf_last = -1;
    table.PushBack(kListCreated, id);
    ++stats().flows_created;
    ++stats().flows_active;
    return id;
  }

  bool Ended(const NtlRecord& f, double t) const noexcept {
    const int64_t tu = ntl::DatetimeMicros(t);
    if (static_cast<double>(tu - ntl::DatetimeMicros(f.first_ts)) / 1e6 > active_s) return true;
    if (static_cast<double>(tu - ntl::DatetimeMicros(f.last_ts)) / 1e6 > idle_s) return true;
    return (f.fin[0] >= 1 && f.fin[1] >= 1) || (f.bits & kRstSeen);
  }

  void Bulk(NtlRecord& f, int d, double t, uint64_t size) noexcept {
    NtlBulk& b = f.bulk[d];
    const double other_last = f.bulk[1 - d].last;
    if (other_last > b.start) b.start = 0;
    if (size == 0) return;
    if (b.start == 0) {
      b.start = t;
      b.cnt = 1;
      b.size = size;
      b.last = t;
      return;
    }
    // Reference defect D8: the backward gap test uses the forward last-bulk time and the
    // restart does not move the backward one.
    const double ref = f.bulk[0].last;
    if (t - (d == 0 ? b.last : ref) > 1) {
      b.start = t;
      if (d == 0) b.last = t;
      b.cnt = 1;
      b.size = size;
      return;
    }
    ++b.cnt;
    b.size += size;
    if (b.cnt == 4) {
      ++b.states;
      b.pkts += b.cnt;
      b.bytes += b.size;
      b.dur += t - b.start;
      f.bits |= d == 0 ? kBulkDurF : kBulkDurB;
    } else if (b.cnt > 4) {
      ++b.pkts;
      b.bytes += size;
      b.dur += t - b.last;
      f.bits |= d == 0 ? kBulkDurF : kBulkDurB;
    }
    b.last = t;
  }

  void Handshake(NtlRecord& f, const PacketMeta& p, int64_t t) noexcept {
    if (f.bits & kHsDone) return;
    const uint8_t fl = p.tcp_flags;
    const int64_t ack_minus_1 = static_cast<int64_t>(p.tcp_ack) - 1;  // no 32-bit wrap (N4)
    if (f.hs_state == 3) {
      if (!(f.bits & kHsOther)) {
        f.hs_other_ns = t;
        f.bits |= kHsOther;
      }
      f.bits |= kHsDone;
    } else if (f.hs_state == 0 && (fl & kSyn)) {
      f.hs_first_ns = t;
      f.hs_seq = p.tcp_seq;
      f.hs_state = 1;
    } else if (f.hs_state == 1 && (fl & kSyn) && (fl & kAck) && static_cast<int64_t>(f.hs_seq) == ack_minus_1) {
      f.hs_seq = p.tcp_seq;
      f.hs_ack = p.tcp_ack;
      f.hs_state = 2;
    } else if (f.hs_state == 2 && (fl & kAck) && static_cast<int64_t>(f.hs_seq) == ack_minus_1 && f.hs_ack == p.tcp_seq) {
      f.hs_last_ns = t;
      f.hs_state = 3;
    } else if (!(f.bits & kHsOther)) {
      f.hs_other_ns = t;
      f.bits |= kHsOther;
    }
  }

  void Add(uint32_t id, const PacketMeta& p, int d) {
    NtlRecord& f = table.At(id);
    const int64_t tns = static_cast<int64_t>(p.ts_ns);
    const double t = NtlTsDouble(tns, f.bits & kNsTime);
    // The list.
    if (f.listed < max_list) {
      if (f.listed % kChunkPackets == 0) {
        const uint32_t c = chunks.Alloc();
        if (f.chunk_tail) chunks.At(f.chunk_tail).next = c; else f.chunk_head = c;
        f.chunk_tail = c;
        const uint64_t b = chunks.UsedBytes();
        if (b > engine.ntl_stats_.list_bytes_peak) engine.ntl_stats_.list_bytes_peak = b;
      }
      ListedPacket& lp = chunks.At(f.chunk_tail).p[f.listed % kChunkPackets];
      lp.ts_ns = tns;
      lp.packed = std::min<uint64_t>(p.cap_len, 0x1fffff) | std::min<uint64_t>(p.payload_ip, 0x1fffff) << 21 |
                  static_cast<uint64_t>(std::min<uint16_t>(p.l4_header_len, 0xff)) << 42 | static_cast<uint64_t>(d) << 50;
      ++f.listed;
    } else if (!(f.bits & kCapped)) {
      f.bits |= kCapped;
      ++engine.ntl_stats_.capped_flows;
      ++stats().list_capped_flows;
    }
    if (f.n[d] == 0) f.init_win[d] = p.window;
    ++f.n[d];
    f.pay[d] += p.payload_ip;
    f.flags_or[d] |= p.tcp_flags;
    f.ip_bytes[d] += 20u + p.l4_header_len + p.payload_ip;  // as the main engine: IPv4 header counted as 20
    for (int b = 0; b < 8; ++b) f.flags[d][b] += (p.tcp_flags >> b) & 1u;
    f.last_ns = tns;
    f.last_ts = t;
    // update_active_idle_time (threshold 100 s, active values start - end: D5).
    if (t - f.end_act > threshold_s) {
      PeriodPool::Periods& pr = periods.Of(&f.periods);
      if (f.end_act - f.start_act > 0) pr.act.push_back(f.start_act - f.end_act);
      pr.idle.push_back(t - f.end_act);
      f.start_act = t;
    }
    f.end_act = t;
    // update_subflow.
    if (f.sf_last == -1) f.sf_last = t;
    if (t - f.sf_last > 1) ++f.sfcount;
    f.sf_last = t;
    Bulk(f, d, t, p.payload_ip);
    if (p.tcp_flags & kFin) ++f.fin[d];
    if (p.tcp_flags & kRst) f.bits |= kRstSeen;
    Handshake(f, p, tns);
  }

  void OnPacket(const PacketMeta& p) {
    EngineStats& st = stats();
    ++st.packets;
    st.bytes += p.wire_len;
    if (p.flags & kPktLaterFragment) {
      ++st.skipped[static_cast<int>(SkipReason::kLaterFragment)];
      return;
    }
    if (p.ip_version != 4 || p.proto != 6) {
      ++st.skipped[static_cast<int>(SkipReason::kUnsupported)];
      return;
    }
    if (p.flags & kPktL4Truncated) {
      ++st.skipped[static_cast<int>(SkipReason::kTruncated)];
      return;
    }
    ++st.packets_in_flows;
    const FlowKey k = KeyOf(p);
    const uint64_t h = p.flags & kPktKeyHashed ? p.key_hash : k.Hash();
    uint32_t id = table.FindAny(k, h);
    if (id == FlowTable<NtlRecord>::kNil) {
      id = Create(p, k, h);
      Add(id, p, 0);
      return;
    }
    const NtlRecord& f = table.At(id);
    // The reverse key is looked up first: a packet from the flow's destination endpoint to
    // its source endpoint is backward (so every later packet of an A:x <-> A:x flow is).
    const uint8_t* src = f.bits & kAddrSwapped ? f.key.b : f.key.a;
    const uint8_t* dst = f.bits & kAddrSwapped ? f.key.a : f.key.b;
    const uint16_t sport = f.bits & kPortSwapped ? f.key.pb : f.key.pa;
    const uint16_t dport = f.bits & kPortSwapped ? f.key.pa : f.key.pb;
    const bool reverse = std::memcmp(p.daddr, src, 16) == 0 && p.dport == sport &&
                         std::memcmp(p.saddr, dst, 16) == 0 && p.sport == dport;
    const int d = reverse ? 1 : 0;
    const double t = NtlTsDouble(static_cast<int64_t>(p.ts_ns), f.bits & kNsTime);
    if (Ended(f, t)) {
      EndReason why = EndReason::kIdle;
      if (f.bits & kRstSeen) why = EndReason::kRst;
      else if (f.fin[0] && f.fin[1]) why = EndReason::kFin;
      else if (static_cast<double>(ntl::DatetimeMicros(t) - ntl::DatetimeMicros(f.first_ts)) / 1e6 > active_s)
        why = EndReason::kActiveTimeout;
      Export(id, why);
      id = Create(p, k, h);
      Add(id, p, d);  // the new flow's first packet keeps the lookup's direction mark (D9)
      return;
    }
    Add(id, p, d);
  }

  void Flush(EndReason reason) {
    for (uint32_t id; (id = table.Head(kListCreated)) != FlowTable<NtlRecord>::kNil;) Export(id, reason);
  }

  // ---- export -------------------------------------------------------------------------------
  void Export(uint32_t id, EndReason reason);
};


void NtlEngine::Impl::Export(uint32_t id, EndReason reason) {
  NtlRecord& f = table.At(id);
  const bool ns_time = f.bits & kNsTime;
  // Gather the listed packets.
  pk.clear();
  for (uint32_t c = f.chunk_head, left = f.listed; c && left; c = chunks.At(c).next) {
    const uint32_t k = std::min(left, kChunkPackets);
    pk.insert(pk.end(), chunks.At(c).p, chunks.At(c).p + k);
    left -= k;
  }
  NtlValues out;
  NtlInput in;
  in.ns_time = ns_time;
  in.pk = std::span<const ListedPacket>(pk.data(), pk.size());
  for (int d = 0; d < 2; ++d) {
    in.n[d] = f.n[d];
    in.pay[d] = f.pay[d];
    in.init_win[d] = f.init_win[d];
    for (int b = 0; b < 8; ++b) in.flags[d][b] = f.flags[d][b];
    in.bulk[d].states = f.bulk[d].states;
    in.bulk[d].bytes = f.bulk[d].bytes;
    in.bulk[d].pkts = f.bulk[d].pkts;
    in.bulk[d].dur = f.bulk[d].dur;
    in.bulk[d].dur_set = f.bits & (d == 0 ? kBulkDurF : kBulkDurB);
  }
  in.duration = f.last_ts - f.first_ts;
  in.sfcount = f.sfcount;
  const PeriodPool::Periods& pr = periods.Peek(f.periods);
  in.act = &pr.act;
  in.idle = &pr.idle;
  in.hs_state = f.hs_state;
  in.hs_done = f.bits & kHsDone;
  in.hs_first_ns = f.hs_first_ns;
  in.hs_last_ns = f.hs_last_ns;
  in.hs_other_ns = f.hs_other_ns;
  ComputeNtlFeatures(in, scratch_lists, out);
  // ---- hand the flow to the exporters -------------------------------------------------------
  if (out.size() != kNtlNumFeatures) {  // a bug, never data: make it loud
    std::fprintf(stderr, "nfm-xdp: ntl flow has %d features instead of %d\n", out.size(), kNtlNumFeatures);
    std::abort();
  }
  FlowView view;
  view.src = f.bits & kAddrSwapped ? f.key.b : f.key.a;
  view.dst = f.bits & kAddrSwapped ? f.key.a : f.key.b;
  view.sport = f.bits & kPortSwapped ? f.key.pb : f.key.pa;
  view.dport = f.bits & kPortSwapped ? f.key.pa : f.key.pb;
  view.proto = f.key.proto;
  view.ip_version = 4;
  view.profile = Profile::kNtl;
  view.reason = reason;
  view.first_ns = f.first_ns;
  view.last_ns = f.last_ns;
  for (int d = 0; d < 2; ++d) {
    view.packets[d] = f.n[d];
    view.payload_bytes[d] = f.pay[d];
    view.ip_bytes[d] = f.ip_bytes[d];
    view.tcp_flags[d] = f.flags_or[d];
  }
  view.set = &kNtlFeatureSet;
  view.features = std::span<const FeatureValue>(out.vals, kNtlNumFeatures);
  view.decimals = std::span<const Decimal>(out.dec, static_cast<size_t>(out.ndec));
  for (FlowExporter* e : exporters) e->Export(view);
  ++stats().flows_exported[static_cast<int>(reason)];
  --stats().flows_active;

  // Release the list and periods.
  for (uint32_t c = f.chunk_head; c;) {
    const uint32_t next = chunks.At(c).next;
    chunks.Free(c);
    c = next;
  }
  periods.Release(&f.periods);
  table.Erase(id);
}

NtlEngine::NtlEngine(const NtlConfig& cfg) {
  impl_ = std::make_unique<Impl>(*this, cfg);
  stats_.table_capacity = impl_->table.Capacity();
}

NtlEngine::~NtlEngine() = default;

void NtlEngine::OnPacket(const PacketMeta& pkt) { impl_->OnPacket(pkt); }

void NtlEngine::PrefetchIndex(PacketMeta& pkt) const noexcept {
  pkt.key_hash = KeyOf(pkt).Hash();
  pkt.flags |= kPktKeyHashed;
  impl_->table.PrefetchSlot(pkt.key_hash);
}

void NtlEngine::PrefetchFlow(const PacketMeta& pkt) const noexcept {
  impl_->table.PrefetchRecord(pkt.flags & kPktKeyHashed ? pkt.key_hash : KeyOf(pkt).Hash());
}

void NtlEngine::OnSkipped(SkipReason reason, uint32_t wire_len) {
  ++stats_.packets;
  stats_.bytes += wire_len;
  ++stats_.skipped[static_cast<int>(reason)];
}

void NtlEngine::AdvanceTime(uint64_t) {}

const std::vector<FlowExporter*>& NtlEngine::Exporters() const noexcept { return impl_->exporters; }
const NtlConfig& NtlEngine::Config() const noexcept { return impl_->cfg; }

void NtlEngine::Flush(EndReason reason) { impl_->Flush(reason); }

void NtlEngine::AddExporter(FlowExporter& exporter) {
  exporter.Begin(Profile::kNtl, kNtlFeatureSet);
  impl_->exporters.push_back(&exporter);
}

}  // namespace nfm
