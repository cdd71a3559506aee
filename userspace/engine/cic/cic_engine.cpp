// SPDX-License-Identifier: MIT
// CicEngine: per-packet procedure of CIC.md §3.1 (reference) or its corrected variant, the
// §4 state updates and the §5 feature values. Text rendering lives in output/cic_row.cpp.
#include "engine/cic/cic_engine.hpp"
#include "engine/contract.hpp"
#include "engine/touched_flows.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <tuple>
#include <vector>

#include "engine/cic/cic_flow.hpp"
#include "engine/column_writer.hpp"
#include "engine/flow_key.hpp"
#include "engine/flow_table.hpp"
#include "engine/flow_tunnels.hpp"
#include "engine/tcp_flags.hpp"

namespace nfm {

static_assert(FlowEngineLike<CicEngine>);

double CicStat::Std() const noexcept {
  if (n == 0) return __builtin_nan("");
  if (n == 1) return 0.0;
  return std::sqrt(m2 / (static_cast<double>(n) - 1.0));
}

namespace {

constexpr int64_t kFlowTimeoutUs = 120000000;  // Cmd: FLOW_TIMEOUT
constexpr int64_t kActivityUs = 5000000;        // Cmd: ACTIVITY_TIMEOUT
constexpr int64_t kBulkGapUs = 1000000;
constexpr int64_t kSubflowGapUs = 1000000;

// The 76 feature columns of CIC.md §5 in CSV order: id, CSV name, value type, unit, direction.
// Integer columns are Java longs (IPFIX signed64); the unit rule is engine/feature_columns.hpp's.
// Subflow columns: corrected divides as reals (C13), so they are float columns.
// clang-format off
#define NFM_CIC_COLUMNS(X) \
  X(kFlowDuration, "Flow Duration", U, "microseconds", kBoth) \
  X(kTotalFwdPacket, "Total Fwd Packet", U, "packets", kFwd) \
  X(kTotalBwdPackets, "Total Bwd packets", U, "packets", kBwd) \
  X(kTotalLengthOfFwdPacket, "Total Length of Fwd Packet", F, "bytes", kFwd) \
  X(kTotalLengthOfBwdPacket, "Total Length of Bwd Packet", F, "bytes", kBwd) \
  X(kFwdPacketLengthMax, "Fwd Packet Length Max", F, "bytes", kFwd) \
  X(kFwdPacketLengthMin, "Fwd Packet Length Min", F, "bytes", kFwd) \
  X(kFwdPacketLengthMean, "Fwd Packet Length Mean", F, "bytes", kFwd) \
  X(kFwdPacketLengthStd, "Fwd Packet Length Std", F, "bytes", kFwd) \
  X(kBwdPacketLengthMax, "Bwd Packet Length Max", F, "bytes", kBwd) \
  X(kBwdPacketLengthMin, "Bwd Packet Length Min", F, "bytes", kBwd) \
  X(kBwdPacketLengthMean, "Bwd Packet Length Mean", F, "bytes", kBwd) \
  X(kBwdPacketLengthStd, "Bwd Packet Length Std", F, "bytes", kBwd) \
  X(kFlowBytesS, "Flow Bytes/s", F, "bytes/second", kBoth) \
  X(kFlowPacketsS, "Flow Packets/s", F, "packets/second", kBoth) \
  X(kFlowIATMean, "Flow IAT Mean", F, "microseconds", kBoth) \
  X(kFlowIATStd, "Flow IAT Std", F, "microseconds", kBoth) \
  X(kFlowIATMax, "Flow IAT Max", F, "microseconds", kBoth) \
  X(kFlowIATMin, "Flow IAT Min", F, "microseconds", kBoth) \
  X(kFwdIATTotal, "Fwd IAT Total", F, "microseconds", kFwd) \
  X(kFwdIATMean, "Fwd IAT Mean", F, "microseconds", kFwd) \
  X(kFwdIATStd, "Fwd IAT Std", F, "microseconds", kFwd) \
  X(kFwdIATMax, "Fwd IAT Max", F, "microseconds", kFwd) \
  X(kFwdIATMin, "Fwd IAT Min", F, "microseconds", kFwd) \
  X(kBwdIATTotal, "Bwd IAT Total", F, "microseconds", kBwd) \
  X(kBwdIATMean, "Bwd IAT Mean", F, "microseconds", kBwd) \
  X(kBwdIATStd, "Bwd IAT Std", F, "microseconds", kBwd) \
  X(kBwdIATMax, "Bwd IAT Max", F, "microseconds", kBwd) \
  X(kBwdIATMin, "Bwd IAT Min", F, "microseconds", kBwd) \
  X(kFwdPSHFlags, "Fwd PSH Flags", U, "packets", kFwd) \
  X(kBwdPSHFlags, "Bwd PSH Flags", U, "packets", kBwd) \
  X(kFwdURGFlags, "Fwd URG Flags", U, "packets", kFwd) \
  X(kBwdURGFlags, "Bwd URG Flags", U, "packets", kBwd) \
  X(kFwdHeaderLength, "Fwd Header Length", U, "bytes", kFwd) \
  X(kBwdHeaderLength, "Bwd Header Length", U, "bytes", kBwd) \
  X(kFwdPacketsS, "Fwd Packets/s", F, "packets/second", kFwd) \
  X(kBwdPacketsS, "Bwd Packets/s", F, "packets/second", kBwd) \
  X(kPacketLengthMin, "Packet Length Min", F, "bytes", kBoth) \
  X(kPacketLengthMax, "Packet Length Max", F, "bytes", kBoth) \
  X(kPacketLengthMean, "Packet Length Mean", F, "bytes", kBoth) \
  X(kPacketLengthStd, "Packet Length Std", F, "bytes", kBoth) \
  X(kPacketLengthVariance, "Packet Length Variance", F, "bytes^2", kBoth) \
  X(kFINFlagCount, "FIN Flag Count", U, "packets", kBoth) \
  X(kSYNFlagCount, "SYN Flag Count", U, "packets", kBoth) \
  X(kRSTFlagCount, "RST Flag Count", U, "packets", kBoth) \
  X(kPSHFlagCount, "PSH Flag Count", U, "packets", kBoth) \
  X(kACKFlagCount, "ACK Flag Count", U, "packets", kBoth) \
  X(kURGFlagCount, "URG Flag Count", U, "packets", kBoth) \
  X(kCWRFlagCount, "CWR Flag Count", U, "packets", kBoth) \
  X(kECEFlagCount, "ECE Flag Count", U, "packets", kBoth) \
  X(kDownUpRatio, "Down/Up Ratio", F, "", kBoth) \
  X(kAveragePacketSize, "Average Packet Size", F, "bytes", kBoth) \
  X(kFwdSegmentSizeAvg, "Fwd Segment Size Avg", F, "bytes", kFwd) \
  X(kBwdSegmentSizeAvg, "Bwd Segment Size Avg", F, "bytes", kBwd) \
  X(kFwdBytesBulkAvg, "Fwd Bytes/Bulk Avg", U, "bytes", kFwd) \
  X(kFwdPacketBulkAvg, "Fwd Packet/Bulk Avg", U, "packets", kFwd) \
  X(kFwdBulkRateAvg, "Fwd Bulk Rate Avg", U, "bytes/second", kFwd) \
  X(kBwdBytesBulkAvg, "Bwd Bytes/Bulk Avg", U, "bytes", kBwd) \
  X(kBwdPacketBulkAvg, "Bwd Packet/Bulk Avg", U, "packets", kBwd) \
  X(kBwdBulkRateAvg, "Bwd Bulk Rate Avg", U, "bytes/second", kBwd) \
  X(kSubflowFwdPackets, "Subflow Fwd Packets", F, "packets", kFwd) \
  X(kSubflowFwdBytes, "Subflow Fwd Bytes", F, "bytes", kFwd) \
  X(kSubflowBwdPackets, "Subflow Bwd Packets", F, "packets", kBwd) \
  X(kSubflowBwdBytes, "Subflow Bwd Bytes", F, "bytes", kBwd) \
  X(kFWDInitWinBytes, "FWD Init Win Bytes", U, "bytes", kFwd) \
  X(kBwdInitWinBytes, "Bwd Init Win Bytes", U, "bytes", kBwd) \
  X(kFwdActDataPkts, "Fwd Act Data Pkts", U, "packets", kFwd) \
  X(kFwdSegSizeMin, "Fwd Seg Size Min", U, "bytes", kFwd) \
  X(kActiveMean, "Active Mean", F, "microseconds", kBoth) \
  X(kActiveStd, "Active Std", F, "microseconds", kBoth) \
  X(kActiveMax, "Active Max", F, "microseconds", kBoth) \
  X(kActiveMin, "Active Min", F, "microseconds", kBoth) \
  X(kIdleMean, "Idle Mean", F, "microseconds", kBoth) \
  X(kIdleStd, "Idle Std", F, "microseconds", kBoth) \
  X(kIdleMax, "Idle Max", F, "microseconds", kBoth) \
  X(kIdleMin, "Idle Min", F, "microseconds", kBoth)
// clang-format on

constexpr FeatureType U = FeatureType::kUnsigned, F = FeatureType::kFloat;
constexpr FeatureDir kFwd = FeatureDir::kFwd, kBwd = FeatureDir::kBwd, kBoth = FeatureDir::kBoth;

// Column ids: CicCol::kFlowDuration is the position of "Flow Duration", and so on.
#define NFM_CIC_ENUM(id, name, type, unit, dir) id,
enum class CicCol : uint8_t { NFM_CIC_COLUMNS(NFM_CIC_ENUM) kCount };
#undef NFM_CIC_ENUM
static_assert(static_cast<int>(CicCol::kCount) == kCicFeatures);

#define NFM_CIC_INFO(id, name, type, unit, dir) \
  FeatureInfo{name, type, unit, dir, "CICFlowMeter's `" name "` (docs/FEATURES.md, CIC set)", \
              type == FeatureType::kFloat ? IpfixType::kFloat64 : IpfixType::kSigned64},
constexpr FeatureInfo kCicColumns[kCicFeatures] = {NFM_CIC_COLUMNS(NFM_CIC_INFO)};
#undef NFM_CIC_INFO
const FeatureSet kCicSet{"cic", std::span<const FeatureInfo>(kCicColumns), FeatureSetId::kCic};

// Java String.hashCode of the flow key text "src-dst-sport-dport-proto" (IPv4 dotted), then
// HashMap's spread h ^ (h >>> 16) (CIC §3.4).
uint32_t JavaKeySpread(const FlowKey& k) noexcept {
  uint32_t h = 0;
  auto str = [&h](const char* p, const char* e) {
    for (; p < e; ++p) h = 31u * h + static_cast<uint8_t>(*p);
  };
  auto num = [&](unsigned v) {
    char b[12];
    int n = 0;
    do {
      b[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v);
    while (n) h = 31u * h + static_cast<uint8_t>(b[--n]);
  };
  static const char kDash[] = "-";
  static const char kDot[] = ".";
  for (const uint8_t* a : {k.a, k.b}) {
    for (int i = 12; i < 16; ++i) {
      num(a[i]);
      if (i < 15) str(kDot, kDot + 1);
    }
    str(kDash, kDash + 1);
  }
  num(k.pa);
  str(kDash, kDash + 1);
  num(k.pb);
  str(kDash, kDash + 1);
  num(k.proto);
  return h ^ (h >> 16);
}

// Java's (long) cast of a double: truncation, NaN -> 0, saturation.
int64_t JavaLong(double x) noexcept {
  if (std::isnan(x)) return 0;
  if (x >= 9223372036854775807.0) return std::numeric_limits<int64_t>::max();
  if (x <= -9223372036854775808.0) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(x);
}

}  // namespace

const FeatureSet& CicFeatureSet() noexcept { return kCicSet; }

struct CicEngine::Impl {
  explicit Impl(const EngineConfig& c)
      : table(c.max_flows),
        exact(c.profile == Profile::kCic),
        idle_us(static_cast<int64_t>(c.idle_timeout_s * 1e6)),
        grace_us(static_cast<int64_t>(c.close_grace_s * 1e6)),
        activity_us(exact ? kActivityUs : static_cast<int64_t>(c.activity_threshold_s * 1e6)) {
    if (!exact && c.snapshot_interval_s > 0) {
      snap_us = std::max<int64_t>(1, static_cast<int64_t>(c.snapshot_interval_s * 1e6));
      touched.Init(table.Capacity());
      next_snap_us = 0;  // the first packet sets the first snapshot time
    }
    if (!exact && c.tunnel_columns) tunnels.Init(table.Capacity());
  }

  FlowTable<CicFlow> table;
  std::vector<FlowExporter*> exporters;
  const bool exact;
  const int64_t idle_us, grace_us, activity_us;
  FeatureValue vals[kCicFeatures];
  EngineStats* stats = nullptr;
  // Snapshots (corrected set, --snapshot-interval): every multiple of snap_us the clock (the
  // latest packet or AdvanceTime time, µs) reaches, the flows touched since the previous one.
  int64_t snap_us = 0;
  int64_t next_snap_us = std::numeric_limits<int64_t>::max();
  int64_t now_us = 0;
  TouchedFlows touched;
  FlowTunnels tunnels;  // corrected, --where-columns tunnel only
  uint32_t created = 0;  // the flow Create made last
  // kCic: the reference's HashMap<String, Flow> holds exactly our open flows; it only grows
  // (16, doubling when size > 3/4 capacity) and iterates bucket by bucket, each chain in put
  // order. put_seq and the largest size reproduce its end-of-input order (CIC §3.4, C22).
  uint64_t put_seq = 0;
  uint64_t java_cap = 16;

  // ---- state updates (§4) ----
  void Act(CicFlow& f, int64_t t) const noexcept {
    if (t - f.active_end > activity_us) {
      if (f.active_end - f.active_start > 0) f.active.Add(static_cast<double>(f.active_end - f.active_start));
      f.idle.Add(static_cast<double>(t - f.active_end));
      f.active_start = f.active_end = t;
    } else {
      f.active_end = t;
    }
  }

  static void BulkMachine(CicBulk& b, int64_t t, int64_t s) noexcept {
    if (s <= 0) return;
    if (b.start == 0 || t - b.last > kBulkGapUs) {
      b.start = b.last = t;
      b.cnt = 1;
      b.size = s;
      return;
    }
    b.cnt += 1;
    b.size += s;
    if (b.cnt == 4) {
      b.states += 1;
      b.pkts += 4;
      b.bytes += b.size;
      b.dur += t - b.start;
      b.last_bulk = t;
    } else if (b.cnt > 4) {
      b.pkts += 1;
      b.bytes += s;
      b.dur += t - b.last;
      b.last_bulk = t;
    }
    b.last = t;
  }

  void Bulk(CicFlow& f, bool fwd, int64_t t, int64_t s) const noexcept {
    if (exact) {  // C3: `==` on byte arrays is always false: one machine for every packet
      BulkMachine(f.bulk[1], t, s);
      return;
    }
    CicBulk& mine = f.bulk[fwd ? 0 : 1];
    const CicBulk& other = f.bulk[fwd ? 1 : 0];
    if (other.last_bulk > mine.start) mine.start = 0;  // the other side interrupted this bulk
    BulkMachine(mine, t, s);
  }

  void Subflow(CicFlow& f, int64_t t) const noexcept {
    if (!f.sf_set) {
      f.sf_set = 1;
      f.sf_last = t;
    }
    if (t - f.sf_last > kSubflowGapUs) {
      f.sf_count += 1;
      Act(f, t);
    }
    f.sf_last = t;
  }

  void Flags(CicFlow& f, uint8_t fl) const noexcept {
    for (int b = 0; b < 8; ++b) f.flag_cnt[b] += (fl >> b) & 1u;
  }

  // §4.1: the first packet of a flow (always forward in the reference).
  void First(CicFlow& f, const PacketMeta& p, int64_t t) const noexcept {
    const int64_t pl = p.payload_ip, hl = p.l4_header_len;
    f.proto = p.proto;
    f.ip_version = p.ip_version;
    Bulk(f, true, t, pl);
    Subflow(f, t);
    Flags(f, p.tcp_flags);
    f.start = f.last_seen = f.active_start = f.active_end = t;
    f.len.Add(static_cast<double>(pl));
    if (exact) f.len.Add(static_cast<double>(pl));  // C1
    f.fwd.Add(static_cast<double>(pl));
    f.fwd_hdr = hl;
    f.fwd_hdr_min = hl;
    f.fwd_seg_min = pl;
    f.init_win_fwd = p.window;
    f.fwd_last = t;
    f.fwd_bytes += pl;
    f.psh[0] = (p.tcp_flags & kTcpPsh) ? 1 : 0;
    f.urg[0] = (p.tcp_flags & kTcpUrg) ? 1 : 0;
    f.flags_or[0] = p.tcp_flags;
    if (!exact && pl >= 1) f.act_data_fwd = 1;  // C9
    if (!exact && (p.tcp_flags & kTcpFin)) f.fin_fwd = 1;
  }

  // §4.2: every later packet.
  void Add(CicFlow& f, const PacketMeta& p, bool fwd, int64_t t) const noexcept {
    const int64_t pl = p.payload_ip, hl = p.l4_header_len;
    Bulk(f, fwd, t, pl);
    Subflow(f, t);
    Flags(f, p.tcp_flags);
    f.len.Add(static_cast<double>(pl));
    if (fwd) {
      if (pl >= 1) f.act_data_fwd += 1;
      f.fwd.Add(static_cast<double>(pl));
      f.fwd_hdr += hl;
      f.fwd_bytes += pl;
      if (f.fwd.n > 1) f.fwd_iat.Add(static_cast<double>(t - f.fwd_last));
      f.fwd_last = t;
      if (hl < f.fwd_hdr_min) f.fwd_hdr_min = hl;
      if (pl < f.fwd_seg_min) f.fwd_seg_min = pl;
    } else {
      f.bwd.Add(static_cast<double>(pl));
      if (exact || !f.bwd_win_set) f.init_win_bwd = p.window;  // C8
      f.bwd_win_set = 1;
      f.bwd_hdr += hl;
      f.bwd_bytes += pl;
      if (f.bwd.n > 1) f.bwd_iat.Add(static_cast<double>(t - f.bwd_last));
      f.bwd_last = t;
    }
    f.flags_or[fwd ? 0 : 1] |= p.tcp_flags;
    if (!exact) {  // C2: PSH/URG per direction over all packets
      const int d = fwd ? 0 : 1;
      f.psh[d] += (p.tcp_flags & kTcpPsh) ? 1 : 0;
      f.urg[d] += (p.tcp_flags & kTcpUrg) ? 1 : 0;
    }
    f.flow_iat.Add(static_cast<double>(t - f.last_seen));
    f.last_seen = t;
  }

  // ---- export (§5) ----
  static FeatureValue J(double x) noexcept { return FeatureValue::Java(x); }
  static FeatureValue L(int64_t x) noexcept { return FeatureValue::Int(x); }
  static FeatureValue Zero() noexcept { return FeatureValue::Uint(0); }  // the literal "0" guard

  void Emit(uint32_t id, EndReason reason) { EmitFlow(table.At(id), reason, RowKind::kFinal, tunnels.Of(id)); }

  // The row of flow f (a snapshot: a copy of an open flow's record, since the row records the
  // flow's last active period into it).
  void EmitFlow(CicFlow& f, EndReason reason, RowKind kind, const TunnelMeta* tunnel) {
    if (!exact && f.active_end - f.active_start > 0) {  // C11: record the last active period
      f.active.Add(static_cast<double>(f.active_end - f.active_start));
      f.active_start = f.active_end;
    }
    const int64_t nf = f.fwd.n, nb = f.bwd.n;
    const int64_t dur = f.last_seen - f.start;
    const double dur_s = static_cast<double>(dur) / 1000000.0;
    using C = CicCol;
    // Writes the 76 values through `w` (a ColumnWriter<CicCol, kCheck>).
    auto fill = [&](auto& w) __attribute__((always_inline)) {
      auto Put = [&w](C c, FeatureValue x) __attribute__((always_inline)) { w.Put(c, x); };
      Put(C::kFlowDuration, L(dur));
      Put(C::kTotalFwdPacket, L(nf));
      Put(C::kTotalBwdPackets, L(nb));
      Put(C::kTotalLengthOfFwdPacket, J(f.fwd.sum));
      Put(C::kTotalLengthOfBwdPacket, J(f.bwd.sum));
      auto stat4 = [&](const CicStat& s, const C (&col)[4]) {  // max, min, mean, std or the "0" guard
        if (s.n == 0) {
          w.PutEach(col, Zero());
        } else {
          Put(col[0], J(s.Max()));
          Put(col[1], J(s.Min()));
          Put(col[2], J(s.Mean()));
          Put(col[3], J(s.Std()));
        }
      };
      stat4(f.fwd, {C::kFwdPacketLengthMax, C::kFwdPacketLengthMin, C::kFwdPacketLengthMean, C::kFwdPacketLengthStd});
      stat4(f.bwd, {C::kBwdPacketLengthMax, C::kBwdPacketLengthMin, C::kBwdPacketLengthMean, C::kBwdPacketLengthStd});
      const double bytes = static_cast<double>(f.fwd_bytes + f.bwd_bytes);
      const double pkts = static_cast<double>(nf + nb);
      if (exact || dur != 0) {  // C15: no guard in the reference
        Put(C::kFlowBytesS, J(bytes / dur_s));
        Put(C::kFlowPacketsS, J(pkts / dur_s));
      } else {
        Put(C::kFlowBytesS, J(0.0));
        Put(C::kFlowPacketsS, J(0.0));
      }
      static constexpr C kFlowIat[4] = {C::kFlowIATMean, C::kFlowIATStd, C::kFlowIATMax, C::kFlowIATMin};
      if (exact || f.flow_iat.n > 0) {
        Put(C::kFlowIATMean, J(f.flow_iat.Mean()));
        Put(C::kFlowIATStd, J(f.flow_iat.Std()));
        Put(C::kFlowIATMax, J(f.flow_iat.Max()));
        Put(C::kFlowIATMin, J(f.flow_iat.Min()));
      } else {
        w.PutEach(kFlowIat, Zero());
      }
      auto iat5 = [&](const CicStat& s, int64_t n, const C (&col)[5]) {
        if (n <= 1) {
          w.PutEach(col, Zero());
        } else {
          Put(col[0], J(s.sum));
          Put(col[1], J(s.Mean()));
          Put(col[2], J(s.Std()));
          Put(col[3], J(s.Max()));
          Put(col[4], J(s.Min()));
        }
      };
      iat5(f.fwd_iat, nf, {C::kFwdIATTotal, C::kFwdIATMean, C::kFwdIATStd, C::kFwdIATMax, C::kFwdIATMin});
      iat5(f.bwd_iat, nb, {C::kBwdIATTotal, C::kBwdIATMean, C::kBwdIATStd, C::kBwdIATMax, C::kBwdIATMin});
      Put(C::kFwdPSHFlags, L(f.psh[0]));
      Put(C::kBwdPSHFlags, L(f.psh[1]));
      Put(C::kFwdURGFlags, L(f.urg[0]));
      Put(C::kBwdURGFlags, L(f.urg[1]));
      Put(C::kFwdHeaderLength, L(f.fwd_hdr));
      Put(C::kBwdHeaderLength, L(f.bwd_hdr));
      Put(C::kFwdPacketsS, J(dur > 0 ? static_cast<double>(nf) / dur_s : 0.0));
      Put(C::kBwdPacketsS, J(dur > 0 ? static_cast<double>(nb) / dur_s : 0.0));
      Put(C::kPacketLengthMin, J(f.len.Min()));
      Put(C::kPacketLengthMax, J(f.len.Max()));
      Put(C::kPacketLengthMean, J(f.len.Mean()));
      Put(C::kPacketLengthStd, J(f.len.Std()));
      Put(C::kPacketLengthVariance, J(f.len.Variance()));
      static constexpr int kFlagBits[8] = {0, 1, 2, 3, 4, 5, 7, 6};  // FIN SYN RST PSH ACK URG CWR ECE
      static constexpr C kFlagCols[8] = {C::kFINFlagCount, C::kSYNFlagCount, C::kRSTFlagCount, C::kPSHFlagCount,
                                         C::kACKFlagCount, C::kURGFlagCount, C::kCWRFlagCount, C::kECEFlagCount};
      for (int i = 0; i < 8; ++i) Put(kFlagCols[i], L(f.flag_cnt[kFlagBits[i]]));
      if (exact) {
        Put(C::kDownUpRatio, J(nf > 0 ? static_cast<double>(nb / nf) : 0.0));  // C14: integer division
      } else {
        Put(C::kDownUpRatio, J(nf > 0 ? static_cast<double>(nb) / static_cast<double>(nf) : 0.0));
      }
      Put(C::kAveragePacketSize, J(nf + nb > 0 ? f.len.sum / pkts : 0.0));
      Put(C::kFwdSegmentSizeAvg, J(nf > 0 ? f.fwd.sum / static_cast<double>(nf) : 0.0));
      Put(C::kBwdSegmentSizeAvg, J(nb > 0 ? f.bwd.sum / static_cast<double>(nb) : 0.0));
      static constexpr C kBulkCols[2][3] = {{C::kFwdBytesBulkAvg, C::kFwdPacketBulkAvg, C::kFwdBulkRateAvg},
                                            {C::kBwdBytesBulkAvg, C::kBwdPacketBulkAvg, C::kBwdBulkRateAvg}};
      for (int d = 0; d < 2; ++d) {
        const CicBulk& b = f.bulk[d];
        Put(kBulkCols[d][0], L(b.states != 0 ? b.bytes / b.states : 0));
        Put(kBulkCols[d][1], L(b.states != 0 ? b.pkts / b.states : 0));
        Put(kBulkCols[d][2], L(b.dur != 0 ? JavaLong(static_cast<double>(b.bytes) /
                                                     (static_cast<double>(b.dur) / 1000000.0))
                                          : 0));
      }
      if (exact) {  // C13: sf_count = number of gaps, integer division
        const int64_t sf = f.sf_count;
        Put(C::kSubflowFwdPackets, L(sf > 0 ? nf / sf : 0));
        Put(C::kSubflowFwdBytes, L(sf > 0 ? f.fwd_bytes / sf : 0));
        Put(C::kSubflowBwdPackets, L(sf > 0 ? nb / sf : 0));
        Put(C::kSubflowBwdBytes, L(sf > 0 ? f.bwd_bytes / sf : 0));
      } else {
        const double sf = static_cast<double>(f.sf_count + 1);
        Put(C::kSubflowFwdPackets, J(static_cast<double>(nf) / sf));
        Put(C::kSubflowFwdBytes, J(static_cast<double>(f.fwd_bytes) / sf));
        Put(C::kSubflowBwdPackets, J(static_cast<double>(nb) / sf));
        Put(C::kSubflowBwdBytes, J(static_cast<double>(f.bwd_bytes) / sf));
      }
      Put(C::kFWDInitWinBytes, L(f.init_win_fwd));
      Put(C::kBwdInitWinBytes, L(f.init_win_bwd));
      Put(C::kFwdActDataPkts, L(f.act_data_fwd));
      Put(C::kFwdSegSizeMin, L(exact ? f.fwd_hdr_min : f.fwd_seg_min));  // C10
      static constexpr C kPeriodCols[2][4] = {{C::kActiveMean, C::kActiveStd, C::kActiveMax, C::kActiveMin},
                                              {C::kIdleMean, C::kIdleStd, C::kIdleMax, C::kIdleMin}};
      for (int which = 0; which < 2; ++which) {
        const CicStat& s = which == 0 ? f.active : f.idle;
        const C(&col)[4] = kPeriodCols[which];
        if (s.n == 0) {
          w.PutEach(col, Zero());
        } else {
          Put(col[0], J(s.Mean()));
          Put(col[1], J(s.Std()));
          Put(col[2], J(s.Max()));
          Put(col[3], J(s.Min()));
        }
      }
    };
    if (ColumnChecks()) [[unlikely]] {
      ColumnWriter<C, true> w(vals);
      fill(w);
      if (!w.Complete()) ColumnOrderFailure(kCicSet, w.FirstMissing());
    } else {
      ColumnWriter<C, false> w(vals);
      fill(w);
    }

    FlowView view;
    view.src = f.key.a;
    view.dst = f.key.b;
    view.sport = f.key.pa;
    view.dport = f.key.pb;
    view.proto = f.key.proto;
    view.ip_version = f.ip_version;
    view.profile = exact ? Profile::kCic : Profile::kCorrected;
    view.reason = reason;
    view.row_kind = kind;
    view.first_ns = f.start * 1000;
    view.last_ns = f.last_seen * 1000;
    view.packets[0] = static_cast<uint64_t>(nf);
    view.packets[1] = static_cast<uint64_t>(nb);
    view.payload_bytes[0] = static_cast<uint64_t>(f.fwd_bytes);
    view.payload_bytes[1] = static_cast<uint64_t>(f.bwd_bytes);
    view.tcp_flags[0] = f.flags_or[0];
    view.tcp_flags[1] = f.flags_or[1];  // ip_bytes stay 0: CICFlowMeter counts no IP bytes
    view.tunnel = tunnel;
    view.set = &kCicSet;
    view.features = std::span<const FeatureValue>(vals, kCicFeatures);
    for (FlowExporter* e : exporters) e->Export(view);
    if (kind == RowKind::kFinal) stats->flows_exported[static_cast<int>(reason)] += 1;
  }

  // ---- snapshots ----
  void Touch(uint32_t id) noexcept {
    CicFlow& f = table.At(id);
    if (f.touched) return;
    f.touched = 1;
    touched.Touch(id);
  }
  // The clock moved to t: past next_snap_us, every flow touched since the last snapshot is
  // exported as a snapshot (computed on a copy of its record) and stays open.
  void Clock(int64_t t) {
    if (t > now_us) now_us = t;
    if (now_us < next_snap_us || next_snap_us == std::numeric_limits<int64_t>::max()) return;
    touched.Drain([this](uint32_t id) {
      CicFlow& f = table.At(id);
      if (!f.touched) return;  // ended since it was listed
      f.touched = 0;
      CicFlow copy = f;
      EmitFlow(copy, EndReason::kActiveTimeout, RowKind::kSnapshot, tunnels.Of(id));
    });
    next_snap_us = NextSnapshotNs(now_us, snap_us);
  }

  // Ends flow `id`: written if the profile writes it (kCic: >= 2 packets at timeout/EOF).
  void End(uint32_t id, EndReason reason, bool check_count) {
    CicFlow& f = table.At(id);
    f.touched = 0;  // its slot, if still listed, is skipped
    if (!check_count || !exact || f.fwd.n + f.bwd.n > 1) Emit(id, reason);
    table.Erase(id);
    stats->flows_active = table.Size();
  }

  uint32_t Create(const FlowKey& k, uint64_t h, const PacketMeta& p, int64_t t) {
    if (table.Full()) {  // the reference has no limit: its oldest flow, corrected the least recently active
      End(table.Head(exact ? kListCreated : kListActivity), EndReason::kEviction, true);
    }
    const uint32_t id = table.Insert(k, h);
    created = id;
    if (tunnels.On()) tunnels.Clear(id);
    table.PushBack(kListCreated, id);
    table.PushBack(kListActivity, id);
    First(table.At(id), p, t);
    table.At(id).put_seq = ++put_seq;
    if (snap_us) Touch(id);
    while (table.Size() > java_cap / 4 * 3) java_cap *= 2;
    stats->flows_created += 1;
    stats->flows_active = table.Size();
    stats->packets_in_flows += 1;
    return id;
  }

  // The flow p belongs to, looked up under its key and then the reversed one (§3.1); when
  // neither exists, creates a flow for p and returns kNil. *fk / *fh: p's own key and hash.
  uint32_t FindOrCreate(const PacketMeta& p, int64_t t, FlowKey* fk, uint64_t* fh) {
    *fk = DirectedKey(p.saddr, p.daddr, p.sport, p.dport, p.proto);
    *fh = fk->Hash();
    uint32_t id = table.FindAny(*fk, *fh);
    if (id != FlowTable<CicFlow>::kNil) return id;
    const FlowKey bk = DirectedKey(p.daddr, p.saddr, p.dport, p.sport, p.proto);
    id = table.FindAny(bk, bk.Hash());
    if (id == FlowTable<CicFlow>::kNil) Create(*fk, *fh, p, t);
    return id;
  }

  void OnPacketExact(const PacketMeta& p, int64_t t) {
    FlowKey fk;
    uint64_t fh;
    const uint32_t id = FindOrCreate(p, t, &fk, &fh);
    if (id == FlowTable<CicFlow>::kNil) return;
    CicFlow& f = table.At(id);
    if (t - f.start > kFlowTimeoutUs) {  // §3.3: same key, src/dst/ports kept, p is "forward"
      const FlowKey key = f.key;
      const uint64_t h = key.Hash();
      End(id, EndReason::kActiveTimeout, true);
      Create(key, h, p, t);
      return;
    }
    const bool fwd = std::memcmp(p.saddr, f.key.a, 16) == 0;  // C6: IP only
    if (p.tcp_flags & kTcpFin) {
      if (fwd) {
        f.fin_fwd += 1;
        if (f.fin_fwd != 1) return;  // C5: repeated forward FIN dropped
        if (f.fin_bwd == 1) {
          Add(f, p, fwd, t);
          stats->packets_in_flows += 1;
          End(id, EndReason::kFin, false);
          return;
        }
        Act(f, t);
        Add(f, p, fwd, t);
        stats->packets_in_flows += 1;
        return;
      }
      f.fin_bwd += 1;  // C4: closes at the responder's first FIN
      Add(f, p, fwd, t);
      stats->packets_in_flows += 1;
      End(id, EndReason::kFin, false);
      return;
    }
    if (p.tcp_flags & kTcpRst) {
      Add(f, p, fwd, t);
      stats->packets_in_flows += 1;
      End(id, EndReason::kRst, false);
      return;
    }
    Act(f, t);
    Add(f, p, fwd, t);
    stats->packets_in_flows += 1;
  }

  // Corrected: (IP, port) direction, FIN both ways or RST + grace, idle and flow timeouts by
  // the clock, time clamped to be monotonic per flow (C16).
  // tun: the packet's tunnel with the tunnel columns on, else null.
  void OnPacketCorrected(const PacketMeta& p, int64_t t, const TunnelMeta* tun) {
    Expire(t);
    if (snap_us) Clock(t);
    FlowKey fk;
    uint64_t fh;
    const uint32_t id = FindOrCreate(p, t, &fk, &fh);
    if (id == FlowTable<CicFlow>::kNil) {
      if (tun) tunnels.Note(created, false, *tun);
      return;
    }
    CicFlow& f = table.At(id);
    if (t < f.last_seen) {
      stats->out_of_order += 1;
      t = f.last_seen;  // C16
    }
    const bool closing = f.close_deadline != 0;
    if ((closing && (t > f.close_deadline || (p.tcp_flags & kTcpSyn))) || t - f.start > kFlowTimeoutUs ||
        t - f.last_seen > idle_us) {
      const EndReason r = closing ? ((f.flag_cnt[2] != 0) ? EndReason::kRst : EndReason::kFin)
                          : t - f.last_seen > idle_us ? EndReason::kIdle
                                                      : EndReason::kActiveTimeout;
      End(id, r, false);
      Create(fk, fh, p, t);  // C7: the new flow is oriented by its own first packet
      if (tun) tunnels.Note(created, false, *tun);
      return;
    }
    const bool fwd = std::memcmp(p.saddr, f.key.a, 16) == 0 && p.sport == f.key.pa;  // C6
    if (tun) tunnels.Note(id, !fwd, *tun);
    Act(f, t);
    Add(f, p, fwd, t);
    stats->packets_in_flows += 1;
    if (snap_us) Touch(id);
    table.PushBack(kListActivity, id);
    if (p.tcp_flags & kTcpFin) (fwd ? f.fin_fwd : f.fin_bwd) += 1;  // C5: every FIN counts
    if (!closing && ((p.tcp_flags & kTcpRst) || (f.fin_fwd > 0 && f.fin_bwd > 0))) {
      f.close_deadline = t + grace_us;  // C4: FIN both ways (or RST), then the final ACK
      table.PushBack(kListClosing, id);
    }
  }

  void Expire(int64_t now) {
    for (;;) {  // closing flows: deadlines in push order (one grace for all)
      const uint32_t id = table.Head(kListClosing);
      if (id == FlowTable<CicFlow>::kNil || table.At(id).close_deadline >= now) break;
      End(id, table.At(id).flag_cnt[2] ? EndReason::kRst : EndReason::kFin, false);
    }
    for (;;) {
      const uint32_t id = table.Head(kListActivity);
      if (id == FlowTable<CicFlow>::kNil || now - table.At(id).last_seen <= idle_us) break;
      End(id, EndReason::kIdle, false);
    }
    for (;;) {
      const uint32_t id = table.Head(kListCreated);
      if (id == FlowTable<CicFlow>::kNil || now - table.At(id).start <= kFlowTimeoutUs) break;
      End(id, EndReason::kActiveTimeout, false);
    }
  }
};

CicEngine::CicEngine(const EngineConfig& cfg) : cfg_(cfg), impl_(std::make_unique<Impl>(cfg)) {
  impl_->stats = &stats_;
  stats_.table_capacity = impl_->table.Capacity();
}
CicEngine::~CicEngine() = default;

void CicEngine::AddExporter(FlowExporter& e) {
  impl_->exporters.push_back(&e);
  e.Begin(cfg_.profile == Profile::kCic ? Profile::kCic : Profile::kCorrected, kCicSet);
}

const std::vector<FlowExporter*>& CicEngine::Exporters() const noexcept { return impl_->exporters; }

void CicEngine::OnPacket(const PacketMeta& p) {
  if (impl_->exact && p.ip_version != 4)  // Cmd: readIP6 = false (C20)
    return stats_.CountSkipped(SkipReason::kUnsupported, p.wire_len);
  stats_.packets += 1;
  stats_.bytes += p.wire_len;
  const int64_t t = static_cast<int64_t>(p.ts_ns / 1000);  // µs, truncated (§1.3)
  if (impl_->exact) {
    impl_->OnPacketExact(p, t);
  } else {
    impl_->OnPacketCorrected(p, t, nullptr);
  }
}

void CicEngine::OnPacket(const PacketMeta& p, const TunnelMeta& tun) {
  if (impl_->exact || !impl_->tunnels.On()) return OnPacket(p);
  stats_.packets += 1;
  stats_.bytes += p.wire_len;
  impl_->OnPacketCorrected(p, static_cast<int64_t>(p.ts_ns / 1000), &tun);
}

void CicEngine::OnSkipped(SkipReason reason, uint32_t wire_len) { stats_.CountSkipped(reason, wire_len); }

void CicEngine::AdvanceTime(uint64_t now_ns) {
  if (impl_->exact) return;
  impl_->Expire(static_cast<int64_t>(now_ns / 1000));
  if (impl_->snap_us) impl_->Clock(static_cast<int64_t>(now_ns / 1000));
}

void CicEngine::Flush(EndReason reason) {
  if (impl_->exact) {  // the reference's HashMap iteration order (allocates once, at the end)
    std::vector<std::tuple<uint64_t, uint64_t, uint32_t>> order;  // bucket, put order, id
    order.reserve(impl_->table.Size());
    for (uint32_t id = impl_->table.Head(kListCreated); id != FlowTable<CicFlow>::kNil;
         id = impl_->table.Next(kListCreated, id)) {
      const CicFlow& f = impl_->table.At(id);
      const uint64_t bucket = JavaKeySpread(f.key) & (impl_->java_cap - 1);
      order.emplace_back(bucket, f.put_seq, id);
    }
    std::sort(order.begin(), order.end());
    for (const auto& [bucket, seq, id] : order) impl_->End(id, reason, true);
    return;
  }
  for (uint32_t id = impl_->table.Head(kListCreated); id != FlowTable<CicFlow>::kNil;
       id = impl_->table.Head(kListCreated)) {
    const CicFlow& f = impl_->table.At(id);
    // Corrected: a flow already closed by FIN/RST and waiting out its grace ends for that reason.
    const EndReason r = f.close_deadline == 0 ? reason : f.flag_cnt[2] ? EndReason::kRst : EndReason::kFin;
    impl_->End(id, r, true);
  }
}

}  // namespace nfm
