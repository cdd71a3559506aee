// SPDX-License-Identifier: MIT
// The NTLFlowLyzer feature values of one finished flow (spec §8.3), from its listed packets and
// the per-flow numbers its engine kept online. Two semantics: the reference's (NtlEngine,
// --profile ntl, bit for bit, defects N1-N5 and the 2022 ones it keeps) and the corrected one
// (FlowEngine with --feature-set ntl: N1-N4 and the 2022 defects fixed, kNtlCorrectedFeatureSet).
// Also the active/idle period lists both engines keep (the packet lists: ntl/packet_list.hpp).
// No I/O; no per-flow heap allocation once the scratch vectors have grown.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "engine/flow_view.hpp"
#include "engine/ntl/ntl_features.hpp"
#include "engine/ntl/packet_list.hpp"

namespace nfm {

// The active/idle period lists of the flows that have any (only flows with a gap above the
// activity threshold): pairs of vectors reused across flows through a free list. A flow holds a
// handle (index + 1; 0 = none) in its record.
class PeriodPool {
 public:
  struct Periods {
    std::vector<double> act, idle;  // period lengths (ns as doubles in the corrected set)
  };
  // The flow's lists, taken from the pool at the first call (*handle 0).
  Periods& Of(uint32_t* handle) {
    if (!*handle) {
      if (free_.empty()) {
        lists_.emplace_back();
        *handle = static_cast<uint32_t>(lists_.size());
      } else {
        *handle = free_.back();
        free_.pop_back();
      }
    }
    return lists_[*handle - 1];
  }
  // The flow's lists, or empty ones if it has none.
  const Periods& Peek(uint32_t handle) const {
    static const Periods kNone;
    return handle ? lists_[handle - 1] : kNone;
  }
  // Back to the pool (cleared, capacity kept); *handle becomes 0.
  void Release(uint32_t* handle) {
    if (!*handle) return;
    lists_[*handle - 1].act.clear();
    lists_[*handle - 1].idle.clear();
    free_.push_back(*handle);
    *handle = 0;
  }

 private:
  std::vector<Periods> lists_;
  std::vector<uint32_t> free_;
};

// float(ts) as NTLFlowLyzer holds a packet time (see ntl_compute.cpp).
double NtlTsDouble(int64_t ns, bool ns_time) noexcept;

// The values of one flow, in the feature set's order (reference: 339, corrected: 341).
class NtlValues {
 public:
  explicit NtlValues(bool corrected = false) : corrected_(corrected) {}
  void U(uint64_t x) { Push(FeatureValue::Uint(x)); }
  void X(double x) { Push(FeatureValue::Float(x)); }
  void R(double x) { Push(corrected_ ? FeatureValue::Float(x) : FeatureValue::Repr(x)); }
  // "No value": the reference's literal 0; corrected: 0 in an unsigned column, 0.0 in a float one.
  void Z();
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
  int size() const { return n_; }
  // Checkpoint: the next value is column `c` of the reference set (corrected: the column of
  // that name in the corrected set). A mismatch is a bug, never data: ColumnOrderFailure.
  void At(NtlCol c) const;
  static constexpr int kMax = kNtlCorrectedNumFeatures + 8;
  FeatureValue vals[kMax];
  Decimal dec[4];
  int ndec = 0;

 private:
  void Push(const FeatureValue& x) {
    if (n_ < kMax) vals[n_] = x;
    ++n_;
  }
  bool corrected_;
  int n_ = 0;
};

struct NtlBulkOut {
  uint64_t states = 0, bytes = 0, pkts = 0;
  double dur = 0;        // seconds
  int64_t dur_ns = 0;    // corrected: the exact duration
  bool dur_set = false;  // reference: a duration was added (else the int 0 prints "0")
};

// What the engine kept of a flow; pk in arrival order (corrected: effective times).
struct NtlInput {
  bool corrected = false;
  bool ns_time = false;  // reference: nanosecond capture (Decimal timestamps)
  std::span<const ListedPacket> pk;
  uint64_t n[2] = {}, pay[2] = {};
  uint64_t flags[2][8] = {};  // packets with flag bit b, per direction
  uint16_t init_win[2] = {};
  double duration = 0;  // seconds
  NtlBulkOut bulk[2];
  uint64_t sfcount = 0;  // gaps longer than the subflow gap
  const std::vector<double>* act = nullptr;   // reference: seconds; corrected: integer ns
  const std::vector<double>* idle = nullptr;
  uint8_t hs_state = 0;
  bool hs_done = false;  // reference: a packet followed the handshake; corrected: state 3 reached
  bool hs_other = false; // corrected: a packet followed the handshake
  int64_t hs_first_ns = 0, hs_last_ns = 0, hs_other_ns = 0;
};

struct NtlScratch {
  std::vector<double> v, sorted, scratch, ts;
  std::vector<double> sorted_dir[2];
  std::vector<uint32_t> order, radix_k0, radix_k1;
  std::vector<int64_t> us;
};

void ComputeNtlFeatures(const NtlInput& in, NtlScratch& sc, NtlValues& out);

}  // namespace nfm
