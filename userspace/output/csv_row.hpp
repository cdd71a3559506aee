// SPDX-License-Identifier: MIT
// CsvRowRenderer: the CSV text of a finished flow (spec §6): the 7 identity columns, then the
// feature values of a FlowView, each written by its kind (spec §6.3) in the float format, the
// time zone and the column layout of the profile (nfm2022-seed: the seed's 115 columns; the
// ntl feature set: its 339 columns and a constant `label` column, spec §8.3).
// It does not write files (CsvFileSink does) and knows nothing of the engine's flow state.
// Not thread-safe: one renderer per writing thread.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "engine/flow_view.hpp"
#include "output/columns.hpp"
#include "output/numfmt.hpp"

namespace nfm {

class CsvRowRenderer {
 public:
  // spec: the parsed --float-format (the caller applies the profile default, .64f for nfm2022).
  // set: the engine's feature set (nullptr: the 114 NetFlowMeter features); label: the text
  // of the `label` column the ntl feature set ends with.
  CsvRowRenderer(Profile profile, bool local_tz, const fmt::FloatSpec& spec, const FeatureSet* set = nullptr,
                 std::string label = "Unknown");

  // The header line (with "\r\n") of the profile's layout.
  std::string HeaderLine() const;
  // The row (with "\r\n") of `flow`; valid until the next Render.
  std::string_view Render(const FlowView& flow);
  const fmt::FloatSpec& Spec() const noexcept { return spec_; }
  // The layout ends in a constant `label` column (the ntl feature set).
  bool HasLabelColumn() const noexcept { return ntl_set_; }

 private:
  char* WriteValue(char* p, const FeatureValue& v, std::span<const Decimal> decimals) noexcept;

  Profile profile_;
  bool local_tz_;
  bool ntl_set_ = false;  // the ntl feature set: its names, flow_id in the local zone, `label`
  const FeatureSet* set_ = nullptr;
  std::string label_;
  fmt::FloatSpec spec_;
  bool spec_is_repr_;
  char zero_text_[fmt::kMaxFloatChars];  // 0.0 in spec_
  size_t zero_len_ = 0;
  // Render writes a row with raw stores. Every field takes at most kMaxFieldChars (a float:
  // fmt::kMaxFloatChars), so a row always fits.
  static constexpr size_t kMaxFieldChars = 512;
  static constexpr size_t kRowBufBytes = 64 * 1024;  // the 114-feature layouts; ntl: sized per set
  static_assert(fmt::kMaxFloatChars + 1 <= kMaxFieldChars && (kNumColumns + 1) * kMaxFieldChars <= kRowBufBytes);
  std::unique_ptr<char[]> rowbuf_;
  std::string scratch_;  // 2022 Decimal renderings (std::string based)
  std::string row_;      // the nfm2022-seed row, rearranged from rowbuf_
  std::array<SeedColumn, kNumSeedColumns> seed_{};
  uint32_t field_end_[kNumColumns] = {};  // nfm2022-seed: where each rendered field ends
};

}  // namespace nfm
