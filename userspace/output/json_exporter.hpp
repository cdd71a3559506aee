// SPDX-License-Identifier: MIT
// JsonLinesExporter: each row as one JSON object on one line (JSON Lines), with the CSV's column
// names in the CSV's order (every profile and feature set, the data-set columns and row_kind).
// Feature values are typed from the FlowView: integers of unsigned columns as integers, every
// other number as the shortest text that reads back as the same double (always with a '.' or an
// exponent), NaN, infinities and empty fields as null, texts as strings. The identity columns
// and the trailing label are the CSV's text (ports, CIC's Protocol and capture_loss as numbers).
// It does not open files (a CsvFileSink carries the lines, with rotation and compression) and
// knows nothing of the engine. Not thread-safe (the engine's or the output thread).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/flow_view.hpp"
#include "output/csv_row.hpp"
#include "output/csv_writer.hpp"
#include "output/dataset_columns.hpp"
#include "output/manifest.hpp"
#include "output/numfmt.hpp"

namespace nfm {

class JsonLinesExporter : public FlowExporter {
 public:
  // Not owned: `sink` outlives the exporter. cic_layout: the CIC columns (CicEngine's rows);
  // otherwise CsvRowRenderer's layout of the profile and set. spec: the CSV's float format (the
  // nfm2022 exact decimals are converted through it, as FeatureAsDouble does for IPFIX).
  JsonLinesExporter(CsvFileSink& sink, bool cic_layout, bool local_tz, const fmt::FloatSpec& spec,
                    std::string label = "Unknown");
  ~JsonLinesExporter() override;

  // As CsvExporter::SetDataset, with this exporter's own DatasetColumns (not the CSV's: each
  // decides the label and loss of the row it writes). Before the exporter is added to an engine.
  void SetDataset(DatasetColumns* extras, Manifest* manifest);

  void Begin(Profile profile, const FeatureSet& set) override;
  void Export(const FlowView& flow) override;

  // The line of `flow` (with its "\n"); valid until the next call (tests).
  std::string_view Render(const FlowView& flow);
  // The CSV header line the columns come from (tests, manifest).
  const std::string& CsvHeader() const noexcept { return header_; }

 private:
  enum class Col : uint8_t { kText, kNumber, kFeature };
  struct Column {
    std::string key;  // "\"name\":"
    Col kind = Col::kText;
    int feature = -1;  // kFeature: index into FlowView::features
  };
  void AppendFeature(const FeatureValue& v, const FeatureInfo& info, std::span<const Decimal> decimals);

  CsvFileSink& sink_;
  bool cic_layout_;
  bool local_tz_;
  fmt::FloatSpec spec_;
  std::string label_;
  std::optional<CsvRowRenderer> renderer_;
  const FeatureSet* set_ = nullptr;
  DatasetColumns* extras_ = nullptr;
  Manifest* manifest_ = nullptr;
  std::string header_;
  std::vector<Column> columns_;
  std::string csv_row_;   // CIC rows
  std::vector<std::string_view> fields_;
  std::string line_;
};

}  // namespace nfm
