// SPDX-License-Identifier: MIT
// TouchedFlows: the flow-table slots whose flows had packets since the last snapshot
// (--snapshot-interval), so a snapshot visits only those and never the flows that stayed quiet.
// Cost: Touch is O(1) (a byte of the slot's own mark, and an append the first time in an
// interval); memory is fixed at construction, 5 bytes per flow-table slot (untouched pages stay
// virtual), and the list never holds a slot twice, so it never outgrows the table. A slot whose
// flow ended stays listed until the next snapshot; the engine tells a live flow from an ended one
// by the flow's own "touched since the last snapshot" mark, which it clears when the flow ends.
// Not thread-safe (the engine's thread).
#pragma once

#include <cstdint>
#include <limits>
#include <sys/mman.h>

#include "engine/flow_table.hpp"

namespace nfm {

class TouchedFlows {
 public:
  TouchedFlows() = default;
  TouchedFlows(const TouchedFlows&) = delete;
  TouchedFlows& operator=(const TouchedFlows&) = delete;
  ~TouchedFlows() {
    if (ids_) munmap(ids_, ids_bytes_);
    if (listed_) munmap(listed_, listed_bytes_);
  }
  // Reserves room for `slots` flow-table slots (ids 0 .. slots - 1). Once, before any Touch.
  void Init(uint32_t slots) {
    ids_ = ZeroedArray<uint32_t>(slots, &ids_bytes_);
    listed_ = ZeroedArray<uint8_t>(slots, &listed_bytes_);
  }
  bool Enabled() const noexcept { return ids_ != nullptr; }
  // Slot `id` had a packet (call once per interval per flow: when its own mark was clear).
  void Touch(uint32_t id) noexcept {
    if (listed_[id]) return;
    listed_[id] = 1;
    ids_[n_++] = id;
  }
  // Calls fn(id) for every listed slot, in the order they were first touched, and empties the list.
  template <class Fn>
  void Drain(Fn&& fn) {
    for (uint32_t i = 0; i < n_; ++i) {
      const uint32_t id = ids_[i];
      listed_[id] = 0;
      fn(id);
    }
    n_ = 0;
  }
  uint32_t Size() const noexcept { return n_; }

 private:
  uint32_t* ids_ = nullptr;
  uint8_t* listed_ = nullptr;
  size_t ids_bytes_ = 0, listed_bytes_ = 0;
  uint32_t n_ = 0;
};

// The first multiple of `interval_ns` (> 0) after `t_ns` (the next snapshot time); INT64_MAX
// (never) when it is not representable (times clamped to the end of the range).
inline int64_t NextSnapshotNs(int64_t t_ns, int64_t interval_ns) noexcept {
  constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
  const int64_t k = t_ns >= 0 ? t_ns / interval_ns : (t_ns - interval_ns + 1) / interval_ns;
  if (k >= kNever / interval_ns - 1) return kNever;
  return (k + 1) * interval_ns;
}

}  // namespace nfm
