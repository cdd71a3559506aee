// SPDX-License-Identifier: MIT
// PacketBuilder: header-only fluent builder of raw frames for tests (decoder, BPF, engine).
// Layers are appended outermost first; lengths, next-protocol fields, MPLS bottom-of-stack
// and IPv4/TCP/UDP/ICMP checksums are filled in by Bytes(). C++20 std only, no sockets API.
// It does not validate: it happily builds nonsense on purpose (see the Set* corruptors).
//
//   auto f = PacketBuilder().Eth().Vlan(10).IPv4("10.0.0.1", "10.0.0.2")
//                .Tcp(1234, 80, kSyn | kAck, /*win=*/65535).Payload(100).Bytes();
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace nfm::test {

// TCP flag bits (the 13th byte of the TCP header).
enum TcpFlagBits : uint8_t {
  kFin = 0x01,
  kSyn = 0x02,
  kRst = 0x04,
  kPsh = 0x08,
  kAck = 0x10,
  kUrg = 0x20,
  kEce = 0x40,
  kCwr = 0x80,
};

// LINKTYPE_* numbers used by the prefixes below (for callers that need them).
inline constexpr uint32_t kLinkNull = 0;
inline constexpr uint32_t kLinkEthernet = 1;
inline constexpr uint32_t kLinkRawOpenBsd = 12;
inline constexpr uint32_t kLinkRaw14 = 14;
inline constexpr uint32_t kLinkRaw = 101;
inline constexpr uint32_t kLinkLoop = 108;
inline constexpr uint32_t kLinkSll = 113;
inline constexpr uint32_t kLinkIpv4 = 228;
inline constexpr uint32_t kLinkIpv6 = 229;
inline constexpr uint32_t kLinkSll2 = 276;

// Parses dotted-quad text; aborts on bad input (test helper).
inline std::array<uint8_t, 4> ParseIpv4(std::string_view s) {
  std::array<uint8_t, 4> out{};
  int part = 0;
  unsigned v = 0;
  bool have_digit = false;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '.') {
      if (!have_digit || v > 255 || part > 3) {
        std::fprintf(stderr, "PacketBuilder: bad IPv4 address '%.*s'\n", int(s.size()), s.data());
        std::abort();
      }
      out[part++] = static_cast<uint8_t>(v);
      v = 0;
      have_digit = false;
    } else if (s[i] >= '0' && s[i] <= '9') {
      v = v * 10 + unsigned(s[i] - '0');
      have_digit = true;
    } else {
      part = 99;
    }
  }
  if (part != 4) {
    std::fprintf(stderr, "PacketBuilder: bad IPv4 address '%.*s'\n", int(s.size()), s.data());
    std::abort();
  }
  return out;
}

// Parses IPv6 text with optional "::" compression (no embedded dotted quad); aborts on error.
inline std::array<uint8_t, 16> ParseIpv6(std::string_view s) {
  std::array<uint16_t, 8> head{}, tail{};
  int nh = 0, nt = 0;
  bool compressed = false;
  size_t i = 0;
  auto fail = [&]() {
    std::fprintf(stderr, "PacketBuilder: bad IPv6 address '%.*s'\n", int(s.size()), s.data());
    std::abort();
  };
  if (s.substr(0, 2) == "::") {
    compressed = true;
    i = 2;
  }
  while (i < s.size()) {
    unsigned v = 0;
    int digits = 0;
    while (i < s.size() && s[i] != ':') {
      char c = s[i++];
      int d = (c >= '0' && c <= '9')   ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                       : -1;
      if (d < 0 || ++digits > 4) fail();
      v = v * 16 + unsigned(d);
    }
    if (digits == 0) fail();
    if (compressed) {
      if (nt >= 8) fail();
      tail[nt++] = uint16_t(v);
    } else {
      if (nh >= 8) fail();
      head[nh++] = uint16_t(v);
    }
    if (i < s.size()) {  // at ':'
      ++i;
      if (i < s.size() && s[i] == ':') {
        if (compressed) fail();
        compressed = true;
        ++i;
      } else if (i == s.size()) {
        fail();
      }
    }
  }
  if (nh + nt > 8 || (!compressed && nh != 8) || (compressed && nh + nt == 8)) fail();
  std::array<uint8_t, 16> out{};
  for (int k = 0; k < nh; ++k) {
    out[2 * k] = uint8_t(head[k] >> 8);
    out[2 * k + 1] = uint8_t(head[k]);
  }
  for (int k = 0; k < nt; ++k) {
    int pos = 8 - nt + k;
    out[2 * pos] = uint8_t(tail[k] >> 8);
    out[2 * pos + 1] = uint8_t(tail[k]);
  }
  return out;
}

class PacketBuilder {
 public:
  enum class Kind : uint8_t {
    kEth, kVlan, kMpls, kPppoe, kSll, kSll2, kNull, kIpv4, kIpv6, kIpv6Ext, kTcp, kUdp,
    kIcmp, kIcmpv6, kRaw, kNsh,
  };

  // ---- Link-layer prefixes ---------------------------------------------------------------
  // Ethernet II. The EtherType is derived from the next layer unless `ethertype` != 0 or
  // nothing follows (then `ethertype`, e.g. 0x0806 ARP, is written as given).
  PacketBuilder& Eth(uint16_t ethertype = 0) {
    Layer l{Kind::kEth};
    l.h = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0, 0};
    l.type_override = ethertype;
    return Push(l);
  }
  // One VLAN tag. `tpid` is written into the previous layer's type field: 0x8100 (802.1Q),
  // 0x88a8 (802.1ad S-tag), 0x9100 (old QinQ).
  PacketBuilder& Vlan(uint16_t vid, uint16_t tpid = 0x8100, uint8_t pcp = 0) {
    Layer l{Kind::kVlan};
    uint16_t tci = uint16_t((pcp & 7) << 13 | (vid & 0x0fff));
    l.h = {uint8_t(tci >> 8), uint8_t(tci), 0, 0};
    l.my_type = tpid;
    return Push(l);
  }
  // 802.1ad outer S-tag + 802.1Q inner C-tag.
  PacketBuilder& QinQ(uint16_t outer_vid, uint16_t inner_vid) {
    return Vlan(outer_vid, 0x88a8).Vlan(inner_vid, 0x8100);
  }
  // One MPLS label stack entry (RFC 3032). Bottom-of-stack is set automatically on the last
  // consecutive entry. `multicast` makes the preceding EtherType 0x8848 instead of 0x8847.
  PacketBuilder& Mpls(uint32_t label, uint8_t ttl = 64, bool multicast = false) {
    Layer l{Kind::kMpls};
    uint32_t w = (label & 0xfffff) << 12 | ttl;
    l.h = {uint8_t(w >> 24), uint8_t(w >> 16), uint8_t(w >> 8), uint8_t(w)};
    l.my_type = multicast ? 0x8848 : 0x8847;
    return Push(l);
  }
  // ---- Ethernet encapsulations, each announced by its EtherType ---------------------------
  // A header that ends with the next layer's EtherType (filled in like a VLAN tag's).
  PacketBuilder& EtherTag(uint16_t tpid, std::vector<uint8_t> body) {
    Layer l{Kind::kVlan};
    l.h = std::move(body);
    l.h.push_back(0);
    l.h.push_back(0);
    l.my_type = tpid;
    return Push(l);
  }
  // 802.1ah PBB: I-TAG (PCP/DEI/UCA + 24-bit I-SID) + customer DA, SA; 18 bytes.
  PacketBuilder& Pbb(uint32_t isid = 0x000100) {
    return EtherTag(0x88e7, {0, uint8_t(isid >> 16), uint8_t(isid >> 8), uint8_t(isid), 0x02, 0, 0, 0, 0, 0x0c,
                             0x02, 0, 0, 0, 0, 0x0d});
  }
  // Cisco VN-Tag: direction/pointer/destination VIF, looped/version/source VIF; 6 bytes.
  PacketBuilder& VnTag() { return EtherTag(0x8926, {0x80, 0x05, 0x00, 0x07}); }
  // Cisco FabricPath: FTag/TTL (2) + inner DA, SA (12) + inner EtherType; 16 bytes.
  PacketBuilder& FabricPath() {
    return EtherTag(0x8903, {0x00, 0x3f, 0x02, 0, 0, 0, 0, 0x0e, 0x02, 0, 0, 0, 0, 0x0f});
  }
  // MACsec SecTAG (802.1AE): TCI/AN, SL, PN (4), SCI (8) when tci & 0x20, then the
  // EtherType of the protected frame; 8 or 16 bytes. Add the ICV with Trailer(16).
  PacketBuilder& Macsec(uint8_t tci = 0x00) {
    std::vector<uint8_t> b = {tci, 0, 0, 0, 0, 1};
    if (tci & 0x20) b.insert(b.end(), {0x02, 0, 0, 0, 0, 0x01, 0, 1});
    return EtherTag(0x88e5, std::move(b));
  }
  // NSH (RFC 8300): `len_words` 4-byte words (base 1 + service path 1 + context); MD type 2
  // when len_words == 2, else 1. Next protocol from the next layer (1 IPv4, 2 IPv6,
  // 3 Ethernet, 4 NSH, 5 MPLS) unless `next` >= 0.
  PacketBuilder& Nsh(uint8_t len_words = 2, int next = -1) {
    Layer l{Kind::kNsh};
    // At least the 4-byte base header, even when len_words says less (malformed cases).
    l.h.assign(std::max<size_t>(size_t(len_words) * 4, 4), 0);
    l.h[0] = 0x0f;  // version 0, TTL 63 (high bits)
    l.h[1] = uint8_t(0xc0 | (len_words & 0x3f));
    l.h[2] = len_words == 2 ? 2 : 1;
    if (l.h.size() >= 8) {
      l.h[6] = 0x01;  // service path id 1
      l.h[7] = 0xff;  // service index
    }
    l.proto_override = next;
    l.my_type = 0x894f;
    return Push(l);
  }
  // PPPoE session header (RFC 2516) + 2-byte PPP protocol (0x0021 IPv4, 0x0057 IPv6).
  PacketBuilder& Pppoe(uint16_t session = 1) {
    Layer l{Kind::kPppoe};
    l.h = {0x11, 0x00, uint8_t(session >> 8), uint8_t(session), 0, 0, 0, 0};
    l.my_type = 0x8864;
    return Push(l);
  }
  // Linux cooked capture v1 (LINKTYPE_LINUX_SLL, 16 bytes; protocol in the last 2 bytes).
  PacketBuilder& Sll(uint16_t pkttype = 0, uint16_t protocol = 0) {
    Layer l{Kind::kSll};
    l.h = {uint8_t(pkttype >> 8), uint8_t(pkttype), 0x00, 0x01, 0x00, 0x06, 0x02, 0, 0, 0, 0,
           0x01, 0, 0, 0, 0};
    l.type_override = protocol;
    return Push(l);
  }
  // Linux cooked capture v2 (LINKTYPE_LINUX_SLL2, 20 bytes; protocol in the first 2 bytes).
  PacketBuilder& Sll2(uint8_t pkttype = 0, uint16_t protocol = 0, uint32_t ifindex = 1) {
    Layer l{Kind::kSll2};
    l.h = {0, 0, 0, 0, uint8_t(ifindex >> 24), uint8_t(ifindex >> 16), uint8_t(ifindex >> 8),
           uint8_t(ifindex), 0x00, 0x01, pkttype, 0x06, 0x02, 0, 0, 0, 0, 0x01, 0, 0};
    l.type_override = protocol;
    return Push(l);
  }
  // BSD loopback (LINKTYPE_NULL / LINKTYPE_LOOP) 4-byte address family. family 0 = derive
  // from the next layer (2 for IPv4, 24 for IPv6). Byte order: little (host order of the
  // capturing x86 machine, as DLT_NULL files have) unless big_endian (as DLT_LOOP has).
  PacketBuilder& Null(uint32_t family = 0, bool big_endian = false) {
    Layer l{Kind::kNull};
    l.h = {0, 0, 0, 0};
    l.family = family;
    l.big_endian = big_endian;
    return Push(l);
  }

  // ---- Network layer ---------------------------------------------------------------------
  // IPv4 header (20 bytes); options via Ipv4Options(). Protocol from the next layer.
  PacketBuilder& IPv4(std::string_view src, std::string_view dst, uint8_t ttl = 64) {
    Layer l{Kind::kIpv4};
    auto s = ParseIpv4(src), d = ParseIpv4(dst);
    l.h = {0x45, 0, 0, 0, 0x12, 0x34, 0, 0, ttl, 0, 0, 0};
    l.h.insert(l.h.end(), s.begin(), s.end());
    l.h.insert(l.h.end(), d.begin(), d.end());
    return Push(l);
  }
  // Appends `n` option bytes (NOP 0x01, last one EOL 0x00) to the current IPv4 header;
  // pass a multiple of 4 for a well-formed header.
  PacketBuilder& Ipv4Options(size_t n) {
    Layer& l = Last(Kind::kIpv4);
    for (size_t i = 0; i < n; ++i) l.h.push_back(i + 1 == n ? 0x00 : 0x01);
    return *this;
  }
  // Sets the IPv4 MF bit and fragment offset (in 8-byte units) of the current IPv4 header.
  PacketBuilder& Ipv4Frag(bool more_fragments, uint16_t offset_units, bool dont_fragment = false) {
    Layer& l = Last(Kind::kIpv4);
    uint16_t v = uint16_t((dont_fragment ? 0x4000 : 0) | (more_fragments ? 0x2000 : 0) |
                          (offset_units & 0x1fff));
    l.h[6] = uint8_t(v >> 8);
    l.h[7] = uint8_t(v);
    return *this;
  }
  // IPv6 header (40 bytes). Next header / payload length filled in by Bytes().
  PacketBuilder& IPv6(std::string_view src, std::string_view dst, uint8_t hop_limit = 64) {
    Layer l{Kind::kIpv6};
    auto s = ParseIpv6(src), d = ParseIpv6(dst);
    l.h = {0x60, 0, 0, 0, 0, 0, 0, hop_limit};
    l.h.insert(l.h.end(), s.begin(), s.end());
    l.h.insert(l.h.end(), d.begin(), d.end());
    return Push(l);
  }
  // IPv6 extension headers (RFC 8200 §4). `len8` = total length in 8-octet units (>= 1).
  PacketBuilder& HopByHop(size_t len8 = 1) { return Ext(0, len8); }
  PacketBuilder& Routing(size_t len8 = 1) { return Ext(43, len8); }
  PacketBuilder& DestOpts(size_t len8 = 1) { return Ext(60, len8); }
  // Fragment header (8 bytes, RFC 8200 §4.5). offset in 8-octet units.
  PacketBuilder& Ipv6Frag(bool more_fragments, uint16_t offset_units, uint32_t id = 0x1234) {
    Layer l{Kind::kIpv6Ext};
    l.proto_self = 44;
    uint16_t v = uint16_t(offset_units << 3 | (more_fragments ? 1 : 0));
    l.h = {0, 0, uint8_t(v >> 8), uint8_t(v), uint8_t(id >> 24), uint8_t(id >> 16),
           uint8_t(id >> 8), uint8_t(id)};
    return Push(l);
  }
  // Authentication Header (RFC 4302): length field counts 4-octet units minus 2.
  // `len4` = total length in 4-octet units (>= 3; 6 = 24 bytes with a 96-bit ICV).
  PacketBuilder& Ah(size_t len4 = 6) {
    Layer l{Kind::kIpv6Ext};
    l.proto_self = 51;
    l.h.assign(len4 * 4, 0);
    l.h[1] = uint8_t(len4 - 2);
    return Push(l);
  }

  // ---- Transport layer -------------------------------------------------------------------
  PacketBuilder& Tcp(uint16_t sport, uint16_t dport, uint8_t flags = kAck, uint16_t win = 65535,
                     uint32_t seq = 1, uint32_t ack = 0) {
    Layer l{Kind::kTcp};
    l.proto_self = 6;
    l.h = {uint8_t(sport >> 8), uint8_t(sport), uint8_t(dport >> 8), uint8_t(dport),
           uint8_t(seq >> 24), uint8_t(seq >> 16), uint8_t(seq >> 8), uint8_t(seq),
           uint8_t(ack >> 24), uint8_t(ack >> 16), uint8_t(ack >> 8), uint8_t(ack),
           0x50, flags, uint8_t(win >> 8), uint8_t(win), 0, 0, 0, 0};
    return Push(l);
  }
  // Appends `n` TCP option bytes (NOPs, last EOL) to the current TCP header (use 4k).
  PacketBuilder& TcpOptions(size_t n) {
    Layer& l = Last(Kind::kTcp);
    for (size_t i = 0; i < n; ++i) l.h.push_back(i + 1 == n ? 0x00 : 0x01);
    return *this;
  }
  PacketBuilder& Udp(uint16_t sport, uint16_t dport) {
    Layer l{Kind::kUdp};
    l.proto_self = 17;
    l.h = {uint8_t(sport >> 8), uint8_t(sport), uint8_t(dport >> 8), uint8_t(dport), 0, 0, 0, 0};
    return Push(l);
  }
  // ICMP (proto 1) / ICMPv6 (proto 58): 8-byte header (type, code, checksum, rest).
  PacketBuilder& Icmp(uint8_t type = 8, uint8_t code = 0) {
    Layer l{Kind::kIcmp};
    l.proto_self = 1;
    l.h = {type, code, 0, 0, 0x00, 0x01, 0x00, 0x01};
    return Push(l);
  }
  PacketBuilder& Icmpv6(uint8_t type = 128, uint8_t code = 0) {
    Layer l{Kind::kIcmpv6};
    l.proto_self = 58;
    l.h = {type, code, 0, 0, 0x00, 0x01, 0x00, 0x01};
    return Push(l);
  }
  // An opaque header of another IP protocol (e.g. 47 GRE, 132 SCTP) of `n` bytes.
  PacketBuilder& OtherL4(uint8_t proto, size_t n = 8) {
    Layer l{Kind::kRaw};
    l.proto_self = proto;
    l.h.assign(n, 0xab);
    return Push(l);
  }

  // ---- Payload and trailer ---------------------------------------------------------------
  // `n` payload bytes (pattern 0x00, 0x01, ...), counted in IP/UDP lengths.
  PacketBuilder& Payload(size_t n, int fill = -1) {
    Layer l{Kind::kRaw};
    l.h.resize(n);
    for (size_t i = 0; i < n; ++i) l.h[i] = uint8_t(fill >= 0 ? fill : int(i));
    return Push(l);
  }
  PacketBuilder& Raw(std::initializer_list<uint8_t> bytes) {
    Layer l{Kind::kRaw};
    l.h.assign(bytes);
    return Push(l);
  }
  PacketBuilder& Raw(const std::vector<uint8_t>& bytes) {
    Layer l{Kind::kRaw};
    l.h = bytes;
    return Push(l);
  }
  // Bytes after the IP packet (link padding, FCS): NOT counted in any length field.
  PacketBuilder& Trailer(size_t n, uint8_t fill = 0) {
    trailer_.insert(trailer_.end(), n, fill);
    return *this;
  }
  // Pads the frame with trailer zeros to at least `min_len` bytes (Ethernet: 60 without FCS).
  PacketBuilder& PadTo(size_t min_len) {
    pad_to_ = min_len;
    return *this;
  }

  // ---- Corruptors / overrides (applied after the automatic fields) -----------------------
  PacketBuilder& SetIhl(uint8_t ihl) { Last(Kind::kIpv4).ihl = ihl; return *this; }
  PacketBuilder& SetIpVersion(uint8_t v) { LastIp().version = v; return *this; }
  PacketBuilder& SetIpTotalLen(uint16_t v) { Last(Kind::kIpv4).len_override = v; return *this; }
  PacketBuilder& SetIpv6PayloadLen(uint16_t v) { Last(Kind::kIpv6).len_override = v; return *this; }
  PacketBuilder& SetIpProto(uint8_t p) { LastIp().proto_override = p; return *this; }
  PacketBuilder& SetDoff(uint8_t doff) { Last(Kind::kTcp).doff = doff; return *this; }
  PacketBuilder& SetUdpLen(uint16_t v) { Last(Kind::kUdp).len_override = v; return *this; }
  PacketBuilder& NoChecksums() { checksums_ = false; return *this; }

  // ---- Output ----------------------------------------------------------------------------
  std::vector<uint8_t> Bytes() const {
    std::vector<Layer> ls = layers_;
    size_t n = ls.size();
    // suffix[i] = bytes of layers i..n-1 (without trailer).
    std::vector<size_t> suffix(n + 1, 0);
    for (size_t i = n; i-- > 0;) suffix[i] = suffix[i + 1] + ls[i].h.size();
    for (size_t i = 0; i < n; ++i) {
      Layer& l = ls[i];
      const Layer* nx = i + 1 < n ? &ls[i + 1] : nullptr;
      switch (l.kind) {
        case Kind::kEth:
        case Kind::kVlan:
        case Kind::kSll: {
          uint16_t t = l.type_override ? l.type_override : NextEtherType(nx);
          Put16(l.h, l.h.size() - 2, t);
          break;
        }
        case Kind::kSll2:
          Put16(l.h, 0, l.type_override ? l.type_override : NextEtherType(nx));
          break;
        case Kind::kPppoe: {
          Put16(l.h, 4, uint16_t(suffix[i] - 6));  // PPPoE length: PPP protocol + payload
          uint16_t ppp = nx && nx->kind == Kind::kIpv6 ? 0x0057 : 0x0021;
          Put16(l.h, 6, ppp);
          break;
        }
        case Kind::kMpls:
          if (!nx || nx->kind != Kind::kMpls) l.h[2] |= 0x01;  // S bit
          break;
        case Kind::kNull: {
          uint32_t fam = l.family ? l.family : (nx && nx->kind == Kind::kIpv6 ? 24 : 2);
          for (int k = 0; k < 4; ++k)
            l.h[size_t(k)] = uint8_t(fam >> (l.big_endian ? 24 - 8 * k : 8 * k));
          break;
        }
        case Kind::kIpv4: {
          uint8_t ihl = l.ihl >= 0 ? uint8_t(l.ihl) : uint8_t(l.h.size() / 4);
          uint8_t ver = l.version >= 0 ? uint8_t(l.version) : 4;
          l.h[0] = uint8_t(ver << 4 | (ihl & 0x0f));
          Put16(l.h, 2, l.len_override >= 0 ? uint16_t(l.len_override) : uint16_t(suffix[i]));
          l.h[9] = l.proto_override >= 0 ? uint8_t(l.proto_override) : NextProto(nx);
          if (checksums_) {
            Put16(l.h, 10, 0);
            Put16(l.h, 10, Checksum(l.h.data(), l.h.size(), 0));
          }
          break;
        }
        case Kind::kIpv6: {
          uint8_t ver = l.version >= 0 ? uint8_t(l.version) : 6;
          l.h[0] = uint8_t(ver << 4 | (l.h[0] & 0x0f));
          Put16(l.h, 4, l.len_override >= 0 ? uint16_t(l.len_override) : uint16_t(suffix[i] - 40));
          l.h[6] = l.proto_override >= 0 ? uint8_t(l.proto_override) : NextProto(nx);
          break;
        }
        case Kind::kIpv6Ext:
          l.h[0] = NextProto(nx);
          break;
        case Kind::kTcp: {
          uint8_t doff = l.doff >= 0 ? uint8_t(l.doff) : uint8_t(l.h.size() / 4);
          l.h[12] = uint8_t(doff << 4);
          break;
        }
        case Kind::kUdp:
          Put16(l.h, 4, l.len_override >= 0 ? uint16_t(l.len_override) : uint16_t(suffix[i]));
          break;
        case Kind::kNsh: {
          uint8_t np = 0;
          if (nx && nx->kind == Kind::kIpv4) np = 1;
          if (nx && nx->kind == Kind::kIpv6) np = 2;
          if (nx && nx->kind == Kind::kEth) np = 3;
          if (nx && nx->kind == Kind::kNsh) np = 4;
          if (nx && nx->kind == Kind::kMpls) np = 5;
          l.h[3] = l.proto_override >= 0 ? uint8_t(l.proto_override) : np;
          break;
        }
        default:
          break;
      }
    }
    // Transport checksums (pseudo-header from the nearest enclosing IP header).
    if (checksums_) {
      for (size_t i = 0; i < n; ++i) {
        Kind k = ls[i].kind;
        if (k != Kind::kTcp && k != Kind::kUdp && k != Kind::kIcmp && k != Kind::kIcmpv6) continue;
        std::vector<uint8_t> seg;
        for (size_t j = i; j < n; ++j) seg.insert(seg.end(), ls[j].h.begin(), ls[j].h.end());
        size_t ck = (k == Kind::kUdp) ? 6 : (k == Kind::kTcp) ? 16 : 2;
        uint64_t pseudo = 0;
        const Layer* ip = nullptr;
        for (size_t j = i; j-- > 0;) {
          if (ls[j].kind == Kind::kIpv4 || ls[j].kind == Kind::kIpv6) { ip = &ls[j]; break; }
        }
        if (k != Kind::kIcmp && ip) {
          if (ip->kind == Kind::kIpv4) pseudo = SumWords(ip->h.data() + 12, 8);
          else pseudo = SumWords(ip->h.data() + 8, 32);
          pseudo += ls[i].proto_self + uint64_t(seg.size());
        }
        seg[ck] = seg[ck + 1] = 0;
        uint16_t c = Checksum(seg.data(), seg.size(), pseudo);
        if (k == Kind::kUdp && c == 0) c = 0xffff;
        Put16(ls[i].h, ck, c);
      }
    }
    std::vector<uint8_t> out;
    offsets_.assign(n, 0);
    for (size_t i = 0; i < n; ++i) {
      offsets_[i] = out.size();
      out.insert(out.end(), ls[i].h.begin(), ls[i].h.end());
    }
    out.insert(out.end(), trailer_.begin(), trailer_.end());
    if (out.size() < pad_to_) out.resize(pad_to_, 0);
    return out;
  }

  // Byte offset of the first layer of `kind` in the last Bytes() output, or -1.
  long OffsetOf(Kind kind) const {
    if (offsets_.size() != layers_.size()) Bytes();
    for (size_t i = 0; i < layers_.size(); ++i)
      if (layers_[i].kind == kind) return long(offsets_[i]);
    return -1;
  }

 private:
  struct Layer {
    Kind kind;
    std::vector<uint8_t> h{};
    uint16_t my_type = 0;        // EtherType/TPID that announces this layer
    uint16_t type_override = 0;  // explicit type field of this layer
    uint8_t proto_self = 0;      // IP protocol number of this layer
    uint32_t family = 0;
    bool big_endian = false;
    int ihl = -1, version = -1, len_override = -1, proto_override = -1, doff = -1;
  };

  PacketBuilder& Push(const Layer& l) {
    layers_.push_back(l);
    return *this;
  }
  PacketBuilder& Ext(uint8_t self, size_t len8) {
    Layer l{Kind::kIpv6Ext};
    l.proto_self = self;
    l.h.assign(len8 * 8, 0);
    l.h[1] = uint8_t(len8 - 1);
    if (len8 * 8 >= 8) { l.h[2] = 0x01; l.h[3] = uint8_t(len8 * 8 - 4); }  // PadN option
    return Push(l);
  }
  Layer& Last(Kind k) {
    for (size_t i = layers_.size(); i-- > 0;)
      if (layers_[i].kind == k) return layers_[i];
    std::fprintf(stderr, "PacketBuilder: no layer of the required kind before this setter\n");
    std::abort();
  }
  Layer& LastIp() {
    for (size_t i = layers_.size(); i-- > 0;)
      if (layers_[i].kind == Kind::kIpv4 || layers_[i].kind == Kind::kIpv6) return layers_[i];
    std::fprintf(stderr, "PacketBuilder: no IP layer before this setter\n");
    std::abort();
  }
  static uint16_t NextEtherType(const Layer* nx) {
    if (!nx) return 0;
    switch (nx->kind) {
      case Kind::kIpv4: return 0x0800;
      case Kind::kIpv6: return 0x86dd;
      case Kind::kVlan:
      case Kind::kMpls:
      case Kind::kPppoe:
      case Kind::kNsh: return nx->my_type;
      case Kind::kEth: return 0x6558;  // transparent Ethernet bridging
      default: return 0;
    }
  }
  static uint8_t NextProto(const Layer* nx) {
    if (!nx) return 59;  // IPv6 "no next header"
    switch (nx->kind) {
      case Kind::kIpv4: return 4;
      case Kind::kIpv6: return 41;
      case Kind::kIpv6Ext:
      case Kind::kTcp:
      case Kind::kUdp:
      case Kind::kIcmp:
      case Kind::kIcmpv6: return nx->proto_self;
      case Kind::kRaw: return nx->proto_self ? nx->proto_self : 59;
      default: return 59;
    }
  }
  static void Put16(std::vector<uint8_t>& h, size_t off, uint16_t v) {
    h[off] = uint8_t(v >> 8);
    h[off + 1] = uint8_t(v);
  }
  static uint64_t SumWords(const uint8_t* p, size_t n) {
    uint64_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2) s += uint32_t(p[i] << 8 | p[i + 1]);
    if (n & 1) s += uint32_t(p[n - 1] << 8);
    return s;
  }
  // RFC 1071 Internet checksum.
  static uint16_t Checksum(const uint8_t* p, size_t n, uint64_t initial) {
    uint64_t s = initial + SumWords(p, n);
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return uint16_t(~s);
  }

  std::vector<Layer> layers_;
  std::vector<uint8_t> trailer_;
  size_t pad_to_ = 0;
  bool checksums_ = true;
  mutable std::vector<size_t> offsets_;
};

}  // namespace nfm::test
