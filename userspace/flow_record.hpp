// SPDX-License-Identifier: MIT
// Per-flow state: everything the 114 features need, updated in O(1) per packet, no lists of
// packets. FlowRecord is shared by all profiles; Nfm2022Ext holds the extra exact-arithmetic
// state only the nfm2022 profiles need (kept in a parallel array, allocated for those only).
// Plain data: zero bytes are the initial state.
#pragma once

#include <cstdint>

#include "exact.hpp"
#include "flow_table.hpp"

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

// Bulk state machine of one direction (spec §4.3).
struct BulkState {
  int64_t start;   // candidate start time (ns); 0 = no candidate
  int64_t last;    // time of the last bulk packet (ns); 0 initially
  uint64_t size;   // candidate bytes
  uint64_t pkts;   // packets inside bulks
  uint64_t bytes;  // payload bytes inside bulks
  int64_t dur;     // sum of bulk durations (ns)
  uint32_t cnt;    // candidate packets
  uint32_t states; // number of bulks
  uint8_t dur_set; // dur was updated at least once (2022 prints 0 otherwise)
  int8_t start_exp, last_exp, dur_exp;  // 2022 decimal exponents (spec §6.3 kind D)
  uint8_t pad_[4];
};

// A time-statistics list (active or idle periods) with exact integer-ns values.
struct PeriodStats {
  Moments m;        // corrected profile only (values >= 0)
  int64_t min, max; // ns
  uint32_t n;
  int8_t min_exp, max_exp;  // 2022 decimal exponents of min/max
  uint8_t pad_[2];
};

struct FlowRecord {
  FlowKey key;          // owned by FlowTable: the canonical lookup key
  uint8_t src[16];      // flow source address (the first packet's source)
  uint8_t dst[16];
  uint64_t seq;         // creation order
  int64_t first_ts;     // time of the first packet (ns)
  int64_t last_ts;      // 2022: time of the last packet in list order; corrected: max effective time
  int64_t last_dir_ts[2];
  int64_t close_deadline;  // corrected: FIN/RST grace end (ns); 0 = not closing
  int64_t link_ts;      // position key in the activity list (<= last activity), see Relink
  uint64_t n[2];        // packets forward / backward
  Moments pay[2];       // payload per direction
  Moments hdr[2];       // header bytes per direction
  Moments iat[3];       // corrected: IAT ns of all / fwd / bwd
  int64_t iat_min[3], iat_max[3];
  int64_t start_act, end_act;
  PeriodStats act, idle;
  int64_t sf_last;
  uint32_t sfcount;
  uint32_t pay_max[2], pay_min[2];
  uint16_t hdr_max[2], hdr_min[2];
  uint32_t flags[2][8];  // packets with FIN, SYN, RST, PSH, ACK, URG, ECE, CWR (bit order) per direction
  BulkState bulk[2];
  uint32_t fin_count;    // 2022: FIN packets, any direction
  uint32_t rst_count;
  uint16_t sport, dport;
  uint16_t init_win[2];
  uint8_t win_set[2];
  uint8_t fin_dir[2];    // corrected: FIN seen per direction
  uint8_t proto;         // first packet's protocol
  uint8_t ip_version;
  uint8_t closing;       // corrected: 0, or EndReason of the pending close (fin/rst) + 1
  int8_t start_act_exp, end_act_exp;
  uint8_t pad_[5];
};

// Exact-arithmetic extras of the 2022 profiles (spec §5.1, §6.5).
struct Nfm2022Ext {
  exact::DoubleMoments iat[3];  // exact sums of the IAT doubles
  double iat_total[3];          // naive left-to-right double sums (packet_IAT_total)
  exact::DecimalMoments act, idle;
  int8_t first_exp;
};

}  // namespace nfm
