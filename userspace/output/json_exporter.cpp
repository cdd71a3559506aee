// SPDX-License-Identifier: MIT
// JsonLinesExporter: the column list from the CSV header, then per row the identity and
// trailing texts from the CSV row and the features from the FlowView (json_exporter.hpp).
#include "output/json_exporter.hpp"

#include <charconv>
#include <cmath>

#include "output/cic_row.hpp"
#include "output/columns.hpp"
#include "output/feature_value.hpp"

namespace nfm {

namespace {

// Splits a CSV line (without its terminator) into fields. Our rows quote nothing (labels may not
// hold commas or quotes), but a quoted field is still read whole.
void SplitCsv(std::string_view line, std::vector<std::string_view>* out) {
  out->clear();
  size_t p = 0;
  for (;;) {
    size_t end;
    if (p < line.size() && line[p] == '"') {
      end = p + 1;
      while (end < line.size() && !(line[end] == '"' && (end + 1 == line.size() || line[end + 1] == ','))) ++end;
      out->push_back(line.substr(p + 1, end - p - 1));
      end = std::min(end + 1, line.size());
    } else {
      end = line.find(',', p);
      if (end == std::string_view::npos) end = line.size();
      out->push_back(line.substr(p, end - p));
    }
    if (end >= line.size()) break;
    p = end + 1;
  }
}

std::string_view Body(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  return line;
}

// Identity and data-set columns whose CSV text is always a number. The nfm layouts' protocol
// column stays a string: it prints names (TCP, UDP, ICMP) or a number.
bool NumericTextColumn(std::string_view name) {
  return name == "src_port" || name == "dst_port" || name == "Src Port" || name == "Dst Port" ||
         name == "Protocol" || name == "capture_loss" || name == "ifindex" ||
         name == "tunnel_id";
}

bool IsInteger(std::string_view s) {
  if (!s.empty() && s.front() == '-') s.remove_prefix(1);
  if (s.empty() || s.size() > 19) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

void AppendDouble(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, d);
  bool looks_float = false;
  for (const char* p = buf; p < r.ptr; ++p)
    if (*p == '.' || *p == 'e') looks_float = true;
  out.append(buf, r.ptr);
  if (!looks_float) out += ".0";  // a float column stays float for typed readers (pandas)
}

template <class T>
void AppendInt(std::string& out, T v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

}  // namespace

JsonLinesExporter::JsonLinesExporter(CsvFileSink& sink, bool cic_layout, bool local_tz, const fmt::FloatSpec& spec,
                                     std::string label)
    : sink_(sink), cic_layout_(cic_layout), local_tz_(local_tz), spec_(spec), label_(std::move(label)) {}

JsonLinesExporter::~JsonLinesExporter() = default;

void JsonLinesExporter::SetDataset(DatasetColumns* extras, Manifest* manifest) {
  extras_ = extras && extras->Enabled() ? extras : nullptr;
  manifest_ = manifest;
}

void JsonLinesExporter::Begin(Profile profile, const FeatureSet& set) {
  set_ = &set;
  bool own_label;
  if (cic_layout_) {
    header_ = CicHeaderLine();
    own_label = true;
  } else {
    renderer_.emplace(profile, local_tz_, spec_, &set, label_);
    header_ = renderer_->HeaderLine();
    own_label = renderer_->HasLabelColumn();
  }
  if (extras_) {
    extras_->SetOwnLabelColumn(own_label);
    header_ = extras_->Header(header_);
  }
  if (manifest_) manifest_->SetColumns(header_, set);
  // Columns 7 .. 7 + n - 1 of every layout are features; nfm2022-seed shows some of them
  // under other names (SeedLayout).
  const bool seed = !cic_layout_ && profile == Profile::kNfm2022Seed;
  const size_t n_features = seed ? kNumSeedColumns - 7 : set.columns.size();
  std::vector<std::string_view> names;
  SplitCsv(Body(header_), &names);
  const auto seed_layout = SeedLayout();
  columns_.clear();
  for (size_t i = 0; i < names.size(); ++i) {
    Column c;
    c.key = JsonQuote(names[i]) + ":";
    if (i >= 7 && i < 7 + n_features) {
      c.kind = Col::kFeature;
      c.feature = seed ? seed_layout[i].source - 7 : static_cast<int>(i - 7);
    } else {
      c.kind = NumericTextColumn(names[i]) ? Col::kNumber : Col::kText;
    }
    columns_.push_back(std::move(c));
  }
  line_.reserve(64 * columns_.size());
}

void JsonLinesExporter::AppendFeature(const FeatureValue& v, const FeatureInfo& info,
                                      std::span<const Decimal> decimals) {
  using K = FeatureValue::Kind;
  const bool unsigned_col = info.type == FeatureType::kUnsigned;
  switch (v.kind) {
    case K::kText:
      line_ += v.aux < std::size(kFeatureTexts) ? JsonQuote(kFeatureTexts[v.aux]) : std::string("null");
      return;
    case K::kEmpty:
      line_ += "null";
      return;
    case K::kUint:
      if (unsigned_col) AppendInt(line_, v.u); else AppendDouble(line_, static_cast<double>(v.u));
      return;
    case K::kInt:
      if (unsigned_col) AppendInt(line_, v.ns); else AppendDouble(line_, static_cast<double>(v.ns));
      return;
    default:
      AppendDouble(line_, FeatureAsDouble(v, decimals, spec_));
      return;
  }
}

std::string_view JsonLinesExporter::Render(const FlowView& flow) {
  std::string_view row;
  if (cic_layout_) {
    csv_row_.clear();
    AppendCicRow(csv_row_, flow, local_tz_);
    row = csv_row_;
  } else {
    row = renderer_->Render(flow);
  }
  if (extras_) row = extras_->Extend(row, flow);
  SplitCsv(Body(row), &fields_);
  line_.clear();
  line_ += '{';
  for (size_t i = 0; i < columns_.size(); ++i) {
    const Column& c = columns_[i];
    if (i) line_ += ',';
    line_ += c.key;
    if (c.kind == Col::kFeature) {
      const size_t f = static_cast<size_t>(c.feature);
      if (f < flow.features.size() && f < set_->columns.size()) {
        AppendFeature(flow.features[f], set_->columns[f], flow.decimals);
      } else {
        line_ += "null";
      }
      continue;
    }
    const std::string_view text = i < fields_.size() ? fields_[i] : std::string_view();
    if (text.empty()) {  // no value (e.g. iface/ifindex offline): null, like an empty feature
      line_ += "null";
    } else if (c.kind == Col::kNumber && IsInteger(text)) {
      line_ += text;
    } else {
      line_ += JsonQuote(text);
    }
  }
  line_ += "}\n";
  return line_;
}

void JsonLinesExporter::Export(const FlowView& flow) {
  const std::string_view line = Render(flow);
  sink_.Row(line);
  if (manifest_) manifest_->OnRow(flow, extras_ ? extras_->LastLabel() : std::string_view(), extras_ && extras_->LastLoss());
}

}  // namespace nfm
