// SPDX-License-Identifier: MIT
// What an nfm-xdp IPFIX record holds: the templates (one per address family; uniflow mode adds
// a small backward template per family), the encoding of a FlowView into a data record, and
// the element table (id, name, type, unit, meaning) that docs/IPFIX.md and the collector
// information model are generated from. No sockets, no threads.
#pragma once

#include <cstdint>
#include <span>
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

// IPFIX data type of a feature element: the column's FeatureInfo::ipfix (docs/IPFIX.md).
using ElementType = IpfixType;
const char* ElementTypeName(ElementType t) noexcept;  // "unsigned64", "signed64", "float64"

// Feature element numbering (docs/IPFIX.md "Element numbering"): every feature set has its own
// id range under the PEN, so an id names one feature whichever set sent it:
//   nfm  1..999        column position (duration = 1 ... subflow_bwd_bytes = 114), as always
//   cic  1001..1999    1000 + column position (Flow Duration = 1001 ... Idle Min = 1076)
//   ntl  2001..2999    2000 + position in NTLFlowLyzer's 339 columns; the corrected set's two
//                      extra names (min/max_packets_delta_time) follow as 2340, 2341
//   other sets (unit tests only) column position
inline constexpr uint16_t kCicIdBase = 1000;
// --where-columns tunnel: tunnelType (kTunnelIdBase + 1) .. tunnelId (+ 4), under the feature PEN.
inline constexpr uint16_t kTunnelIdBase = 4000;
inline constexpr uint16_t kNtlIdBase = 2000;
uint16_t FeatureElementId(const FeatureSet& set, size_t column);
// The column's table entry says (FeatureInfo::ipfix): CIC's integer columns are Java long/int
// (durations may be negative): signed64; other integer columns unsigned64; float columns float64.
ElementType FeatureElementType(const FeatureSet& set, size_t column);
// The element name: nfm the CSV column; cic "cic_" + the column with every run of other
// characters than [A-Za-z0-9] as '_' ("Flow Bytes/s" -> cic_Flow_Bytes_s); ntl "ntl_" + column.
std::string FeatureElementName(const FeatureSet& set, size_t column);

// float64 NaNs that stand for values that are not numbers (docs/IPFIX.md "Value encoding"):
// an empty CSV field (kEmpty) is the default quiet NaN, a text (kText, index i into
// kFeatureTexts: "not a complete handshake") the quiet NaN with payload 1 + i.
inline constexpr uint64_t kNanEmptyBits = 0x7ff8000000000000ull;
inline constexpr uint64_t kNanTextBits = 0x7ff8000000000001ull;
// Writes one feature value as an 8-byte element of type t; returns the end.
uint8_t* PutFeature(uint8_t* p, ElementType t, const FeatureValue& v, std::span<const Decimal> decimals,
                    const fmt::FloatSpec& spec);

// --where-columns in IPFIX: fixed-length strings, NUL-padded (RFC 7011 §6.1.6 allows any
// length; a collector trims the padding): the node name in observationDomainName (300,
// kNodeNameLen bytes, longer names cut) and the interface in ingressInterface (10, unsigned32)
// + interfaceName (82, IFNAMSIZ bytes). Unknown: 0 and an empty name.
inline constexpr uint16_t kNodeNameLen = 64;
inline constexpr uint16_t kIfNameLen = 16;
struct WhereValues {
  std::string_view node;
  uint32_t ifindex = 0;
  std::string_view ifname;
};

struct CodecOptions {
  bool uniflow = false;
  bool where_node = false;   // observationDomainName in every template
  bool where_iface = false;  // ingressInterface + interfaceName in every template
  bool where_tunnel = false;  // tunnelType, tunnel source/destination, tunnelId (FlowView::tunnel)
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
  // `where`: the --where-columns values (null: empty).
  size_t EncodeForward(const FlowView& f, uint8_t* out, uint16_t* template_id,
                       const WhereValues* where = nullptr) const;
  // Uniflow: the backward record (swapped identity, backward counters). Caller checks
  // f.packets[1] > 0.
  size_t EncodeBackward(const FlowView& f, uint8_t* out, uint16_t* template_id,
                        const WhereValues* where = nullptr) const;

 private:
  const FeatureSet& set_;
  CodecOptions opt_;
  std::vector<ElementType> types_;  // per feature column
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
  std::string column;  // feature elements: the CSV column (empty for the standard ones)
  std::string semantics = "quantity";  // RFC 7012 §3.2 data type semantics (XML model)
};
// Every element nfm-xdp sends (standard, reverse, then the features in column order).
std::vector<ElementDoc> ElementTable(const FeatureSet& set, uint32_t pen);
// docs/IPFIX.md's generated part (markdown table) and a libfixbuf/YAF-style information model
// (XML registry of the enterprise elements, as ipfixDump --element-file and
// fbInfoModelReadXMLFile read it).
std::string ElementTableMarkdown(const FeatureSet& set, uint32_t pen);
std::string InfoModelXml(const FeatureSet& set, uint32_t pen);
}  // namespace nfm::ipfix
