// SPDX-License-Identifier: MIT
// libFuzzer target: DecodePacket over every supported link type (and one unsupported) in
// both DecodeModes, plus the cic mode (which ignores the link type). Input layout (also used by
// run-short.sh to turn a crash into a pcap):
//   byte 0: link type selector, kLinks[b0 % kNumLinks]
//   byte 1: bit 0 = mode (0 strict, 1 scapy2022), bits 1-7 = wire_len - cap_len
//   rest  : the captured frame (cap_len = size - 2), in its own exactly-sized heap buffer so
//           ASan sees any read past cap_len.
// Besides memory errors it checks documented invariants: payload_ip never exceeds the captured
// bytes, and neither does payload_frame, except in the scapy-2022 mode: NetFlowMeter counts
// the ASN.1 layers scapy re-builds, which can be longer than the wire (docs/FEATURES.md, "nfm2022:
// application layers scapy re-encodes": an empty INTEGER gains a byte, a length field grows with
// its content), so there it is bounded by 4x the captured bytes (+16).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "source/decode.hpp"

namespace {
constexpr uint32_t kLinks[] = {0, 1, 9, 12, 14, 50, 51, 101, 104, 105, 108, 113, 119, 127, 192, 204, 228, 229, 276,
                               147 /* unsupported */};
constexpr uint32_t kNumLinks = sizeof(kLinks) / sizeof(kLinks[0]);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint32_t link = kLinks[data[0] % kNumLinks];
  const auto mode = (data[1] & 1) ? nfm::DecodeMode::kScapy2022 : nfm::DecodeMode::kStrict;
  const uint32_t cap = static_cast<uint32_t>(size - 2);
  const uint32_t wire = cap + (data[1] >> 1);
  std::unique_ptr<uint8_t[]> frame(new uint8_t[cap ? cap : 1]);
  if (cap) std::memcpy(frame.get(), data + 2, cap);
  for (auto m : {mode, mode == nfm::DecodeMode::kStrict ? nfm::DecodeMode::kScapy2022 : nfm::DecodeMode::kStrict}) {
    nfm::PacketMeta meta;
    const nfm::DecodeStatus st = nfm::DecodePacket(link, frame.get(), cap, wire, &meta, m);
    const uint64_t frame_bound = m == nfm::DecodeMode::kScapy2022 ? 4ull * cap + 16 : cap;
    if (st == nfm::DecodeStatus::kOk && (meta.payload_frame > frame_bound || meta.payload_ip > cap)) __builtin_trap();
    if (link == 147 && st != nfm::DecodeStatus::kUnsupportedLink) __builtin_trap();
  }
  {  // --tunnel inner (kStrict): the inner frame is a sub-range of the captured bytes
    nfm::TunnelConfig t;
    t.inner = true;
    nfm::PacketMeta meta;
    if (nfm::DecodePacket(link, frame.get(), cap, wire, &meta, nfm::DecodeMode::kStrict, &t) ==
            nfm::DecodeStatus::kOk &&
        (meta.payload_frame > cap || meta.payload_ip > cap || meta.cap_len > cap))
      __builtin_trap();
  }
  {  // kCic (profile cic) ignores the link type: Ethernet first, then IPv4 from byte 0
    nfm::PacketMeta meta;
    if (nfm::DecodePacket(link, frame.get(), cap, wire, &meta, nfm::DecodeMode::kCic) == nfm::DecodeStatus::kOk &&
        (meta.payload_ip > cap || meta.l4_header_len > cap))
      __builtin_trap();
  }
  return 0;
}
