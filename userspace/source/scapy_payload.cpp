// SPDX-License-Identifier: MIT
// ScapyRebuiltLength: scapy 2.5's BER re-encoding, as a length computation (no values kept).
// Each rule below was checked against scapy 2.5 (asn1/ber.py, asn1fields.py, layers/{ldap,
// snmp,kerberos}.py) and is exercised by tests/unit/scapy_payload_test.py. It checks the
// message grammar only down to the protocol operation; docs/FEATURES.md lists what that misses.
#include "source/scapy_payload.hpp"

#include <array>
#include <cstddef>

namespace nfm {
namespace {

// scapy's TCP.payload_guess / UDP.payload_guess, in order, up to the last entry that matters
// here (later entries cannot win over it). -1: field not tested. Generated from scapy 2.5 with
// `for fval, cls in UDP.payload_guess: print(fval, cls)`.
struct Binding {
  int32_t sport, dport;
  ScapyApp app;
};
constexpr Binding kTcpBindings[] = {
    {-1, 53, ScapyApp::kOther},   {53, -1, ScapyApp::kOther},           // DNS
    {88, -1, ScapyApp::kKerberosTcp}, {-1, 88, ScapyApp::kKerberosTcp},  // KerberosTCPHeader
    {135, -1, ScapyApp::kOther},  {-1, 135, ScapyApp::kOther},          // DceRpc
    {-1, 389, ScapyApp::kLdap},   {389, -1, ScapyApp::kLdap},           // LDAP
    {-1, 3268, ScapyApp::kLdap},  {3268, -1, ScapyApp::kLdap},
};
constexpr Binding kUdpBindings[] = {
    {-1, 5353, ScapyApp::kOther}, {5353, -1, ScapyApp::kOther},  // DNS
    {-1, 53, ScapyApp::kOther},   {53, -1, ScapyApp::kOther},
    {88, -1, ScapyApp::kKerberos}, {-1, 88, ScapyApp::kKerberos},  // Kerberos
    {68, 67, ScapyApp::kOther},   {67, 68, ScapyApp::kOther},   {67, 67, ScapyApp::kOther},  // BOOTP
    {-1, 547, ScapyApp::kOther},  {-1, 546, ScapyApp::kOther},  // DHCPv6
    {-1, 1985, ScapyApp::kOther}, {1985, -1, ScapyApp::kOther},  // HSRP
    {-1, 2029, ScapyApp::kOther}, {2029, -1, ScapyApp::kOther},
    {-1, 4500, ScapyApp::kOther}, {4500, -1, ScapyApp::kOther},  // ESP (NAT-T)
    {-1, 500, ScapyApp::kOther},  {500, -1, ScapyApp::kOther},   // ISAKMP
    {-1, 1701, ScapyApp::kL2tp},  {1701, -1, ScapyApp::kL2tp},   // L2TP
    {-1, 389, ScapyApp::kCldap},  {389, -1, ScapyApp::kCldap},   // CLDAP
    {-1, 5355, ScapyApp::kOther}, {5355, -1, ScapyApp::kOther},  // LLMNR
    {-1, 2727, ScapyApp::kOther}, {2727, -1, ScapyApp::kOther},  // MGCP
    {-1, 434, ScapyApp::kOther},  {434, -1, ScapyApp::kOther},   // MobileIP
    {-1, 137, ScapyApp::kOther},  {137, -1, ScapyApp::kOther},   // NBNS
    {-1, 138, ScapyApp::kOther},                                 // NBTDatagram
    {-1, 2055, ScapyApp::kOther}, {2055, -1, ScapyApp::kOther},  // Netflow
    {-1, 2056, ScapyApp::kOther}, {2056, -1, ScapyApp::kOther},
    {-1, 9995, ScapyApp::kOther}, {9995, -1, ScapyApp::kOther},
    {-1, 9996, ScapyApp::kOther}, {9996, -1, ScapyApp::kOther},
    {-1, 6343, ScapyApp::kOther}, {6343, -1, ScapyApp::kOther},
    {123, -1, ScapyApp::kOther},  {-1, 123, ScapyApp::kOther},   // NTP
    {1812, -1, ScapyApp::kOther}, {-1, 1812, ScapyApp::kOther},  // Radius
    {1813, -1, ScapyApp::kOther}, {-1, 1813, ScapyApp::kOther},
    {3799, -1, ScapyApp::kOther}, {-1, 3799, ScapyApp::kOther},
    {-1, 520, ScapyApp::kOther},  {520, -1, ScapyApp::kOther},   // RIP
    {161, -1, ScapyApp::kSnmp},   {-1, 161, ScapyApp::kSnmp},    // SNMP
    {162, -1, ScapyApp::kSnmp},   {-1, 162, ScapyApp::kSnmp},
    {-1, 69, ScapyApp::kOther},                                  // TFTP
    {-1, 4789, ScapyApp::kVxlan}, {-1, 4790, ScapyApp::kVxlan},  // VXLAN
    {-1, 6633, ScapyApp::kVxlan}, {-1, 8472, ScapyApp::kVxlan}, {-1, 48879, ScapyApp::kVxlan},
    {4789, -1, ScapyApp::kVxlan}, {4790, -1, ScapyApp::kVxlan}, {6633, -1, ScapyApp::kVxlan},
    {8472, -1, ScapyApp::kVxlan},
};

template <std::size_t N>
ScapyApp FirstMatch(const Binding (&table)[N], uint16_t sport, uint16_t dport) {
  for (const Binding& b : table) {
    if ((b.sport < 0 || b.sport == sport) && (b.dport < 0 || b.dport == dport)) return b.app;
  }
  return ScapyApp::kOther;
}

bool IsCandidatePort(uint16_t port) {
  switch (port) {
    case 88: case 389: case 3268: case 161: case 162:             // re-encoded
    case 1701: case 4789: case 4790: case 6633: case 8472: case 48879:  // tunnels
      return true;
    default:
      return false;
  }
}

// BER_len_enc(l): short form up to 127, else 0x80|n and n big-endian bytes.
uint32_t LenFieldSize(uint32_t l) {
  if (l <= 127) return 1;
  uint32_t n = 1;
  for (; l != 0; l >>= 8) ++n;
  return n;
}

// One TLV as scapy's BER_id_dec / BER_len_dec read it.
struct Tlv {
  uint8_t tag;
  uint32_t content;  // offset of the content
  uint32_t len;      // content length
};

// False where scapy raises: no byte for the tag or length, a high tag number (no field of
// these grammars has one, so the tag check fails), long-form length bytes missing, or
// content longer than the bytes left (check_type_check_len). 0x80 (indefinite) reads as
// length 0, as BER_len_dec does.
bool ReadTlv(const uint8_t* p, uint32_t off, uint32_t end, Tlv* t) {
  if (end - off < 2) return false;
  t->tag = p[off];
  if ((t->tag & 0x1f) == 0x1f) return false;
  const uint8_t b = p[off + 1];
  uint32_t pos = off + 2;
  uint64_t len = b;
  if (b & 0x80) {
    const uint32_t n = b & 0x7f;
    if (end - (off + 1) <= n) return false;
    len = 0;
    for (uint32_t i = 0; i < n; ++i) {
      len = (len << 8) | p[pos + i];
      if (len > end) return false;  // more than any remainder can hold: check_len fails
    }
    pos += n;
  }
  if (len > end - pos) return false;
  t->content = pos;
  t->len = static_cast<uint32_t>(len);
  return true;
}

// BERcodec_INTEGER: value = big-endian two's complement of the content (empty: 0); enc emits
// bytes until the rest is in [-127, 127], so it is the minimal length, plus one when the
// minimal form's top byte is 0x80 (-128, -32768, ...: scapy's loop stops at -127).
uint32_t IntegerSize(const uint8_t* c, uint32_t n) {
  if (n == 0) return 1;
  uint32_t i = 0;
  while (i + 1 < n && ((c[i] == 0x00 && !(c[i + 1] & 0x80)) || (c[i] == 0xff && (c[i + 1] & 0x80)))) ++i;
  return n - i + (c[i] == 0x80 ? 1 : 0);
}

bool IsZero(const uint8_t* c, uint32_t n) {
  for (uint32_t i = 0; i < n; ++i)
    if (c[i] != 0) return false;
  return true;
}

// BERcodec_OID: sub-identifiers (base 128, 0x80 continuation) re-encoded minimally; a
// content ending inside a sub-identifier does not decode.
bool OidSize(const uint8_t* c, uint32_t n, uint32_t* out) {
  uint32_t size = 0, i = 0;
  while (i < n) {
    while (i < n && c[i] == 0x80) ++i;  // leading zero groups vanish
    uint32_t digits = 0;
    bool done = false;
    for (; i < n; ++i) {
      ++digits;
      if (!(c[i] & 0x80)) {
        ++i;
        done = true;
        break;
      }
    }
    if (!done) return false;
    size += digits;
  }
  *out = size;
  return true;
}

// Generic BER: Kerberos, and values whose structure scapy decodes generically.
enum class Kind : uint8_t { kOpaque, kInteger, kNull, kOid, kConstructed };

// How scapy's codec for a universal tag rebuilds the content (Kerberos uses only universal
// types inside its context tags).
Kind GenericKind(uint8_t tag) {
  switch (tag) {
    case 0x01:  // BOOLEAN
    case 0x02:  // INTEGER
    case 0x0a:  // ENUMERATED
      return Kind::kInteger;
    case 0x05:
      return Kind::kNull;
    case 0x06:
      return Kind::kOid;
    default:
      return (tag & 0x20) ? Kind::kConstructed : Kind::kOpaque;
  }
}

uint32_t TlvSize(uint32_t content) { return 1 + LenFieldSize(content) + content; }

// Rebuilt content size of a primitive of this kind; false where scapy's codec raises.
bool PrimitiveContent(Kind kind, const uint8_t* c, uint32_t n, uint32_t* out) {
  switch (kind) {
    case Kind::kInteger:
      *out = IntegerSize(c, n);
      return true;
    case Kind::kNull:  // BERcodec_NULL: 0 encodes as an empty content, else as an INTEGER
      *out = IsZero(c, n) ? 0 : IntegerSize(c, n);
      return true;
    case Kind::kOid:
      return OidSize(c, n, out);
    default:
      *out = n;
      return true;
  }
}

// Rebuilt size of the TLVs that exactly tile [off, end), every constructed one recursed.
bool GenericChildren(const uint8_t* p, uint32_t off, uint32_t end, int depth, uint32_t* out);

bool GenericTlv(const uint8_t* p, const Tlv& t, int depth, uint32_t* out) {
  if (depth >= kScapyBerMaxDepth) return false;
  const Kind kind = GenericKind(t.tag);
  uint32_t content;
  if (kind == Kind::kConstructed) {
    if (!GenericChildren(p, t.content, t.content + t.len, depth + 1, &content)) return false;
  } else if (!PrimitiveContent(kind, p + t.content, t.len, &content)) {
    return false;
  }
  *out = TlvSize(content);
  return true;
}

bool GenericChildren(const uint8_t* p, uint32_t off, uint32_t end, int depth, uint32_t* out) {
  uint32_t sum = 0;
  while (off < end) {
    Tlv c;
    uint32_t size;
    if (!ReadTlv(p, off, end, &c) || !GenericTlv(p, c, depth, &size)) return false;
    sum += size;
    off = c.content + c.len;
  }
  *out = sum;
  return true;
}

// scapy's LDAP / CLDAP / SNMP field trees, as a table. One node per scapy field. A SEQUENCE
// matches its elements in order (optional ones are skipped when they do not decode, as
// ASN1F_optional does), an empty SEQUENCE decodes with every field None and rebuilds empty,
// and elements left over fail ("unexpected remainder"). Tag checks: `lo..hi` exact; `low5`:
// an implicitly tagged SEQUENCE element, where BER_tagging_dec compares only the tag number.
// A CHOICE registers an ASN1F_PACKET alternative with an implicit tag under that tag and
// under its tag number alone (`by_number`), and looks a tag up exactly first, then by its
// number: so a wire 0xa0 selects the `and` filter (implicit 0x80), 0x50 abandonRequest
// (implicit 0x70). Alternatives given as classes (simple bind, SNMP PDUs) match exactly.
// Verified case by case against scapy 2.5 (tests/differential/scapy_payload_test.py).
enum class N : uint8_t { kUnset, kPrim, kSeq, kSeqOf, kChoice, kGeneric, kSnmpValue };

struct Node {
  N type = N::kUnset;
  uint8_t lo = 0, hi = 0;  // accepted tags
  bool low5 = false;       // compare tag numbers only
  bool optional = false;
  bool by_number = false;  // as a CHOICE alternative, also selected by its tag number
  Kind kind = Kind::kOpaque;       // kPrim: how the content is rebuilt
  const uint8_t* kids = nullptr;   // kSeq, kChoice: the elements; kSeqOf: the element type
  uint8_t count = 0;
};

enum : uint8_t {
  kLdapMsg, kMsgId, kLdapOp, kControls, kControl, kOctets, kOptBool, kOptOctets,
  kBindReq, kAuth, kAuthSimple, kAuthKrbLdap, kAuthKrbDsa, kSasl,
  kBindResp, kEnum, kReferral, kSaslCreds, kUnbind, kAbandon, kResult,
  kSearchReq, kInt, kBool, kFilter, kAnd, kOr, kEq, kSubstr, kGe, kLe, kPresent, kApprox,
  kSubList, kSubChoice, kSubInitial, kSubAny, kSubFinal, kAttrList,
  kEntry, kEntryAttrs, kEntryAttr, kValueSet,
  kCldapMsg, kOptOctetsUser,
  kSnmpMsg, kSnmpPdu, kPdu, kTrap, kVarbinds, kVarbind, kOid, kSnmpValue, kIpAddr, kTicks,
  kNodeCount
};

constexpr uint8_t kLdapMessageKids[] = {kMsgId, kLdapOp, kControls};
constexpr uint8_t kLdapOpKids[] = {kBindReq, kBindResp, kUnbind, kSearchReq, kEntry, kResult, kAbandon};
constexpr uint8_t kControlKids[] = {kOctets, kOptBool, kOptOctets};
constexpr uint8_t kBindReqKids[] = {kInt, kOctets, kAuth};
constexpr uint8_t kAuthKids[] = {kAuthSimple, kAuthKrbLdap, kAuthKrbDsa, kSasl};
constexpr uint8_t kTwoOctets[] = {kOctets, kOctets};  // SaslCredentials, AttributeValueAssertion
constexpr uint8_t kBindRespKids[] = {kEnum, kOctets, kOctets, kReferral, kSaslCreds};
constexpr uint8_t kResultKids[] = {kEnum, kOctets, kOctets, kReferral};  // LDAPResult
constexpr uint8_t kSearchReqKids[] = {kOctets, kEnum, kEnum, kInt, kInt, kBool, kFilter, kAttrList};
// `not` (2) raises in scapy 2.5; extensibleMatch (9) is not there.
constexpr uint8_t kFilterKids[] = {kAnd, kOr, kEq, kSubstr, kGe, kLe, kPresent, kApprox};
constexpr uint8_t kSubstrKids[] = {kOctets, kSubList};
constexpr uint8_t kSubChoiceKids[] = {kSubInitial, kSubAny, kSubFinal};
constexpr uint8_t kEntryKids[] = {kOctets, kEntryAttrs};
constexpr uint8_t kEntryAttrKids[] = {kOctets, kValueSet};
constexpr uint8_t kCldapKids[] = {kMsgId, kOptOctetsUser, kLdapOp};
constexpr uint8_t kSnmpKids[] = {kInt, kOctets, kSnmpPdu};
constexpr uint8_t kPduChoiceKids[] = {kPdu, kTrap};
constexpr uint8_t kPduKids[] = {kInt, kInt, kInt, kVarbinds};
constexpr uint8_t kTrapKids[] = {kOid, kIpAddr, kInt, kInt, kTicks, kVarbinds};
constexpr uint8_t kVarbindKids[] = {kOid, kSnmpValue};
constexpr uint8_t kFilterType[] = {kFilter};
constexpr uint8_t kOctetsType[] = {kOctets};
constexpr uint8_t kControlType[] = {kControl};
constexpr uint8_t kSubChoiceType[] = {kSubChoice};
constexpr uint8_t kEntryAttrType[] = {kEntryAttr};
constexpr uint8_t kVarbindType[] = {kVarbind};

constexpr Node Prim(uint8_t tag, Kind kind) {
  Node n;
  n.type = N::kPrim;
  n.lo = n.hi = tag;
  n.kind = kind;
  return n;
}
template <std::size_t K>
constexpr Node Tree(N type, uint8_t lo, uint8_t hi, const uint8_t (&kids)[K]) {
  Node n;
  n.type = type;
  n.lo = lo;
  n.hi = hi;
  n.kids = kids;
  n.count = static_cast<uint8_t>(K);
  return n;
}
template <std::size_t K>
constexpr Node Seq(uint8_t tag, const uint8_t (&kids)[K]) { return Tree(N::kSeq, tag, tag, kids); }
template <std::size_t K>
constexpr Node SeqOf(uint8_t tag, const uint8_t (&element)[K]) { return Tree(N::kSeqOf, tag, tag, element); }
template <std::size_t K>
constexpr Node Choice(const uint8_t (&kids)[K]) { return Tree(N::kChoice, 0, 0xff, kids); }
constexpr Node Generic(uint8_t tag) {
  Node n;
  n.type = N::kGeneric;
  n.lo = n.hi = tag;
  return n;
}
constexpr Node Optional(Node n) { n.optional = true; return n; }
constexpr Node Low5(Node n) { n.low5 = true; return n; }
constexpr Node ByNumber(Node n) { n.by_number = true; return n; }

constexpr std::array<Node, kNodeCount> MakeNodes() {
  std::array<Node, kNodeCount> n{};
  n[kLdapMsg] = Seq(0x30, kLdapMessageKids);
  n[kMsgId] = Prim(0x02, Kind::kInteger);
  n[kLdapOp] = Choice(kLdapOpKids);
  n[kControls] = Optional(Low5(SeqOf(0x00, kControlType)));  // implicit_tag=0x0
  n[kControl] = Seq(0x30, kControlKids);
  n[kOctets] = Prim(0x04, Kind::kOpaque);
  n[kOptBool] = Optional(Prim(0x01, Kind::kInteger));
  n[kOptOctets] = Optional(Prim(0x04, Kind::kOpaque));
  n[kBindReq] = ByNumber(Seq(0x60, kBindReqKids));
  n[kAuth] = Choice(kAuthKids);
  // simple / krbv42LDAP / krbv42DSA: BERcodec_SEQUENCE codecs, so their content must be BER
  n[kAuthSimple] = Generic(0xa0);
  n[kAuthKrbLdap] = Generic(0xa1);
  n[kAuthKrbDsa] = Generic(0xa2);
  n[kSasl] = ByNumber(Seq(0xa3, kTwoOctets));
  n[kBindResp] = ByNumber(Seq(0x61, kBindRespKids));
  n[kEnum] = Prim(0x0a, Kind::kInteger);
  n[kReferral] = Optional(Low5(SeqOf(0xa3, kOctetsType)));
  n[kSaslCreds] = Optional(Low5(Prim(0x87, Kind::kOpaque)));
  n[kUnbind] = ByNumber(Prim(0x42, Kind::kNull));
  n[kAbandon] = ByNumber(Prim(0x70, Kind::kInteger));
  n[kResult] = ByNumber(Seq(0x65, kResultKids));  // searchResDone
  n[kSearchReq] = ByNumber(Seq(0x63, kSearchReqKids));
  n[kInt] = Prim(0x02, Kind::kInteger);
  n[kBool] = Prim(0x01, Kind::kInteger);
  n[kFilter] = Choice(kFilterKids);
  n[kAnd] = ByNumber(SeqOf(0x80, kFilterType));
  n[kOr] = ByNumber(SeqOf(0x81, kFilterType));
  n[kEq] = ByNumber(Seq(0x83, kTwoOctets));
  n[kSubstr] = ByNumber(Seq(0x84, kSubstrKids));
  n[kGe] = ByNumber(Seq(0x85, kTwoOctets));
  n[kLe] = ByNumber(Seq(0x86, kTwoOctets));
  n[kPresent] = ByNumber(Prim(0x87, Kind::kOpaque));
  n[kApprox] = ByNumber(Seq(0x88, kTwoOctets));
  n[kSubList] = SeqOf(0x30, kSubChoiceType);
  n[kSubChoice] = Choice(kSubChoiceKids);
  n[kSubInitial] = ByNumber(Prim(0x00, Kind::kOpaque));
  n[kSubAny] = ByNumber(Prim(0x01, Kind::kOpaque));
  n[kSubFinal] = ByNumber(Prim(0x02, Kind::kOpaque));
  n[kAttrList] = SeqOf(0x30, kOctetsType);
  n[kEntry] = ByNumber(Seq(0x64, kEntryKids));
  n[kEntryAttrs] = SeqOf(0x30, kEntryAttrType);
  n[kEntryAttr] = Seq(0x30, kEntryAttrKids);
  n[kValueSet] = SeqOf(0x31, kOctetsType);
  n[kCldapMsg] = Seq(0x30, kCldapKids);
  n[kOptOctetsUser] = Optional(Prim(0x04, Kind::kOpaque));
  n[kSnmpMsg] = Seq(0x30, kSnmpKids);
  n[kSnmpPdu] = Choice(kPduChoiceKids);
  n[kPdu] = Tree(N::kSeq, 0xa0, 0xa7, kPduKids);  // get ... trapv2 except trapv1 (0xa4)
  n[kTrap] = Seq(0xa4, kTrapKids);
  n[kVarbinds] = SeqOf(0x30, kVarbindType);
  n[kVarbind] = Seq(0x30, kVarbindKids);
  n[kOid] = Prim(0x06, Kind::kOid);
  n[kSnmpValue].type = N::kSnmpValue;
  n[kIpAddr] = Prim(0x40, Kind::kOpaque);
  n[kTicks] = Prim(0x43, Kind::kInteger);
  return n;
}
constexpr std::array<Node, kNodeCount> kNodes = MakeNodes();

constexpr bool EveryNodeDefined() {
  for (const Node& n : kNodes) {
    if (n.type == N::kUnset) return false;
  }
  return true;
}
static_assert(EveryNodeDefined());

bool TagMatches(const Node& n, uint8_t tag) {
  if (n.low5 && tag != n.lo) return (tag & 0x1f) == (n.lo & 0x1f);
  return tag >= n.lo && tag <= n.hi && !(n.lo == 0xa0 && n.hi == 0xa7 && tag == 0xa4);
}

// An SNMP VarBind value (ASN1F_field, any tag): the universal and SNMP application tags
// scapy 2.5 has a codec for; any other tag (noSuchObject 0x80, Counter64 0x46, Opaque 0x44 ...)
// fails the whole SNMP layer.
bool SnmpValue(const uint8_t* p, const Tlv& t, int depth, uint32_t* out) {
  switch (t.tag) {
    case 0x30: case 0x31:
      return GenericTlv(p, t, depth, out);
    case 0x01: case 0x02: case 0x0a: case 0x41: case 0x42: case 0x43:
      *out = TlvSize(IntegerSize(p + t.content, t.len));
      return true;
    case 0x05: case 0x06:
      return GenericTlv(p, t, depth, out);
    case 0x40:  // IpAddress: inet_ntoa of exactly 4 bytes
      if (t.len != 4) return false;
      *out = TlvSize(4);
      return true;
    case 0x03: case 0x04: case 0x0c: case 0x12: case 0x13: case 0x14: case 0x15: case 0x16:
    case 0x17: case 0x18: case 0x1a: case 0x1b: case 0x1c: case 0x1e:
      *out = TlvSize(t.len);
      return true;
    default:
      return false;
  }
}

bool NodeTlv(uint8_t id, const uint8_t* p, const Tlv& t, int depth, uint32_t* out, bool chosen = false);

// Elements of a SEQUENCE node in [off, end).
bool SeqContent(const Node& n, const uint8_t* p, uint32_t off, uint32_t end, int depth, uint32_t* out) {
  uint32_t sum = 0;
  uint8_t k = 0;
  while (off < end) {
    Tlv e;
    if (!ReadTlv(p, off, end, &e)) return false;
    uint32_t size;
    for (;; ++k) {  // the first element that takes it; optional ones may pass
      if (k == n.count) return false;  // unexpected remainder
      const uint8_t id = n.kids[k];
      if (NodeTlv(id, p, e, depth, &size)) break;
      if (!kNodes[id].optional) return false;
    }
    ++k;
    sum += size;
    off = e.content + e.len;
  }
  for (; k < n.count; ++k) {
    if (!kNodes[n.kids[k]].optional) return false;  // a required field is missing
  }
  *out = sum;
  return true;
}

bool NodeTlv(uint8_t id, const uint8_t* p, const Tlv& t, int depth, uint32_t* out, bool chosen) {
  if (depth >= kScapyBerMaxDepth) return false;
  const Node& n = kNodes[id];
  if (n.type == N::kChoice) {
    for (uint8_t k = 0; k < n.count; ++k) {  // exact key
      const uint8_t alt = n.kids[k];
      if (TagMatches(kNodes[alt], t.tag)) return NodeTlv(alt, p, t, depth, out, true);
    }
    for (uint8_t k = 0; k < n.count; ++k) {  // tag number; the implicit tag check then passes
      const uint8_t alt = n.kids[k];
      if (kNodes[alt].by_number && (t.tag & 0x1f) == (kNodes[alt].lo & 0x1f)) {
        return NodeTlv(alt, p, t, depth, out, true);
      }
    }
    return false;
  }
  if (n.type == N::kSnmpValue) return SnmpValue(p, t, depth, out);
  if (!chosen && !TagMatches(n, t.tag)) return false;
  uint32_t content = 0;
  switch (n.type) {
    case N::kPrim:
      if (!PrimitiveContent(n.kind, p + t.content, t.len, &content)) return false;
      break;
    case N::kGeneric:
      if (!GenericChildren(p, t.content, t.content + t.len, depth + 1, &content)) return false;
      break;
    case N::kSeq:
      if (t.len != 0 && !SeqContent(n, p, t.content, t.content + t.len, depth + 1, &content)) return false;
      break;
    case N::kSeqOf: {
      uint32_t off = t.content;
      const uint32_t end = t.content + t.len;
      while (off < end) {
        Tlv e;
        uint32_t size;
        if (!ReadTlv(p, off, end, &e) || !NodeTlv(n.kids[0], p, e, depth + 1, &size)) return false;
        content += size;
        off = e.content + e.len;
      }
      break;
    }
    default:
      return false;
  }
  *out = TlvSize(content);
  return true;
}

bool IsKerberosRoot(uint8_t tag) {
  return tag == 0x60 || tag == 0x61 || tag == 0x62 || (tag >= 0x6a && tag <= 0x6f) || tag == 0x7e;
}

// One message at p[off..end) as scapy's top-level ASN1 packet dissects it: its wire and
// rebuilt sizes. False: the packet constructor raises (scapy then makes the bytes Raw).
bool RebuiltMessage(ScapyApp app, const uint8_t* p, uint32_t off, uint32_t end, uint32_t* wire,
                    uint32_t* rebuilt) {
  Tlv m;
  if (!ReadTlv(p, off, end, &m)) return false;
  *wire = m.content + m.len - off;
  switch (app) {
    case ScapyApp::kKerberos:
    case ScapyApp::kKerberosTcp:
      return IsKerberosRoot(m.tag) && GenericTlv(p, m, 0, rebuilt);
    case ScapyApp::kLdap:
      return NodeTlv(kLdapMsg, p, m, 0, rebuilt);
    case ScapyApp::kCldap:
      return NodeTlv(kCldapMsg, p, m, 0, rebuilt);
    case ScapyApp::kSnmp:
      return NodeTlv(kSnmpMsg, p, m, 0, rebuilt);
    default:
      return false;
  }
}

}  // namespace

ScapyApp ScapyAppFor(uint8_t proto, uint16_t sport, uint16_t dport) noexcept {
  if (!IsCandidatePort(sport) && !IsCandidatePort(dport)) return ScapyApp::kOther;
  if (proto == 6) return FirstMatch(kTcpBindings, sport, dport);
  if (proto == 17) return FirstMatch(kUdpBindings, sport, dport);
  return ScapyApp::kOther;
}

uint32_t ScapyUdpAppBytes(uint16_t udp_len_field, uint32_t avail) noexcept {
  const int64_t l = int64_t(udp_len_field) - 8;
  if (l >= 0) return l < avail ? static_cast<uint32_t>(l) : avail;
  return avail > uint64_t(-l) ? avail - static_cast<uint32_t>(-l) : 0;
}

uint32_t ScapyRebuiltLength(ScapyApp app, const uint8_t* p, uint32_t len) noexcept {
  if (app == ScapyApp::kOther || app == ScapyApp::kVxlan || app == ScapyApp::kL2tp || len == 0) return len;
  uint32_t off = 0;
  if (app == ScapyApp::kKerberosTcp) {
    if (len < 4) return len;  // KerberosTCPHeader's 4-byte length field is kept as it is
    off = 4;
  }
  const bool repeated = app == ScapyApp::kLdap || app == ScapyApp::kCldap;
  uint32_t total = off;
  while (off < len) {
    uint32_t wire, rebuilt;
    if (!RebuiltMessage(app, p, off, len, &wire, &rebuilt)) break;
    total += rebuilt;
    off += wire;
    if (!repeated) break;
  }
  return total + (len - off);  // the rest is Raw: kept byte for byte
}

}  // namespace nfm
