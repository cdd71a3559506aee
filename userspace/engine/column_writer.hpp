// SPDX-License-Identifier: MIT
// ColumnWriter: fills one row of feature values through the column ids of a set's table
// (NfmCol, ...), so every write names the column it means. It also checks, at one compare per
// value, that the ids come in table order, each once: a skipped, repeated or misplaced column
// leaves Complete() false. Not thread-safe; one per row being built.
#pragma once

#include <cstdio>
#include <cstdlib>

#include "engine/flow_view.hpp"

namespace nfm {

// A row whose columns were not all written once in table order: a bug, never data. Says which
// set and column, then aborts (unit tests run every writer's branches).
[[noreturn]] inline void ColumnOrderFailure(const FeatureSet& set, int column) noexcept {
  const bool named = column >= 0 && static_cast<size_t>(column) < set.columns.size();
  std::fprintf(stderr, "nfm-xdp: internal error: %.*s row not written in column order at column %d (%.*s)\n",
               static_cast<int>(set.name.size()), set.name.data(), column,
               named ? static_cast<int>(set.columns[column].name.size()) : 3,
               named ? set.columns[column].name.data() : "end");
  std::abort();
}

template <class Col>
class ColumnWriter {
 public:
  static constexpr int kColumns = static_cast<int>(Col::kCount);

  explicit ColumnWriter(FeatureValue* out) noexcept : out_(out) {}

  __attribute__((always_inline)) void Put(Col c, FeatureValue v) noexcept {
    const int i = static_cast<int>(c);
    if (i != next_ && first_bad_ < 0) [[unlikely]]
      first_bad_ = next_;
    next_ = i + 1;
    out_[i] = v;
  }
  // The same value in each of `cols`, in their order.
  template <size_t N>
  void PutEach(const Col (&cols)[N], FeatureValue v) noexcept {
    for (Col c : cols) Put(c, v);
  }

  // Every column written once, in table order.
  bool Complete() const noexcept { return first_bad_ < 0 && next_ == kColumns; }
  // When !Complete(): the first column not written when it was due (the first missing one if
  // the row stopped early).
  int FirstOutOfOrder() const noexcept { return first_bad_ >= 0 ? first_bad_ : next_; }

 private:
  FeatureValue* out_;
  int next_ = 0;
  int first_bad_ = -1;
};

}  // namespace nfm
