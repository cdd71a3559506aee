// SPDX-License-Identifier: MIT
// FlowEngine: flow lookup, per-packet state updates, termination and the feature values of
// each finished flow (FlowView) for the corrected and nfm2022 profiles. Time comes only from packet timestamps / AdvanceTime.
// The rules implemented here are spec §2-§6 (nfm2022) and docs/FEATURES.md (corrected).
#include "engine/engine.hpp"
#include "engine/contract.hpp"
#include "engine/touched_flows.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "engine/column_writer.hpp"
#include "engine/nfm_features.hpp"
#include "engine/exact.hpp"
#include "engine/flow_record.hpp"
#include "engine/flow_key.hpp"
#include "engine/flow_table.hpp"
#include "engine/flow_tunnels.hpp"
#include "engine/invariant.hpp"
#include "engine/ntl/ntl_compute.hpp"
#include "engine/ntl/ntl_features.hpp"
#include "engine/ntl/handshake.hpp"
#include "engine/ntl/packet_list.hpp"
#include "engine/tcp_flags.hpp"

namespace nfm {

static_assert(FlowEngineLike<FlowEngine>);
static_assert(ShardClockedEngine<FlowEngine>);

const char* EndReasonName(EndReason r) noexcept {
  switch (r) {
    case EndReason::kIdle: return "idle";
    case EndReason::kActiveTimeout: return "active_timeout";
    case EndReason::kFin: return "fin";
    case EndReason::kRst: return "rst";
    case EndReason::kEviction: return "eviction";
    case EndReason::kShutdown: return "shutdown";
    default: return "unknown";
  }
}

const char* SkipReasonName(SkipReason r) noexcept {
  switch (r) {
    case SkipReason::kNotIp: return "not_ip";
    case SkipReason::kUnsupported: return "unsupported";
    case SkipReason::kTruncated: return "truncated";
    case SkipReason::kMalformed: return "malformed";
    case SkipReason::kLaterFragment: return "later_fragment";
    case SkipReason::kEncrypted: return "encrypted";
    case SkipReason::kUnsupportedEncap: return "unsupported_encap";
    default: return "unknown";
  }
}

namespace {

constexpr int64_t kNsPerSec = 1000000000;
// Column order of the flag-count features: FIN, PSH, URG, ECE, SYN, ACK, CWR, RST as bit numbers.
constexpr int kFlagColumnBits[8] = {0, 3, 5, 6, 1, 4, 7, 2};
// kFlagSpread.v[flags][b] = bit b of the TCP flag byte (one 16-bit lane per flag).
struct FlagSpread {
  alignas(16) uint16_t v[256][8];
};
constexpr FlagSpread MakeFlagSpread() {
  FlagSpread t{};
  for (int f = 0; f < 256; ++f)
    for (int b = 0; b < 8; ++b) t.v[f][b] = static_cast<uint16_t>((f >> b) & 1);
  return t;
}
constexpr FlagSpread kFlagSpread = MakeFlagSpread();

using exact::NsToSeconds;

int64_t SecondsToNs(double s) noexcept {
  if (!(s < 9.2e9)) return std::numeric_limits<int64_t>::max();
  return static_cast<int64_t>(std::llround(s * 1e9));
}

// Round-half-even of ns to whole microseconds (datetime.fromtimestamp rounding).
int64_t RoundToMicros(int64_t ns) noexcept {
  int64_t q = ns / 1000, r = ns % 1000;
  if (r < 0) { r += 1000; --q; }
  if (r > 500 || (r == 500 && (q & 1))) ++q;
  return q;
}

bool AddrEq(const uint8_t* a, const uint8_t* b) noexcept { return std::memcmp(a, b, 16) == 0; }

}  // namespace

namespace {
// Per-flow extras of the corrected ntl feature set (parallel to the flow table; allocated only
// when EngineConfig::ntl_features is set): the packet list, the handshake walk, the
// active/idle period lists.
struct NtlExt {
  PacketList list;
  TcpHandshake hs;
  uint32_t periods;  // slot + 1 in NtlState::periods; 0 = none
};
struct NtlState {
  explicit NtlState(uint32_t capacity) {
    ext = static_cast<NtlExt*>(std::calloc(capacity, sizeof(NtlExt)));
    if (!ext) throw std::bad_alloc();
  }
  ~NtlState() { std::free(ext); }
  NtlExt* ext;
  ChunkPool chunks;
  PeriodPool periods;  // integer ns as doubles (exact below 2^53 ns = 104 days)
  std::vector<ListedPacket> pk;
  NtlScratch scratch;
  NtlValues values{true};
  uint32_t max_list = 1u << 16;
};
}  // namespace

struct FlowEngine::Impl {
  Impl(FlowEngine& e, const EngineConfig& cfg) : engine(e), table(cfg.max_flows), cold(table.Capacity()) {
    nfm2022 = cfg.profile != Profile::kCorrected;
    if (!nfm2022 && cfg.ntl_features) {
      ntl = std::make_unique<NtlState>(table.Capacity());
      ntl->max_list = cfg.ntl_max_list_packets ? cfg.ntl_max_list_packets : 1;
    }
    if (nfm2022) {
      ext = static_cast<Nfm2022Ext*>(std::calloc(table.Capacity(), sizeof(Nfm2022Ext)));
      if (!ext) throw std::bad_alloc();
    }
    idle_ns = SecondsToNs(cfg.idle_timeout_s);
    active_ns = SecondsToNs(cfg.active_timeout_s);
    threshold_ns = SecondsToNs(cfg.activity_threshold_s);
    subflow_ns = SecondsToNs(cfg.subflow_gap_s);
    grace_ns = SecondsToNs(cfg.close_grace_s);
    // 2022 timeouts compare microsecond-rounded times (spec §3.2).
    idle_us_limit = cfg.idle_timeout_s * 1e6;
    active_us_limit = cfg.active_timeout_s * 1e6;
    if (!nfm2022 && cfg.snapshot_interval_s > 0) {
      snap_ns = std::max<int64_t>(1, SecondsToNs(cfg.snapshot_interval_s));
      touched.Init(table.Capacity());
      next_snap = 0;  // the first packet sets the first snapshot time
    }
    if (!nfm2022 && cfg.tunnel_columns) tunnels.Init(table.Capacity());
  }
  ~Impl() { std::free(ext); }

  FlowEngine& engine;
  std::vector<FlowExporter*> exporters;
  FlowTable<FlowRecord> table;
  SlotPool<FlowCold> cold;  // at most one slot per open flow, taken on first need
  Nfm2022Ext* ext = nullptr;
  std::unique_ptr<NtlState> ntl;  // corrected + ntl feature set only
  bool nfm2022 = false;
  uint64_t next_seq = 0;
  // Open nfm2022 flows whose two addresses and/or two ports are equal, by kind: index
  // (addresses equal) * 2 + (ports equal) - 1, i.e. [ports only, addresses only, both].
  uint64_t degenerate[3] = {0, 0, 0};
  int64_t now = 0;          // latest packet time seen (corrected sweeps)
  // Snapshots (corrected, --snapshot-interval): every multiple of snap_ns the clock reaches,
  // the flows with packets since the previous one (kFlowTouched, listed in `touched`).
  int64_t snap_ns = 0;
  int64_t next_snap = std::numeric_limits<int64_t>::max();
  TouchedFlows touched;
  FlowTunnels tunnels;  // --where-columns tunnel only
  int64_t idle_ns, active_ns, threshold_ns, subflow_ns, grace_ns;
  double idle_us_limit, active_us_limit;
  // The view of the flow being exported (BuildView fills it; exporters read it).
  static constexpr int kMaxDecimals = 4;  // 2022 active/idle mean and std
  FlowView view;
  FeatureValue values[kNumNfmFeatures];
  Decimal decimals[kMaxDecimals];

  EngineStats& stats() { return engine.stats_; }
  const EngineConfig& cfg() { return engine.cfg_; }

  // ---- keys (engine/flow_key.hpp) ---------------------------------------------------------
  // 0: neither; 1: equal ports only; 2: equal addresses only; 3: both.
  static int LooseDegenerate(const FlowRecord& f) noexcept {
    return (AddrEq(f.key.a, f.key.b) ? 2 : 0) + (f.key.pa == f.key.pb ? 1 : 0);
  }
  // Spec §2.1: a packet matches flow f when f's addresses are both among the packet's
  // addresses and f's ports both among the packet's ports (protocol not compared). The key
  // holds exactly f's two addresses and two ports (sorted), so it is tested directly.
  static bool LooseMatch(const FlowRecord& f, const PacketMeta& p) noexcept {
    auto in_addr = [&](const uint8_t* a) { return AddrEq(a, p.saddr) || AddrEq(a, p.daddr); };
    auto in_port = [&](uint16_t x) { return x == p.sport || x == p.dport; };
    return in_addr(f.key.a) && in_addr(f.key.b) && in_port(f.key.pa) && in_port(f.key.pb);
  }

  // The first (oldest) open flow matching p under the 2022 rules, or kNil.
  uint32_t LooseLookup(const PacketMeta& p) {
    uint32_t best = FlowTable<FlowRecord>::kNil;
    uint64_t best_seq = ~0ull;
    auto consider = [&](const FlowKey& k) {
      table.ForEach(k, k.Hash(), [&](uint32_t id) {
        if (!LooseMatch(table.At(id), p)) return;
        const uint64_t seq = ext[id].seq;
        if (seq < best_seq) {
          best = id;
          best_seq = seq;
        }
      });
    };
    consider(Nfm2022Key(p.saddr, p.daddr, p.sport, p.dport));
    if ((degenerate[0] | degenerate[1] | degenerate[2]) == 0) return best;
    // Flows whose two addresses (or ports) are equal match more packets: look them up under
    // every degenerate key the packet could match, for the kinds of such flows that are open
    // (a flow with equal ports, e.g. DNS 53<->53, is found under (x, y, u, u) or (x, y, v, v)).
    const uint8_t* addrs[2] = {p.saddr, p.daddr};
    const uint16_t ports[2] = {p.sport, p.dport};
    for (int ai = 0; ai < 3; ++ai) {
      const uint8_t* x = ai == 0 ? p.saddr : addrs[ai - 1];
      const uint8_t* y = ai == 0 ? p.daddr : addrs[ai - 1];
      if (ai == 2 && AddrEq(p.saddr, p.daddr)) continue;
      for (int pi = 0; pi < 3; ++pi) {
        if (ai == 0 && pi == 0) continue;
        if (degenerate[(ai > 0 ? 2 : 0) + (pi > 0 ? 1 : 0) - 1] == 0) continue;
        uint16_t u = pi == 0 ? p.sport : ports[pi - 1];
        uint16_t v = pi == 0 ? p.dport : ports[pi - 1];
        if (pi == 2 && p.sport == p.dport) continue;
        consider(Nfm2022Key(x, y, u, v));
      }
    }
    return best;
  }

  // ---- flow life cycle ------------------------------------------------------------------
  uint32_t Create(const PacketMeta& p, const FlowKey& k) {
    if (table.Full()) Export(EvictionVictim(), EndReason::kEviction);
    uint32_t id = table.Insert(k, k.Hash());
    FlowRecord& f = table.At(id);
    // Source/destination are the key's endpoints: remember which one the first packet's are.
    // (Both keys hold exactly the packet's two addresses and two ports.)
    if (!AddrEq(p.saddr, k.a)) f.bits |= kFlowAddrSwapped;
    if (p.sport != k.pa) f.bits |= kFlowPortSwapped;
    f.proto = p.proto;
    f.ip_version = p.ip_version;
    f.first_ts = static_cast<int64_t>(p.ts_ns);
    f.last_ts = f.first_ts;
    if (ntl) ntl->ext[id] = NtlExt{};
    if (tunnels.On()) tunnels.Clear(id);
    if (ext) {
      ext[id] = Nfm2022Ext{};
      ext[id].seq = next_seq++;
      ext[id].first_exp = p.ts_exp;
      ext[id].start_act_exp = ext[id].end_act_exp = p.ts_exp;
      if (const int kind = LooseDegenerate(f)) ++degenerate[kind - 1];
    }
    table.PushBack(kListCreated, id);
    f.link_ts = f.first_ts;
    table.PushBack(kListActivity, id);
    ++stats().flows_created;
    ++stats().flows_active;
    return id;
  }

  void Export(uint32_t id, EndReason reason) {
    FlowRecord& f = table.At(id);
    f.bits &= static_cast<uint8_t>(~kFlowTouched);  // its slot, if still listed, is skipped
    if (ntl) BuildNtlView(id, reason, view); else BuildView(id, reason, view);
    view.tunnel = tunnels.Of(id);
    for (FlowExporter* x : exporters) x->Export(view);
    ++stats().flows_exported[static_cast<int>(reason)];
    --stats().flows_active;
    if (ext) {
      if (const int kind = LooseDegenerate(f)) --degenerate[kind - 1];
    }
    if (ntl) NtlRelease(ntl->ext[id]);
    if (f.cold) cold.Free(f.cold);
    table.Erase(id);
  }

  // ---- corrected ntl feature set ----------------------------------------------------------
  void NtlRelease(NtlExt& x) {
    PacketListRelease(ntl->chunks, x.list);
    ntl->periods.Release(&x.periods);
    x = NtlExt{};
  }
  // A packet with effective time t (never before the flow's previous packet).
  void NtlAdd(uint32_t id, const PacketMeta& p, int d, int64_t t) {
    NtlExt& x = ntl->ext[id];
    if (PacketListAppend(ntl->chunks, x.list, ntl->max_list, ListedPacket::Of(p, d, t)) == ListAppend::kCapped)
      ++stats().list_capped_flows;
    if (p.proto != 6) return;
    HandshakeStep<HandshakeSeq::kModular>(x.hs, p.tcp_flags, p.tcp_seq, p.tcp_ack, t);  // N4 fixed
  }
  // snapshot: the flow stays open (its period list is left as it was).
  void BuildNtlView(uint32_t id, EndReason reason, FlowView& v, bool snapshot = false);

  // The flow's cold slot, taken now if it has none.
  FlowCold& ColdOf(FlowRecord& f) noexcept {
    if (f.cold == 0) {
      f.cold = cold.Alloc();
      cold.At(f.cold).start_act = f.first_ts;
    }
    return cold.At(f.cold);
  }
  int64_t StartAct(const FlowRecord& f) const noexcept { return f.cold ? cold.At(f.cold).start_act : f.first_ts; }
  uint32_t FlagCount(const FlowRecord& f, int d, int bit) const noexcept {
    return f.n[d] > kFlagsHotMax ? cold.At(f.cold).flags[d][bit] : f.flags[d][bit];
  }

  static void AddPeriod(PeriodStats& s, int64_t v, int8_t exp) noexcept {
    if (s.n == 0 || v < s.min) { s.min = v; s.min_exp = exp; }
    if (s.n == 0 || v > s.max) { s.max = v; s.max_exp = exp; }
    ++s.n;
    if (v >= 0) s.m.Add(static_cast<uint64_t>(v));
  }

  // ---- per-packet updates ---------------------------------------------------------------
  // Common to both profiles: counts, payload/header lists, flags, initial windows.
  void AddCommon(FlowRecord& f, const PacketMeta& p, int d, uint32_t payload) noexcept {
    const uint64_t nd = f.n[d]++;
    if (nd < kFlagsHotMax) [[likely]] {  // a count <= nd + 1 <= kFlagsHotMax fits 16 bits
      // The eight counters as one vector: add the flag byte spread to eight 0/1 lanes.
      using U16x8 = uint16_t __attribute__((vector_size(16)));
      U16x8 counts, add;
      std::memcpy(&counts, f.flags[d], sizeof(counts));
      std::memcpy(&add, kFlagSpread.v[p.tcp_flags], sizeof(add));
      counts += add;
      std::memcpy(f.flags[d], &counts, sizeof(counts));
    } else {
      FlowCold& c = ColdOf(f);
      if (nd == kFlagsHotMax)
        for (int b = 0; b < 8; ++b) c.flags[d][b] = f.flags[d][b];
      for (int b = 0; b < 8; ++b) c.flags[d][b] += (p.tcp_flags >> b) & 1u;
    }
    f.pay[d].Add(payload);
    if (nd == 0 || payload > f.pay_max[d]) f.pay_max[d] = payload;
    if (nd == 0 || payload < f.pay_min[d]) f.pay_min[d] = payload;
    const uint16_t hl = p.l4_header_len;
    f.hdr[d].Add(hl);
    if (nd == 0 || hl > f.hdr_max[d]) f.hdr_max[d] = hl;
    if (nd == 0 || hl < f.hdr_min[d]) f.hdr_min[d] = hl;
    if (nd == 0) f.init_win[d] = p.window;  // decoders give 0 for anything but TCP
  }

  // Sets the last-packet time to t for a packet of direction d (before: f.last_ts is the
  // previous packet's): the other direction's last time moves to other_ts when the sending
  // direction changes.
  static void SetLast(FlowRecord& f, int d, int64_t t) noexcept {
    if (d != f.LastDir()) {
      f.other_ts = f.last_ts;
      f.bits ^= kFlowLastBwd;
    }
    f.last_ts = t;
  }

  void Add2022(uint32_t id, const PacketMeta& p, int d) {
    FlowRecord& f = table.At(id);
    Nfm2022Ext& x = ext[id];
    const int64_t t = static_cast<int64_t>(p.ts_ns);
    const int8_t te = p.ts_exp;
    const uint64_t n_all = f.n[0] + f.n[1];
    // The previous packet's time: also the end of the current activity period and the
    // subflow reference (the 2022 code sets all three to every packet's time).
    const int64_t prev = f.last_ts;
    // IAT lists in arrival order (may be negative, D7).
    if (n_all > 0) {
      const int64_t diff = t - prev;
      const double v = NsToSeconds(diff);
      x.iat[0].Add(v);
      x.iat_total[0] += v;
      if (n_all == 1 || diff < f.iat_min[0]) f.iat_min[0] = diff;
      if (n_all == 1 || diff > f.iat_max[0]) f.iat_max[0] = diff;
    }
    if (f.n[d] > 0) {
      const int64_t diff = t - f.LastDirTs(d);
      const double v = NsToSeconds(diff);
      x.iat[1 + d].Add(v);
      x.iat_total[1 + d] += v;
      if (f.n[d] == 1 || diff < f.iat_min[1 + d]) f.iat_min[1 + d] = diff;
      if (f.n[d] == 1 || diff > f.iat_max[1 + d]) f.iat_max[1 + d] = diff;
    }
    SetLast(f, d, t);
    AddCommon(f, p, d, p.payload_frame);
    // Active/idle (spec §4.2), threshold 100 s, active values start - end (D5).
    if (n_all > 0 && t - prev > threshold_ns) [[unlikely]] {
      FlowCold& c = ColdOf(f);
      const int8_t e_end = std::min(x.end_act_exp, te);
      if (prev - c.start_act > 0) {
        const int64_t v = c.start_act - prev;
        AddPeriod(c.act, v, std::min(x.start_act_exp, x.end_act_exp));
        x.act.Add(v);
      }
      AddPeriod(c.idle, t - prev, e_end);
      x.idle.Add(t - prev);
      c.start_act = t;
      x.start_act_exp = te;
    }
    x.end_act_exp = te;
    // Subflow gaps (spec §4.1).
    if (n_all > 0 && t - prev > kNsPerSec) ++f.sfcount;
    Bulk<true>(f, &x, d, t, te, p.payload_frame);
    if (p.tcp_flags & kTcpFin) ++x.fin_count;
    if (p.tcp_flags & kTcpRst) ++x.rst_count;
  }

  // Bulk state machine, spec §4.3. The 2022 variant (k2022) reproduces D8 for the backward
  // direction and keeps the decimal exponents in x; the corrected one (x unused) fixes D8.
  template <bool k2022>
  static void Bulk(FlowRecord& f, Nfm2022Ext* x, int d, int64_t t, int8_t te, uint64_t s) noexcept {
    constexpr bool fixed = !k2022;
    BulkState& b = f.bulk[d];
    const BulkState& o = f.bulk[1 - d];
    if (o.last > b.start) b.start = 0;
    if (s == 0) return;
    const int64_t ref = (fixed || d == 0) ? b.last : f.bulk[0].last;
    if (b.start == 0) {
      b.start = t;
      b.last = t;
      if constexpr (k2022) x->bulk_start_exp[d] = x->bulk_last_exp[d] = te;
      b.cnt = 1;
      b.size = s;
    } else if (t - ref > kNsPerSec) {
      b.start = t;
      if constexpr (k2022) x->bulk_start_exp[d] = te;
      b.cnt = 1;
      b.size = s;
      if (fixed || d == 0) {
        b.last = t;
        if constexpr (k2022) x->bulk_last_exp[d] = te;
      }
    } else {
      ++b.cnt;
      b.size += s;
      if (b.cnt == 4) {
        ++b.states;
        b.pkts += 4;
        b.bytes += b.size;
        AddBulkDur(b, t - b.start);
        if constexpr (k2022) x->bulk_dur_exp[d] = std::min({x->bulk_dur_exp[d], te, x->bulk_start_exp[d]});
      } else if (b.cnt > 4) {
        ++b.pkts;
        b.bytes += s;
        AddBulkDur(b, t - b.last);
        if constexpr (k2022) x->bulk_dur_exp[d] = std::min({x->bulk_dur_exp[d], te, x->bulk_last_exp[d]});
      }
      b.last = t;
      if constexpr (k2022) x->bulk_last_exp[d] = te;
    }
  }
  static void AddBulkDur(BulkState& b, int64_t v) noexcept {
    if (__builtin_add_overflow(b.dur, v, &b.dur))  // only with absurd (corrupt) timestamps
      b.dur = v > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }

  void AddCorrected(uint32_t id, const PacketMeta& p, int d) {
    FlowRecord& f = table.At(id);
    const uint64_t n_all = f.n[0] + f.n[1];
    // The previous packet's effective time: also the end of the current activity period and
    // the subflow reference.
    const int64_t prev = f.last_ts;
    int64_t t = static_cast<int64_t>(p.ts_ns);
    if (n_all > 0 && t < prev) {
      ++stats().out_of_order;
      t = prev;  // effective time: never before the flow's latest packet (D7)
    }
    if (n_all > 0) {
      const int64_t diff = t - prev;
      f.iat_sq[0].Add(static_cast<uint64_t>(diff));  // the sum telescopes: last_ts - first_ts
      if (n_all == 1 || diff < f.iat_min[0]) f.iat_min[0] = diff;
      if (n_all == 1 || diff > f.iat_max[0]) f.iat_max[0] = diff;
    }
    if (f.n[d] > 0) {
      const int64_t diff = t - f.LastDirTs(d);
      f.iat_sq[1 + d].Add(static_cast<uint64_t>(diff));
      if (d == 1) f.iat_bwd_sum += static_cast<uint64_t>(diff);  // fwd: last fwd time - first_ts
      if (f.n[d] == 1 || diff < f.iat_min[1 + d]) f.iat_min[1 + d] = diff;
      if (f.n[d] == 1 || diff > f.iat_max[1 + d]) f.iat_max[1 + d] = diff;
    }
    SetLast(f, d, t);
    AddCommon(f, p, d, p.payload_ip);
    if (ntl) NtlAdd(id, p, d, t);
    if (n_all > 0 && t - prev > threshold_ns) [[unlikely]] {
      FlowCold& c = ColdOf(f);
      if (prev - c.start_act > 0) AddPeriod(c.act, prev - c.start_act, 0);  // D5
      AddPeriod(c.idle, t - prev, 0);
      if (ntl) {
        PeriodPool::Periods& pr = ntl->periods.Of(&ntl->ext[id].periods);
        if (prev - c.start_act > 0) pr.act.push_back(static_cast<double>(prev - c.start_act));  // ns
        pr.idle.push_back(static_cast<double>(t - prev));
      }
      c.start_act = t;
    }
    if (n_all > 0 && t - prev > subflow_ns) ++f.sfcount;
    Bulk<false>(f, nullptr, d, t, 0, p.payload_ip);  // D8 fixed
    if (p.tcp_flags & kTcpFin) f.bits |= d == 0 ? kFlowFinFwd : kFlowFinBwd;
    if (!f.closing) {
      if (p.tcp_flags & kTcpRst) {
        f.closing = static_cast<uint8_t>(EndReason::kRst) + 1;
      } else if ((f.bits & (kFlowFinFwd | kFlowFinBwd)) == (kFlowFinFwd | kFlowFinBwd)) {
        f.closing = static_cast<uint8_t>(EndReason::kFin) + 1;  // D11: one FIN per direction
      }
      if (f.closing) {
        // Saturating: clamped timestamps (corrupt captures) sit at INT64_MAX.
        f.close_deadline = t > std::numeric_limits<int64_t>::max() - grace_ns ? std::numeric_limits<int64_t>::max()
                                                                              : t + grace_ns;
        table.PushBack(kListClosing, id);
      }
    }
  }

  // ---- snapshots ------------------------------------------------------------------------
  // A packet of flow `id` (snapshots on).
  void Touch(uint32_t id) noexcept {
    FlowRecord& f = table.At(id);
    if (f.bits & kFlowTouched) return;
    f.bits |= kFlowTouched;
    touched.Touch(id);
  }
  // Snapshots off, or past the representable times: next_snap is INT64_MAX (never).
  bool SnapshotDue() const noexcept { return now >= next_snap && next_snap != std::numeric_limits<int64_t>::max(); }
  // The clock reached next_snap: every flow touched since the last snapshot is exported as a
  // snapshot (features so far; building a view changes no flow state) and stays open.
  void TakeSnapshots() {
    touched.Drain([this](uint32_t id) {
      FlowRecord& f = table.At(id);
      if (!(f.bits & kFlowTouched)) return;  // ended since it was listed
      f.bits &= static_cast<uint8_t>(~kFlowTouched);
      if (ntl) BuildNtlView(id, EndReason::kActiveTimeout, view, true); else BuildView(id, EndReason::kActiveTimeout, view);
      view.row_kind = RowKind::kSnapshot;
      view.tunnel = tunnels.Of(id);
      for (FlowExporter* x : exporters) x->Export(view);
      view.row_kind = RowKind::kFinal;
    });
    next_snap = NextSnapshotNs(now, snap_ns);
  }

  // ---- termination ----------------------------------------------------------------------
  // Corrected: export everything whose time is up at `t` (idle, closing grace, active).
  void Sweep(int64_t t) {
    for (uint32_t id; (id = table.Head(kListClosing)) != FlowTable<FlowRecord>::kNil;) {
      const FlowRecord& f = table.At(id);
      if (t <= f.close_deadline) break;
      Export(id, static_cast<EndReason>(f.closing - 1));
    }
    for (uint32_t id; (id = table.Head(kListActivity)) != FlowTable<FlowRecord>::kNil;) {
      FlowRecord& f = table.At(id);
      if (t - f.link_ts <= idle_ns) break;  // every flow's last activity is >= the head's link_ts
      if (t - f.last_ts > idle_ns) {
        Export(id, EndReason::kIdle);
      } else {
        Relink(id);  // active since it was linked: move to its place by last activity
      }
    }
    for (uint32_t id; (id = table.Head(kListCreated)) != FlowTable<FlowRecord>::kNil;) {
      const FlowRecord& f = table.At(id);
      if (t - f.first_ts <= active_ns) break;
      Export(id, t - f.last_ts > idle_ns ? EndReason::kIdle : EndReason::kActiveTimeout);
    }
  }

  // The activity list is kept lazily: packets do not move their flow (that would cost three
  // random memory writes per packet). It is ordered by link_ts, and link_ts <= last activity
  // for every flow, so its head bounds the oldest activity. A flow found at the head while still
  // active is moved to the position of its real last activity (usually near the tail).
  void Relink(uint32_t id) {
    FlowRecord& f = table.At(id);
    table.Unlink(kListActivity, id);
    f.link_ts = f.last_ts;
    uint32_t pos = table.Tail(kListActivity);
    for (int steps = 0; pos != FlowTable<FlowRecord>::kNil && table.At(pos).link_ts > f.link_ts; ++steps) {
      if (steps == 64) {  // pathological order: keep the list sorted, accept a later idle check
        f.link_ts = table.At(pos).link_ts;
        break;
      }
      pos = table.Prev(kListActivity, pos);
    }
    table.LinkAfter(kListActivity, pos, id);
  }

  // Eviction victim when the table is full: the least recently active flow, found by giving
  // flows at the head that were active since they were linked a second chance (bounded).
  uint32_t EvictionVictim() {
    for (int i = 0; i < 16; ++i) {
      const uint32_t id = table.Head(kListActivity);
      const FlowRecord& f = table.At(id);
      if (f.last_ts == f.link_ts) return id;
      Relink(id);
    }
    return table.Head(kListActivity);
  }

  // 2022 end test (spec §3.2), evaluated against the packet before it is added.
  bool EndTest2022(const FlowRecord& f, const Nfm2022Ext& x, const PacketMeta& p, EndReason* reason) const noexcept {
    const int64_t t_us = RoundToMicros(static_cast<int64_t>(p.ts_ns));
    if (static_cast<double>(t_us - RoundToMicros(f.first_ts)) > active_us_limit) {
      *reason = EndReason::kActiveTimeout;
      return true;
    }
    if (static_cast<double>(t_us - RoundToMicros(f.last_ts)) > idle_us_limit) {
      *reason = EndReason::kIdle;
      return true;
    }
    if (x.fin_count >= 2) {
      *reason = EndReason::kFin;
      return true;
    }
    if (x.rst_count >= 1) {
      *reason = EndReason::kRst;
      return true;
    }
    return false;
  }

  // tun: the packet's tunnel (OnPacket(pkt, tun) with the tunnel columns on), else null; the
  // plain OnPacket passes a constant null, so this costs it nothing.
  void OnPacket(const PacketMeta& p, const TunnelMeta* tun = nullptr) {
    EngineStats& st = stats();
    if (p.flags & kPktLaterFragment) return st.CountSkipped(SkipReason::kLaterFragment, p.wire_len);
    if (nfm2022) {
      // NetFlowMeter 2022 sees IPv4 TCP/UDP only, and only when scapy decoded the whole
      // fixed transport header (spec §1.1).
      if (p.ip_version != 4 || (p.proto != 6 && p.proto != 17 && !(p.flags & kPktScapyTunnel)))
        return st.CountSkipped(SkipReason::kUnsupported, p.wire_len);
      if (p.flags & kPktL4Truncated) return st.CountSkipped(SkipReason::kTruncated, p.wire_len);
      ++st.packets;
      st.bytes += p.wire_len;
      ++st.packets_in_flows;
      uint32_t id = LooseLookup(p);
      if (id == FlowTable<FlowRecord>::kNil) {
        FlowKey k = Nfm2022Key(p.saddr, p.daddr, p.sport, p.dport);
        id = Create(p, k);
        Add2022(id, p, 0);
        return;
      }
      FlowRecord& f = table.At(id);
      const int d = AddrEq(p.daddr, f.Src()) ? 1 : 0;  // direction by IP only (D10)
      EndReason reason;
      if (EndTest2022(f, ext[id], p, &reason)) {
        Export(id, reason);
        FlowKey k = Nfm2022Key(p.saddr, p.daddr, p.sport, p.dport);
        id = Create(p, k);
        Add2022(id, p, d);  // keeps the direction mark of the lookup (D9)
      } else {
        Add2022(id, p, d);
      }
      return;
    }
    if (p.flags & kPktPortsMissing)  // a TCP/UDP packet without ports has no 5-tuple
      return st.CountSkipped(SkipReason::kTruncated, p.wire_len);
    ++st.packets;
    st.bytes += p.wire_len;
    ++st.packets_in_flows;
    const int64_t t = static_cast<int64_t>(p.ts_ns);
    if (t > now) {
      now = t;
      Sweep(now);
    }
    if (SnapshotDue()) TakeSnapshots();
    const FlowKey k = CanonicalKey(p);
    const uint64_t h = p.flags & kPktKeyHashed ? p.key_hash : k.Hash();
    uint32_t id = table.FindAny(k, h);
    if (id != FlowTable<FlowRecord>::kNil) {
      const FlowRecord& f = table.At(id);
      const bool fresh_syn = (p.tcp_flags & (kTcpSyn | kTcpAck)) == kTcpSyn && p.proto == 6;
      if (f.closing && (t > f.close_deadline || fresh_syn)) {
        Export(id, static_cast<EndReason>(f.closing - 1));
        id = FlowTable<FlowRecord>::kNil;
      } else if (std::max(t, f.last_ts) - f.last_ts > idle_ns) {
        Export(id, EndReason::kIdle);
        id = FlowTable<FlowRecord>::kNil;
      } else if (t - f.first_ts > active_ns) {
        Export(id, EndReason::kActiveTimeout);
        id = FlowTable<FlowRecord>::kNil;
      }
    }
    if (id == FlowTable<FlowRecord>::kNil) {
      id = Create(p, k);
      AddCorrected(id, p, 0);
      if (snap_ns) Touch(id);
      if (tun) tunnels.Note(id, false, *tun);
      return;
    }
    const FlowRecord& f = table.At(id);
    const int d = (AddrEq(p.saddr, f.Src()) && p.sport == f.Sport()) ? 0 : 1;
    AddCorrected(id, p, d);
    if (snap_ns) Touch(id);
    if (tun) tunnels.Note(id, d == 1, *tun);
  }

  void Flush(EndReason reason) {
    for (uint32_t id; (id = table.Head(kListCreated)) != FlowTable<FlowRecord>::kNil;) Export(id, reason);
  }

  FlowKey KeyFor(const PacketMeta& p) const noexcept {
    return nfm2022 ? Nfm2022Key(p.saddr, p.daddr, p.sport, p.dport) : CanonicalKey(p);
  }

  // The latest time t at which Sweep(t) changes nothing: every list head's deadline
  // (closing grace, idle from link_ts, active from first_ts), saturated at INT64_MAX.
  int64_t QuietUntil() noexcept {
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    auto plus = [](int64_t a, int64_t b) { return a > kMax - b ? kMax : a + b; };
    int64_t q = kMax;
    constexpr uint32_t kNil = FlowTable<FlowRecord>::kNil;
    if (uint32_t id = table.Head(kListClosing); id != kNil) q = std::min(q, table.At(id).close_deadline);
    if (uint32_t id = table.Head(kListActivity); id != kNil) q = std::min(q, plus(table.At(id).link_ts, idle_ns));
    if (uint32_t id = table.Head(kListCreated); id != kNil) q = std::min(q, plus(table.At(id).first_ts, active_ns));
    if (snap_ns && next_snap > 0) q = std::min(q, next_snap - 1);  // AdvanceTime(next_snap) takes a snapshot
    return q;
  }

  // ---- export ---------------------------------------------------------------------------
  void BuildView(uint32_t id, EndReason reason, FlowView& v);
  void FillIdentity(const FlowRecord& f, EndReason reason, FlowView& v) const;
};

// Identity, end reason and per-direction counters of flow f, shared by every feature set.
void FlowEngine::Impl::FillIdentity(const FlowRecord& f, EndReason reason, FlowView& v) const {
  v.src = f.Src();
  v.dst = f.Dst();
  v.sport = f.Sport();
  v.dport = f.Dport();
  v.proto = f.proto;
  v.ip_version = f.ip_version;
  v.profile = engine.cfg_.profile;
  v.reason = reason;
  v.first_ns = f.first_ts;
  v.last_ns = f.last_ts;
  // IP bytes: IP header (20 / 40 bytes; options and IPv6 extension headers are not kept per
  // flow) + L4 header + payload (the profile's payload definition).
  const uint64_t ip_hdr = f.ip_version == 6 ? 40 : 20;
  for (int d = 0; d < 2; ++d) {
    v.packets[d] = f.n[d];
    v.payload_bytes[d] = f.pay[d].sum;
    v.ip_bytes[d] = f.pay[d].sum + f.hdr[d].sum + f.n[d] * ip_hdr;
    uint8_t fl = 0;
    for (int bit = 0; bit < 8; ++bit)
      if (FlagCount(f, d, bit)) fl |= static_cast<uint8_t>(1u << bit);
    v.tcp_flags[d] = fl;
  }
}

// Fills `v` with flow `id`'s identity, counters and the 114 feature values (spec §5.2; the
// profile decides each value's kind, spec §6.3). Valid until the next BuildView. Every value is
// written through its NfmCol id; ColumnWriter checks each column is written exactly once.
void FlowEngine::Impl::BuildView(uint32_t id, EndReason reason, FlowView& v) {
  using C = NfmCol;
  const FlowRecord& f = table.At(id);
  // An ending flow's record is often cold: request all of its lines now, so the misses
  // overlap instead of stalling one by one as the features reach them.
  for (size_t off = 0; off < sizeof(FlowRecord); off += 64) __builtin_prefetch(reinterpret_cast<const char*>(&f) + off);
  const bool c = !nfm2022;  // corrected
  const Nfm2022Ext* x = ext ? &ext[id] : nullptr;
  int n_dec = 0;
  // Value kinds (spec §6.3). In the corrected profile every float column uses the float
  // format (R = X) and "no data" is 0.0 in a float column; in 2022 it is the text "0".
  auto Iv = [](uint64_t u) __attribute__((always_inline)) { return FeatureValue::Uint(u); };
  auto Xv = [](double d) __attribute__((always_inline)) { return FeatureValue::Float(d); };
  auto Rv = [c](double d) __attribute__((always_inline)) { return c ? FeatureValue::Float(d) : FeatureValue::Repr(d); };
  // Seconds of an integer ns count, RN(ns / 1e9).
  auto Sv = [c](int64_t ns) __attribute__((always_inline)) { return FeatureValue::Seconds(ns, !c); };
  auto Zv = [c]() __attribute__((always_inline)) { return c ? FeatureValue::Float(0.0) : FeatureValue::Uint(0); };
  // Kind D (2022: the exact decimal) / seconds float (corrected).
  auto Dnsv = [c](int64_t ns, int exp) {
    return c ? FeatureValue::Seconds(ns, false) : FeatureValue::DecimalNs(ns, exp);
  };
  auto DecimalFloatv = [&](const Decimal& d) {
    decimals[n_dec] = d;
    FeatureValue fv;
    fv.kind = FeatureValue::Kind::kDecimalFloat;
    fv.aux = static_cast<uint16_t>(n_dec++);
    return fv;
  };
  auto ratio = [](uint64_t a, uint64_t b) { return static_cast<double>(a) / static_cast<double>(b); };

  const uint64_t nF = f.n[0], nB = f.n[1], nP = nF + nB;
  const uint64_t payF = f.pay[0].sum, payB = f.pay[1].sum, payP = payF + payB;

  // Writes the 114 values through `w` (a ColumnWriter<NfmCol, kCheck>).
  auto fill = [&](auto& w) __attribute__((always_inline)) {
    auto Put = [&w](C col, FeatureValue fv) __attribute__((always_inline)) { w.Put(col, fv); };

    // 1 duration; 2-4 counts; 5-7 payload totals.
    const double dur = NsToSeconds(f.last_ts - f.first_ts);
    Put(C::duration, Sv(f.last_ts - f.first_ts));  // = R(p, dur)
    Put(C::packets_count, Iv(nP));
    Put(C::fwd_packets_count, Iv(nF));
    Put(C::bwd_packets_count, Iv(nB));
    Put(C::total_payload_bytes, Iv(payP));
    Put(C::fwd_total_payload_bytes, Iv(payF));
    Put(C::bwd_total_payload_bytes, Iv(payB));

    // 8-22 payload statistics.
    const exact::IntMoments mP = Moments::Merge(f.pay[0], f.pay[1], nP);
    const exact::IntMoments mF = f.pay[0].With(nF), mB = f.pay[1].With(nB);
    // Max/min over all packets from the per-direction values of the directions that have packets.
    auto all_max = [&](const auto (&mx)[2]) { return nF && nB ? std::max(mx[0], mx[1]) : nF ? mx[0] : mx[1]; };
    auto all_min = [&](const auto (&mn)[2]) { return nF && nB ? std::min(mn[0], mn[1]) : nF ? mn[0] : mn[1]; };
    const uint32_t maxP = all_max(f.pay_max), minP = all_min(f.pay_min);
    Put(C::payload_bytes_max, Iv(maxP));
    Put(C::payload_bytes_min, Iv(minP));
    Put(C::payload_bytes_mean, Xv(mP.Mean()));
    Put(C::payload_bytes_std, Xv(mP.PStd()));
    Put(C::payload_bytes_variance, Xv(mP.PVar()));
    static constexpr C kPay[2][5] = {
        {C::fwd_payload_bytes_max, C::fwd_payload_bytes_min, C::fwd_payload_bytes_mean, C::fwd_payload_bytes_std,
         C::fwd_payload_bytes_variance},
        {C::bwd_payload_bytes_max, C::bwd_payload_bytes_min, C::bwd_payload_bytes_mean, C::bwd_payload_bytes_std,
         C::bwd_payload_bytes_variance}};
    for (int d = 0; d < 2; ++d) {
      const C(&col)[5] = kPay[d];
      const exact::IntMoments& md = d == 0 ? mF : mB;
      if (c) {  // D3 fixed: per-direction statistics
        if (f.n[d]) {
          Put(col[0], Iv(f.pay_max[d]));
          Put(col[1], Iv(f.pay_min[d]));
          Put(col[2], Xv(md.Mean()));
          Put(col[3], Xv(md.PStd()));
        } else {
          Put(col[0], Iv(0));
          Put(col[1], Iv(0));
          Put(col[2], Zv());
          Put(col[3], Zv());
        }
      } else {  // D3: over all packets
        Put(col[0], Iv(maxP));
        Put(col[1], Iv(minP));
        Put(col[2], Xv(mP.Mean()));
        Put(col[3], Xv(mP.PStd()));
      }
      if (f.n[d]) Put(col[4], Xv(md.PVar())); else Put(col[4], Zv());
    }

    // 23-37 header statistics.
    const exact::IntMoments hP = Moments64::Merge(f.hdr[0], f.hdr[1], nP);
    Put(C::total_header_bytes, Iv(f.hdr[0].sum + f.hdr[1].sum));
    Put(C::max_header_bytes, Iv(all_max(f.hdr_max)));
    Put(C::min_header_bytes, Iv(all_min(f.hdr_min)));
    Put(C::mean_header_bytes, Xv(hP.Mean()));
    Put(C::std_header_bytes, Xv(hP.PStd()));
    static constexpr C kHdr[2][5] = {
        {C::fwd_total_header_bytes, C::fwd_max_header_bytes, C::fwd_min_header_bytes, C::fwd_mean_header_bytes,
         C::fwd_std_header_bytes},
        {C::bwd_total_header_bytes, C::bwd_max_header_bytes, C::bwd_min_header_bytes, C::bwd_mean_header_bytes,
         C::bwd_std_header_bytes}};
    for (int d = 0; d < 2; ++d) {
      const C(&col)[5] = kHdr[d];
      if (f.n[d]) {
        const exact::IntMoments h = f.hdr[d].With(f.n[d]);
        Put(col[0], Iv(f.hdr[d].sum));
        Put(col[1], Iv(f.hdr_max[d]));
        Put(col[2], Iv(f.hdr_min[d]));
        Put(col[3], Xv(h.Mean()));
        Put(col[4], Xv(h.PStd()));
      } else {
        Put(col[0], Iv(0));
        Put(col[1], Iv(0));
        Put(col[2], Iv(0));
        Put(col[3], Zv());
        Put(col[4], Zv());
      }
    }

    // 38-40 average segment sizes (payload only).
    if (nF) Put(C::fwd_avg_segment_size, Rv(ratio(payF, nF))); else Put(C::fwd_avg_segment_size, Zv());
    if (nB) Put(C::bwd_avg_segment_size, Rv(ratio(payB, nB))); else Put(C::bwd_avg_segment_size, Zv());
    Put(C::avg_segment_size, Rv(ratio(payP, nP)));

    // 41-42 initial windows.
    Put(C::fwd_init_win_bytes, Iv(f.init_win[0]));  // 0 while the direction has no packet
    Put(C::bwd_init_win_bytes, Iv(f.init_win[1]));

    // 43-50 active / idle. Periods closed by a gap are in the cold slot (none without one).
    PeriodStats act{}, idle{};
    if (f.cold) {
      act = cold.At(f.cold).act;
      idle = cold.At(f.cold).idle;
    }
    if (c) {
      // D19: the last active period is recorded when the flow ends.
      const int64_t start_act = StartAct(f);
      if (f.last_ts - start_act > 0) AddPeriod(act, f.last_ts - start_act, 0);
    }
    static constexpr C kPeriod[2][4] = {{C::active_min, C::active_max, C::active_mean, C::active_std},
                                        {C::idle_min, C::idle_max, C::idle_mean, C::idle_std}};
    for (int which = 0; which < 2; ++which) {
      const C(&col)[4] = kPeriod[which];
      const PeriodStats& s = which == 0 ? act : idle;
      if (s.n == 0) {
        w.PutEach(col, Zv());
        continue;
      }
      Put(col[0], Dnsv(s.min, s.min_exp));
      Put(col[1], Dnsv(s.max, s.max_exp));
      if (c) {
        const exact::IntMoments m = s.m.With(s.n);
        Put(col[2], Xv(m.Mean() / 1e9));
        Put(col[3], Xv(m.PStd() / 1e9));
      } else {
        const exact::DecimalMoments& dm = which == 0 ? x->act : x->idle;
        Put(col[2], DecimalFloatv(dm.Mean()));
        Put(col[3], DecimalFloatv(dm.PStd()));
      }
    }

    // 51-57 rates (over the rounded whole-flow duration, D18) and down/up ratio.
    static constexpr C kRate[6] = {C::bytes_rate,   C::fwd_bytes_rate,   C::bwd_bytes_rate,
                                   C::packets_rate, C::bwd_packets_rate, C::fwd_packets_rate};
    if (dur != 0.0) {
      const uint64_t num[6] = {payP, payF, payB, nP, nB, nF};
      for (int i = 0; i < 6; ++i) Put(kRate[i], Rv(static_cast<double>(num[i]) / dur));
    } else {
      w.PutEach(kRate, Zv());
    }
    if (nF) Put(C::down_up_rate, Rv(ratio(nB, nF))); else Put(C::down_up_rate, Zv());

    // 58-71 bulk.
    auto bulk_ratev = [&](const BulkState& b) {
      if (b.dur == 0) return Zv();
      // 2022 divides by the exact decimal duration (spec §6.5): one rounding.
      return Rv(exact::RatioToDouble(static_cast<__int128>(b.bytes) * kNsPerSec,
                                       static_cast<unsigned __int128>(b.dur < 0 ? -static_cast<__int128>(b.dur) : b.dur)) *
                      (b.dur < 0 ? -1.0 : 1.0));
    };
    static constexpr C kBulkAvg[2][3] = {
        {C::avg_fwd_bytes_per_bulk, C::avg_fwd_packets_per_bulk, C::avg_fwd_bulk_rate},
        {C::avg_bwd_bytes_per_bulk, C::avg_bwd_packets_bulk_rate, C::avg_bwd_bulk_rate}};
    for (int d = 0; d < 2; ++d) {
      const C(&col)[3] = kBulkAvg[d];
      const BulkState& b = f.bulk[d];
      if (b.states) {
        Put(col[0], Rv(ratio(b.bytes, b.states)));
        Put(col[1], Rv(ratio(b.pkts, b.states)));
      } else {
        Put(col[0], Zv());
        Put(col[1], Zv());
      }
      Put(col[2], bulk_ratev(b));
    }
    static constexpr C kBulk[2][4] = {
        {C::fwd_bulk_state_count, C::fwd_bulk_total_size, C::fwd_bulk_per_packet, C::fwd_bulk_duration},
        {C::bwd_bulk_state_count, C::bwd_bulk_total_size, C::bwd_bulk_per_packet, C::bwd_bulk_duration}};
    for (int d = 0; d < 2; ++d) {
      const C(&col)[4] = kBulk[d];
      const BulkState& b = f.bulk[d];
      Put(col[0], Iv(b.states));
      Put(col[1], Iv(b.bytes));
      Put(col[2], Iv(b.pkts));
      if (b.states) Put(col[3], Dnsv(b.dur, x ? x->bulk_dur_exp[d] : 0)); else Put(col[3], Zv());  // a duration was recorded
    }

    // 72-95 flag counts: all, forward, backward; columns FIN, PSH, URG, ECE, SYN, ACK, CWR, RST
    // (kFlagColumnBits).
    static constexpr C kFlags[3][8] = {
        {C::fin_flag_counts, C::psh_flag_counts, C::urg_flag_counts, C::ece_flag_counts, C::syn_flag_counts,
         C::ack_flag_counts, C::cwr_flag_counts, C::rst_flag_counts},
        {C::fwd_fin_flag_counts, C::fwd_psh_flag_counts, C::fwd_urg_flag_counts, C::fwd_ece_flag_counts,
         C::fwd_syn_flag_counts, C::fwd_ack_flag_counts, C::fwd_cwr_flag_counts, C::fwd_rst_flag_counts},
        {C::bwd_fin_flag_counts, C::bwd_psh_flag_counts, C::bwd_urg_flag_counts, C::bwd_ece_flag_counts,
         C::bwd_syn_flag_counts, C::bwd_ack_flag_counts, C::bwd_cwr_flag_counts, C::bwd_rst_flag_counts}};
    for (int i = 0; i < 8; ++i) {
      const int bit = kFlagColumnBits[i];
      Put(kFlags[0][i], Iv(static_cast<uint64_t>(FlagCount(f, 0, bit)) + FlagCount(f, 1, bit)));
    }
    for (int d = 0; d < 2; ++d)
      for (int i = 0; i < 8; ++i) Put(kFlags[1 + d][i], Iv(FlagCount(f, d, kFlagColumnBits[i])));

    // 96-110 IAT statistics: all, forward, backward; mean, std, max, min, total.
    static constexpr C kIat[3][5] = {
        {C::packets_IAT_mean, C::packet_IAT_std, C::packet_IAT_max, C::packet_IAT_min, C::packet_IAT_total},
        {C::fwd_packets_IAT_mean, C::fwd_packets_IAT_std, C::fwd_packets_IAT_max, C::fwd_packets_IAT_min,
         C::fwd_packets_IAT_total},
        {C::bwd_packets_IAT_mean, C::bwd_packets_IAT_std, C::bwd_packets_IAT_max, C::bwd_packets_IAT_min,
         C::bwd_packets_IAT_total}};
    for (int l = 0; l < 3; ++l) {
      const C(&col)[5] = kIat[l];
      const uint64_t n = l == 0 ? nP : f.n[l - 1];
      if (n == 0 || (c && n == 1)) {  // corrected: no interval in a 0/1-packet list (D6)
        w.PutEach(col, Zv());
        continue;
      }
      if (!c && n == 1) {  // D6: the 1-packet "IAT" is the packet's epoch timestamp
        const int64_t ts = l == 0 ? f.first_ts : f.LastDirTs(l - 1);
        const double v = NsToSeconds(ts);
        Put(col[0], Xv(v));
        Put(col[1], Xv(0.0));
        Put(col[2], Rv(v));
        Put(col[3], Rv(v));
        Put(col[4], Rv(v));
        continue;
      }
      if (c) {
        // Sums of the all and fwd lists telescope (effective times, first packet forward).
        const uint64_t sum = l == 0   ? static_cast<uint64_t>(f.last_ts) - static_cast<uint64_t>(f.first_ts)
                             : l == 1 ? static_cast<uint64_t>(f.LastDirTs(0)) - static_cast<uint64_t>(f.first_ts)
                                      : f.iat_bwd_sum;
        exact::IntMoments m;
        m.n = n - 1;
        m.sum = sum;
        m.sum_sq = f.iat_sq[l].Get();
        Put(col[0], Xv(exact::RatioToDouble(static_cast<__int128>(m.sum), static_cast<unsigned __int128>(n - 1) * kNsPerSec)));
        Put(col[1], Xv(m.PStd() / 1e9));
        Put(col[2], Sv(f.iat_max[l]));
        Put(col[3], Sv(f.iat_min[l]));
        Put(col[4], Sv(static_cast<int64_t>(sum)));
      } else {
        Put(col[0], Xv(x->iat[l].Mean()));
        Put(col[1], Xv(x->iat[l].PStd()));
        Put(col[2], Rv(NsToSeconds(f.iat_max[l])));
        Put(col[3], Rv(NsToSeconds(f.iat_min[l])));
        Put(col[4], Rv(x->iat_total[l]));
      }
    }

    // 111-114 subflows.
    static constexpr C kSubflow[4] = {C::subflow_fwd_packets, C::subflow_bwd_packets, C::subflow_fwd_bytes,
                                      C::subflow_bwd_bytes};
    if (c) {
      const uint64_t k = static_cast<uint64_t>(f.sfcount) + 1;  // D13: gaps + 1
      Put(C::subflow_fwd_packets, Rv(ratio(nF, k)));
      Put(C::subflow_bwd_packets, Rv(ratio(nB, k)));
      Put(C::subflow_fwd_bytes, Rv(ratio(payF, k)));
      Put(C::subflow_bwd_bytes, Rv(ratio(payB, k)));  // D4 fixed
    } else if (f.sfcount) {
      Put(C::subflow_fwd_packets, Rv(ratio(nF, f.sfcount)));
      Put(C::subflow_bwd_packets, Rv(ratio(nB, f.sfcount)));
      Put(C::subflow_fwd_bytes, Rv(ratio(payF, f.sfcount)));
      Put(C::subflow_bwd_bytes, Rv(ratio(payF, f.sfcount)));  // D4: forward bytes again
    } else {
      w.PutEach(kSubflow, Zv());
    }
  };
  if (ColumnChecks()) [[unlikely]] {
    ColumnWriter<C, true> w(values);
    fill(w);
    if (!w.Complete()) ColumnOrderFailure(NfmFeatureSet(), w.FirstMissing());
  } else {
    ColumnWriter<C, false> w(values);
    fill(w);
  }
  assert(n_dec <= kMaxDecimals);

  FillIdentity(f, reason, v);
  v.set = &NfmFeatureSet();
  v.features = std::span<const FeatureValue>(values, kNumNfmFeatures);
  v.decimals = std::span<const Decimal>(decimals, static_cast<size_t>(n_dec));
}

// The corrected ntl feature set of flow `id` (ntl_compute with corrected semantics).
void FlowEngine::Impl::BuildNtlView(uint32_t id, EndReason reason, FlowView& v, bool snapshot) {
  const FlowRecord& f = table.At(id);
  NtlExt& x = ntl->ext[id];
  std::vector<ListedPacket>& pk = ntl->pk;
  PacketListCopy(ntl->chunks, x.list, pk);
  NtlInput in;
  in.corrected = true;
  in.pk = std::span<const ListedPacket>(pk.data(), pk.size());
  for (int d = 0; d < 2; ++d) {
    in.n[d] = f.n[d];
    in.pay[d] = f.pay[d].sum;
    in.init_win[d] = f.init_win[d];
    for (int b = 0; b < 8; ++b) in.flags[d][b] = FlagCount(f, d, b);
    const BulkState& b = f.bulk[d];
    in.bulk[d].states = b.states;
    in.bulk[d].bytes = b.bytes;
    in.bulk[d].pkts = b.pkts;
    in.bulk[d].dur = exact::NsToSeconds(b.dur);
    in.bulk[d].dur_ns = b.dur;
    in.bulk[d].dur_set = b.states != 0;
  }
  in.duration = exact::NsToSeconds(f.last_ts - f.first_ts);
  in.sfcount = f.sfcount;
  // Active/idle lists (positive, D5 fixed) with the last active period (D19 fixed).
  PeriodPool::Periods& pr = ntl->periods.Of(&x.periods);
  const int64_t start_act = StartAct(f);
  const bool pushed = f.last_ts - start_act > 0;
  if (pushed) pr.act.push_back(static_cast<double>(f.last_ts - start_act));  // ns
  in.act = &pr.act;
  in.idle = &pr.idle;
  in.hs_state = x.hs.state;
  in.hs_other = x.hs.other && x.hs.state == 3;
  in.hs_first_ns = x.hs.first_ns;
  in.hs_last_ns = x.hs.last_ns;
  in.hs_other_ns = x.hs.other_ns;
  ntl->values = NtlValues(true);
  ComputeNtlFeatures(in, ntl->scratch, ntl->values);
  if (snapshot && pushed) pr.act.pop_back();  // the period is still open
  NFM_INVARIANT(ntl->values.size() == kNtlCorrectedNumFeatures);
  v = FlowView{};
  FillIdentity(f, reason, v);
  v.set = &kNtlCorrectedFeatureSet;
  v.features = std::span<const FeatureValue>(ntl->values.vals, kNtlCorrectedNumFeatures);
}

FlowEngine::FlowEngine(const EngineConfig& cfg) : cfg_(cfg) {
  impl_ = std::make_unique<Impl>(*this, cfg_);
  stats_.table_capacity = impl_->table.Capacity();
}

void FlowEngine::AddExporter(FlowExporter& exporter) {
  exporter.Begin(cfg_.profile, impl_->ntl ? kNtlCorrectedFeatureSet : NfmFeatureSet());
  impl_->exporters.push_back(&exporter);
}

const std::vector<FlowExporter*>& FlowEngine::Exporters() const noexcept { return impl_->exporters; }

FlowEngine::~FlowEngine() = default;

void FlowEngine::OnPacket(const PacketMeta& pkt) { impl_->OnPacket(pkt); }

void FlowEngine::OnPacket(const PacketMeta& pkt, const TunnelMeta& tun) {
  impl_->OnPacket(pkt, impl_->tunnels.On() && !impl_->nfm2022 ? &tun : nullptr);
}

void FlowEngine::PrefetchIndex(PacketMeta& pkt) const noexcept {
  if (!(pkt.flags & kPktKeyHashed)) {  // a sharding reader hashed it already (KeyHash)
    pkt.key_hash = impl_->nfm2022 ? impl_->KeyFor(pkt).Hash() : CanonicalKeyHash(pkt);
    pkt.flags |= kPktKeyHashed;
  }
  impl_->table.PrefetchSlot(pkt.key_hash);
}

uint64_t FlowEngine::KeyHash(Profile profile, const PacketMeta& pkt) noexcept {
  return profile == Profile::kCorrected ? CanonicalKeyHash(pkt)
                                        : Nfm2022Key(pkt.saddr, pkt.daddr, pkt.sport, pkt.dport).Hash();
}

uint64_t FlowEngine::QuietUntil() const noexcept {
  if (impl_->nfm2022) return UINT64_MAX;  // AdvanceTime does nothing
  return static_cast<uint64_t>(impl_->QuietUntil());
}

void FlowEngine::PrefetchFlow(const PacketMeta& pkt) const noexcept {
  impl_->table.PrefetchRecord(pkt.flags & kPktKeyHashed ? pkt.key_hash : impl_->KeyFor(pkt).Hash());
}

void FlowEngine::OnSkipped(SkipReason reason, uint32_t wire_len) { stats_.CountSkipped(reason, wire_len); }

void FlowEngine::AdvanceTime(uint64_t now_ns) {
  if (impl_->nfm2022) return;  // 2022 termination is lazy (spec §3.3)
  const int64_t t = static_cast<int64_t>(now_ns);
  if (t > impl_->now) impl_->now = t;
  impl_->Sweep(impl_->now);
  if (impl_->SnapshotDue()) impl_->TakeSnapshots();
}

void FlowEngine::SyncTime(uint64_t now_ns) noexcept {
  const int64_t t = static_cast<int64_t>(now_ns);
  if (t > impl_->now) impl_->now = t;
}

void FlowEngine::Flush(EndReason reason) { impl_->Flush(reason); }

}  // namespace nfm
