// SPDX-License-Identifier: MIT
// DecodePacketNtl: a frame as NTLFlowLyzer e2def39 (dpkt 1.9.8) sees it, for --profile ntl:
// Ethernet II (up to four 802.1Q/802.1ad/0x9100/0x9200 tags in dpkt's two _unpack_data passes,
// MPLS stacks followed by 0x45, also behind tags),
// IPv4 with any version nibble, first fragments only, TCP. Header bytes = what dpkt counts
// (20 + the captured options), payload = bytes after the header up to the IPv4 total length.
// Everything else is reported with a status the engine counts as skipped. Pure, no allocation.
#pragma once

#include <cstdint>

#include "engine/packet.hpp"
#include "source/decode.hpp"

namespace nfm {

// kOk: *out holds an IPv4 packet; out->proto says which protocol (the ntl engine keeps TCP
// only); kPktL4Truncated marks a TCP header dpkt could not unpack (fewer than 20 bytes, or a
// data offset below 5), kPktLaterFragment a fragment with offset != 0. Other statuses: the
// frame never becomes an IPv4 packet in dpkt (kNotIp: IPv6, ARP, 802.3/LLC, PPPoE, ...;
// kTruncated: cut inside a header dpkt needed; kMalformed: IHL < 5; kUnsupportedLink: the
// capture is not Ethernet -- the reference would parse it as Ethernet anyway, spec N5).
DecodeStatus DecodePacketNtl(uint32_t link_type, const uint8_t* data, uint32_t cap_len, uint32_t wire_len,
                             PacketMeta* out) noexcept;

}  // namespace nfm
