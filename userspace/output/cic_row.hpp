// SPDX-License-Identifier: MIT
// CIC CSV rows: the 84-column text of CICFlowMeter master (CIC.md §5-§6) for a FlowView of
// the CicFeatureSet(): `Flow ID`, identity, `Timestamp`, the 76 features, `Label`.
// Profile kCic: dotted IPv4, Timestamp `dd/MM/yyyy hh:mm:ss AM/PM`, Java number text.
// Corrected set (C21): ISO-8601 timestamp with microseconds; IPv6 text where needed.
// Does not write files: CicCsvExporter hands rows to a CsvFileSink.
#pragma once

#include <memory>
#include <string>

#include "engine/flow_view.hpp"
#include "output/csv_writer.hpp"
#include "output/dataset_columns.hpp"
#include "output/manifest.hpp"
#include "output/rendering_exporter.hpp"

namespace nfm {

// Header line with its "\n" terminator (Java's line separator on Linux).
const std::string& CicHeaderLine();

// Appends one row with its "\n". `local`: --tz local (else UTC). `label`: the Label column.
void AppendCicRow(std::string& out, const FlowView& v, bool local, std::string_view label = "NeedManualLabel");

// The Timestamp text of kCic: first_ns floored to seconds, `dd/MM/yyyy hh:mm:ss AM/PM`.
void AppendCicTimestamp(std::string& out, int64_t first_ns, bool local);

// FlowExporter writing CIC rows to a CsvFileSink (not owned); the header is written at Begin
// (the reference writes a header-only file when it finds no flow). The engine's thread only
// (a sharded runner may render rows on its workers: MakeRenderer, ExportRendered).
class CicCsvExporter : public RenderingExporter {
 public:
  CicCsvExporter(CsvFileSink& sink, bool local) : sink_(sink), local_(local) {}
  // As CsvExporter::SetDataset (before the exporter is added to the engine; not owned):
  // --labels rewrites the `Label` column, --loss-column inserts capture_loss before it.
  void SetDataset(DatasetColumns* extras, Manifest* manifest) {
    extras_ = extras && extras->Enabled() ? extras : nullptr;
    if (extras_) extras_->SetOwnLabelColumn(true);
    manifest_ = manifest;
  }
  void Begin(Profile profile, const FeatureSet& set) override;
  void Export(const FlowView& flow) override;
  void ExportRendered(const FlowView& flow, std::string_view row) override;
  std::unique_ptr<FlowRenderer> MakeRenderer() const override;

 private:
  CsvFileSink& sink_;
  bool local_;
  std::string row_;
  DatasetColumns* extras_ = nullptr;
  Manifest* manifest_ = nullptr;
};

}  // namespace nfm
