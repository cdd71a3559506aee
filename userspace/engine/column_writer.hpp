// SPDX-License-Identifier: MIT
// ColumnWriter: fills one row of feature values through the column ids of a set's table
// (NfmCol, ...), so every write names the column it means and lands where the table has that
// name. The checking writer (kCheck) also counts the writes and marks the columns written, so
// Complete() says whether every column was written exactly once; engines use it when
// ColumnChecks() is on (debug builds, unit tests) and the plain one, a store per value,
// otherwise. Not thread-safe; one per row being built.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "engine/flow_view.hpp"

namespace nfm {

// A row whose columns are out of step with its table (one missing, written twice, or past a
// checkpoint too early or late): a bug, never data. Says which set and column, then aborts;
// unit tests run every writer's branches.
[[noreturn]] inline void ColumnOrderFailure(const FeatureSet& set, int column) noexcept {
  const bool named = column >= 0 && static_cast<size_t>(column) < set.columns.size();
  std::fprintf(stderr, "nfm-xdp: internal error: %.*s row out of step with its column table at column %d (%.*s)\n",
               static_cast<int>(set.name.size()), set.name.data(), column,
               named ? static_cast<int>(set.columns[column].name.size()) : 3,
               named ? set.columns[column].name.data() : "end");
  std::abort();
}

// Whether engines check every row they fill (ColumnWriter<Col, true>). On in debug builds;
// tests turn it on before starting engines. Read once per row.
inline std::atomic<bool> column_checks_on{
#ifdef NDEBUG
    false
#else
    true
#endif
};
inline bool ColumnChecks() noexcept { return column_checks_on.load(std::memory_order_relaxed); }
inline void SetColumnChecks(bool on) noexcept { column_checks_on.store(on, std::memory_order_relaxed); }

template <class Col, bool kCheck>
class ColumnWriter {
 public:
  static constexpr int kColumns = static_cast<int>(Col::kCount);

  explicit ColumnWriter(FeatureValue* out) noexcept : out_(out) {}

  __attribute__((always_inline)) void Put(Col c, FeatureValue v) noexcept {
    const unsigned i = static_cast<unsigned>(c);
    out_[i] = v;
    if constexpr (kCheck) {
      ++writes_;
      seen_[i / 64] |= uint64_t{1} << (i % 64);
    }
  }
  // The same value in each of `cols`.
  template <size_t N>
  __attribute__((always_inline)) void PutEach(const Col (&cols)[N], FeatureValue v) noexcept {
    for (Col c : cols) Put(c, v);
  }

  // Every column written exactly once: kColumns writes that cover every column (kCheck only).
  bool Complete() const noexcept {
    static_assert(kCheck);
    bool all = writes_ == kColumns;
    for (int k = 0; k < kWords; ++k) all &= seen_[k] == WordMask(k);
    return all;
  }
  // The first column not written (kColumns if none is missing: then one was written twice).
  int FirstMissing() const noexcept {
    static_assert(kCheck);
    for (int i = 0; i < kColumns; ++i)
      if (!(seen_[i / 64] >> (i % 64) & 1)) return i;
    return kColumns;
  }

 private:
  static constexpr int kWords = (kColumns + 63) / 64;
  // The bits of word k that stand for columns.
  static constexpr uint64_t WordMask(int k) noexcept {
    const int bits = kColumns - 64 * k;
    return bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
  }

  FeatureValue* out_;
  int writes_ = 0;
  uint64_t seen_[kWords] = {};
};

}  // namespace nfm
