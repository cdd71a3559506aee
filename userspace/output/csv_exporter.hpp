// SPDX-License-Identifier: MIT
// CsvExporter: the FlowExporter that renders each finished flow as a CSV row (CsvRowRenderer)
// and hands it to a CsvFileSink. The header is written with the first row, so a run without
// flows leaves an empty file (as the references do). Not thread-safe (the engine's thread);
// a sharded runner may render rows on its workers (MakeRenderer) and hand them to
// ExportRendered on its output thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "engine/flow_view.hpp"
#include "output/csv_row.hpp"
#include "output/csv_writer.hpp"
#include "output/dataset_columns.hpp"
#include "output/manifest.hpp"
#include "output/rendering_exporter.hpp"

namespace nfm {

class CsvExporter : public RenderingExporter {
 public:
  // Not owned: `sink` outlives the exporter.
  // `label`: text of the trailing `label` column of the ntl feature set (others have none).
  CsvExporter(CsvFileSink& sink, bool local_tz, const fmt::FloatSpec& spec, std::string label = "Unknown")
      : sink_(sink), local_tz_(local_tz), spec_(spec), label_(std::move(label)) {}

  // Optional (set before the exporter is added to the engine; not owned): trailing data-set
  // columns (capture_loss, label) and the manifest that counts the rows of each file.
  // The ntl feature set ends in its own `label` column: --labels rewrites it.
  void SetDataset(DatasetColumns* extras, Manifest* manifest) {
    extras_ = extras && extras->Enabled() ? extras : nullptr;
    manifest_ = manifest;
  }

  void Begin(Profile profile, const FeatureSet& set) override {
    profile_ = profile;
    set_ = &set;
    renderer_.emplace(profile, local_tz_, spec_, &set, label_);
    if (extras_) extras_->SetOwnLabelColumn(renderer_->HasLabelColumn());
    header_ = renderer_->HeaderLine();
    if (extras_) header_ = extras_->Header(header_);
    if (manifest_) manifest_->SetColumns(header_, set);
  }
  void Export(const FlowView& flow) override { ExportRendered(flow, renderer_->Render(flow)); }
  void ExportRendered(const FlowView& flow, std::string_view row) override {
    if (!header_written_) {
      sink_.Header(header_);
      header_written_ = true;
    }
    if (extras_) row = extras_->Extend(row, flow);
    sink_.Row(row);
    // After the row is in the file: a rotation inside Row closed the previous file first.
    if (manifest_) manifest_->OnRow(flow, extras_ ? extras_->LastLabel() : std::string_view(), extras_ && extras_->LastLoss());
  }
  std::unique_ptr<FlowRenderer> MakeRenderer() const override {
    struct Renderer : FlowRenderer {
      explicit Renderer(const CsvExporter& x) : r(x.profile_, x.local_tz_, x.spec_, x.set_, x.label_) {}
      std::string_view Render(const FlowView& flow) override { return r.Render(flow); }
      CsvRowRenderer r;
    };
    return std::make_unique<Renderer>(*this);
  }

 private:
  CsvFileSink& sink_;
  Profile profile_ = Profile::kCorrected;
  const FeatureSet* set_ = nullptr;
  bool local_tz_;
  fmt::FloatSpec spec_;
  std::string label_;
  std::optional<CsvRowRenderer> renderer_;
  std::string header_;
  DatasetColumns* extras_ = nullptr;
  Manifest* manifest_ = nullptr;
  bool header_written_ = false;
};

}  // namespace nfm
