// SPDX-License-Identifier: MIT
// nfm-xdp's IPFIX templates, FlowView -> data record encoding, and the generated element table.
#include "output/ipfix_template.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "engine/ntl/ntl_features.hpp"
#include "output/feature_value.hpp"

namespace nfm::ipfix {
namespace {

// The IANA / RFC 5103 elements, in template order. `in`: where they appear.
enum In : uint8_t { kAll, kV4Only, kV6Only, kBiflowOnly, kUniflowOnly };
struct StdElement {
  uint16_t id;
  uint16_t length;
  uint32_t pen;
  const char* name;
  const char* type;
  const char* unit;
  In in;
  const char* meaning;
};
constexpr StdElement kStd[] = {
    {8, 4, 0, "sourceIPv4Address", "ipv4Address", "", kV4Only, "Source address: the sender of the flow's first packet (uniflow backward record: the responder)"},
    {12, 4, 0, "destinationIPv4Address", "ipv4Address", "", kV4Only, "Destination address"},
    {27, 16, 0, "sourceIPv6Address", "ipv6Address", "", kV6Only, "Source address (IPv6 template)"},
    {28, 16, 0, "destinationIPv6Address", "ipv6Address", "", kV6Only, "Destination address (IPv6 template)"},
    {7, 2, 0, "sourceTransportPort", "unsigned16", "", kAll, "Source port (0 without ports)"},
    {11, 2, 0, "destinationTransportPort", "unsigned16", "", kAll, "Destination port"},
    {4, 1, 0, "protocolIdentifier", "unsigned8", "", kAll, "IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, ...)"},
    {60, 1, 0, "ipVersion", "unsigned8", "", kAll, "4 or 6"},
    {152, 8, 0, "flowStartMilliseconds", "dateTimeMilliseconds", "milliseconds", kAll, "First packet of the flow (both records of a uniflow pair carry the flow's times)"},
    {153, 8, 0, "flowEndMilliseconds", "dateTimeMilliseconds", "milliseconds", kAll, "Last packet of the flow"},
    {154, 8, 0, "flowStartMicroseconds", "dateTimeMicroseconds", "microseconds", kAll, "First packet, microsecond resolution (NTP format)"},
    {155, 8, 0, "flowEndMicroseconds", "dateTimeMicroseconds", "microseconds", kAll, "Last packet, microsecond resolution (NTP format)"},
    {2, 8, 0, "packetDeltaCount", "unsigned64", "packets", kAll, "Packets of this direction (biflow: forward)"},
    {1, 8, 0, "octetDeltaCount", "unsigned64", "octets", kAll, "IP bytes (IP header + IP payload) of this direction"},
    {6, 2, 0, "tcpControlBits", "unsigned16", "", kAll, "OR of the TCP flag bytes of this direction"},
    {136, 1, 0, "flowEndReason", "unsigned8", "", kAll, "1 idle timeout, 2 active timeout, 3 FIN/RST end, 4 end of input/shutdown, 5 flow table full"},
    {2, 8, kReversePen, "reversePacketDeltaCount", "unsigned64", "packets", kBiflowOnly, "Packets of the backward direction (RFC 5103)"},
    {1, 8, kReversePen, "reverseOctetDeltaCount", "unsigned64", "octets", kBiflowOnly, "IP bytes of the backward direction (RFC 5103)"},
    {6, 2, kReversePen, "reverseTcpControlBits", "unsigned16", "", kBiflowOnly, "OR of the backward TCP flag bytes (RFC 5103)"},
    {239, 1, 0, "biflowDirection", "unsigned8", "", kUniflowOnly, "1 forward record (initiator), 2 backward record (reverse initiator)"},
};

// --where-columns elements, after the standard ones in every template when enabled.
struct WhereElement {
  uint16_t id;
  uint16_t length;
  const char* name;
  const char* type;
  const char* in;
  const char* meaning;
};
constexpr WhereElement kWhere[] = {
    {300, kNodeNameLen, "observationDomainName", "string", "--where-columns node",
     "Node that observed the flow (--node-name, $NODE_NAME, else the host name); NUL-padded to 64 bytes, longer names cut"},
    {10, 4, "ingressInterface", "unsigned32", "--where-columns iface",
     "Index of the interface that reported the flow (live; 0 unknown/offline)"},
    {82, kIfNameLen, "interfaceName", "string", "--where-columns iface",
     "Name of that interface when it was attached; NUL-padded to 16 bytes (IFNAMSIZ); empty unknown/offline"},
};

// --where-columns tunnel elements: enterprise-specific (the feature PEN), ids above every
// feature range, after the where elements above. Outer addresses as ipv6Address (IPv4 as
// ::ffff:a.b.c.d, like the flow's own addresses internally), oriented like the record.
struct TunnelElement {
  uint16_t id;
  uint16_t length;
  const char* name;
  const char* type;
  const char* meaning;
};
constexpr TunnelElement kTunnelElements[] = {
    {kTunnelIdBase + 1, 1, "tunnelType", "unsigned8",
     "Tunnel of the flow's first decapsulated packet: 0 none, 1 VXLAN, 2 Geneve, 3 GTP-U, 4 GRE, 5 IP in IP"},
    {kTunnelIdBase + 2, 16, "tunnelSourceIPv6Address", "ipv6Address",
     "Outer source address of that tunnel, oriented like the record (IPv4 as ::ffff:a.b.c.d; :: none)"},
    {kTunnelIdBase + 3, 16, "tunnelDestinationIPv6Address", "ipv6Address",
     "Outer destination address of that tunnel, oriented like the record (IPv4 as ::ffff:a.b.c.d; :: none)"},
    {kTunnelIdBase + 4, 4, "tunnelId", "unsigned32",
     "VXLAN/Geneve VNI, GTP-U TEID (of that first packet's direction), GRE key; 0 none (GRE without K, IP in IP)"},
};

uint8_t* PutFixedString(uint8_t* p, std::string_view v, size_t len) {
  const size_t n = std::min(v.size(), len);
  if (n) std::memcpy(p, v.data(), n);  // an empty view may have no data pointer
  std::memset(p + n, 0, len - n);
  return p + len;
}

bool Included(In in, bool v6, bool uniflow) {
  switch (in) {
    case kAll: return true;
    case kV4Only: return !v6;
    case kV6Only: return v6;
    case kBiflowOnly: return !uniflow;
    case kUniflowOnly: return uniflow;
  }
  return false;
}

// dateTimeMicroseconds (RFC 7011 §6.1.9): NTP seconds since 1900 + 2^-32 fractions.
uint64_t NtpMicros(int64_t ns) {
  constexpr uint64_t kNtpEpochOffset = 2208988800ull;
  if (ns < 0) ns = 0;
  const uint64_t s = static_cast<uint64_t>(ns) / 1000000000ull;
  const uint64_t us = static_cast<uint64_t>(ns) % 1000000000ull / 1000;
  const uint64_t frac = (us << 32) / 1000000ull;
  return (s + kNtpEpochOffset) << 32 | frac;
}

uint64_t Millis(int64_t ns) { return ns < 0 ? 0 : static_cast<uint64_t>(ns) / 1000000ull; }

}  // namespace

uint8_t FlowEndReasonCode(EndReason r) noexcept {
  switch (r) {
    case EndReason::kIdle: return 1;
    case EndReason::kActiveTimeout: return 2;
    case EndReason::kFin:
    case EndReason::kRst: return 3;
    case EndReason::kShutdown: return 4;
    case EndReason::kEviction: return 5;
    case EndReason::kCount: break;
  }
  return 4;
}

const char* ElementTypeName(ElementType t) noexcept {
  switch (t) {
    case ElementType::kUnsigned64: return "unsigned64";
    case ElementType::kSigned64: return "signed64";
    case ElementType::kFloat64: return "float64";
  }
  return "unsigned64";
}

namespace {
// Sets that share an element id range and naming (ntl: the reference's and the corrected set).
enum class Family : uint8_t { kNfm, kCic, kNtl, kOther };
Family FamilyOf(const FeatureSet& set) {
  switch (set.id) {
    case FeatureSetId::kNfm: return Family::kNfm;
    case FeatureSetId::kCic: return Family::kCic;
    case FeatureSetId::kNtl:
    case FeatureSetId::kNtlCorrected: return Family::kNtl;
    case FeatureSetId::kOther: break;
  }
  return Family::kOther;
}
}  // namespace

uint16_t FeatureElementId(const FeatureSet& set, size_t column) {
  const auto pos = static_cast<uint16_t>(column + 1);
  switch (FamilyOf(set)) {
    case Family::kNfm: return pos;
    case Family::kCic: return static_cast<uint16_t>(kCicIdBase + pos);
    case Family::kNtl: {
      // By name: the reference's 339 columns keep their position; names only the corrected
      // set has follow in the corrected set's order.
      const std::string_view name = set.columns[column].name;
      for (size_t i = 0; i < kNtlFeatures.size(); ++i)
        if (kNtlFeatures[i].name == name) return static_cast<uint16_t>(kNtlIdBase + i + 1);
      uint16_t extra = 0;
      for (size_t i = 0; i <= column; ++i) {
        bool known = false;
        for (const FeatureInfo& f : kNtlFeatures) known = known || f.name == set.columns[i].name;
        if (!known) ++extra;
      }
      return static_cast<uint16_t>(kNtlIdBase + kNtlFeatures.size() + extra);
    }
    case Family::kOther: break;
  }
  return pos;  // a set without its own range (unit-test sets): column positions, like nfm
}

ElementType FeatureElementType(const FeatureSet& set, size_t column) { return set.columns[column].ipfix; }

std::string FeatureElementName(const FeatureSet& set, size_t column) {
  const std::string_view c = set.columns[column].name;
  switch (FamilyOf(set)) {
    case Family::kNfm: return std::string(c);
    case Family::kCic: {
      std::string n = "cic_";
      bool sep = false;
      for (char ch : c) {
        const bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        if (!alnum) {
          sep = true;
          continue;
        }
        if (sep && n.size() > 4) n += '_';
        sep = false;
        n += ch;
      }
      return n;
    }
    case Family::kNtl: return "ntl_" + std::string(c);
    case Family::kOther: break;
  }
  return std::string(set.name) + "_" + std::string(c);
}

uint8_t* PutFeature(uint8_t* p, ElementType t, const FeatureValue& v, std::span<const Decimal> decimals,
                    const fmt::FloatSpec& spec) {
  using K = FeatureValue::Kind;
  switch (t) {
    case ElementType::kUnsigned64: return Put64(p, FeatureAsUint(v));
    case ElementType::kSigned64: {
      int64_t x = 0;
      if (v.kind == K::kInt) {
        x = v.ns;
      } else if (v.kind == K::kUint) {
        x = v.u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? std::numeric_limits<int64_t>::max()
                                                                              : static_cast<int64_t>(v.u);
      } else {  // a double: Java's (long) cast (truncation, NaN 0, saturation)
        const double d = FeatureAsDouble(v, decimals, spec);
        if (std::isnan(d)) x = 0;
        else if (d >= 9223372036854775807.0) x = std::numeric_limits<int64_t>::max();
        else if (d <= -9223372036854775808.0) x = std::numeric_limits<int64_t>::min();
        else x = static_cast<int64_t>(d);
      }
      return Put64(p, static_cast<uint64_t>(x));
    }
    case ElementType::kFloat64:
      if (v.kind == K::kEmpty) return Put64(p, kNanEmptyBits);
      if (v.kind == K::kText) return Put64(p, kNanTextBits + v.aux);
      return PutDouble(p, FeatureAsDouble(v, decimals, spec));
  }
  return Put64(p, 0);
}

RecordCodec::RecordCodec(const FeatureSet& set, const CodecOptions& opt) : set_(set), opt_(opt) {
  for (size_t i = 0; i < set.columns.size(); ++i) types_.push_back(FeatureElementType(set, i));
  for (int back = 0; back < (opt.uniflow ? 2 : 1); ++back) {
    for (int v6 = 0; v6 < 2; ++v6) {
      Template t;
      t.id = back ? (v6 ? kTemplateBackV6 : kTemplateBackV4) : (v6 ? kTemplateV6 : kTemplateV4);
      for (const StdElement& e : kStd)
        if (Included(e.in, v6, opt.uniflow)) t.fields.push_back({e.id, e.length, e.pen});
      if (opt.where_node) t.fields.push_back({kWhere[0].id, kWhere[0].length, 0});
      if (opt.where_iface) {
        t.fields.push_back({kWhere[1].id, kWhere[1].length, 0});
        t.fields.push_back({kWhere[2].id, kWhere[2].length, 0});
      }
      if (opt.where_tunnel)
        for (const TunnelElement& e : kTunnelElements) t.fields.push_back({e.id, e.length, opt.pen});
      if (!back)
        for (size_t i = 0; i < set.columns.size(); ++i) t.fields.push_back({FeatureElementId(set, i), 8, opt.pen});
      t.AppendTo(template_body_);
      if (t.RecordLength() > max_record_len_) max_record_len_ = t.RecordLength();
      templates_.push_back(std::move(t));
    }
  }
}

namespace {

// Writes the standard part; `back` swaps the identity and takes the backward counters.
uint8_t* PutIdentity(const FlowView& f, bool uniflow, bool back, uint8_t* p) {
  const bool v6 = f.ip_version == 6;
  const uint8_t* a = back ? f.dst : f.src;
  const uint8_t* b = back ? f.src : f.dst;
  const int d = back ? 1 : 0;
  if (v6) {
    std::memcpy(p, a, 16);
    std::memcpy(p + 16, b, 16);
    p += 32;
  } else {
    std::memcpy(p, a + 12, 4);
    std::memcpy(p + 4, b + 12, 4);
    p += 8;
  }
  p = Put16(p, back ? f.dport : f.sport);
  p = Put16(p, back ? f.sport : f.dport);
  p = Put8(p, f.proto);
  p = Put8(p, v6 ? 6 : 4);
  p = Put64(p, Millis(f.first_ns));
  p = Put64(p, Millis(f.last_ns));
  p = Put64(p, NtpMicros(f.first_ns));
  p = Put64(p, NtpMicros(f.last_ns));
  p = Put64(p, f.packets[d]);
  p = Put64(p, f.ip_bytes[d]);
  p = Put16(p, f.tcp_flags[d]);
  p = Put8(p, FlowEndReasonCode(f.reason));
  if (!uniflow) {
    p = Put64(p, f.packets[1]);
    p = Put64(p, f.ip_bytes[1]);
    p = Put16(p, f.tcp_flags[1]);
  } else {
    p = Put8(p, back ? 2 : 1);
  }
  return p;
}

}  // namespace

namespace {

// back: the uniflow backward record (its identity is swapped, so are the outer addresses).
uint8_t* PutWhere(const CodecOptions& opt, const WhereValues* w, const FlowView& f, bool back, uint8_t* p) {
  const WhereValues none;
  if (w == nullptr) w = &none;
  if (opt.where_node) p = PutFixedString(p, w->node, kNodeNameLen);
  if (opt.where_iface) {
    p = Put32(p, w->ifindex);
    p = PutFixedString(p, w->ifname, kIfNameLen);
  }
  if (opt.where_tunnel) {
    const TunnelMeta none_tunnel;
    const TunnelMeta& t = f.tunnel ? *f.tunnel : none_tunnel;
    p = Put8(p, t.type);
    std::memcpy(p, back ? t.dst : t.src, 16);
    std::memcpy(p + 16, back ? t.src : t.dst, 16);
    p += 32;
    p = Put32(p, t.has_id ? t.id : 0);
  }
  return p;
}

}  // namespace

size_t RecordCodec::EncodeForward(const FlowView& f, uint8_t* out, uint16_t* template_id,
                                  const WhereValues* where) const {
  *template_id = f.ip_version == 6 ? kTemplateV6 : kTemplateV4;
  uint8_t* p = PutIdentity(f, opt_.uniflow, false, out);
  p = PutWhere(opt_, where, f, false, p);
  const size_t n = std::min(f.features.size(), set_.columns.size());
  for (size_t i = 0; i < n; ++i) p = PutFeature(p, types_[i], f.features[i], f.decimals, opt_.float_spec);
  for (size_t i = n; i < set_.columns.size(); ++i) p = Put64(p, 0);  // never: the set fixes the count
  return static_cast<size_t>(p - out);
}

size_t RecordCodec::EncodeBackward(const FlowView& f, uint8_t* out, uint16_t* template_id,
                                   const WhereValues* where) const {
  *template_id = f.ip_version == 6 ? kTemplateBackV6 : kTemplateBackV4;
  return static_cast<size_t>(PutWhere(opt_, where, f, true, PutIdentity(f, true, true, out)) - out);
}

// ------------------------------------------------------------------ element table

std::vector<ElementDoc> ElementTable(const FeatureSet& set, uint32_t pen) {
  std::vector<ElementDoc> out;
  static const char* kIn[] = {"all", "IPv4", "IPv6", "biflow", "uniflow"};
  for (const StdElement& e : kStd)
    out.push_back({e.pen, e.id, e.name, e.type, e.unit, e.meaning, kIn[e.in], ""});
  for (const WhereElement& e : kWhere) out.push_back({0, e.id, e.name, e.type, "", e.meaning, e.in, ""});
  for (const TunnelElement& e : kTunnelElements) {
    out.push_back({pen, e.id, e.name, e.type, "", e.meaning, "--where-columns tunnel", ""});
    // A code and an id (identifier); addresses have no semantics (RFC 7012: default).
    out.back().semantics = std::string_view(e.type) == "ipv6Address" ? "default" : "identifier";
  }
  for (size_t i = 0; i < set.columns.size(); ++i) {
    const FeatureInfo& c = set.columns[i];
    std::string meaning = std::string(c.description) + std::string(c.note);
    out.push_back({pen, FeatureElementId(set, i), FeatureElementName(set, i), ElementTypeName(FeatureElementType(set, i)),
                   std::string(c.unit), std::move(meaning), "forward/biflow", std::string(c.name)});
  }
  return out;
}

std::string ElementTableMarkdown(const FeatureSet& set, uint32_t pen) {
  // The nfm table has no CSV-column column: its element names are the CSV columns.
  const bool col = FamilyOf(set) != Family::kNfm;
  std::string s = col ? "| PEN | id | name | CSV column | type | unit | records | meaning |\n|---|---|---|---|---|---|---|---|\n"
                      : "| PEN | id | name | type | unit | records | meaning |\n|---|---|---|---|---|---|---|\n";
  for (const ElementDoc& e : ElementTable(set, pen)) {
    s += "| " + (e.pen ? std::to_string(e.pen) : std::string("IANA")) + " | " + std::to_string(e.id) + " | `" +
         e.name + "` | ";
    if (col) s += (e.column.empty() ? std::string() : "`" + e.column + "`") + " | ";
    s += e.type + " | " + e.unit + " | " + e.in + " | " + e.meaning + " |\n";
  }
  return s;
}

namespace {
std::string XmlEscape(std::string_view s) {
  std::string o;
  for (char c : s) {
    if (c == '&') o += "&amp;";
    else if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else o += c;
  }
  return o;
}
}  // namespace

std::string InfoModelXml(const FeatureSet& set, uint32_t pen) {
  std::string s =
      "<?xml version='1.0' encoding='UTF-8'?>\n"
      "<!-- Generated by nfm-xdp (flag ipfix-elements xml, scripts/gen-ipfix-docs.sh); do not edit. -->\n"
      "<registry id=\"nfm_xdp_ipfix\"\n"
      "          xmlns=\"http://www.iana.org/assignments\"\n"
      "          xmlns:cert=\"http://www.cert.org/ipfix\">\n"
      "  <title>nfm-xdp IPFIX elements (PEN " + std::to_string(pen) + ")</title>\n"
      "  <registry id=\"nfm-xdp-information-elements\">\n";
  for (const ElementDoc& e : ElementTable(set, pen)) {
    if (e.pen != pen) continue;
    s += "    <record>\n      <name>" + XmlEscape(e.name) + "</name>\n      <dataType>" + e.type +
         "</dataType>\n      <group>nfm-xdp</group>\n      <dataTypeSemantics>" + e.semantics +
         "</dataTypeSemantics>\n"
         "      <cert:enterpriseId>" + std::to_string(pen) + "</cert:enterpriseId>\n      <elementId>" +
         std::to_string(e.id) + "</elementId>\n      <description>\n        <paragraph>" +
         XmlEscape(e.meaning) + "</paragraph>\n      </description>\n";
    // IANA units (libfixbuf rejects others): bytes are octets; rates have no IANA unit.
    const std::string unit = e.unit == "bytes" ? "octets" : e.unit;
    if (unit == "octets" || unit == "packets" || unit == "seconds" || unit == "milliseconds" ||
        unit == "microseconds")
      s += "      <units>" + unit + "</units>\n";
    s += "      <status>current</status>\n    </record>\n";
  }
  s += "  </registry>\n</registry>\n";
  return s;
}

}  // namespace nfm::ipfix
