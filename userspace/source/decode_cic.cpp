// SPDX-License-Identifier: MIT
// CICFlowMeter's packet view (CIC.md §1.2-§1.5). Every read is bounded by cap_len.
#include "source/decode_cic.hpp"

#include <cstring>

namespace nfm {
namespace {

inline uint16_t Rd16(const uint8_t* p) { return uint16_t(uint16_t(p[0]) << 8 | p[1]); }

// Transport of the IPv4 header at `ip` (§1.3-§1.5). jnetpcap's ICMP scanner continues into the
// IPv4 header quoted by Destination Unreachable (type 3) and Parameter Problem (12) messages,
// and PacketReader takes the first TCP/UDP header it finds: such an ICMP error becomes a packet
// of the quoted connection's protocol and ports (addresses stay the outer ones).
void FillL4(const uint8_t* d, uint32_t ip, uint32_t end, uint32_t cap, int depth, PacketMeta* out) {
  const uint8_t* h = d + ip;
  const uint32_t ihl = (h[0] & 0x0fu) * 4u;
  const uint16_t frag = Rd16(h + 6);
  if ((frag & 0x1fffu) != 0) {  // non-first fragment: protocol 0, ports 0 (§1.4)
    if (depth == 0) out->flags |= kPktFragment | kPktLaterFragment;
    return;
  }
  if (depth == 0 && (frag & 0x2000u)) out->flags |= kPktFragment;
  const uint32_t l4 = ip + ihl;
  const uint32_t l4_cap = cap > l4 ? cap - l4 : 0;
  const uint32_t l4_end = end > l4 ? end - l4 : 0;
  const uint8_t* p = d + l4;
  if (h[9] == 6 && l4_cap >= 20 && l4_end >= 20 && (p[12] >> 4) != 0) {
    out->proto = 6;
    out->sport = Rd16(p);
    out->dport = Rd16(p + 2);
    out->tcp_flags = p[13];
    out->window = Rd16(p + 14);
    uint32_t hl = (p[12] >> 4) * 4u;
    if (hl > l4_end) hl = l4_end;  // header cut by the snap length: shortened (code reading)
    out->l4_header_len = static_cast<uint16_t>(hl);
    out->payload_ip = out->payload_frame = l4_end - hl;
  } else if (h[9] == 17 && l4_cap >= 8 && l4_end >= 8) {
    out->proto = 17;
    out->sport = Rd16(p);
    out->dport = Rd16(p + 2);
    out->l4_header_len = 8;
    out->payload_ip = out->payload_frame = l4_end - 8;
  } else if (h[9] == 1 && depth < 4 && l4_cap >= 8 + 20 && (p[0] == 3 || p[0] == 12) &&
             (p[8] & 0x0fu) >= 5) {
    FillL4(d, l4 + 8, end, cap, depth + 1, out);
  } else if (depth == 0) {
    out->flags |= kPktL4Truncated;
  }
}

// IPv4 header at `ip`; `end` = end of usable data (§1.5).
void FillIpv4(const uint8_t* d, uint32_t ip, uint32_t end, uint32_t cap, PacketMeta* out) {
  const uint8_t* h = d + ip;
  out->ip_version = 4;
  out->saddr[10] = out->saddr[11] = 0xff;
  out->daddr[10] = out->daddr[11] = 0xff;
  std::memcpy(out->saddr + 12, h + 12, 4);
  std::memcpy(out->daddr + 12, h + 16, 4);
  out->proto = 0;
  FillL4(d, ip, end, cap, 0, out);
}

}  // namespace

DecodeStatus DecodeCic(const uint8_t* d, uint32_t cap, uint32_t wire_len, PacketMeta* out) noexcept {
  *out = PacketMeta{};
  out->cap_len = cap;
  out->wire_len = wire_len;
  if (d == nullptr) return DecodeStatus::kNotIp;
  // Pass 1: Ethernet, 802.1Q tags walked (QinQ captures use 0x8100 twice).
  if (cap >= 14) {
    uint32_t off = 12;
    uint16_t type = Rd16(d + off);
    int tags = 0;
    while (type == 0x8100 && tags < 8 && off + 6 <= cap) {
      off += 4;
      type = Rd16(d + off);
      ++tags;
    }
    const uint32_t ip = off + 2;
    if (type == 0x0800 && ip + 20 <= cap) {
      uint32_t end = cap;
      if (tags == 0) {  // untagged: the Ethernet trailer is cut at the IP total length
        const uint32_t tot = Rd16(d + ip + 2);
        if (ip + tot < cap) end = ip + tot;
      } else {
        out->flags |= kPktEthPadding;  // informational: padding counts as payload (C17)
      }
      FillIpv4(d, ip, end, cap, out);
      return DecodeStatus::kOk;
    }
  }
  // Pass 2: the record from byte 0 as IPv4, no version check, padding counted.
  if (cap < 20 || (d[0] & 0x0fu) < 5) return DecodeStatus::kNotIp;
  FillIpv4(d, 0, cap, cap, out);
  return DecodeStatus::kOk;
}

}  // namespace nfm
