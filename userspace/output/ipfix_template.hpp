// SPDX-License-Identifier: MIT
// What an nfm-xdp IPFIX record holds: the templates (one per address family; uniflow mode adds
// a small backward template per family), the encoding of a FlowView into a data record, and
// the element table (id, name, type, unit, meaning) that docs/IPFIX.md and the collector
// information model are generated from. No sockets, no threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/flow_view.hpp"
#include "output/ipfix_message.hpp"
#include "output/numfmt.hpp"

namespace nfm::ipfix {

inline constexpr uint32_t kDefaultPen = 32473;  // RFC 5612 documentation PEN

// Template ids. Biflow: one record per flow (forward + RFC 5103 reverse counters). Uniflow:
// the forward record (with the features) and, when the flow has backward packets, a
// backward record (swapped identity, backward counters, no features).
inline constexpr uint16_t kTemplateV4 = 256;
inline constexpr uint16_t kTemplateV6 = 257;
inline constexpr uint16_t kTemplateBackV4 = 258;
inline constexpr uint16_t kTemplateBackV6 = 259;

// flowEndReason (IANA) for an engine EndReason.
uint8_t FlowEndReasonCode(EndReason r) noexcept;

struct CodecOptions {
  bool uniflow = false;
  uint32_t pen = kDefaultPen;
  fmt::FloatSpec float_spec;  // the CSV's float format: float features carry the printed value
};

class RecordCodec {
 public:
  RecordCodec(const FeatureSet& set, const CodecOptions& opt);

  const std::vector<Template>& Templates() const noexcept { return templates_; }
  // All template records, concatenated (the body of one template set).
  const std::vector<uint8_t>& TemplateSetBody() const noexcept { return template_body_; }
  size_t MaxRecordLength() const noexcept { return max_record_len_; }
  bool Uniflow() const noexcept { return opt_.uniflow; }

  // Encodes the forward record (biflow: the one record) into out (>= MaxRecordLength()
  // bytes); returns its length and sets *template_id.
  size_t EncodeForward(const FlowView& f, uint8_t* out, uint16_t* template_id) const;
  // Uniflow: the backward record (swapped identity, backward counters). Caller checks
  // f.packets[1] > 0.
  size_t EncodeBackward(const FlowView& f, uint8_t* out, uint16_t* template_id) const;

 private:
  const FeatureSet& set_;
  CodecOptions opt_;
  std::vector<Template> templates_;
  std::vector<uint8_t> template_body_;
  size_t max_record_len_ = 0;
};

// One row of the element table.
struct ElementDoc {
  uint32_t pen = 0;  // 0 IANA, 29305 reverse, else the feature PEN
  uint16_t id = 0;
  std::string name;
  std::string type;  // IPFIX abstract data type
  std::string unit;  // "" when none
  std::string meaning;
  std::string in;    // which templates carry it: "all", "biflow", "uniflow", "v4", "v6", ...
};
// Every element nfm-xdp sends (standard, reverse, then the features in column order).
std::vector<ElementDoc> ElementTable(const FeatureSet& set, uint32_t pen);
// docs/IPFIX.md's generated part (markdown table) and a libfixbuf/YAF-style information model
// (XML registry of the enterprise elements, as ipfixDump --element-file and
// fbInfoModelReadXMLFile read it).
std::string ElementTableMarkdown(const FeatureSet& set, uint32_t pen);
std::string InfoModelXml(const FeatureSet& set, uint32_t pen);
// A plain-English meaning derived from a column name ("fwd_payload_bytes_mean" -> "Mean
// payload bytes per packet, forward packets").
std::string FeatureMeaning(std::string_view column);

}  // namespace nfm::ipfix
