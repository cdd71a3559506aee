// SPDX-License-Identifier: MIT
// Packet decoding for offline replay: link layer (Ethernet + 802.1Q/802.1ad stacks,
// MPLS, Linux SLL/SLL2, raw IP, BSD null/loopback) -> IPv4/IPv6 (options, bounded
// extension-header chain, fragments) -> TCP/UDP/ICMP/ICMPv6/other, into a PacketMeta.
// Never reads past cap_len. Pure function, no allocation, thread-safe.
#pragma once

#include <cstdint>

#include "packet.hpp"

namespace nfm {

enum class DecodeStatus : uint8_t {
  kOk = 0,         // out is filled (may carry kPktLaterFragment / kPktL4Truncated flags)
  kNotIp,          // ARP, LLDP, IPX ... : not an error
  kTruncated,      // captured bytes end inside the link/IP header
  kMalformed,      // ihl < 5, bad version, IPv6 chain too long, TCP doff < 5, ...
  kUnsupportedLink,
};

// Link types (LINKTYPE_* numbers) that DecodePacket understands.
bool IsSupportedLinkType(uint32_t link_type) noexcept;
const char* LinkTypeName(uint32_t link_type) noexcept;  // "EN10MB", "LINUX_SLL", ... or "unknown"

DecodeStatus DecodePacket(uint32_t link_type, const uint8_t* data, uint32_t cap_len,
                          uint32_t wire_len, PacketMeta* out) noexcept;

}  // namespace nfm
