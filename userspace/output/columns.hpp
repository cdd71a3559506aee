// SPDX-License-Identifier: MIT
// The CSV column sets (spec §6.1): the 121 NFM-2022 names used by every profile except
// nfm2022-seed, and the seed's 115-column layout with its name collisions.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "engine/nfm_features.hpp"

namespace nfm {

inline constexpr int kNumColumns = 121;
inline constexpr int kNumSeedColumns = 115;

// The 7 identity columns, then the features of engine/nfm_features.hpp.
inline constexpr std::array<std::string_view, 7> kIdentityColumns = {
    "flow_id", "timestamp", "src_ip", "src_port", "dst_ip", "dst_port", "protocol"};
inline constexpr std::array<std::string_view, kNumColumns> kColumnNames = [] {
  std::array<std::string_view, kNumColumns> a{};
  for (int i = 0; i < 7; ++i) a[i] = kIdentityColumns[i];
  for (int i = 0; i < kNumNfmFeatures; ++i) a[7 + i] = kNfmFeatures[i].name;
  return a;
}();
static_assert(kNumColumns == 7 + kNumNfmFeatures);

// Index of a column name in kColumnNames at compile time.
constexpr int ColumnIndex(std::string_view name) {
  for (int i = 0; i < kNumColumns; ++i)
    if (kColumnNames[i] == name) return i;
  return -1;
}

// The seed layout (spec §6.1): for each of its 115 positions, which of the 121 computed values
// it shows. Feature #17 (fwd payload variance) was named payload_bytes_variance and overwrote
// #12 in place; #33-37 (bwd header stats) were named fwd_*_header_bytes and overwrote those.
struct SeedColumn {
  std::string_view name;
  int source;  // index into the 121 computed values
};
std::array<SeedColumn, kNumSeedColumns> SeedLayout();

}  // namespace nfm
