// SPDX-License-Identifier: MIT
// CsvExporter: the FlowExporter that renders each finished flow as a CSV row (CsvRowRenderer)
// and hands it to a CsvFileSink. The header is written with the first row, so a run without
// flows leaves an empty file (as the references do). Not thread-safe (the engine's thread).
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "engine/flow_view.hpp"
#include "output/csv_row.hpp"
#include "output/csv_writer.hpp"

namespace nfm {

class CsvExporter : public FlowExporter {
 public:
  // Not owned: `sink` outlives the exporter.
  // `label`: text of the trailing `label` column of the ntl feature set (others have none).
  CsvExporter(CsvFileSink& sink, bool local_tz, const fmt::FloatSpec& spec, std::string label = "Unknown")
      : sink_(sink), local_tz_(local_tz), spec_(spec), label_(std::move(label)) {}

  void Begin(Profile profile, const FeatureSet& set) override { renderer_.emplace(profile, local_tz_, spec_, &set, label_); }
  void Export(const FlowView& flow) override {
    if (!header_written_) {
      sink_.Header(renderer_->HeaderLine());
      header_written_ = true;
    }
    sink_.Row(renderer_->Render(flow));
  }

 private:
  CsvFileSink& sink_;
  bool local_tz_;
  fmt::FloatSpec spec_;
  std::string label_;
  std::optional<CsvRowRenderer> renderer_;
  bool header_written_ = false;
};

}  // namespace nfm
