// SPDX-License-Identifier: MIT
// Per-flow state of the CIC engine (CIC.md §4): commons-math SummaryStatistics in the same
// operation order (§4.7), the bulk and subflow machines, counters. Plain data, O(1) per flow,
// zero-initialised by the flow table. No behaviour beyond the statistics update.
#pragma once

#include <cstdint>

#include "engine/flow_table.hpp"

namespace nfm {

// commons-math3 3.5 SummaryStatistics restricted to what CICFlowMeter reads (§4.7): n, sum,
// min, max, Welford m1/m2. All-zero = empty. Getters return NaN when empty, as Java does.
struct CicStat {
  int64_t n;
  double sum, min, max, m1, m2;

  void Add(double x) noexcept {
    n += 1;
    sum += x;
    if (n == 1 || x < min) min = x;
    if (n == 1 || x > max) max = x;
    const double dev = x - m1;
    const double ndev = dev / static_cast<double>(n);
    m1 += ndev;
    m2 += static_cast<double>(n - 1) * dev * ndev;
  }
  double Mean() const noexcept { return n == 0 ? __builtin_nan("") : m1; }
  double Variance() const noexcept {
    return n == 0 ? __builtin_nan("") : n == 1 ? 0.0 : m2 / (static_cast<double>(n) - 1.0);
  }
  double Std() const noexcept;  // sqrt(Variance()), correctly rounded
  double Min() const noexcept { return n == 0 ? __builtin_nan("") : min; }
  double Max() const noexcept { return n == 0 ? __builtin_nan("") : max; }
};

// Bulk machine (§4.5). `start == 0` means "no bulk candidate", as in the reference.
struct CicBulk {
  int64_t start, last, cnt, size;
  int64_t states, pkts, bytes, dur;
  int64_t last_bulk;  // corrected: time of the last packet counted into a bulk (other-direction reset)
};

struct CicFlow {
  FlowKey key;  // fwdId of the packet that created the flow: a/pa = Src, b/pb = Dst
  int64_t start, last_seen, active_start, active_end;
  int64_t fwd_last, bwd_last;
  int64_t fwd_bytes, bwd_bytes, fwd_hdr, bwd_hdr, fwd_hdr_min;
  int64_t fwd_seg_min;  // corrected C10: minimum forward payload
  int64_t sf_last, sf_count;
  int64_t close_deadline;  // corrected: end of the grace after FIN both ways / RST (0 = open)
  uint32_t init_win_fwd, init_win_bwd;
  uint32_t act_data_fwd;
  uint32_t psh[2], urg[2];  // cic: first packet only (C2); corrected: per direction
  uint32_t flag_cnt[8];     // by bit number of the TCP flag byte
  uint32_t fin_fwd, fin_bwd;
  uint8_t sf_set, bwd_win_set, proto, ip_version;
  uint8_t flags_or[2];  // OR of the TCP flag bytes per direction (FlowView::tcp_flags)
  uint8_t touched;      // snapshots on: a packet since the last snapshot (engine/touched_flows.hpp)
  uint8_t pad_;
  uint64_t put_seq;  // kCic: order of the HashMap put that created this entry (row order at EOF)
  CicBulk bulk[2];  // [0] forward, [1] backward
  CicStat len, fwd, bwd, flow_iat, fwd_iat, bwd_iat, active, idle;
};

}  // namespace nfm
