// SPDX-License-Identifier: MIT
// NtlEngine (see ntl_engine.hpp). Per flow: O(1) online state for what NTLFlowLyzer updates
// per packet (counts, flags, bulk, active/idle, subflows, handshake, end test) and a bounded
// packet list (16 bytes per packet, in 256-byte chunks from a pool) for the list statistics,
// which are computed once when the flow ends, in the reference's arithmetic (ntl_stats).
#include "engine/ntl/ntl_engine.hpp"
#include "engine/contract.hpp"

#include <algorithm>
#include <cstdlib>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "engine/exact.hpp"
#include "engine/flow_key.hpp"
#include "engine/flow_table.hpp"
#include "engine/invariant.hpp"
#include "engine/ntl/ntl_compute.hpp"
#include "engine/ntl/ntl_features.hpp"
#include "engine/ntl/ntl_stats.hpp"
#include "engine/ntl/handshake.hpp"
#include "engine/ntl/packet_list.hpp"
#include "engine/tcp_flags.hpp"

namespace nfm {

static_assert(FlowEngineLike<NtlEngine>);

namespace {

enum NtlBit : uint16_t {
  kAddrSwapped = 1u << 0,
  kPortSwapped = 1u << 1,
  kNsTime = 1u << 2,      // nanosecond capture: the reference's timestamps are Decimals
  kRstSeen = 1u << 3,
  kBulkDurF = 1u << 6,    // forward bulk duration was updated (int 0 until then)
  kBulkDurB = 1u << 7,
};

struct NtlBulk {
  double start, last, dur;
  uint64_t cnt, size, states, pkts, bytes;
};

struct NtlRecord {
  FlowKey key;
  uint16_t bits;
  uint16_t init_win[2];
  uint32_t n[2];
  uint32_t fin[2];
  uint32_t sfcount;
  uint32_t periods;  // period-list slot + 1; 0 = none
  PacketList list;
  uint64_t pay[2];
  uint64_t ip_bytes[2];  // FlowView: IP header + payload bytes as dpkt saw them
  uint8_t flags_or[2];
  uint32_t flags[2][8];
  int64_t first_ns, last_ns;
  double first_ts, last_ts;  // float(timestamp) of the first / last packet
  double sf_last;
  double start_act, end_act;
  TcpHandshake hs;
  NtlBulk bulk[2];
};

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

  void Add(uint32_t id, const PacketMeta& p, int d) {
    NtlRecord& f = table.At(id);
    const int64_t tns = static_cast<int64_t>(p.ts_ns);
    const double t = NtlTsDouble(tns, f.bits & kNsTime);
    switch (PacketListAppend(chunks, f.list, max_list, ListedPacket::Of(p, d, tns))) {
      case ListAppend::kListedNewChunk:
        engine.ntl_stats_.list_bytes_peak = std::max(engine.ntl_stats_.list_bytes_peak, chunks.UsedBytes());
        break;
      case ListAppend::kCapped:
        ++engine.ntl_stats_.capped_flows;
        ++stats().list_capped_flows;
        break;
      case ListAppend::kListed:
      case ListAppend::kRefused:
        break;
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
    if (p.tcp_flags & kTcpFin) ++f.fin[d];
    if (p.tcp_flags & kTcpRst) f.bits |= kRstSeen;
    HandshakeStep<HandshakeSeq::kNoWrap>(f.hs, p.tcp_flags, p.tcp_seq, p.tcp_ack, tns);  // N4
  }

  void OnPacket(const PacketMeta& p) {
    EngineStats& st = stats();
    if (p.flags & kPktLaterFragment) return st.CountSkipped(SkipReason::kLaterFragment, p.wire_len);
    if (p.ip_version != 4 || p.proto != 6) return st.CountSkipped(SkipReason::kUnsupported, p.wire_len);
    if (p.flags & kPktL4Truncated) return st.CountSkipped(SkipReason::kTruncated, p.wire_len);
    ++st.packets;
    st.bytes += p.wire_len;
    ++st.packets_in_flows;
    const FlowKey k = CanonicalKey(p);
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
  PacketListCopy(chunks, f.list, pk);
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
  in.hs_state = f.hs.state;
  in.hs_done = f.hs.done;
  in.hs_first_ns = f.hs.first_ns;
  in.hs_last_ns = f.hs.last_ns;
  in.hs_other_ns = f.hs.other_ns;
  ComputeNtlFeatures(in, scratch_lists, out);
  // ---- hand the flow to the exporters -------------------------------------------------------
  NFM_INVARIANT(out.size() == kNtlNumFeatures);
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
  PacketListRelease(chunks, f.list);
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
  pkt.key_hash = CanonicalKeyHash(pkt);
  pkt.flags |= kPktKeyHashed;
  impl_->table.PrefetchSlot(pkt.key_hash);
}

void NtlEngine::PrefetchFlow(const PacketMeta& pkt) const noexcept {
  impl_->table.PrefetchRecord(pkt.flags & kPktKeyHashed ? pkt.key_hash : CanonicalKey(pkt).Hash());
}

void NtlEngine::OnSkipped(SkipReason reason, uint32_t wire_len) { stats_.CountSkipped(reason, wire_len); }

void NtlEngine::AdvanceTime(uint64_t) {}

const std::vector<FlowExporter*>& NtlEngine::Exporters() const noexcept { return impl_->exporters; }
const NtlConfig& NtlEngine::Config() const noexcept { return impl_->cfg; }

void NtlEngine::Flush(EndReason reason) { impl_->Flush(reason); }

void NtlEngine::AddExporter(FlowExporter& exporter) {
  exporter.Begin(Profile::kNtl, kNtlFeatureSet);
  impl_->exporters.push_back(&exporter);
}

}  // namespace nfm
