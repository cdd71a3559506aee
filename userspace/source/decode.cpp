// SPDX-License-Identifier: MIT
// DecodePacket: link layer -> IPv4/IPv6 -> TCP/UDP/ICMP/ICMPv6 headers into a PacketMeta.
// Every read is bounds-checked against cap_len; no allocation, no state. It does not verify
// checksums and does not reassemble fragments. Length semantics: spec FEATURES.md §1.4.
#include "source/decode.hpp"

#include "source/decode_cic.hpp"
#include "source/decode_ntl.hpp"
#include "source/scapy_payload.hpp"

#include <algorithm>
#include <cstring>

namespace nfm {
namespace {

// Bounds on nested headers: enough for real traffic, small enough that a crafted frame
// cannot make us loop long.
constexpr int kMaxVlanTags = 8;
// scapy 2.5 (nfm2022) has no tag limit of its own: each Dot1Q layer dissects the next one
// recursively until Python's recursion limit, which a bare Ether(frame) call reaches at the
// 197th tag (the payload then becomes Raw). Measured with /usr/bin/python3 scapy 2.5.0.
constexpr int kScapyMaxVlanTags = 196;
constexpr int kMaxMplsLabels = 8;
constexpr int kMaxIpv6ExtHeaders = 8;
constexpr int kMaxIpv4AhHeaders = 8;
constexpr int kMaxEncapHeaders = 8;  // PBB, VN-Tag, FabricPath, NSH, MACsec headers in one frame

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86dd;
constexpr uint16_t kEther8021Q = 0x8100;
constexpr uint16_t kEther8021AD = 0x88a8;
constexpr uint16_t kEtherQinQOld = 0x9100;  // pre-802.1ad vendor QinQ TPID
constexpr uint16_t kEtherMplsUc = 0x8847;
constexpr uint16_t kEtherMplsMc = 0x8848;
constexpr uint16_t kEtherPppoeSession = 0x8864;
constexpr uint16_t kEtherPbb = 0x88e7;         // IEEE 802.1ah backbone service instance tag
constexpr uint16_t kEtherVnTag = 0x8926;       // Cisco VN-Tag (IEEE 802.1Qbh draft)
constexpr uint16_t kEtherFabricPath = 0x8903;  // Cisco FabricPath
constexpr uint16_t kEtherNsh = 0x894f;         // Network Service Header, RFC 8300
constexpr uint16_t kEtherMacsec = 0x88e5;      // IEEE 802.1AE MACsec
constexpr uint16_t kPppMplsUc = 0x0281;        // RFC 3032 §5 (PPP protocol field)
constexpr uint16_t kPppMplsMc = 0x0283;

inline uint16_t Rd16(const uint8_t* p) { return uint16_t(uint16_t(p[0]) << 8 | p[1]); }
inline uint32_t Rd32Be(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}

struct Frame {
  const uint8_t* d;
  uint32_t cap;  // captured bytes; nothing at or after d[cap] is ever read
  bool scapy;    // DecodeMode::kScapy2022
  PacketMeta* scapy_second = nullptr;  // kScapy2022: a second packet from the same frame (D20)
  bool* scapy_has_second = nullptr;
  const TunnelConfig* tun = nullptr;  // kStrict with --tunnel inner and not yet inside a tunnel
  TunnelMeta* tun_out = nullptr;      // with tun: the opened tunnel's facts (may be null)
};

// L4 header at `l4`. `ip_end`: end of the IP packet per its length field, clamped to the
// capture (bounds payload_ip). `dissect_end`: where a dissector that honours the IP length
// (scapy's IP.extract_padding) stops looking for the L4 header; see DecodePacket's contract.
DecodeStatus DecodeL4(const Frame& f, uint32_t l4, uint32_t ip_end, uint32_t dissect_end,
                      PacketMeta* out);
DecodeStatus Decap(const Frame& f, uint32_t l4, uint32_t ip_end, PacketMeta* out);

// DecodeL4, then (--tunnel inner) the tunnel the transport header announces, if any.
DecodeStatus DecodeL4OrTunnel(const Frame& f, uint32_t l4, uint32_t ip_end, PacketMeta* out) {
  const DecodeStatus st = DecodeL4(f, l4, ip_end, ip_end, out);
  if (f.tun == nullptr || st != DecodeStatus::kOk) return st;
  return Decap(f, l4, ip_end, out);
}

DecodeStatus DecodeL4(const Frame& f, uint32_t l4, uint32_t ip_end, uint32_t dissect_end,
                      PacketMeta* out) {
  const uint8_t* p = f.d + l4;
  const uint32_t avail = dissect_end > l4 ? dissect_end - l4 : 0;   // L4 bytes usable
  const uint32_t cap_avail = f.cap > l4 ? f.cap - l4 : 0;           // for partial fields
  uint32_t hl = 0;
  switch (out->proto) {
    case 6: {  // TCP, RFC 9293 §3.1
      if (cap_avail >= 4) {
        out->sport = Rd16(p);
        out->dport = Rd16(p + 2);
      } else {
        out->flags |= kPktPortsMissing;
      }
      if (cap_avail >= 12) {  // used only by the ntl feature set's handshake features
        out->tcp_seq = Rd32Be(p + 4);
        out->tcp_ack = Rd32Be(p + 8);
      }
      if (cap_avail >= 14) out->tcp_flags = p[13];
      if (cap_avail >= 16) out->window = Rd16(p + 14);
      if (avail < 20) {
        out->flags |= kPktL4Truncated;
        return DecodeStatus::kOk;
      }
      const uint32_t doff = p[12] >> 4;
      if (doff < 5) return DecodeStatus::kMalformed;
      hl = doff * 4;  // options may be cut by the snap length: still a decoded TCP header
      break;
    }
    case 17:  // UDP, RFC 768
      if (cap_avail >= 4) {
        out->sport = Rd16(p);
        out->dport = Rd16(p + 2);
      } else {
        out->flags |= kPktPortsMissing;
      }
      if (avail < 8) {
        out->flags |= kPktL4Truncated;
        return DecodeStatus::kOk;
      }
      hl = 8;
      break;
    case 1:    // ICMP (RFC 792): type, code, checksum, 4 bytes rest-of-header
    case 58:   // ICMPv6 (RFC 4443): same 8-byte layout
      if (avail < 8) {
        out->flags |= kPktL4Truncated;
        return DecodeStatus::kOk;
      }
      hl = 8;
      break;
    default:
      hl = 0;
      break;
  }
  out->l4_header_len = uint16_t(hl);
  const uint32_t pay = l4 + hl;
  out->payload_frame = f.cap > pay ? f.cap - pay : 0;
  out->payload_ip = ip_end > pay ? ip_end - pay : 0;
  return DecodeStatus::kOk;
}

void MapV4(const uint8_t* a, uint8_t* out16) {
  std::memset(out16, 0, 10);
  out16[10] = 0xff;
  out16[11] = 0xff;
  std::memcpy(out16 + 12, a, 4);
}

// ---- NetFlowMeter 2022 view: scapy 2.5's dissection --------------------------------------
//
// IPv4 as scapy 2.5 dissects it (what NetFlowMeter 2022 saw, spec §1.1): the version nibble
// is not checked (the link layer said IPv4); the options field takes ihl*4-20 bytes with
// Python slice semantics, so ihl < 5 makes it take "all but the last 20-ihl*4 bytes" and
// the IP payload is those last bytes; the payload is then cut to total length - ihl*4 (when
// that is >= 0). Header bytes are what the transport header fields consumed; payload is every
// captured byte after them, Ethernet padding included.

// Where scapy's IPv4 layer at `off` puts its payload: [*start, *end). False if the 20 fixed
// bytes are not there (scapy then has no IP layer).
bool ScapyIpv4Payload(const Frame& f, uint32_t off, uint32_t bound, uint32_t* start, uint32_t* end) {
  if (bound < off + 20) return false;
  const uint8_t* p = f.d + off;
  const int32_t ihl4 = (p[0] & 0x0f) * 4;
  const int32_t opt = ihl4 - 20;
  const uint32_t s_begin = off + 20;
  if (opt >= 0) {
    *start = std::min<uint32_t>(s_begin + static_cast<uint32_t>(opt), bound);
  } else {
    const uint32_t tail = static_cast<uint32_t>(-opt);
    *start = bound - s_begin >= tail ? bound - tail : s_begin;
  }
  const int32_t tmp_len = static_cast<int32_t>(Rd16(p + 2)) - ihl4;
  *end = bound;
  if (tmp_len >= 0 && *start + static_cast<uint32_t>(tmp_len) < bound) *end = *start + static_cast<uint32_t>(tmp_len);
  return true;
}

// scapy's Packet.do_dissect stops quietly when the bytes run out exactly at a field boundary
// (later fields keep their defaults: TCP sport 20, dport 80, flags S, window 8192; UDP ports
// 53) and fails (-> no transport layer) when they run out inside a field; UDP.extract_padding
// computes len - 8 and so fails without the length field. Verified against the reference on
// ndpi_fuzz-2006-06-26-2594.pcap (12- and 16-byte TCP headers become flows with window 8192 /
// flags S) and tcpdump_ipv4_invalid_hdr_length.pcap (a 4-byte UDP header is no flow).
bool ScapyL4Decodes(uint8_t proto, uint32_t avail) {
  if (proto == 6) return avail != 0 && !(avail < 20 && (avail & 1 || avail == 6 || avail == 10));
  if (proto == 17) return avail >= 6 && avail != 7;
  return false;
}

// Fills ports, flags, window, header and payload bytes of a TCP/UDP header at `start` whose
// layer sees the bytes up to `end`. Precondition: ScapyL4Decodes(proto, end - start).
void ScapyFillL4(const Frame& f, uint8_t proto, uint32_t start, uint32_t end, PacketMeta* out) {
  const uint32_t avail = end - start;
  const uint8_t* l4 = f.d + start;
  uint32_t hl;
  if (proto == 6) {
    out->sport = avail >= 2 ? Rd16(l4) : 20;
    out->dport = avail >= 4 ? Rd16(l4 + 2) : 80;
    out->tcp_flags = avail >= 14 ? l4[13] : 0x02;
    out->window = avail >= 16 ? Rd16(l4 + 14) : 8192;
    if (avail < 20) {
      hl = avail;
    } else {
      const int32_t topt = static_cast<int32_t>(l4[12] >> 4) * 4 - 20;  // doff < 5 counts as 5
      hl = 20 + std::min<uint32_t>(topt > 0 ? static_cast<uint32_t>(topt) : 0, avail - 20);
    }
  } else {
    out->sport = avail >= 2 ? Rd16(l4) : 53;
    out->dport = avail >= 4 ? Rd16(l4 + 2) : 53;
    out->tcp_flags = 0;
    out->window = 0;
    hl = std::min<uint32_t>(avail, 8);
  }
  out->l4_header_len = static_cast<uint16_t>(hl);
  out->payload_frame = f.cap - start - hl;
  out->payload_ip = end > start + hl ? end - start - hl : 0;
  // len(pkt[TCP].payload) is the re-built application layer: BER layers shrink or grow.
  if (const ScapyApp app = ScapyAppFor(proto, out->sport, out->dport); app != ScapyApp::kOther) {
    const uint32_t in_ip = end - start - hl;  // the rest of the frame is Padding, kept as is
    const uint32_t n = proto == 6 ? in_ip : ScapyUdpAppBytes(avail >= 6 ? Rd16(l4 + 4) : 0, in_ip);
    out->payload_frame = out->payload_frame - n + ScapyRebuiltLength(app, l4 + hl, n);
  }
}

// The first TCP and the first UDP layer of a scapy dissection, in nesting order, and the
// first IPv4 layer (NetFlowMeter's pkt[IP]) when the scan started below it (outer IPv6).
struct ScapyLayers {
  struct L4 {
    bool found = false;
    uint32_t start = 0, end = 0;
  } tcp, udp;
  bool ip4_found = false;
  uint32_t ip4_off = 0;
};

void ScapyScanIp(const Frame& f, uint8_t version, uint32_t off, uint32_t bound, int depth, ScapyLayers* ls);

// Ethernet-type payload at `off` as scapy continues it: 802.1Q / 802.1ad tags (not 0x9100,
// not MPLS: scapy's default layers do not bind them), then IPv4/IPv6.
void ScapyScanEtherType(const Frame& f, uint16_t type, uint32_t off, uint32_t end, int depth, ScapyLayers* ls) {
  for (int tags = 0; type == kEther8021Q || type == kEther8021AD; ++tags) {
    if (tags == kScapyMaxVlanTags || end < off + 4) return;
    type = Rd16(f.d + off + 2);
    off += 4;
  }
  if (type == kEtherIpv4) ScapyScanIp(f, 4, off, end, depth + 1, ls);
  if (type == kEtherIpv6) ScapyScanIp(f, 6, off, end, depth + 1, ls);
}

// The PPP header at `*off` (RFC 1661; scapy's PPP class reads it the same way): an HDLC
// address/control pair (ff 03, RFC 1662 framing) when the first byte is ff, then the protocol
// field, one byte when its value is odd (protocol field compression), else two. Advances `*off`
// past it; false when the bytes up to `end` do not hold it.
bool PppHeader(const uint8_t* d, uint32_t end, uint32_t* off, uint16_t* proto) {
  uint32_t o = *off;
  if (o < end && d[o] == 0xff) o += 2;
  if (o >= end) return false;
  if (d[o] & 1) {
    *proto = d[o];
    o += 1;
  } else {
    if (end < o + 2) return false;
    *proto = Rd16(d + o);
    o += 2;
  }
  *off = o;
  return true;
}

// A PPP frame at `off` inside a tunnel (scapy view): IPv4 (0x0021) and IPv6 (0x0057) are followed.
void ScapyScanPpp(const Frame& f, uint32_t off, uint32_t end, int depth, ScapyLayers* ls) {
  uint16_t proto;
  if (!PppHeader(f.d, end, &off, &proto)) return;
  if (proto == 0x0021) ScapyScanIp(f, 4, off, end, depth + 1, ls);
  if (proto == 0x0057) ScapyScanIp(f, 6, off, end, depth + 1, ls);
}

// The payload of a layer whose next protocol is `proto` (IPv4 protocol numbering).
void ScapyScanProto(const Frame& f, uint8_t proto, uint32_t start, uint32_t end, int depth, ScapyLayers* ls) {
  if (depth > 4 || start >= end) return;
  const uint8_t* p = f.d + start;
  switch (proto) {
    case 6:
      if (!ls->tcp.found && ScapyL4Decodes(6, end - start)) ls->tcp = {true, start, end};
      return;
    case 17: {
      if (!ScapyL4Decodes(17, end - start)) return;
      if (!ls->udp.found) ls->udp = {true, start, end};
      if (end - start <= 8) return;
      // UDP.extract_padding: the payload is s[:len - 8] (a Python slice, so len < 8 cuts
      // bytes off the end).
      const uint16_t ulen = Rd16(p + 4);
      uint32_t pay_end = end;
      if (ulen >= 8) {
        pay_end = std::min<uint32_t>(end, start + ulen);
      } else {
        pay_end = end - start - 8 >= 8u - ulen ? end - (8u - ulen) : start + 8;
      }
      const uint16_t sport = Rd16(p), dport = Rd16(p + 2);
      const ScapyApp app = ScapyAppFor(17, sport, dport);  // earlier bindings win (DNS, SNMP, ...)
      if (app == ScapyApp::kVxlan) {
        // VXLAN (8 bytes) carrying Ethernet.
        const uint32_t off = start + 16;
        if (pay_end < off + 14) return;
        ScapyScanEtherType(f, Rd16(f.d + off + 12), off + 14, pay_end, depth, ls);
        return;
      }
      if (app == ScapyApp::kL2tp) {
        // L2TPv2 (scapy/layers/l2tp.py): flags+version word; length if T or L; tunnel and
        // session ids; Ns/Nr if S or T; offset (padded to 4 bytes) if O and not T; then PPP,
        // control messages included.
        uint32_t off = start + 8;
        if (pay_end < off + 2) return;
        const uint16_t w = Rd16(f.d + off);
        const bool t = w & 0x8000, l = w & 0x4000, sq = w & 0x0800, o = w & 0x0200;
        off += 2 + ((t || l) ? 2 : 0) + 4 + ((sq || t) ? 4 : 0) + ((!t && o) ? 4 : 0);
        if (off > pay_end) return;
        ScapyScanPpp(f, off, pay_end, depth, ls);
      }
      return;
    }
    case 4:
      ScapyScanIp(f, 4, start, end, depth + 1, ls);
      return;
    case 41:
      ScapyScanIp(f, 6, start, end, depth + 1, ls);
      return;
    case 47: {  // GRE (RFC 2784/2890 as scapy's GRE class reads it)
      if (end - start < 4) return;
      const uint16_t type = Rd16(p + 2);
      if (type == 0x880b) {  // GRE_PPTP (RFC 2637): payload length, call id, [seq], [ack]; PPP
        uint32_t off = start + 8;
        if (p[0] & 0x10) off += 4;  // S
        if (p[1] & 0x80) off += 4;  // A
        if (off <= end) ScapyScanPpp(f, off, end, depth, ls);
        return;
      }
      if (p[0] & 0x40) return;  // routing present: scapy dissects GRErouting, no IP after it
      uint32_t off = start + 4;
      if (p[0] & 0x80) off += 4;  // checksum + offset
      if (p[0] & 0x20) off += 4;  // key
      if (p[0] & 0x10) off += 4;  // sequence number
      if (off > end) return;
      if (type == 0x6558) {  // transparent Ethernet bridging
        if (end >= off + 14) ScapyScanEtherType(f, Rd16(f.d + off + 12), off + 14, end, depth, ls);
        return;
      }
      if (type == kEtherIpv4 || type == kEtherIpv6 || type == kEther8021Q) {
        ScapyScanEtherType(f, type, off, end, depth, ls);
      }
      return;
    }
    default:
      return;
  }
}

void ScapyScanIp(const Frame& f, uint8_t version, uint32_t off, uint32_t bound, int depth, ScapyLayers* ls) {
  if (version == 4) {
    uint32_t start, end;
    if (!ScapyIpv4Payload(f, off, bound, &start, &end)) return;
    if (!ls->ip4_found) {
      ls->ip4_found = true;
      ls->ip4_off = off;
    }
    if (Rd16(f.d + off + 6) & 0x1fff) return;  // later fragment: Raw payload
    ScapyScanProto(f, f.d[off + 9], start, end, depth, ls);
    return;
  }
  if (bound < off + 40) return;
  const uint8_t* p = f.d + off;
  uint32_t end = off + 40 + Rd16(p + 4);
  if (end > bound || Rd16(p + 4) == 0) end = bound;
  uint8_t nh = p[6];
  uint32_t cur = off + 40;
  for (int n = 0; n < 8 && (nh == 0 || nh == 43 || nh == 60 || nh == 44); ++n) {
    if (end < cur + 8) return;
    const uint8_t* e = f.d + cur;
    if (nh == 44 && (Rd16(e + 2) >> 3) != 0) return;  // later fragment
    const uint32_t len = nh == 44 ? 8 : (uint32_t(e[1]) + 1) * 8;
    nh = e[0];
    cur += len;
  }
  if (cur <= end) ScapyScanProto(f, nh, cur, end, depth, ls);
}

void ScapyEmitLayers(const Frame& f, const ScapyLayers& ls, PacketMeta* out);

DecodeStatus DecodeIpv4Scapy(const Frame& f, uint32_t off, PacketMeta* out) {
  if (f.cap < off + 20) return DecodeStatus::kTruncated;
  const uint8_t* p = f.d + off;
  out->ip_version = 4;
  out->proto = p[9];
  MapV4(p + 12, out->saddr);
  MapV4(p + 16, out->daddr);
  uint32_t start, t_end;
  ScapyIpv4Payload(f, off, f.cap, &start, &t_end);
  const uint16_t frag = Rd16(p + 6);
  if ((frag & 0x2000) || (frag & 0x1fff)) out->flags |= kPktFragment;
  if (frag & 0x1fff) {
    out->flags |= kPktLaterFragment;
    out->payload_frame = out->payload_ip = f.cap - start;
    return DecodeStatus::kOk;
  }
  if (out->proto != 6 && out->proto != 17) {
    out->payload_frame = f.cap - start;
    out->payload_ip = t_end - start;
  }
  // NetFlowMeter asks "is there a TCP layer anywhere?" and, independently, "a UDP layer
  // anywhere?" (spec §1.1, D20): each yes is one packet with the outer addresses, that
  // layer's ports and sizes, and the protocol label of the outer IP header.
  ScapyLayers ls;
  ScapyScanProto(f, out->proto, start, t_end, 0, &ls);
  ScapyEmitLayers(f, ls, out);
  return DecodeStatus::kOk;
}

// Outer IPv6 (scapy view): NetFlowMeter 2022 still counts the packet when an IPv4 layer is
// nested somewhere below (4in6, VXLAN or L2TP over IPv6): addresses and protocol label from
// that first IPv4 header, ports from the first TCP / UDP layer anywhere (possibly the outer
// IPv6 UDP). False when there is no IPv4 layer (the packet stays IPv6: not counted).
bool DecodeIpv6Scapy(const Frame& f, uint32_t off, PacketMeta* out) {
  ScapyLayers ls;
  ScapyScanIp(f, 6, off, f.cap, 0, &ls);
  if (!ls.ip4_found) return false;
  const uint8_t* p = f.d + ls.ip4_off;
  out->ip_version = 4;
  out->proto = p[9];
  MapV4(p + 12, out->saddr);
  MapV4(p + 16, out->daddr);
  ScapyEmitLayers(f, ls, out);
  return true;
}

// Fills `out` (and the second packet) from the TCP/UDP layers found; `out` already holds the
// addresses and the protocol label of the first IPv4 header.
void ScapyEmitLayers(const Frame& f, const ScapyLayers& ls, PacketMeta* out) {
  if (f.scapy_second != nullptr && ls.tcp.found && ls.udp.found) {
    *f.scapy_second = *out;
    ScapyFillL4(f, 17, ls.udp.start, ls.udp.end, f.scapy_second);
    if (out->proto != 17) f.scapy_second->flags |= kPktScapyTunnel;
    *f.scapy_has_second = true;
  }
  if (ls.tcp.found) {
    ScapyFillL4(f, 6, ls.tcp.start, ls.tcp.end, out);
    if (out->proto != 6) out->flags |= kPktScapyTunnel;
  } else if (ls.udp.found) {
    ScapyFillL4(f, 17, ls.udp.start, ls.udp.end, out);
    if (out->proto != 17) out->flags |= kPktScapyTunnel;
  } else if (out->proto == 6 || out->proto == 17) {
    out->flags |= kPktL4Truncated;  // the transport header did not decode
  }
}

// IPv4, RFC 791.
DecodeStatus DecodeIpv4(const Frame& f, uint32_t off, PacketMeta* out) {
  if (f.scapy) return DecodeIpv4Scapy(f, off, out);
  if (f.cap < off + 20) return DecodeStatus::kTruncated;
  const uint8_t* p = f.d + off;
  if ((p[0] >> 4) != 4) return DecodeStatus::kMalformed;
  out->ip_version = 4;
  const uint32_t ihl = (p[0] & 0x0f) * 4u;
  if (ihl < 20) return DecodeStatus::kMalformed;
  out->proto = p[9];
  MapV4(p + 12, out->saddr);
  MapV4(p + 16, out->daddr);
  if (f.cap < off + ihl) return DecodeStatus::kTruncated;  // options cut
  const uint32_t tot = Rd16(p + 2);
  // Total length 0 (TSO/GSO captures) means "the rest of the frame". A total length below
  // the header length is nonsense; scapy then treats the whole rest as payload, and so do we.
  uint32_t ip_end = (tot == 0 || tot < ihl) ? f.cap : off + tot;
  if (ip_end < f.cap) out->flags |= kPktEthPadding;
  if (ip_end > f.cap) ip_end = f.cap;
  const uint16_t frag = Rd16(p + 6);
  const uint32_t frag_off = frag & 0x1fff;
  uint32_t l4 = off + ihl;
  if ((frag & 0x2000) || frag_off != 0) out->flags |= kPktFragment;
  if (frag_off != 0) {
    // Later fragment: no transport header here. Payload = everything after the IP header.
    out->flags |= kPktLaterFragment;
    out->payload_frame = f.cap - l4;
    out->payload_ip = ip_end - l4;
    return DecodeStatus::kOk;
  }
  // AH (RFC 4302 §2): next header, length in 4-octet units minus 2. The protected packet's
  // transport header follows it (transport mode) and labels the flow, as in IPv6.
  for (int n = 0; out->proto == 51; ++n) {
    if (n == kMaxIpv4AhHeaders) return DecodeStatus::kMalformed;
    if (f.cap < l4 + 8) return DecodeStatus::kTruncated;
    out->proto = f.d[l4];
    l4 += (uint32_t(f.d[l4 + 1]) + 2) * 4;
    if (l4 > f.cap) return DecodeStatus::kTruncated;
  }
  return DecodeL4OrTunnel(f, l4, ip_end, out);
}

// IPv6, RFC 8200, with a bounded walk over the extension-header chain (§4).
DecodeStatus DecodeIpv6(const Frame& f, uint32_t off, PacketMeta* out) {
  if (f.cap < off + 40) return DecodeStatus::kTruncated;
  if (f.scapy && DecodeIpv6Scapy(f, off, out)) return DecodeStatus::kOk;
  const uint8_t* p = f.d + off;
  if ((p[0] >> 4) != 6) return DecodeStatus::kMalformed;
  out->ip_version = 6;
  std::memcpy(out->saddr, p + 8, 16);
  std::memcpy(out->daddr, p + 24, 16);
  const uint32_t plen = Rd16(p + 4);
  // Payload length 0: jumbogram (RFC 2675) or a GSO capture: use the rest of the frame.
  uint32_t ip_end = plen == 0 ? f.cap : off + 40 + plen;
  if (ip_end < f.cap) out->flags |= kPktEthPadding;
  if (ip_end > f.cap) ip_end = f.cap;
  uint8_t nh = p[6];
  uint32_t cur = off + 40;
  for (int n = 0;; ++n) {
    out->proto = nh;
    if (nh != 0 && nh != 43 && nh != 44 && nh != 60 && nh != 51) break;
    if (n == kMaxIpv6ExtHeaders) return DecodeStatus::kMalformed;
    if (f.cap < cur + 8) return DecodeStatus::kTruncated;  // every ext header is >= 8 bytes
    const uint8_t* e = f.d + cur;
    uint32_t len;
    if (nh == 44) {  // Fragment header (§4.5): fixed 8 bytes
      len = 8;
      const uint16_t fo = Rd16(e + 2);
      out->flags |= kPktFragment;
      if ((fo >> 3) != 0) {
        out->flags |= kPktLaterFragment;
        out->proto = e[0];
        out->payload_frame = f.cap - (cur + 8);
        out->payload_ip = ip_end > cur + 8 ? ip_end - (cur + 8) : 0;
        return DecodeStatus::kOk;
      }
    } else if (nh == 51) {  // AH (RFC 4302 §2.2): length in 4-octet units minus 2
      len = (uint32_t(e[1]) + 2) * 4;
    } else {  // Hop-by-hop, Routing, Destination options: 8-octet units not counting the first
      len = (uint32_t(e[1]) + 1) * 8;
    }
    nh = e[0];
    cur += len;
    if (cur > f.cap) return DecodeStatus::kTruncated;
  }
  // ESP (50), No Next Header (59) and unknown protocols land in DecodeL4's default branch.
  return DecodeL4OrTunnel(f, cur, ip_end, out);
}

DecodeStatus DecodeMpls(const Frame& f, uint32_t off, PacketMeta* out);

// A PPP frame at `off` (see PppHeader): IPv4 = 0x0021, IPv6 = 0x0057, MPLS unicast/multicast =
// 0x0281/0x0283 (RFC 3032 §5; scapy 2.5 binds no layer to them).
DecodeStatus DecodePpp(const Frame& f, uint32_t off, PacketMeta* out) {
  uint16_t proto;
  if (!PppHeader(f.d, f.cap, &off, &proto)) return DecodeStatus::kTruncated;
  if (proto == 0x0021) return DecodeIpv4(f, off, out);
  if (proto == 0x0057) return DecodeIpv6(f, off, out);
  if (proto == kPppMplsUc || proto == kPppMplsMc)
    return f.scapy ? DecodeStatus::kUnsupportedEncap : DecodeMpls(f, off, out);
  return DecodeStatus::kNotIp;
}

// PPPoE session header (RFC 2516 §4: ver/type, code, session id, length) at `off`, then PPP.
// Only code 0 (session data) carries PPP (scapy: bind_layers(PPPoE, PPP, code=0)).
DecodeStatus DecodePppoe(const Frame& f, uint32_t off, PacketMeta* out) {
  if (f.cap < off + 6) return DecodeStatus::kTruncated;
  if (f.d[off + 1] != 0) return DecodeStatus::kNotIp;
  return DecodePpp(f, off + 6, out);
}

// MPLS label stack at `off` (RFC 3032): 4-byte entries, S bit (bottom of stack) in bit 8. The
// payload protocol is not signalled; guess from the first nibble as routers do (4 = IPv4,
// 6 = IPv6).
DecodeStatus DecodeMpls(const Frame& f, uint32_t off, PacketMeta* out) {
  for (int n = 0;; ++n) {
    if (n == kMaxMplsLabels) return DecodeStatus::kMalformed;
    if (f.cap < off + 4) return DecodeStatus::kTruncated;
    const bool bos = (f.d[off + 2] & 0x01) != 0;
    off += 4;
    if (bos) break;
  }
  if (f.cap < off + 1) return DecodeStatus::kTruncated;
  const uint8_t v = f.d[off] >> 4;
  if (v == 4) return DecodeIpv4(f, off, out);
  if (v == 6) return DecodeIpv6(f, off, out);
  return DecodeStatus::kNotIp;  // e.g. pseudowire with control word, Ethernet over MPLS
}

// Decodes starting at an EtherType value `type` whose payload begins at `off`: VLAN tag
// stacks, encapsulation headers, MPLS label stacks, PPPoE session, then IPv4/IPv6.
// Encapsulations (kStrict; header layouts as Wireshark dissects them):
//   802.1ah PBB   I-TAG (4: PCP, DEI, UCA, I-SID) + customer DA, SA (12), customer EtherType
//   VN-Tag        4 bytes (direction, pointer, destination/source VIF), EtherType
//   FabricPath    FTag/TTL (2) + the inner Ethernet frame (DA, SA, EtherType)
//   MACsec        SecTAG: TCI/AN (1: V ES SC SCB E C AN), SL (1), PN (4), SCI (8) if SC; then
//                 the protected frame's EtherType in clear when E and C are clear (integrity
//                 only; the ICV trailer lies beyond the IP length), else kEncrypted
//   NSH           base header (ver 2 b, O, U, TTL 6 b, length 6 b in 4-byte words, MD type,
//                 next protocol), service path header, context headers: `length` words in
//                 all; next protocol 1 IPv4, 2 IPv6, 3 Ethernet, 4 NSH, 5 MPLS
DecodeStatus DecodeEtherType(const Frame& f, uint16_t type, uint32_t off, PacketMeta* out) {
  int tags = 0, encaps = 0;
  for (;;) {
    switch (type) {
      case kEtherQinQOld:
        // scapy (the nfm2022 view) binds no layer to 0x9100 or MPLS: such frames carry no IP there.
        if (f.scapy) return DecodeStatus::kUnsupportedEncap;
        [[fallthrough]];
      case kEther8021Q:
      case kEther8021AD:  // 2-byte TCI + 2-byte inner EtherType
        if (tags++ == (f.scapy ? kScapyMaxVlanTags : kMaxVlanTags)) return DecodeStatus::kMalformed;
        if (f.cap < off + 4) return DecodeStatus::kTruncated;
        type = Rd16(f.d + off + 2);
        off += 4;
        continue;
      case kEtherIpv4:
        return DecodeIpv4(f, off, out);
      case kEtherIpv6:
        return DecodeIpv6(f, off, out);
      case kEtherPppoeSession:
        return DecodePppoe(f, off, out);
      case kEtherMplsUc:
      case kEtherMplsMc:
        return f.scapy ? DecodeStatus::kUnsupportedEncap : DecodeMpls(f, off, out);
      case kEtherPbb:
      case kEtherVnTag:
      case kEtherFabricPath:
      case kEtherNsh:
      case kEtherMacsec:
        break;
      default:
        return DecodeStatus::kNotIp;
    }
    if (f.scapy) {  // scapy 2.5's default layers dissect none of these EtherTypes (Raw payload)
      if (type == kEtherMacsec && f.cap > off && (f.d[off] & 0x0c)) return DecodeStatus::kEncrypted;
      return DecodeStatus::kUnsupportedEncap;
    }
    if (encaps++ == kMaxEncapHeaders) return DecodeStatus::kMalformed;
    uint32_t type_at;  // offset of the next EtherType
    switch (type) {
      case kEtherPbb:
        type_at = off + 16;
        break;
      case kEtherVnTag:
        type_at = off + 4;
        break;
      case kEtherFabricPath:
        type_at = off + 14;
        break;
      case kEtherMacsec: {
        if (f.cap < off + 6) return DecodeStatus::kTruncated;
        const uint8_t tci = f.d[off];
        if (tci & 0x0c) return DecodeStatus::kEncrypted;  // E (0x08) or C (0x04): ciphertext
        type_at = off + ((tci & 0x20) ? 14 : 6);          // SC: an 8-byte SCI follows the PN
        break;
      }
      default: {  // kEtherNsh
        if (f.cap < off + 8) return DecodeStatus::kTruncated;
        const uint32_t len = (f.d[off + 1] & 0x3fu) * 4;
        const uint8_t next = f.d[off + 3];
        if ((f.d[off] >> 6) != 0 || len < 8) return DecodeStatus::kMalformed;  // version 0 only
        if (f.cap < off + len) return DecodeStatus::kTruncated;
        off += len;
        if (next == 1) return DecodeIpv4(f, off, out);
        if (next == 2) return DecodeIpv6(f, off, out);
        if (next == 4) {
          type = kEtherNsh;
          continue;
        }
        if (next == 5) return DecodeMpls(f, off, out);
        if (next != 3) return DecodeStatus::kUnsupportedEncap;
        type_at = off + 12;  // Ethernet: DA, SA, EtherType
        break;
      }
    }
    if (f.cap < type_at + 2) return DecodeStatus::kTruncated;
    type = Rd16(f.d + type_at);
    off = type_at + 2;
  }
}

// Raw IP: the version nibble tells the family.
DecodeStatus DecodeRawIp(const Frame& f, uint32_t off, PacketMeta* out) {
  if (f.cap < off + 1) return DecodeStatus::kTruncated;
  const uint8_t v = f.d[off] >> 4;
  if (v == 4) return DecodeIpv4(f, off, out);
  if (v == 6) return DecodeIpv6(f, off, out);
  return DecodeStatus::kMalformed;
}

// Ethernet II frame at `off`; an 802.3 length field followed by LLC/SNAP (RFC 1042) carries an
// EtherType too.
DecodeStatus DecodeEthernet(const Frame& f, uint32_t off, PacketMeta* out) {
  if (f.cap < off + 14) return DecodeStatus::kTruncated;
  uint16_t type = Rd16(f.d + off + 12);
  uint32_t next = off + 14;
  if (type <= 1500) {
    if (f.cap < off + 22) return DecodeStatus::kTruncated;
    const uint8_t* l = f.d + off + 14;
    if (l[0] != 0xaa || l[1] != 0xaa || l[2] != 0x03 || l[3] != 0 || l[4] != 0 || l[5] != 0)
      return DecodeStatus::kNotIp;
    type = Rd16(l + 6);
    next = off + 22;
  }
  return DecodeEtherType(f, type, next, out);
}

// ---- Overlay tunnels (--tunnel inner, kStrict) ---------------------------------------------
//
// The tunnel header after the outer transport header at `l4` (out holds the outer packet),
// layouts as Wireshark 4.0 dissects them:
//   VXLAN (RFC 7348)    flags (I = 0x08 must be set), 3 reserved, VNI (24 bits), 1 reserved;
//                       then an Ethernet frame
//   Geneve (RFC 8926)   Ver (2 bits, 0) | Opt Len (6 bits, 4-byte words), O | C | 6 reserved,
//                       protocol type (16), VNI (24), reserved (8); options; then the protocol
//                       type's payload: 0x6558 Ethernet, 0x0800 IPv4, 0x86dd IPv6
//   GTP-U (3GPP TS 29.281 §5)  flags: version (3 bits, 1) | PT (1) | spare | E | S | PN;
//                       message type (0xff G-PDU carries a user packet), length (16),
//                       TEID (32); 4 more bytes (sequence number 16, N-PDU number 8, next
//                       extension header type 8) when E, S or PN is set; with E, extension
//                       headers (length in 4-byte words, content, next type) until type 0;
//                       then an IPv4 or IPv6 packet (version nibble)
//   GRE (RFC 2784, RFC 2890)  C | R | K | S | 9 reserved bits | version (3 bits, 0); protocol
//                       type (16); checksum + reserved (4) if C, key (4) if K, sequence
//                       number (4) if S; R set (RFC 1701 routing) and versions other than 0
//                       (PPTP's enhanced GRE) are not opened; payload 0x6558 Ethernet
//                       (transparent Ethernet bridging), 0x0800 IPv4, 0x86dd IPv6
//   IP in IP            protocol 4 (IPv4) or 41 (IPv6) directly after the outer IP header
// A header that is not one of these (VXLAN without I, Geneve version != 0, GTP-U signalling
// messages, GRE with R or version != 0) leaves the outer packet as it is. An open tunnel whose
// payload is cut gives kTruncated, a payload type not listed kUnsupportedEncap, an inner frame
// that is not IP kNotIp; otherwise `out` is rewritten with the inner packet, whose frame
// starts at the inner Ethernet header (VXLAN, Geneve and GRE 0x6558) or the inner IP header:
// cap_len and wire_len lose the bytes before it, every other field is the inner packet's.
constexpr uint16_t kGenevePort = 6081;
constexpr uint16_t kGtpUPort = 2152;
constexpr uint16_t kEtherTeb = 0x6558;  // transparent Ethernet bridging
constexpr int kMaxGtpExtHeaders = 8;

DecodeStatus Decap(const Frame& f, uint32_t l4, uint32_t ip_end, PacketMeta* out) {
  if (out->flags & (kPktFragment | kPktL4Truncated)) return DecodeStatus::kOk;
  uint8_t type = kTunnelNone;
  uint32_t inner = 0;
  uint16_t ether = 0;  // 0: an IP packet, version by nibble
  uint32_t id = 0;     // VNI / TEID / GRE key
  bool has_id = false;
  const uint8_t* d = f.d;
  switch (out->proto) {
    case 17: {
      const uint32_t u = l4 + 8;  // the UDP payload
      if (f.tun->IsVxlanPort(out->dport)) {
        if (ip_end < u + 8) return ip_end > u ? DecodeStatus::kTruncated : DecodeStatus::kOk;
        if (!(d[u] & 0x08)) return DecodeStatus::kOk;
        type = kTunnelVxlan;
        id = Rd32Be(d + u + 4) >> 8;
        has_id = true;
        inner = u + 8;
        ether = kEtherTeb;
      } else if (out->dport == kGenevePort) {
        if (ip_end < u + 8) return ip_end > u ? DecodeStatus::kTruncated : DecodeStatus::kOk;
        if ((d[u] >> 6) != 0) return DecodeStatus::kOk;
        type = kTunnelGeneve;
        id = Rd32Be(d + u + 4) >> 8;
        has_id = true;
        inner = u + 8 + (d[u] & 0x3fu) * 4;
        ether = Rd16(d + u + 2);
      } else if (out->dport == kGtpUPort) {
        if (ip_end < u + 8) return ip_end > u ? DecodeStatus::kTruncated : DecodeStatus::kOk;
        const uint8_t fl = d[u];
        if ((fl >> 5) != 1 || !(fl & 0x10) || d[u + 1] != 0xff) return DecodeStatus::kOk;
        type = kTunnelGtpU;
        id = Rd32Be(d + u + 4);
        has_id = true;
        inner = u + 8;
        if (fl & 0x07) {
          if (ip_end < inner + 4) return DecodeStatus::kTruncated;
          uint8_t next = (fl & 0x04) ? d[inner + 3] : 0;
          inner += 4;
          for (int n = 0; next != 0; ++n) {
            if (n == kMaxGtpExtHeaders) return DecodeStatus::kMalformed;
            if (ip_end < inner + 1) return DecodeStatus::kTruncated;
            const uint32_t len = uint32_t(d[inner]) * 4;
            if (len == 0) return DecodeStatus::kMalformed;
            if (ip_end < inner + len) return DecodeStatus::kTruncated;
            next = d[inner + len - 1];
            inner += len;
          }
        }
      } else {
        return DecodeStatus::kOk;
      }
      break;
    }
    case 47: {
      if (ip_end < l4 + 4) return ip_end > l4 ? DecodeStatus::kTruncated : DecodeStatus::kOk;
      const uint8_t fl = d[l4];
      if ((fl & 0x40) || (d[l4 + 1] & 0x07) != 0) return DecodeStatus::kOk;
      type = kTunnelGre;
      ether = Rd16(d + l4 + 2);
      inner = l4 + 4 + ((fl & 0x80) ? 4 : 0) + ((fl & 0x20) ? 4 : 0) + ((fl & 0x10) ? 4 : 0);
      if ((fl & 0x20) && ip_end >= l4 + 8 + ((fl & 0x80) ? 4 : 0)) {  // K: the key after the checksum word
        id = Rd32Be(d + l4 + 4 + ((fl & 0x80) ? 4 : 0));
        has_id = true;
      }
      break;
    }
    case 4:
      type = kTunnelIpIp;
      inner = l4;
      ether = kEtherIpv4;
      break;
    case 41:
      type = kTunnelIpIp;
      inner = l4;
      ether = kEtherIpv6;
      break;
    default:
      return DecodeStatus::kOk;
  }
  if (ip_end < inner) return DecodeStatus::kTruncated;
  if (ether != 0 && ether != kEtherTeb && ether != kEtherIpv4 && ether != kEtherIpv6)
    return DecodeStatus::kUnsupportedEncap;
  // The inner frame: from `inner` to the end of the capture, decoded with no further tunnels.
  const uint32_t before = out->cap_len > f.cap - inner ? out->cap_len - (f.cap - inner) : 0;
  const uint32_t wire = out->wire_len > before ? out->wire_len - before : 0;
  if (f.tun_out != nullptr) {
    TunnelMeta& t = *f.tun_out;
    std::memcpy(t.src, out->saddr, 16);
    std::memcpy(t.dst, out->daddr, 16);
    t.id = has_id ? id : 0;
    t.has_id = has_id ? 1 : 0;
    t.type = type;
  }
  *out = PacketMeta{};
  out->cap_len = f.cap - inner;
  out->wire_len = wire;
  out->tunnel = type;
  Frame g = f;
  g.d = f.d + inner;
  g.cap = f.cap - inner;
  g.tun = nullptr;
  g.tun_out = nullptr;
  if (ether == kEtherTeb) return DecodeEthernet(g, 0, out);
  if (ether != 0) return DecodeEtherType(g, ether, 0, out);
  if (g.cap < 1) return DecodeStatus::kTruncated;
  const uint8_t v = g.d[0] >> 4;  // GTP-U T-PDU: IPv4, IPv6, or (5G) Ethernet / unstructured
  if (v == 4) return DecodeIpv4(g, 0, out);
  if (v == 6) return DecodeIpv6(g, 0, out);
  return DecodeStatus::kNotIp;
}

// ---- IEEE 802.11 (LINKTYPE_IEEE802_11 105, _RADIOTAP 127, _PRISM 119, PPI 192) ----------

inline uint16_t Rd16Le(const uint8_t* p) { return uint16_t(p[0] | uint16_t(p[1]) << 8); }
inline uint32_t Rd32Le(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

// The same frame with its last `n` captured bytes cut off (an FCS trailer).
Frame WithoutTrailer(const Frame& f, uint32_t n) {
  Frame g = f;
  g.cap = f.cap > n ? f.cap - n : 0;
  return g;
}

// A frame that ends with an FCS (the last 4 bytes on the wire): the same frame without
// whatever part of the FCS was captured (Wireshark dissects the payload without it).
Frame WithoutFcs(const Frame& f, uint32_t wire_len) {
  const uint32_t fcs_start = wire_len > 4 ? wire_len - 4 : 0;
  return WithoutTrailer(f, f.cap > fcs_start ? std::min<uint32_t>(f.cap - fcs_start, 4) : 0);
}

// The 802.11 frame body at `off` as Wireshark reads it: RFC 1042 LLC/SNAP (802.2 aa aa 03,
// OUI, EtherType), OUI 00-00-00 (RFC 1042) or 00-00-f8 (802.1H bridge tunnel) selecting the
// EtherType table; ff ff is raw IPX; any other body that starts with an EtherType (some
// drivers omit the LLC header; not inside an A-MSDU) is read from there. VLAN, PPPoE, MPLS,
// IPv4 and IPv6 are followed.
DecodeStatus DecodeLlcSnapStrict(const Frame& f, uint32_t off, bool raw_ethertype, PacketMeta* out) {
  if (f.cap < off + 2) return DecodeStatus::kTruncated;
  const uint8_t* l = f.d + off;
  if (l[0] == 0xaa && l[1] == 0xaa) {
    if (f.cap < off + 8) return DecodeStatus::kTruncated;
    if (l[2] != 0x03 || l[3] != 0 || l[4] != 0 || (l[5] != 0 && l[5] != 0xf8)) return DecodeStatus::kNotIp;
    return DecodeEtherType(f, Rd16(l + 6), off + 8, out);
  }
  const uint16_t type = Rd16(l);
  if (raw_ethertype && (type == kEtherIpv4 || type == kEtherIpv6 || type == kEther8021Q ||
                        type == kEther8021AD || type == kEtherQinQOld || type == kEtherMplsUc ||
                        type == kEtherMplsMc || type == kEtherPppoeSession))
    return DecodeEtherType(f, type, off + 2, out);
  return DecodeStatus::kNotIp;
}

// 802.11 MAC frame at `off` (IEEE 802.11-2020 §9.2-9.3), strict view. Only data frames with
// a body carry IP: no protected frames (the body is ciphertext), no Null/CF-only subtypes.
// Header: FC, Duration, Addr1-3, Sequence Control (24 bytes), Addr4 when ToDS and FromDS,
// QoS Control (2) on QoS subtypes, HT Control (4) when a QoS data frame has the +HTC/Order
// bit. `datapad`: radiotap's "frame has padding between header and payload" flag (header
// padded to a multiple of 4). An A-MSDU (QoS Control bit 7) is read up to its first
// subframe: DA, SA, length (14 bytes), then LLC/SNAP.
DecodeStatus Decode80211Strict(const Frame& f, uint32_t off, bool datapad, PacketMeta* out) {
  if (f.cap < off + 2) return DecodeStatus::kTruncated;
  const uint8_t fc0 = f.d[off], fc1 = f.d[off + 1];
  const uint8_t type = (fc0 >> 2) & 3, subtype = fc0 >> 4;
  if ((fc0 & 3) != 0 || type != 2) return DecodeStatus::kNotIp;  // version 0 data frames only
  if (subtype & 4) return DecodeStatus::kNotIp;        // no data
  if (fc1 & 0x40) return DecodeStatus::kEncrypted;     // protected: the body is ciphertext
  const bool qos = (subtype & 8) != 0;
  uint32_t hl = 24 + ((fc1 & 3) == 3 ? 6 : 0);
  const uint32_t qos_off = off + hl;
  if (qos) hl += 2 + ((fc1 & 0x80) ? 4 : 0);
  if (f.cap < off + hl) return DecodeStatus::kTruncated;
  // A fragment with More Fragments set: Wireshark holds it for 802.11 reassembly and
  // dissects no IP in it; neither do we. (A last fragment, MF clear, is decoded as if whole:
  // Wireshark does the same when it has no earlier fragments to reassemble it with.)
  if (fc1 & 0x04) return DecodeStatus::kNotIp;
  const bool amsdu = qos && (f.d[qos_off] & 0x80);
  if (datapad) hl = (hl + 3) & ~3u;
  off += hl;
  if (amsdu) off += 14;
  return DecodeLlcSnapStrict(f, off, !amsdu, out);
}

// 802.11 as scapy 2.5's Dot11 / Dot11FCS class dissects it (nfm2022). Header fields are taken
// in order (Addr2 unless a control frame without it, Addr3 and SC unless control, Addr4 on
// data frames with ToDS and FromDS); Dot11FCS then takes its FCS from the last 4 bytes of
// what follows. Data subtypes 8-15 except 13 get Dot11QoS (2 bytes; no HT Control, no A-MSDU
// handling); a protected frame is Dot11Encrypted; every other data frame's body is LLC
// (null subtypes included), then SNAP when aa aa 03 (OUI not checked), then by SNAP code:
// IPv4, IPv6, 802.1Q, or (code 1) an Ethernet frame.
DecodeStatus Decode80211Scapy(const Frame& f, uint32_t off, bool fcs, PacketMeta* out) {
  if (f.cap < off + 4) return DecodeStatus::kTruncated;
  const uint8_t fc0 = f.d[off], fc1 = f.d[off + 1];
  const uint8_t type = (fc0 >> 2) & 3, subtype = fc0 >> 4;
  if (type != 2) return DecodeStatus::kNotIp;  // management, control, extension: no LLC
  const uint32_t hl = 24 + ((fc1 & 3) == 3 ? 6 : 0);  // FC, ID, addr1-3, SC [, addr4]
  if (f.cap < off + hl) return DecodeStatus::kTruncated;
  off += hl;
  const Frame g = fcs ? WithoutTrailer(f, 4) : f;
  if (fcs && f.cap - off < 4) return DecodeStatus::kNotIp;
  if (subtype >= 8 && subtype != 13) off += 2;  // Dot11QoS
  if (fc1 & 0x40) return DecodeStatus::kEncrypted;  // Dot11Encrypted
  if (g.cap < off + 8) return DecodeStatus::kNotIp;
  const uint8_t* l = g.d + off;
  if (l[0] != 0xaa || l[1] != 0xaa || l[2] != 0x03) return DecodeStatus::kNotIp;
  const uint16_t code = Rd16(l + 6);
  if (code == 1) return DecodeEthernet(g, off + 8, out);
  if (code == kEtherIpv4 || code == kEtherIpv6 || code == kEther8021Q) return DecodeEtherType(g, code, off + 8, out);
  return DecodeStatus::kNotIp;
}

// Radiotap header (https://www.radiotap.org): version 0, pad, length (LE16), present bitmaps
// (LE32 each, chained by bit 31), then fields aligned to their natural size relative to the
// header start. The 802.11 frame starts at the length field; the Flags field (bit 1, after
// TSFT) says whether it ends with an FCS (0x10) and whether the 802.11 header is padded (0x20).
DecodeStatus DecodeRadiotapStrict(const Frame& f, uint32_t wire_len, PacketMeta* out) {
  if (f.cap < 8) return DecodeStatus::kTruncated;  // (Wireshark ignores the version byte)
  const uint32_t len = Rd16Le(f.d + 2);
  if (len < 8) return DecodeStatus::kMalformed;
  if (f.cap < len) return DecodeStatus::kTruncated;
  const uint32_t w0 = Rd32Le(f.d + 4);
  uint32_t p = 4;
  while (Rd32Le(f.d + p) & 0x80000000u) {
    p += 4;
    // Bitmaps running past the header: Wireshark reads no field, 802.11 still at `len`.
    if (len < p + 4) return Decode80211Strict(f, len, false, out);
  }
  uint32_t q = p + 4;  // first field
  if (w0 & 1) q = ((q + 7) & ~7u) + 8;  // TSFT
  uint8_t flags = 0;
  if ((w0 & 2) && q < len) flags = f.d[q];  // (a field past the header: Wireshark reads none)
  return Decode80211Strict((flags & 0x10) ? WithoutFcs(f, wire_len) : f, len, flags & 0x20, out);
}

// Radiotap as scapy 2.5's RadioTap class dissects it: the extended present bitmaps, then the
// fields it knows of the first bitmap, each after padding to its alignment (sizes as scapy
// reads them, e.g. 7 bytes for XChannel, 7 for HE-MU-other-user); unknown fields are skipped.
// The payload starts at max(length field, bytes parsed) (post_dissect); the TLV field list
// swallows the rest. Any field running past the capture leaves no 802.11 layer.
DecodeStatus DecodeRadiotapScapy(const Frame& f, PacketMeta* out) {
  if (f.cap < 8) return DecodeStatus::kTruncated;
  const uint32_t len = Rd16Le(f.d + 2);
  const uint32_t w0 = Rd32Le(f.d + 4);
  uint32_t q = 8;
  if (w0 & 0x80000000u) {
    for (uint32_t w = w0; w & 0x80000000u; q += 4) {
      if (f.cap < q + 4) return DecodeStatus::kNotIp;
      w = Rd32Le(f.d + q);
    }
  }
  struct Fld { uint8_t bit, align, size; };
  static constexpr Fld kFields[] = {{0, 8, 8},  {1, 1, 1},   {2, 1, 1},   {3, 2, 4},   {5, 1, 1},
                                    {6, 1, 1},  {7, 2, 2},   {11, 1, 1},  {14, 2, 2},  {15, 2, 2},
                                    {18, 4, 7}, {19, 2, 3},  {20, 4, 8},  {21, 2, 12}, {22, 8, 12},
                                    {23, 2, 12}, {24, 2, 12}, {25, 2, 7}, {27, 2, 4}};
  uint8_t flags = 0;
  for (const Fld& fl : kFields) {
    if (!(w0 >> fl.bit & 1)) continue;
    q = (q + fl.align - 1) & ~uint32_t(fl.align - 1);
    if (f.cap < q + fl.size) return DecodeStatus::kNotIp;
    if (fl.bit == 1) flags = f.d[q];
    q += fl.size;
  }
  if (w0 & (1u << 28)) return DecodeStatus::kNotIp;  // TLVs: the list takes every byte left
  return Decode80211Scapy(f, std::max(len, q), (w0 & 2) && (flags & 0x10), out);
}

// PPI (CACE Per-Packet Information): version, flags, header length (LE16), DLT (LE32), field
// list; the packet of that DLT follows the header. Strict: an 802.11-Common field (type 2,
// flags at byte 8 of its data) with bit 0 set says an 802.11 frame ends with an FCS.
// scapy: the field list is s[:len - 8] (a Python slice), the DLT picks the payload class.
DecodeStatus DecodeLink(const Frame& f, uint32_t link_type, uint32_t wire_len, int depth, PacketMeta* out);

DecodeStatus DecodePpi(const Frame& f, uint32_t wire_len, int depth, PacketMeta* out) {
  if (f.cap < 8) return DecodeStatus::kTruncated;
  const uint32_t len = Rd16Le(f.d + 2);
  const uint32_t dlt = Rd32Le(f.d + 4);
  if (depth > 1 || dlt == 192 || !IsSupportedLinkType(dlt)) return DecodeStatus::kNotIp;
  uint32_t off;
  bool fcs = false;
  if (f.scapy) {
    const uint32_t rem = f.cap - 8;
    off = len >= 8 ? 8 + std::min(len - 8, rem) : f.cap - std::min(8 - len, rem);
    if (off >= f.cap || dlt == 14 || dlt == 104) return DecodeStatus::kNotIp;
  } else {
    // Wireshark walks the field headers (type, length LE16) while inside the header length;
    // the packet starts after the last field walked (the header length when consistent).
    off = 8;
    while (off < len) {
      if (f.cap < off + 4) return DecodeStatus::kTruncated;
      const uint32_t ftype = Rd16Le(f.d + off), flen = Rd16Le(f.d + off + 2);
      if (ftype == 2 && flen >= 10 && f.cap >= off + 4 + 10) fcs = (Rd16Le(f.d + off + 4 + 8) & 1) != 0;
      off += 4 + flen;
    }
    if (off > f.cap) return DecodeStatus::kTruncated;
  }
  Frame g = f;
  g.d = f.d + off;
  g.cap = f.cap - off;
  if (fcs && dlt == 105) g = WithoutFcs(g, wire_len > off ? wire_len - off : 0);
  return DecodeLink(g, dlt, wire_len > off ? wire_len - off : 0, depth + 1, out);
}

// The frame `f` of link type `link_type` (`depth`: PPI nesting).
DecodeStatus DecodeLink(const Frame& f, uint32_t link_type, uint32_t wire_len, int depth, PacketMeta* out) {
  switch (link_type) {
    case 1:  // Ethernet II; 802.3 length + LLC/SNAP (RFC 1042) carrying an EtherType too
      return DecodeEthernet(f, 0, out);
    case 12:
    case 14:
    case 101:
      return DecodeRawIp(f, 0, out);
    case 228: {
      if (f.cap >= 1 && (f.d[0] >> 4) != 4) return DecodeStatus::kMalformed;
      return DecodeIpv4(f, 0, out);
    }
    case 229: {
      if (f.cap >= 1 && (f.d[0] >> 4) != 6) return DecodeStatus::kMalformed;
      return DecodeIpv6(f, 0, out);
    }
    case 113:  // Linux cooked v1: 16-byte header, protocol (EtherType) at offset 14
    case 276: {  // Linux cooked v2: 20-byte header, protocol (EtherType) at offset 0
      const uint32_t hdr = link_type == 113 ? 16 : 20;
      if (f.cap < hdr) return DecodeStatus::kTruncated;
      const uint16_t type = Rd16(f.d + (link_type == 113 ? 14 : 0));
      // scapy binds 802.1ad to CookedLinux under a field name the class lacks: no layer.
      if (f.scapy && type == kEther8021AD) return DecodeStatus::kNotIp;
      return DecodeEtherType(f, type, hdr, out);
    }
    case 9:  // PPP (optionally with HDLC-like framing ff 03)
      return DecodePpp(f, 0, out);
    case 204:  // PPP with a 1-byte direction prefix
      return DecodePpp(f, 1, out);
    case 51:  // PPPoE session header without Ethernet
      return DecodePppoe(f, 0, out);
    case 50:  // PPP in HDLC-like framing (RFC 1662), or Cisco HDLC (address 0x0f / 0x8f)
      if (f.cap < 2) return DecodeStatus::kTruncated;
      // scapy reads every frame as HDLC (2 bytes) + PPP, so Cisco HDLC carries no IP there.
      if (f.scapy) return DecodePpp(f, 2, out);
      if (f.d[0] == 0x0f || f.d[0] == 0x8f) {
        if (f.cap < 4) return DecodeStatus::kTruncated;
        return DecodeEtherType(f, Rd16(f.d + 2), 4, out);
      }
      return DecodePpp(f, 0, out);
    case 104:  // Cisco HDLC: address, control, EtherType (scapy has no layer for it)
      if (f.scapy) return DecodeStatus::kNotIp;
      if (f.cap < 4) return DecodeStatus::kTruncated;
      return DecodeEtherType(f, Rd16(f.d + 2), 4, out);
    case 0:
    case 108: {
      // BSD loopback: 4-byte address family. DLT_NULL writes it in the capturing host's
      // byte order, DLT_LOOP in network order; accept both (a family never exceeds 0xffff).
      if (f.cap < 4) return DecodeStatus::kTruncated;
      uint32_t fam = Rd32Be(f.d);
      if (fam & 0xffff0000u) fam = __builtin_bswap32(fam);
      if (fam == 2) return DecodeIpv4(f, 4, out);
      // AF_INET6: 24 NetBSD/OpenBSD, 28 FreeBSD/DragonFly, 30 macOS.
      if (fam == 24 || fam == 28 || fam == 30) return DecodeIpv6(f, 4, out);
      return DecodeStatus::kNotIp;
    }
    case 105:  // IEEE 802.11 without radio header (no FCS assumed, as Wireshark does)
      return f.scapy ? Decode80211Scapy(f, 0, false, out) : Decode80211Strict(f, 0, false, out);
    case 127:  // radiotap + 802.11
      return f.scapy ? DecodeRadiotapScapy(f, out) : DecodeRadiotapStrict(f, wire_len, out);
    case 119:  // Prism monitor header (144 bytes whatever its length field says, as both
               // scapy's PrismHeader and Wireshark read it) + 802.11; Wireshark
               // also reads an AVS header here (magic 0x8021100x, BE32 length at offset 4)
      if (!f.scapy && f.cap >= 8 && (Rd32Be(f.d) & 0xfffffff0u) == 0x80211000u) {
        const uint32_t avs_len = Rd32Be(f.d + 4);
        if (avs_len < 8 || avs_len > f.cap) return DecodeStatus::kTruncated;
        return Decode80211Strict(f, avs_len, false, out);
      }
      if (f.cap < 144) return DecodeStatus::kTruncated;
      // Wireshark: message code 0x44 or 0x41 (either byte order), else no 802.11 decode.
      if (!f.scapy && Rd32Le(f.d) != 0x44 && Rd32Le(f.d) != 0x41 && Rd32Be(f.d) != 0x44 && Rd32Be(f.d) != 0x41)
        return DecodeStatus::kNotIp;
      return f.scapy ? Decode80211Scapy(f, 144, false, out) : Decode80211Strict(f, 144, false, out);
    case 192:  // PPI
      return DecodePpi(f, wire_len, depth, out);
    default:
      return DecodeStatus::kUnsupportedLink;
  }
}

}  // namespace

bool IsSupportedLinkType(uint32_t link_type) noexcept {
  switch (link_type) {
    case 0: case 1: case 9: case 12: case 14: case 50: case 51: case 101: case 104: case 108:
    case 105: case 113: case 119: case 127: case 192: case 204: case 228: case 229: case 276:
      return true;
    default:
      return false;
  }
}

namespace {
// LINKTYPE_ values (https://www.tcpdump.org/linktypes.html) with what they are. Names are the
// LINKTYPE_ suffix, except DLT-style names kept for the types we decode (EN10MB, RAW).
struct LinkTypeInfo {
  uint16_t value;
  const char* name;
  const char* what;
};
constexpr LinkTypeInfo kLinkTypes[] = {
    {0, "NULL", "BSD loopback"},
    {1, "EN10MB", "Ethernet"},
    {3, "AX25", "AX.25 amateur radio"},
    {6, "IEEE802_5", "Token Ring"},
    {7, "ARCNET_BSD", "ARCNET"},
    {8, "SLIP", "SLIP"},
    {9, "PPP", "PPP"},
    {10, "FDDI", "FDDI"},
    {12, "RAW", "raw IP"},
    {14, "RAW", "raw IP"},
    {50, "PPP_HDLC", "PPP in HDLC-like framing"},
    {51, "PPP_ETHER", "PPPoE session"},
    {100, "ATM_RFC1483", "ATM (RFC 1483 LLC/SNAP)"},
    {101, "RAW", "raw IP"},
    {104, "C_HDLC", "Cisco HDLC"},
    {105, "IEEE802_11", "IEEE 802.11 wireless"},
    {106, "ATM_CLIP", "ATM classical IP"},
    {107, "FRELAY", "Frame Relay"},
    {108, "LOOP", "OpenBSD loopback"},
    {109, "ENC", "OpenBSD IPsec encapsulation"},
    {113, "LINUX_SLL", "Linux cooked capture v1"},
    {114, "LTALK", "Apple LocalTalk"},
    {117, "PFLOG", "OpenBSD pflog"},
    {119, "IEEE802_11_PRISM", "802.11 with Prism header"},
    {122, "IP_OVER_FC", "IP over Fibre Channel"},
    {123, "SUNATM", "SunATM"},
    {127, "IEEE802_11_RADIOTAP", "802.11 with radiotap header"},
    {129, "ARCNET_LINUX", "ARCNET (Linux)"},
    {138, "APPLE_IP_OVER_IEEE1394", "IP over FireWire"},
    {139, "MTP2_WITH_PHDR", "SS7 MTP2 with pseudo-header"},
    {140, "MTP2", "SS7 MTP2"},
    {141, "MTP3", "SS7 MTP3"},
    {142, "SCCP", "SS7 SCCP"},
    {143, "DOCSIS", "DOCSIS MAC frames"},
    {144, "LINUX_IRDA", "Linux IrDA"},
    {147, "USER0", "private use (USER0)"},
    {148, "USER1", "private use (USER1)"},
    {149, "USER2", "private use (USER2)"},
    {150, "USER3", "private use (USER3)"},
    {163, "IEEE802_11_AVS", "802.11 with AVS header"},
    {165, "BACNET_MS_TP", "BACnet MS/TP"},
    {166, "PPP_PPPD", "PPP (pppd direction)"},
    {169, "GPRS_LLC", "GPRS LLC"},
    {177, "LINUX_LAPD", "LAPD (Linux)"},
    {187, "BLUETOOTH_HCI_H4", "Bluetooth HCI UART"},
    {189, "USB_LINUX", "USB (Linux)"},
    {192, "PPI", "Per-Packet Information"},
    {195, "IEEE802_15_4_WITHFCS", "IEEE 802.15.4"},
    {197, "ERF", "Endace ERF"},
    {201, "BLUETOOTH_HCI_H4_WITH_PHDR", "Bluetooth HCI UART with direction"},
    {203, "LAPD", "LAPD (ISDN)"},
    {204, "PPP_WITH_DIR", "PPP with direction"},
    {205, "C_HDLC_WITH_DIR", "Cisco HDLC with direction"},
    {206, "FRELAY_WITH_DIR", "Frame Relay with direction"},
    {209, "IPMB_LINUX", "IPMB (Linux)"},
    {215, "IEEE802_15_4_NONASK_PHY", "IEEE 802.15.4 with PHY header"},
    {220, "USB_LINUX_MMAPPED", "USB (Linux, mmapped)"},
    {224, "FC_2", "Fibre Channel FC-2"},
    {226, "IPNET", "Solaris ipnet"},
    {227, "CAN_SOCKETCAN", "CAN bus (SocketCAN)"},
    {228, "IPV4", "raw IPv4"},
    {229, "IPV6", "raw IPv6"},
    {230, "IEEE802_15_4_NOFCS", "IEEE 802.15.4 without FCS"},
    {231, "DBUS", "D-Bus"},
    {235, "DVB_CI", "DVB-CI"},
    {239, "NFLOG", "Linux netfilter log"},
    {240, "NETANALYZER", "Hilscher netANALYZER"},
    {242, "IPOIB", "IP over InfiniBand"},
    {243, "MPEG_2_TS", "MPEG-2 transport stream"},
    {247, "INFINIBAND", "InfiniBand"},
    {248, "SCTP", "SCTP without lower layers"},
    {249, "USBPCAP", "USB (USBPcap, Windows)"},
    {251, "BLUETOOTH_LE_LL", "Bluetooth LE link layer"},
    {253, "NETLINK", "Linux netlink"},
    {254, "BLUETOOTH_LINUX_MONITOR", "Bluetooth Linux monitor"},
    {256, "BLUETOOTH_LE_LL_WITH_PHDR", "Bluetooth LE link layer with pseudo-header"},
    {257, "PROFIBUS_DL", "PROFIBUS data link"},
    {258, "PKTAP", "Apple PKTAP"},
    {259, "EPON", "Ethernet passive optical network"},
    {264, "ISO_14443", "ISO 14443 contactless smartcard"},
    {266, "USB_DARWIN", "USB (macOS)"},
    {268, "SDLC", "SDLC"},
    {270, "LORATAP", "LoRaTap"},
    {271, "VSOCK", "Linux vsock"},
    {272, "NORDIC_BLE", "Nordic Semiconductor BLE sniffer"},
    {274, "ETHERNET_MPACKET", "Ethernet mPackets (802.3br)"},
    {276, "LINUX_SLL2", "Linux cooked capture v2"},
    {279, "EBHSCR", "Elektrobit high-speed capture"},
    {281, "DSA_TAG_BRCM", "Broadcom switch tag"},
    {283, "IEEE802_15_4_TAP", "IEEE 802.15.4 TAP"},
    {284, "DSA_TAG_DSA", "Marvell DSA switch tag"},
    {285, "DSA_TAG_EDSA", "Marvell EDSA switch tag"},
    {288, "USB_2_0", "USB 2.0 packets"},
    {290, "ETW", "Windows event tracing"},
};

const LinkTypeInfo* FindLinkType(uint32_t link_type) {
  for (const LinkTypeInfo& i : kLinkTypes)
    if (i.value == link_type) return &i;
  return nullptr;
}
}  // namespace

const char* LinkTypeName(uint32_t link_type) noexcept {
  const LinkTypeInfo* i = FindLinkType(link_type);
  return i != nullptr ? i->name : "unknown";
}

const char* LinkTypeDescription(uint32_t link_type) noexcept {
  const LinkTypeInfo* i = FindLinkType(link_type);
  return i != nullptr ? i->what : nullptr;
}

std::string LinkTypeText(uint32_t link_type) {
  const LinkTypeInfo* i = FindLinkType(link_type);
  if (i == nullptr) return std::to_string(link_type) + " (not a link type we know of)";
  return std::to_string(link_type) + " (" + i->name + ": " + i->what + ")";
}

DecodeStatus DecodePacket(uint32_t link_type, const uint8_t* data, uint32_t cap_len,
                          uint32_t wire_len, PacketMeta* out, DecodeMode mode,
                          const TunnelConfig* tunnels) noexcept {
  return DecodePacket(link_type, data, cap_len, wire_len, out, nullptr, nullptr, mode, tunnels);
}

DecodeStatus DecodePacket(uint32_t link_type, const uint8_t* data, uint32_t cap_len,
                              uint32_t wire_len, PacketMeta* out, PacketMeta* second,
                              bool* has_second, DecodeMode mode,
                              const TunnelConfig* tunnels, TunnelMeta* tunnel_out) noexcept {
  if (has_second) *has_second = false;
  if (mode == DecodeMode::kCic) return DecodeCic(data, cap_len, wire_len, out);
  if (mode == DecodeMode::kDpkt) return DecodePacketNtl(link_type, data, cap_len, wire_len, out);
  *out = PacketMeta{};
  out->cap_len = cap_len;
  out->wire_len = wire_len;
  if (data == nullptr) cap_len = 0;
  const Frame f{data, cap_len, mode == DecodeMode::kScapy2022, second, has_second,
                mode == DecodeMode::kStrict && tunnels != nullptr && tunnels->inner ? tunnels : nullptr, tunnel_out};
  return DecodeLink(f, link_type, wire_len, 0, out);
}

}  // namespace nfm
