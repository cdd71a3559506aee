// SPDX-License-Identifier: MIT
// DecodeCic: a record decoded as CICFlowMeter master (jnetpcap scanner + PacketReader) sees it
// (CIC.md §1): pass 1 as Ethernet whatever the link type (802.1Q tags walked), pass 2 the record
// from byte 0 as IPv4; IPv4 only; protocol 6/17 only when the L4 header was decoded, else 0.
// Strict decoding for the corrected profiles stays in decode.cpp.
#pragma once

#include <cstdint>

#include "engine/packet.hpp"
#include "source/decode.hpp"

namespace nfm {

// Fills *out (reset first): ip_version 4, v4-mapped addresses, proto 6/17/0, ports, tcp_flags,
// window, l4_header_len = hl(p), payload_ip = payload_frame = pl(p) (§1.5). kNotIp when neither
// pass finds an IPv4 header (the record is discarded by CICFlowMeter).
DecodeStatus DecodeCic(const uint8_t* data, uint32_t cap_len, uint32_t wire_len, PacketMeta* out) noexcept;

}  // namespace nfm
