// SPDX-License-Identifier: MIT
// NtlEngine (see ntl_engine.hpp). Per flow: O(1) online state for what NTLFlowLyzer updates
// per packet (counts, flags, bulk, active/idle, subflows, handshake, end test) and a bounded
// packet list (16 bytes per packet, in 1 KiB chunks from a pool) for the list statistics,
// which are computed once when the flow ends, in the reference's arithmetic (ntl_stats).
#include "engine/ntl_engine.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "engine/exact.hpp"
#include "engine/flow_table.hpp"
#include "engine/ntl_features.hpp"
#include "engine/ntl_stats.hpp"

namespace nfm {

namespace {

constexpr int64_t kNsPerSec = 1000000000;
constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10;
// Flag column order FIN, PSH, URG, ECE, SYN, ACK, CWR, RST as bit numbers of the flag byte.
constexpr int kFlagColumnBits[8] = {0, 3, 5, 6, 1, 4, 7, 2};

// One listed packet: time and the three sizes NTLFlowLyzer keeps (frame length = len(buf),
// payload = len(tcp.data), header = len(tcp) - len(tcp.data)) and the direction mark.
struct ListedPacket {
  int64_t ts_ns;
  uint64_t packed;  // frame 0..20 | payload 21..41 | header 42..49 | backward 50
  uint32_t Frame() const noexcept { return static_cast<uint32_t>(packed & 0x1fffff); }
  uint32_t Payload() const noexcept { return static_cast<uint32_t>((packed >> 21) & 0x1fffff); }
  uint32_t Header() const noexcept { return static_cast<uint32_t>((packed >> 42) & 0xff); }
  int Dir() const noexcept { return static_cast<int>((packed >> 50) & 1); }
};
static_assert(sizeof(ListedPacket) == 16);

constexpr uint32_t kChunkPackets = 63;
struct Chunk {
  ListedPacket p[kChunkPackets];
  uint32_t next;  // chunk index + 1; 0 = last
  uint32_t pad_[3];
};
static_assert(sizeof(Chunk) == 1024);

// Chunks in blocks that never move; a free list of chunk indices. Allocation happens once
// per 63 listed packets and reuses freed chunks, so steady state does no heap allocation.
class ChunkPool {
 public:
  uint32_t Alloc() {
    if (free_.empty()) {
      blocks_.emplace_back(new Chunk[kBlock]);
      const uint32_t base = static_cast<uint32_t>((blocks_.size() - 1) * kBlock);
      for (uint32_t i = kBlock; i-- > 0;) free_.push_back(base + i + 1);
    }
    const uint32_t id = free_.back();
    free_.pop_back();
    ++used_;
    At(id).next = 0;
    return id;
  }
  void Free(uint32_t id) {
    free_.push_back(id);
    --used_;
  }
  Chunk& At(uint32_t id) { return blocks_[(id - 1) / kBlock][(id - 1) % kBlock]; }
  uint64_t UsedBytes() const { return static_cast<uint64_t>(used_) * sizeof(Chunk); }

 private:
  static constexpr uint32_t kBlock = 1024;
  std::vector<std::unique_ptr<Chunk[]>> blocks_;
  std::vector<uint32_t> free_;
  uint64_t used_ = 0;
};

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

struct Periods {
  std::vector<double> act, idle;
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

// float(ts) as the reference holds it: sec + usec / 1e6 (two roundings) for microsecond
// captures; float(Decimal) = RN(ns / 1e9) for nanosecond captures.
double TsDouble(int64_t ns, bool ns_time) noexcept {
  if (ns_time) return exact::RatioToDouble(ns, kNsPerSec);
  const int64_t sec = ns / kNsPerSec;
  const int64_t usec = (ns % kNsPerSec) / 1000;
  return static_cast<double>(sec) + static_cast<double>(usec) / 1e6;
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
  std::vector<Periods> periods;
  std::vector<uint32_t> free_periods;
  double idle_s, active_s, threshold_s;
  uint32_t max_list;
  // Export scratch (reused: no allocation per flow once grown).
  std::vector<ListedPacket> pk;
  std::vector<double> v, sorted, scratch, ts;
  std::vector<double> sorted_dir[2];
  std::vector<uint32_t> radix_k0, radix_k1;
  std::vector<uint32_t> order;
  std::vector<int64_t> us;

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
    f.first_ts = TsDouble(f.first_ns, f.bits & kNsTime);
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

  Periods& PeriodsOf(NtlRecord& f) {
    if (!f.periods) {
      if (free_periods.empty()) {
        periods.emplace_back();
        f.periods = static_cast<uint32_t>(periods.size());
      } else {
        f.periods = free_periods.back();
        free_periods.pop_back();
      }
    }
    return periods[f.periods - 1];
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
    const double t = TsDouble(tns, f.bits & kNsTime);
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
      Periods& pr = PeriodsOf(f);
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
    const double t = TsDouble(static_cast<int64_t>(p.ts_ns), f.bits & kNsTime);
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

namespace {

// Builds the 339 values in kNtlFeatures order.
class Values {
 public:
  void U(uint64_t x) { Push(FeatureValue::Uint(x)); }
  void X(double x) { Push(FeatureValue::Float(x)); }
  void R(double x) { Push(FeatureValue::Repr(x)); }
  void Z() { Push(FeatureValue::Uint(0)); }  // the reference's literal 0 fallback
  void Empty() {
    FeatureValue v;
    v.kind = FeatureValue::Kind::kEmpty;
    Push(v);
  }
  void Text(uint16_t i) {
    FeatureValue v;
    v.kind = FeatureValue::Kind::kText;
    v.aux = i;
    Push(v);
  }
  void Dec(const Decimal& d) {
    FeatureValue v;
    v.kind = FeatureValue::Kind::kDecimalFloat;
    v.aux = static_cast<uint16_t>(ndec);
    dec[ndec++] = d;
    Push(v);
  }
  int size() const { return n; }
  FeatureValue vals[kNtlNumFeatures + 8];
  Decimal dec[4];
  int ndec = 0;

 private:
  void Push(const FeatureValue& x) {
    if (n < kNtlNumFeatures + 8) vals[n] = x;
    ++n;
  }
  int n = 0;
};

Decimal DecimalNs(int64_t ns) {
  Decimal d;
  d.neg = ns < 0;
  d.coeff = static_cast<unsigned __int128>(ns < 0 ? -static_cast<__int128>(ns) : ns);
  d.exp = -9;
  return d;
}

// Statistics of one list (values in list order) in the reference's libraries.
struct ListStats {
  double mean = 0, std = 0, var = 0, median = 0, skew = 0, cov = 0, mode = 0, min = 0, max = 0;
};

// Sorts integer-valued doubles: an LSD radix sort (two 11-bit passes over x + 2^21) when all
// values lie in [-2^21, 2^21) and the list is long, else std::sort. Same result either way.
void SortIntValued(std::vector<double>& a, size_t n, std::vector<uint32_t>& k0, std::vector<uint32_t>& k1) {
  if (n < 64) {
    std::sort(a.begin(), a.begin() + static_cast<long>(n));
    return;
  }
  k0.resize(n);
  k1.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const double x = a[i];
    if (!(x >= -2097152.0 && x < 2097152.0)) {
      std::sort(a.begin(), a.begin() + static_cast<long>(n));
      return;
    }
    k0[i] = static_cast<uint32_t>(static_cast<int32_t>(x) + 2097152);
  }
  uint32_t c0[2048] = {}, c1[2048] = {};
  for (size_t i = 0; i < n; ++i) {
    ++c0[k0[i] & 2047];
    ++c1[k0[i] >> 11];
  }
  uint32_t s0 = 0, s1 = 0;
  for (int b = 0; b < 2048; ++b) {
    const uint32_t t0 = c0[b], t1 = c1[b];
    c0[b] = s0;
    c1[b] = s1;
    s0 += t0;
    s1 += t1;
  }
  for (size_t i = 0; i < n; ++i) k1[c0[k0[i] & 2047]++] = k0[i];
  for (size_t i = 0; i < n; ++i) k0[c1[k1[i] >> 11]++] = k1[i];
  for (size_t i = 0; i < n; ++i) a[i] = static_cast<double>(static_cast<int32_t>(k0[i]) - 2097152);
}

// Integer-valued lists (sizes, size differences; |x| < 2^31): statistics' exact mean /
// variance / std from integer sums (the same rationals as over the doubles). `sorted` holds
// the values sorted ascending on entry when `presorted`, else it is filled here.
ListStats IntStats(const double* a, size_t n, std::vector<double>& sorted, std::vector<double>& scratch,
                   bool presorted = false) {
  static thread_local std::vector<uint32_t> k0, k1;
  ListStats s;
  if (n == 0) return s;
  __int128 sum = 0;
  unsigned __int128 sq = 0;
  for (size_t i = 0; i < n; ++i) {
    const int64_t x = static_cast<int64_t>(a[i]);
    sum += x;
    sq += static_cast<unsigned __int128>(static_cast<__int128>(x) * x);
  }
  const unsigned __int128 nn = n;
  s.mean = exact::RatioToDouble(sum, nn);
  const __int128 var_num = static_cast<__int128>(nn * sq) - sum * sum;  // n*sum_sq - sum^2 >= 0
  s.var = n < 2 ? 0.0 : exact::RatioToDouble(var_num, nn * nn);
  s.std = n < 2 ? 0.0 : exact::SqrtRatioToDouble(static_cast<unsigned __int128>(var_num), nn * nn);
  if (!presorted) {
    sorted.assign(a, a + n);
    SortIntValued(sorted, n, k0, k1);
  }
  s.min = sorted.front();
  s.max = sorted.back();
  s.median = ntl::MedianSorted(sorted.data(), n);
  s.mode = ntl::ModeSorted(sorted.data(), n);
  scratch.resize(n);
  s.skew = ntl::Skew(a, n, scratch.data());
  s.cov = ntl::Variation(a, n, scratch.data());
  return s;
}

ListStats FloatStats(const double* a, size_t n, std::vector<double>& sorted, std::vector<double>& scratch,
                     bool presorted = false) {
  ListStats s;
  if (n == 0) {
    s.skew = s.cov = std::numeric_limits<double>::quiet_NaN();
    return s;
  }
  exact::DoubleMoments m;
  for (size_t i = 0; i < n; ++i) m.Add(a[i]);
  s.mean = m.Mean();
  s.var = m.PVar();
  s.std = m.PStd();
  if (!presorted) {
    sorted.assign(a, a + n);
    std::sort(sorted.begin(), sorted.end());
  }
  s.min = sorted.front();
  s.max = sorted.back();
  s.median = ntl::MedianSorted(sorted.data(), n);
  s.mode = ntl::ModeSorted(sorted.data(), n);
  scratch.resize(n);
  s.skew = ntl::Skew(a, n, scratch.data());
  s.cov = ntl::Variation(a, n, scratch.data());
  return s;
}

}  // namespace

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
  const size_t nl = pk.size();
  ts.resize(nl);
  for (size_t i = 0; i < nl; ++i) ts[i] = TsDouble(pk[i].ts_ns, ns_time);

  Values out;
  const uint64_t nF = f.n[0], nB = f.n[1], nP = nF + nB;
  const uint64_t payF = f.pay[0], payB = f.pay[1], payP = payF + payB;

  // Lists of a per-packet quantity over P (dir -1), F (0) or B (1), in arrival order.
  auto gather = [&](int dir, auto get) {
    v.clear();
    for (const ListedPacket& x : pk)
      if (dir < 0 || x.Dir() == dir) v.push_back(static_cast<double>(get(x)));
    return v.size();
  };

  // duration
  const double dur = f.last_ts - f.first_ts;
  if (ns_time) out.Empty(); else out.R(dur);
  out.U(nP);
  out.U(nF);
  out.U(nB);
  out.U(payP);
  out.U(payF);
  out.U(payB);

  auto payload = [](const ListedPacket& x) { return x.Payload(); };
  auto header = [](const ListedPacket& x) { return x.Header(); };
  auto segment = [](const ListedPacket& x) { return x.Header() + x.Payload(); };
  auto frame = [](const ListedPacket& x) { return x.Frame(); };

  // Statistics of a per-packet size over P, F, B (index 0, 1, 2). P's sorted values are the
  // merge of F's and B's.
  ListStats st[3];
  size_t stn[3];
  double st_total[3];
  auto tri = [&](auto get) {
    for (int d = 0; d < 2; ++d) {
      const size_t n = gather(d, get);
      stn[d + 1] = n;
      double total = 0;
      for (size_t i = 0; i < n; ++i) total += v[i];
      st_total[d + 1] = total;
      st[d + 1] = IntStats(v.data(), n, sorted_dir[d], scratch);
    }
    const size_t n = gather(-1, get);
    stn[0] = n;
    st_total[0] = st_total[1] + st_total[2];
    sorted.resize(n);
    std::merge(sorted_dir[0].begin(), sorted_dir[0].begin() + static_cast<long>(stn[1]), sorted_dir[1].begin(),
               sorted_dir[1].begin() + static_cast<long>(stn[2]), sorted.begin());
    st[0] = IntStats(v.data(), n, sorted, scratch, true);
  };
  // payload over P (unguarded), F, B (guarded on an empty direction).
  tri(payload);
  for (int w = 0; w < 3; ++w) {
    if (stn[w] == 0) {
      for (int i = 0; i < 9; ++i) out.Z();
      continue;
    }
    const ListStats& s = st[w];
    out.U(static_cast<uint64_t>(s.max));
    out.U(static_cast<uint64_t>(s.min));
    out.X(s.mean);
    out.X(s.std);
    out.X(s.var);
    out.X(s.median);
    out.X(s.skew);
    out.X(s.cov);
    out.X(s.mode);
  }
  // header: total, max, min, mean, std, median, skewness, cov, mode, variance.
  tri(header);
  for (int w = 0; w < 3; ++w) {
    if (stn[w] == 0) {
      for (int i = 0; i < 10; ++i) out.Z();
      continue;
    }
    const ListStats& s = st[w];
    out.U(static_cast<uint64_t>(st_total[w]));
    out.U(static_cast<uint64_t>(s.max));
    out.U(static_cast<uint64_t>(s.min));
    out.X(s.mean);
    out.X(s.std);
    out.X(s.median);
    out.X(s.skew);
    out.X(s.cov);
    out.X(s.mode);
    out.X(s.var);
  }
  // segment size (header + payload) over F, B, P: mean, max, min, std, variance, median,
  // skewness, cov, mode.
  tri(segment);
  for (int w : {1, 2, 0}) {
    if (stn[w] == 0) {
      for (int i = 0; i < 9; ++i) out.Z();
      continue;
    }
    const ListStats& s = st[w];
    out.X(s.mean);
    out.U(static_cast<uint64_t>(s.max));
    out.U(static_cast<uint64_t>(s.min));
    out.X(s.std);
    out.X(s.var);
    out.X(s.median);
    out.X(s.skew);
    out.X(s.cov);
    out.X(s.mode);
  }
  out.U(f.init_win[0]);
  out.U(f.init_win[1]);

  // active / idle.
  static const Periods kNoPeriods;
  const Periods& pr = f.periods ? periods[f.periods - 1] : kNoPeriods;
  {
    const std::vector<double>& A = pr.act;
    if (A.empty()) {
      for (int i = 0; i < 9; ++i) out.Z();
    } else {
      const ListStats s = FloatStats(A.data(), A.size(), sorted, scratch);
      out.R(s.min);
      out.R(s.max);
      out.X(s.mean);
      out.X(s.std);
      out.X(s.median);
      out.X(s.skew);
      out.X(s.cov);
      out.X(s.mode);
      out.X(s.var);
    }
    const std::vector<double>& I = pr.idle;
    const ListStats s = FloatStats(I.data(), I.size(), sorted, scratch);
    if (I.empty()) {
      for (int i = 0; i < 4; ++i) out.Z();
    } else {
      out.R(s.min);
      out.R(s.max);
      out.X(s.mean);
      out.X(s.std);
    }
    if (A.empty()) {  // N3: gated on the active list
      for (int i = 0; i < 5; ++i) out.Z();
    } else {
      out.X(s.median);
      out.X(s.skew);
      out.X(s.cov);
      out.X(s.mode);
      out.X(s.var);
    }
  }

  // rates over the whole-flow duration (D18); a nanosecond capture's duration raises.
  const uint64_t rate_num[6] = {payP, payF, payB, nP, nB, nF};
  for (uint64_t x : rate_num) {
    if (ns_time) out.Empty();
    else if (dur == 0.0) out.Z();
    else out.R(static_cast<double>(x) / dur);
  }
  if (nF) out.R(static_cast<double>(nB) / static_cast<double>(nF)); else out.Z();

  // bulk.
  for (int d = 0; d < 2; ++d) {
    const NtlBulk& b = f.bulk[d];
    if (b.states) {
      out.R(static_cast<double>(b.bytes) / static_cast<double>(b.states));
      out.R(static_cast<double>(b.pkts) / static_cast<double>(b.states));
    } else {
      out.Z();
      out.Z();
    }
    if (b.dur != 0) out.R(static_cast<double>(b.bytes) / b.dur); else out.Z();
  }
  for (int d = 0; d < 2; ++d) {
    const NtlBulk& b = f.bulk[d];
    out.U(b.states);
    out.U(b.bytes);
    out.U(b.pkts);
    if (f.bits & (d == 0 ? kBulkDurF : kBulkDurB)) out.R(b.dur); else out.Z();
  }

  // flags: counts all/fwd/bwd, ratios in total, ratios in direction.
  for (int bit : kFlagColumnBits) out.U(static_cast<uint64_t>(f.flags[0][bit]) + f.flags[1][bit]);
  for (int d = 0; d < 2; ++d)
    for (int bit : kFlagColumnBits) out.U(f.flags[d][bit]);
  for (int bit : kFlagColumnBits)
    out.R(static_cast<double>(f.flags[0][bit] + f.flags[1][bit]) / static_cast<double>(nP));
  for (int d = 0; d < 2; ++d)
    for (int bit : kFlagColumnBits) out.R(static_cast<double>(f.flags[d][bit]) / static_cast<double>(nP));
  for (int d = 0; d < 2; ++d)
    for (int bit : kFlagColumnBits) {
      if (f.n[d]) out.R(static_cast<double>(f.flags[d][bit]) / static_cast<double>(f.n[d])); else out.Z();
    }

  // IAT over P, F, B (arrival order; a 1-packet list holds the timestamp, D6).
  for (int dir = -1; dir <= 1; ++dir) {
    v.clear();
    int64_t prev_ns = 0;
    double prev = 0;
    size_t cnt = 0;
    for (size_t i = 0; i < nl; ++i) {
      if (dir >= 0 && pk[i].Dir() != dir) continue;
      if (cnt > 0) {
        v.push_back(ns_time ? exact::RatioToDouble(pk[i].ts_ns - prev_ns, kNsPerSec) : ts[i] - prev);
      }
      prev_ns = pk[i].ts_ns;
      prev = ts[i];
      ++cnt;
    }
    if (cnt == 1) v.push_back(prev);
    const size_t n = v.size();
    if (n == 0) {
      for (int i = 0; i < 6; ++i) out.Z();
      out.X(std::numeric_limits<double>::quiet_NaN());
      out.X(std::numeric_limits<double>::quiet_NaN());
      out.Z();
      out.Z();
      continue;
    }
    double total = 0;
    for (double x : v) total += x;  // Python sum(): left to right
    const ListStats s = FloatStats(v.data(), n, sorted, scratch);
    out.X(s.mean);
    out.X(s.std);
    out.R(s.max);
    out.R(s.min);
    out.R(total);
    out.X(s.median);
    out.X(s.skew);
    out.X(s.cov);
    out.X(s.mode);
    out.X(s.var);
  }

  // subflows (sfcount = gaps > 1 s; D4: bwd bytes repeat the fwd bytes).
  if (f.sfcount == 0) {
    for (int i = 0; i < 4; ++i) out.Z();
  } else {
    const double k = static_cast<double>(f.sfcount);
    out.R(static_cast<double>(nF) / k);
    out.R(static_cast<double>(nB) / k);
    out.R(static_cast<double>(payF) / k);
    out.R(static_cast<double>(payF) / k);
  }

  // handshake.
  if (f.bits & kHsDone) {
    if (ns_time) {
      out.Dec(DecimalNs(f.hs_other_ns - f.hs_last_ns));
      out.Dec(DecimalNs(f.hs_last_ns - f.hs_first_ns));
    } else {
      out.X(TsDouble(f.hs_other_ns, false) - TsDouble(f.hs_last_ns, false));
      out.X(TsDouble(f.hs_last_ns, false) - TsDouble(f.hs_first_ns, false));
    }
  } else {
    out.Text(0);
    out.Text(0);
  }
  out.U(f.hs_state);

  // Sorted order of the listed packets: by timestamp, equal timestamps in reverse arrival
  // order (Python's sort of (timestamp, packet) pairs whose packets compare with <=).
  order.resize(nl);
  for (size_t i = 0; i < nl; ++i) order[i] = static_cast<uint32_t>(i);
  bool increasing = true;  // the usual case: arrival order is already the sorted order
  for (size_t i = 1; i < nl && increasing; ++i) increasing = pk[i - 1].ts_ns < pk[i].ts_ns;
  if (!increasing) {
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      return pk[a].ts_ns != pk[b].ts_ns ? pk[a].ts_ns < pk[b].ts_ns : a > b;
    });
  }

  // delta time: microsecond remainder of consecutive sorted datetimes, in ms (N2).
  us.resize(nl);
  for (size_t i = 0; i < nl; ++i) us[i] = ntl::DatetimeMicros(ts[i]);
  ListStats dt[3];
  size_t dtn[3];
  for (int dir = -1; dir <= 1; ++dir) {
    std::vector<double>& L = v;
    L.clear();
    sorted_dir[0].clear();  // the remainders in us, sorted as integers (m -> m / 1000 is monotone)
    int64_t prev = 0;
    bool have = false;
    for (uint32_t i : order) {
      if (dir >= 0 && pk[i].Dir() != dir) continue;
      if (have) {
        const int64_t m = (us[i] - prev) % 1000000;
        L.push_back(static_cast<double>(m) / 1000.0);
        sorted_dir[0].push_back(static_cast<double>(m));
      }
      prev = us[i];
      have = true;
    }
    const size_t n = L.size();
    SortIntValued(sorted_dir[0], n, radix_k0, radix_k1);
    sorted.resize(n);
    for (size_t i = 0; i < n; ++i) sorted[i] = sorted_dir[0][i] / 1000.0;
    dtn[dir + 1] = n;
    dt[dir + 1] = FloatStats(L.data(), n, sorted, scratch, true);
  }
  auto dt_rest = [&](int w) {  // mean, mode, variance, std, median, skewness, cov
    if (dtn[w] == 0) {
      for (int i = 0; i < 7; ++i) out.Z();
      return;
    }
    const ListStats& s = dt[w];
    out.X(s.mean);
    out.X(s.mode);
    out.X(s.var);
    out.X(s.std);
    out.X(s.median);
    out.X(s.skew);
    out.X(s.cov);
  };
  // N1: the all-packet min/max are overwritten by the backward ones under the bwd names.
  if (dtn[2]) {
    out.X(dt[2].min);
    out.X(dt[2].max);
  } else {
    out.Z();
    out.Z();
  }
  dt_rest(0);
  dt_rest(2);
  if (dtn[1]) {
    out.X(dt[1].min);
    out.X(dt[1].max);
  } else {
    out.Z();
    out.Z();
  }
  dt_rest(1);

  // delta len of frame length, header bytes, payload bytes; each over P, B, F.
  auto delta_len = [&](auto get) {
    for (int dir : {-1, 1, 0}) {
      v.clear();
      double prev = 0;
      bool have = false;
      for (uint32_t i : order) {
        if (dir >= 0 && pk[i].Dir() != dir) continue;
        const double x = static_cast<double>(get(pk[i]));
        if (have) v.push_back(x - prev);
        prev = x;
        have = true;
      }
      const size_t n = v.size();
      if (n == 0) {
        for (int i = 0; i < 9; ++i) out.Z();
        continue;
      }
      const ListStats s = IntStats(v.data(), n, sorted, scratch);  // integer-valued differences
      out.R(s.min);
      out.R(s.max);
      out.X(s.mean);
      out.X(s.mode);
      out.X(s.var);
      out.X(s.std);
      out.X(s.median);
      out.X(s.skew);
      out.X(s.cov);
    }
  };
  delta_len(frame);
  delta_len(header);
  delta_len(payload);

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
  if (f.periods) {
    periods[f.periods - 1].act.clear();
    periods[f.periods - 1].idle.clear();
    free_periods.push_back(f.periods);
  }
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

void NtlEngine::Flush(EndReason reason) { impl_->Flush(reason); }

void NtlEngine::AddExporter(FlowExporter& exporter) {
  exporter.Begin(Profile::kNtl, kNtlFeatureSet);
  impl_->exporters.push_back(&exporter);
}

}  // namespace nfm
