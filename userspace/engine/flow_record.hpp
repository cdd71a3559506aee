// SPDX-License-Identifier: MIT
// Per-flow state: everything the 114 features need, updated in O(1) per packet, no lists of
// packets. FlowRecord is shared by all profiles and holds what (almost) every flow needs on
// its packets; FlowCold holds what only some flows ever need (activity periods after a gap
// longer than the activity threshold, flag counters past 65,535 packets in a direction) and
// is taken from a separate slab the first time a flow needs it; Nfm2022Ext holds the extra
// exact-arithmetic state only the nfm2022 profiles need (kept in a parallel array, allocated
// for those only). Plain data: zero bytes are the initial state of FlowRecord and FlowCold;
// Nfm2022Ext starts as Nfm2022Ext{}.
#pragma once

#include <cstdint>
#include <cstring>

#include "engine/exact.hpp"
#include "engine/flow_table.hpp"

namespace nfm {

// Exact sum and sum of squares of non-negative integers (count kept elsewhere). The 128-bit
// square sum is split in two words so the record stays 8-byte aligned and compact.
struct Moments {
  uint64_t sum;
  uint64_t sq_lo;
  uint64_t sq_hi;
  void Add(uint64_t x) noexcept {
    unsigned __int128 sq = (static_cast<unsigned __int128>(sq_hi) << 64) | sq_lo;
    sq += static_cast<unsigned __int128>(x) * x;
    sq_lo = static_cast<uint64_t>(sq);
    sq_hi = static_cast<uint64_t>(sq >> 64);
    sum += x;
  }
  exact::IntMoments With(uint64_t n) const noexcept {
    exact::IntMoments m;
    m.n = n;
    m.sum = sum;
    m.sum_sq = (static_cast<unsigned __int128>(sq_hi) << 64) | sq_lo;
    return m;
  }
  static exact::IntMoments Merge(const Moments& a, const Moments& b, uint64_t n) noexcept {
    exact::IntMoments m = a.With(n);
    const exact::IntMoments mb = b.With(0);
    m.sum += mb.sum;
    m.sum_sq += mb.sum_sq;
    return m;
  }
};

// Moments of header lengths (decoders give <= 60: TCP doff*4, UDP/ICMP 8; the kernel event
// field is 8 bits, so <= 255): the square sum fits 64 bits for 2.8e14 packets of 255 bytes
// (5e15 of 60), so no high word.
struct Moments64 {
  uint64_t sum;
  uint64_t sq;
  void Add(uint64_t x) noexcept {
    sum += x;
    sq += x * x;
  }
  exact::IntMoments With(uint64_t n) const noexcept {
    exact::IntMoments m;
    m.n = n;
    m.sum = sum;
    m.sum_sq = sq;
    return m;
  }
  static exact::IntMoments Merge(const Moments64& a, const Moments64& b, uint64_t n) noexcept {
    exact::IntMoments m = a.With(n);
    m.sum += b.sum;
    m.sum_sq += b.sq;
    return m;
  }
};

// 128-bit square sum alone (the matching sum is derived, see FlowRecord::iat_sq).
struct Square128 {
  uint64_t lo;
  uint64_t hi;
  void Add(uint64_t x) noexcept {
    unsigned __int128 sq = (static_cast<unsigned __int128>(hi) << 64) | lo;
    sq += static_cast<unsigned __int128>(x) * x;
    lo = static_cast<uint64_t>(sq);
    hi = static_cast<uint64_t>(sq >> 64);
  }
  unsigned __int128 Get() const noexcept { return (static_cast<unsigned __int128>(hi) << 64) | lo; }
};

// Bulk state machine of one direction (spec §4.3). "A bulk duration was recorded" is
// `states != 0` (every duration update comes with or after the bulk's count); the 2022
// decimal exponents live in Nfm2022Ext::bulk_exp.
struct BulkState {
  int64_t start;   // candidate start time (ns); 0 = no candidate
  int64_t last;    // time of the last bulk packet (ns); 0 initially
  uint64_t size;   // candidate bytes
  uint64_t pkts;   // packets inside bulks
  uint64_t bytes;  // payload bytes inside bulks
  int64_t dur;     // sum of bulk durations (ns)
  uint32_t cnt;    // candidate packets
  uint32_t states; // number of bulks
};
static_assert(sizeof(BulkState) == 56);

// A time-statistics list (active or idle periods) with exact integer-ns values.
struct PeriodStats {
  Moments m;        // corrected profile only (values >= 0)
  int64_t min, max; // ns
  uint32_t n;
  int8_t min_exp, max_exp;  // 2022 decimal exponents of min/max
  uint8_t pad_[2];
};

// Bits of FlowRecord::bits.
enum FlowBit : uint8_t {
  kFlowFinFwd = 1u << 0,       // corrected: FIN seen forward
  kFlowFinBwd = 1u << 1,       // corrected: FIN seen backward
  kFlowAddrSwapped = 1u << 2,  // flow source address is key.b (else key.a)
  kFlowPortSwapped = 1u << 3,  // flow source port is key.pb (else key.pa)
  kFlowLastBwd = 1u << 4,      // the last packet was backward (see other_ts)
  kFlowTouched = 1u << 5,      // snapshots on: a packet since the last snapshot (engine/touched_flows.hpp)
};

// Flag counters are 16-bit in the record: a count never exceeds its direction's packet
// count, so they are exact while n[d] <= kFlagsHotMax. The packet that would take n[d] past
// it moves that direction's counters to FlowCold::flags (32-bit) for good.
inline constexpr uint64_t kFlagsHotMax = 0xffff;

struct FlowRecord {
  FlowKey key;          // owned by FlowTable: the canonical lookup key (it also gives the
                        // flow's source/destination with the swap bits, see Src()/Dst())
  // The small fields share the key's cache line: OnPacket reads closing right after the key.
  uint32_t sfcount;
  uint32_t cold;         // FlowCold slot + 1; 0 = none yet
  uint16_t init_win[2];  // first packet's window per direction (0 until that direction has one)
  uint8_t proto;         // first packet's protocol
  uint8_t ip_version;
  uint8_t closing;       // corrected: 0, or EndReason of the pending close (fin/rst) + 1
  uint8_t bits;          // FlowBit
  int64_t first_ts;     // time of the first packet (ns)
  int64_t last_ts;      // 2022: time of the last packet in list order; corrected: max effective time.
                        // Also the end of the current activity period and the subflow reference.
  int64_t link_ts;      // position key in the activity list (<= last activity), see Relink
  int64_t other_ts;     // time of the last packet of the direction that did not send the last
                        // packet (that direction's last time is last_ts); valid once it has packets
  int64_t close_deadline;  // corrected: FIN/RST grace end (ns); 0 = not closing
  uint64_t n[2];        // packets forward / backward
  Moments pay[2];       // payload per direction
  Moments64 hdr[2];     // header bytes per direction
  // Corrected: IAT ns square sums of all / fwd / bwd. The sums of the all and fwd lists
  // telescope (effective times never go back): last_ts - first_ts and fwd last - first_ts.
  Square128 iat_sq[3];
  uint64_t iat_bwd_sum; // corrected: sum of the bwd IATs
  int64_t iat_min[3], iat_max[3];
  BulkState bulk[2];
  uint32_t pay_max[2], pay_min[2];
  uint16_t hdr_max[2], hdr_min[2];
  uint16_t flags[2][8];  // packets with FIN, SYN, RST, PSH, ACK, URG, ECE, CWR (bit order) per
                         // direction, while n[d] <= kFlagsHotMax (then in FlowCold)

  const uint8_t* Src() const noexcept { return bits & kFlowAddrSwapped ? key.b : key.a; }
  const uint8_t* Dst() const noexcept { return bits & kFlowAddrSwapped ? key.a : key.b; }
  uint16_t Sport() const noexcept { return bits & kFlowPortSwapped ? key.pb : key.pa; }
  uint16_t Dport() const noexcept { return bits & kFlowPortSwapped ? key.pa : key.pb; }
  int LastDir() const noexcept { return bits & kFlowLastBwd ? 1 : 0; }
  // Time of direction d's last packet; only meaningful when n[d] > 0.
  int64_t LastDirTs(int d) const noexcept { return d == LastDir() ? last_ts : other_ts; }
};
static_assert(sizeof(FlowRecord) == 464);

// Per-flow state that most flows never need, in a slab slot taken on first use.
struct FlowCold {
  int64_t start_act;     // start of the current activity period (the first packet's time
                         // while the flow has no cold slot)
  PeriodStats act, idle;
  uint32_t flags[2][8];  // flag counters of a direction with more than kFlagsHotMax packets
};

// Exact-arithmetic extras of the 2022 profiles (spec §5.1, §6.5) and the state only they use.
struct Nfm2022Ext {
  uint64_t seq;                 // creation order (LooseLookup picks the oldest match)
  exact::DoubleMoments iat[3];  // exact sums of the IAT doubles
  double iat_total[3];          // naive left-to-right double sums (packet_IAT_total)
  exact::DecimalMoments act, idle;
  uint32_t fin_count;           // FIN packets, any direction
  uint32_t rst_count;
  int8_t first_exp;
  int8_t start_act_exp, end_act_exp;  // decimal exponents (spec §6.3 kind D)
  // Bulk start/last/duration exponents per direction; the duration exponent is the minimum
  // over the recorded durations (127 = none yet).
  int8_t bulk_start_exp[2], bulk_last_exp[2];
  int8_t bulk_dur_exp[2] = {127, 127};
};

}  // namespace nfm
