// SPDX-License-Identifier: MIT
// dpkt 1.9.8 emulation for the ntl profile (see decode_ntl.hpp): Ethernet.unpack /
// _unpack_data, IP.unpack, TCP.unpack as NTLFlowLyzer's pcap_parser uses them.
#include "source/decode_ntl.hpp"

#include <cstring>

namespace nfm {

namespace {
uint16_t Be16(const uint8_t* p) noexcept { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t Be32(const uint8_t* p) noexcept {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 | static_cast<uint32_t>(p[2]) << 8 | p[3];
}
bool IsQinq(uint16_t t) noexcept { return t == 0x8100 || t == 0x88a8 || t == 0x9100 || t == 0x9200; }
}  // namespace

DecodeStatus DecodePacketNtl(uint32_t link_type, const uint8_t* d, uint32_t cap, uint32_t wire_len,
                             PacketMeta* out) noexcept {
  *out = PacketMeta{};
  out->wire_len = wire_len;
  out->cap_len = cap;
  if (link_type != 1) return DecodeStatus::kUnsupportedLink;
  if (cap < 14) return DecodeStatus::kTruncated;  // Ethernet NeedData: the record is skipped
  uint16_t type = Be16(d + 12);
  uint32_t off = 14;
  if (type <= 1500) return DecodeStatus::kNotIp;  // 802.3/LLC, ISL, Novell raw: never an IP object
  if (IsQinq(type)) {
    for (int i = 0; i < 2; ++i) {  // dpkt unpacks at most two tags
      if (off + 4 > cap) return DecodeStatus::kTruncated;
      type = Be16(d + off + 2);
      off += 4;
      if (type != 0x8100) break;
    }
  } else if (type == 0x8847 || type == 0x8848) {
    for (int i = 0; i < 24; ++i) {
      if (off + 4 > cap) return DecodeStatus::kTruncated;
      const bool bottom = d[off + 2] & 1;
      off += 4;
      if (bottom) break;
    }
    if (off >= cap) return DecodeStatus::kTruncated;
    if (d[off] != 0x45) return DecodeStatus::kNotIp;  // dpkt's guess: IPv6 or pseudowire Ethernet
    type = 0x0800;
  }
  if (type != 0x0800) return DecodeStatus::kNotIp;
  const uint8_t* ip = d + off;
  const uint32_t avail = cap - off;
  if (avail < 20) return DecodeStatus::kTruncated;  // IP NeedData: eth.data stays bytes
  const uint32_t ihl = (ip[0] & 0x0f) * 4u;
  if (ihl < 20) return DecodeStatus::kMalformed;  // "invalid header length"
  out->ip_version = 4;
  std::memset(out->saddr, 0, 10);
  out->saddr[10] = out->saddr[11] = 0xff;
  std::memcpy(out->saddr + 12, ip + 12, 4);
  std::memset(out->daddr, 0, 10);
  out->daddr[10] = out->daddr[11] = 0xff;
  std::memcpy(out->daddr + 12, ip + 16, 4);
  out->proto = ip[9];
  const uint16_t total = Be16(ip + 2);
  // IP.unpack: buf[ihl:total] (Python slicing clamps), or buf[ihl:] when total is 0 (TSO).
  const uint32_t end = total ? (total < avail ? total : avail) : avail;
  const uint32_t l4len = end > ihl ? end - ihl : 0;
  const uint16_t frag = Be16(ip + 6);
  if ((frag & 0x1fff) != 0) {
    out->flags |= kPktFragment | kPktLaterFragment;
    return DecodeStatus::kOk;
  }
  if (frag & 0x2000) out->flags |= kPktFragment;
  if (out->proto != 6) return DecodeStatus::kOk;
  const uint8_t* t = ip + ihl;
  if (l4len < 20) {  // TCP NeedData: ip.data stays bytes, the packet is not TCP
    out->flags |= kPktL4Truncated;
    return DecodeStatus::kOk;
  }
  const uint32_t doff = (t[12] >> 4) * 4u;
  if (doff < 20) {  // TCP "invalid header length": not TCP either
    out->flags |= kPktL4Truncated;
    return DecodeStatus::kOk;
  }
  out->sport = Be16(t);
  out->dport = Be16(t + 2);
  out->tcp_seq = Be32(t + 4);
  out->tcp_ack = Be32(t + 8);
  out->tcp_flags = t[13];
  out->window = Be16(t + 14);
  out->l4_header_len = static_cast<uint16_t>(doff < l4len ? doff : l4len);  // 20 + captured options
  out->payload_ip = l4len > doff ? l4len - doff : 0;
  out->payload_frame = out->payload_ip;
  return DecodeStatus::kOk;
}

}  // namespace nfm
