// SPDX-License-Identifier: MIT
// CICFlowMeter's packet view (CIC.md §1.2-§1.5), following the header chain of jnetpcap 1.4's
// native scanner (packet_protocol.cpp: scan_ethernet/vlan/llc/snap/ip4/icmp/udp/l2tp/ppp) and
// PacketReader's choice of headers: addresses from the first IPv4 header, then the first TCP
// header anywhere in the chain, else the first UDP header. Every read is bounded by cap_len.
// Version: CICFlowMeter ships the native library jnetpcap-1.4.r1425 (its build.gradle); where
// jnetpcap's sources differ between revisions, the behaviour measured on the reference decides
// (see Ip4HeaderDecodes).
#include "source/decode_cic.hpp"

#include <cstring>

namespace nfm {
namespace {

inline uint16_t Rd16(const uint8_t* p) { return uint16_t(uint16_t(p[0]) << 8 | p[1]); }

constexpr int kMaxDepth = 8;  // nested headers followed (tags, tunnels); real traffic needs 2-3

struct Chain {
  const uint8_t* d;
  uint32_t end;  // buf_len after the Ethernet trailer cut (§1.5)
  bool tcp = false, udp = false;
  uint16_t tcp_sport = 0, tcp_dport = 0, tcp_window = 0, tcp_hl = 0;
  uint8_t tcp_flags = 0;
  uint32_t tcp_pl = 0;
  uint16_t udp_sport = 0, udp_dport = 0;
  uint32_t udp_pl = 0;
};

void ScanIpv4(Chain& c, uint32_t ip, int depth);

// L2TP (v2 header as jnetpcap reads it) -> PPP -> IPv4.
void ScanL2tp(Chain& c, uint32_t at, int depth) {
  if (depth > kMaxDepth || at + 6 > c.end) return;
  const uint8_t f = c.d[at];
  if (f & 0x80) return;  // control message: no PPP
  const uint32_t len = 6 + ((f & 0x40) ? 2 : 0) + ((f & 0x08) ? 4 : 0) + ((f & 0x02) ? 4 : 0);
  const uint32_t ppp = at + len;
  if (ppp + 4 > c.end || Rd16(c.d + ppp + 2) != 0x0021) return;
  ScanIpv4(c, ppp + 4, depth + 1);
}

// One IPv4 header at `ip` (scan_ip4) and what follows it.
void ScanIpv4(Chain& c, uint32_t ip, int depth) {
  if (depth > kMaxDepth || ip + 20 > c.end) return;
  const uint8_t* h = c.d + ip;
  if ((Rd16(h + 6) & 0x1fffu) != 0) return;  // non-first fragment: payload only (§1.4)
  const uint32_t l4 = ip + (h[0] & 0x0fu) * 4u;
  if (l4 >= c.end) return;
  const uint32_t remain = c.end - l4;
  const uint8_t* p = c.d + l4;
  switch (h[9]) {
    case 1:  // ICMP: Destination Unreachable / Parameter Problem quote an IPv4 header
      if (remain >= 8 && (p[0] == 3 || p[0] == 12)) ScanIpv4(c, l4 + 8, depth + 1);
      return;
    case 4:  // IPv4 in IPv4
      ScanIpv4(c, l4, depth + 1);
      return;
    case 6: {
      if (remain < 20 || (p[12] >> 4) == 0) return;
      c.tcp = true;
      c.tcp_sport = Rd16(p);
      c.tcp_dport = Rd16(p + 2);
      c.tcp_flags = p[13];
      c.tcp_window = Rd16(p + 14);
      uint32_t hl = (p[12] >> 4) * 4u;
      if (hl > remain) hl = remain;  // header cut by the snap length: shortened (code reading)
      c.tcp_hl = static_cast<uint16_t>(hl);
      c.tcp_pl = remain - hl;
      return;
    }
    case 17: {
      if (remain < 8) return;
      const uint16_t sport = Rd16(p), dport = Rd16(p + 2);
      if (!c.udp) {
        c.udp = true;
        c.udp_sport = sport;
        c.udp_dport = dport;
        c.udp_pl = remain - 8;
      }
      // scan_udp binds by destination port first, then source port.
      auto bound = [](uint16_t port) { return port == 1701 || port == 5004 || port == 5005 || port == 5060; };
      const uint16_t port = bound(dport) ? dport : sport;
      if (port == 1701) ScanL2tp(c, l4 + 8, depth + 1);
      return;
    }
    case 115:  // L2TP over IP
      ScanL2tp(c, l4, depth + 1);
      return;
    default:
      return;
  }
}

// Whether PacketReader.getIpv4Info gets the IPv4 header at `ip` without an exception, given the
// scanner's buffer length `buf_len` (the record, or less after the Ethernet trailer cut) and the
// record's captured length `cap`. Callers have checked ip + 20 <= cap (scan_ip4 records nothing
// otherwise; it cuts the Ethernet trailer after that check). jnetpcap 1.4, in order:
//  1. scan_ip4 (packet_protocol.cpp): length = IHL*4; hdr_payload = tot_len - length, or, when
//     the MF flag (0x2000 of bytes 6-7) is set, buf_len - length - offset. The fragment-offset
//     test next to it, `frag & IP4_FRAG_OFF_MASK > 0`, is always false (`>` binds first and
//     ~0xE000 is negative), so offset bits alone do not select this branch. (The later
//     trunk-ia64 r1433 tests IP4_GET_FRAG_OFF properly; the reference is not that build: it
//     accepts the 42-byte ARP broadcasts of shared/pcaps/edge_non_ip_frames.pcap from
//     02:00:00:00:00:0a, whose offset bits are 0x200, which the r1433 test would reject by 2.)
//  2. record_header (packet_jsmall_scanner.cpp): hdr_payload 0 becomes the rest of the buffer
//     (at least 0); adjustForTruncatedPacket cuts the header to buf_len - offset only when
//     offset + length + hdr_payload > buf_len, i.e. never when MF is set or tot_len <= buf_len.
//  3. JPacket.getHeaderByIndex: header.peer(packet, offset, length); JMemory.peer throws
//     IndexOutOfBoundsException when offset + length exceeds the packet (cap bytes).
//  4. Ip4.decodeHeader (via JHeader.decode): reads bytes 4-19 (hashcode: id, addresses, type),
//     then walks the options from byte 20 while i < IHL*4, with JBuffer.getUByte's bounds check
//     (BufferUnderflowException past the peered length): id = byte & 0x1f; an id without an
//     OptionCode (22, 26-31) stops the walk; 1 (NOP) steps 1; 0 (end of list) stops; any other
//     reads the length byte at i + 1 and steps length + 1.
bool Ip4HeaderDecodes(const uint8_t* d, uint32_t ip, uint32_t buf_len, uint32_t cap) {
  const uint8_t* h = d + ip;
  const int64_t o = ip, buf = buf_len;
  const int64_t len = (h[0] & 0x0f) * 4;
  if (len == 0) return false;  // scan.length 0: no header recorded
  int64_t payload = (h[6] & 0x20) ? buf - len - o : int64_t(Rd16(h + 2)) - len;
  if (payload == 0) payload = buf - (o + len) > 0 ? buf - (o + len) : 0;
  int64_t size = len;
  if (o + len + payload > buf && o + len > buf) size = buf - o;
  if (o + size > int64_t(cap)) return false;  // 3.
  if (size < 20) return false;                // 4: bytes 4-19
  for (int64_t i = 20; i < len; ++i) {
    if (i >= size) return false;
    const int id = h[i] & 0x1f;
    if (id == 22 || id > 25 || id == 0) break;
    if (id == 1) continue;
    if (i + 1 >= size) return false;
    i += h[i + 1];
  }
  return true;
}

// The first IPv4 header at `ip` supplies the addresses; the chain supplies the transport.
void FillIpv4(const uint8_t* d, uint32_t ip, uint32_t end, PacketMeta* out) {
  const uint8_t* h = d + ip;
  out->ip_version = 4;
  out->saddr[10] = out->saddr[11] = 0xff;
  out->daddr[10] = out->daddr[11] = 0xff;
  std::memcpy(out->saddr + 12, h + 12, 4);
  std::memcpy(out->daddr + 12, h + 16, 4);
  const uint16_t frag = Rd16(h + 6);
  if (frag & 0x1fffu) out->flags |= kPktFragment | kPktLaterFragment;
  else if (frag & 0x2000u) out->flags |= kPktFragment;
  Chain c{d, end};
  ScanIpv4(c, ip, 0);
  if (c.tcp) {
    out->proto = 6;
    out->sport = c.tcp_sport;
    out->dport = c.tcp_dport;
    out->tcp_flags = c.tcp_flags;
    out->window = c.tcp_window;
    out->l4_header_len = c.tcp_hl;
    out->payload_ip = out->payload_frame = c.tcp_pl;
  } else if (c.udp) {
    out->proto = 17;
    out->sport = c.udp_sport;
    out->dport = c.udp_dport;
    out->l4_header_len = 8;
    out->payload_ip = out->payload_frame = c.udp_pl;
  } else {
    out->proto = 0;  // ICMP, other protocols, later fragments, truncated L4 (C18)
    if (!(out->flags & kPktLaterFragment)) out->flags |= kPktL4Truncated;
  }
}

// Pass 1 (scan_ethernet and what it binds): the offset of the first IPv4 header and whether it
// directly follows the Ethernet header (only then is the trailer cut), or false.
bool EthernetIpv4(const uint8_t* d, uint32_t cap, uint32_t* ip, bool* direct) {
  if (cap < 14) return false;
  uint16_t type = Rd16(d + 12);
  uint32_t next = 14;
  *direct = true;
  for (int depth = 0; depth <= kMaxDepth;) {
    if (type == 0x0800) {
      if (next + 20 > cap) return false;
      *ip = next;
      return true;
    }
    *direct = false;
    // 802.1Q / 802.1ad / old QinQ. jnetpcap's scan_vlan and scan loop set no limit on tags,
    // so neither do we: each one takes 4 bytes of the record, which bounds the walk.
    if (type == 0x8100 || type == 0x88a8 || type == 0x9100) {
      if (next + 4 > cap) return false;
      type = Rd16(d + next + 2);
      next += 4;
      continue;
    }
    ++depth;
    if (type < 0x600) {  // 802.3 length: LLC, SNAP with an EtherType
      if (next + 3 > cap || d[next] != 0xaa) return false;
      const uint32_t snap = next + ((d[next + 2] & 1) ? 3 : 4);
      if (snap + 5 > cap || d[snap] != 0 || d[snap + 1] != 0 || (d[snap + 2] != 0 && d[snap + 2] != 0xf8))
        return false;
      type = Rd16(d + snap + 3);
      next = snap + 5;
      continue;
    }
    return false;  // ARP, IPv6, ...: no IPv4 here
  }
  return false;
}

}  // namespace

DecodeStatus DecodeCic(const uint8_t* d, uint32_t cap, uint32_t wire_len, PacketMeta* out) noexcept {
  *out = PacketMeta{};
  out->cap_len = cap;
  out->wire_len = wire_len;
  if (d == nullptr) return DecodeStatus::kNotIp;
  // JScanner.scan (packet_jsmall_scanner.cpp) throws IllegalArgumentException("wirelen < buffer
  // len") before scanning; PacketReader.nextPacket catches it around packet.scan(Ethernet.ID):
  // the record is discarded, pass 2 never runs. libpcap delivers such a record of a 2.4 file as
  // it is.
  if (wire_len < cap) return DecodeStatus::kNotIp;
  uint32_t ip = 0;
  bool direct = false;
  if (EthernetIpv4(d, cap, &ip, &direct)) {
    uint32_t end = cap;
    if (direct) {  // untagged: the Ethernet trailer is cut at the IP total length
      const uint32_t tot = Rd16(d + ip + 2);
      if (ip + tot < cap) end = ip + tot;
    }
    // getIpv4Info returns null when the Ip4 header throws; nextPacket then runs pass 2.
    if (Ip4HeaderDecodes(d, ip, end, cap)) {
      if (!direct) out->flags |= kPktEthPadding;  // informational: padding counts as payload (C17)
      FillIpv4(d, ip, end, out);
      return DecodeStatus::kOk;
    }
  }
  // Pass 2 (getVPNInfo: scan as L2TP, which any record of 2 bytes or more gives, then as Ip4):
  // the record from byte 0 as IPv4, no version check, padding counted. scan_ip4 needs 20 bytes.
  if (cap < 20 || !Ip4HeaderDecodes(d, 0, cap, cap)) return DecodeStatus::kNotIp;
  FillIpv4(d, 0, cap, out);
  return DecodeStatus::kOk;
}

}  // namespace nfm
