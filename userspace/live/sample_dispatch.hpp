// SPDX-License-Identifier: MIT
// One ring-buffer record -> the engine (Drainer's callback body): a bare 72-byte event, or a
// 112-byte event with the tunnel trailer (--where-columns tunnel, include/nfm/event.h); any other
// length, a wrong version or a bad trailer is only counted (never read past `size`). Header-only
// and free of libbpf so the unit test can feed it records of every length. No allocation;
// the caller's thread only.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "live/drain.hpp"
#include "live/event_decode.hpp"
#include "output/dataset_columns.hpp"

namespace nfm::live {

// Counts in *decoded the records handed to the engine, in *bad the undecodable ones (wrong
// length, version or trailer). Returns 0, or -ECANCELED when the engine threw (the drain then
// stops polling).
inline int DispatchSample(const void* data, size_t size, int64_t offset_ns, const PacketTarget& target,
                          uint64_t* decoded, uint64_t* bad) noexcept {
  PacketMeta meta;
  TunnelMeta tun;
  bool tunnelled = false;
  if (size == sizeof(nfm_pkt_event)) [[likely]] {
    if (DecodeEvent(data, size, offset_ns, &meta) != EventStatus::kOk) {
      ++*bad;
      return 0;  // keep going: one bad sample must not stop the drain
    }
  } else {
    if (DecodeTunnelEvent(data, size, offset_ns, &meta, &tun) != EventStatus::kOk) {
      ++*bad;
      return 0;
    }
    tunnelled = true;
  }
  ++*decoded;
  if (target.ifaces) {  // --where-columns iface: the interface of this event's flow
    uint32_t ifindex = 0;
    std::memcpy(&ifindex, static_cast<const uint8_t*>(data) + offsetof(nfm_pkt_event, ifindex), sizeof ifindex);
    target.ifaces->Note(meta.saddr, meta.sport, meta.daddr, meta.dport, meta.proto, ifindex);
  }
  try {
    if (tunnelled && target.on_tunnel_packet) {
      target.on_tunnel_packet(target.engine, meta, tun);
    } else {
      target.on_packet(target.engine, meta);
    }
  } catch (...) {
    // The engine does not throw by contract (it allocates nothing per packet); if it ever
    // does, stop polling instead of unwinding through libbpf.
    return -ECANCELED;
  }
  return 0;
}

}  // namespace nfm::live
