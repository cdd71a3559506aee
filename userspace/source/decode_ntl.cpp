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
bool IsMpls(uint16_t t) noexcept { return t == 0x8847 || t == 0x8848; }
// EtherTypes in dpkt 1.9.8's Ethernet._typesw: unpacking ends there (an object, or bytes
// after an UnpackError). Any other type raises KeyError inside _unpack_data.
bool HasDpktClass(uint16_t t) noexcept {
  switch (t) {
    case 0x00bb: case 0x0800: case 0x0806: case 0x2000: case 0x2004: case 0x6558:
    case 0x8137: case 0x86dd: case 0x880b: case 0x8864: case 0x88a2:
      return true;
    default:
      return false;
  }
}

// One call of dpkt's Ethernet._unpack_data on the bytes at *off with next type *type:
// at most two tags (the first of any QinQ type, the second only after 0x8100), or an MPLS
// stack with dpkt's guess of what follows it. Returns false (with *st) when dpkt raises
// (NeedData: the record is skipped).
bool UnpackDataPass(const uint8_t* d, uint32_t cap, uint16_t* type, uint32_t* off, DecodeStatus* st) noexcept {
  if (IsQinq(*type)) {
    for (int i = 0; i < 2; ++i) {
      if (*off + 4 > cap) {
        *st = DecodeStatus::kTruncated;
        return false;
      }
      *type = Be16(d + *off + 2);
      *off += 4;
      if (*type != 0x8100) break;
    }
  } else if (IsMpls(*type)) {
    for (int i = 0; i < 24; ++i) {
      if (*off + 4 > cap) {
        *st = DecodeStatus::kTruncated;
        return false;
      }
      const bool bottom = d[*off + 2] & 1;
      *off += 4;
      if (bottom) break;
    }
    if (*off >= cap) {  // compat_ord(buf[0]) on no bytes: IndexError
      *st = DecodeStatus::kTruncated;
      return false;
    }
    if (d[*off] == 0x45) {
      *type = 0x0800;
    } else if ((d[*off] & 0xf0) == 0x60) {
      *type = 0x86dd;
    } else if (cap - *off >= 14) {
      *type = 0x6558;  // pseudowire Ethernet (TEB): an inner Ethernet object, not IP
    }
  }
  return true;
}
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
  // Ethernet.unpack runs _unpack_data once; when that ends in a KeyError (a type with no
  // class, e.g. a third tag's 0x8100) eth.data stays bytes, and Ethernet.__init__ runs
  // _unpack_data a second time on those bytes with the same next type. So up to four tags
  // (two per pass), or tags followed by an MPLS stack, still reach the IPv4 header.
  DecodeStatus st = DecodeStatus::kOk;
  if (!UnpackDataPass(d, cap, &type, &off, &st)) return st;
  if (!HasDpktClass(type)) {
    if (off >= cap) return DecodeStatus::kNotIp;  // empty bytes: no second pass
    if (!UnpackDataPass(d, cap, &type, &off, &st)) return st;
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
