// SPDX-License-Identifier: MIT
// Loader: the only user of the BPF skeleton. Opens it, writes the rodata configuration,
// loads it and creates the sharded ring buffers once; Attach() then hooks one interface
// (XDP or tcx ingress, plus tcx egress) and hands back an Attachment that owns the links.
// Closing the link fds (Attachment destruction, or the process dying) removes the hooks;
// programs and maps stay, so re-attaching never resets a counter.
// Setup methods throw BpfError. Not thread-safe; ReadCounters may run on any one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bpf_util.hpp"
#include "live.hpp"

namespace nfm::live {

struct Interface {
  std::string name;
  unsigned ifindex = 0;
};

struct LoaderConfig {
  uint32_t rings = 1;             // power of two, <= NFM_MAX_RINGS
  uint32_t ring_size_bytes = 0;   // power of two, multiple of the page size
  uint32_t sample = 1;
  uint32_t wakeup_bytes = 0;      // rodata nfm_wakeup_bytes
  bool tunnel_inner = false;      // rodata nfm_tunnel_inner
  bool tunnel_trailer = false;    // rodata nfm_tunnel_trailer (--where-columns tunnel)
  std::vector<uint16_t> vxlan_ports;  // added to rodata nfm_vxlan_ports after 4789, 8472
  bool dedup = false;             // rodata nfm_dedup_on: each packet once across interfaces
  uint32_t dedup_hold_s = 60;     // rodata nfm_dedup_hold_s
};

// The hooks on one interface. Move-only; destruction detaches (closes the link fds).
class Attachment {
 public:
  Attachment() = default;
  Attachment(Attachment&&) noexcept = default;
  Attachment& operator=(Attachment&&) noexcept = default;

  explicit operator bool() const noexcept { return static_cast<bool>(egress_); }
  IngressHook Hook() const noexcept { return hook_; }
  XdpMode Mode() const noexcept { return mode_; }       // kNone unless Hook() == kXdp
  unsigned Ifindex() const noexcept { return ifindex_; }
  // True when the kernel has let go of a link (its interface was deleted or moved to another
  // namespace): the link still exists but hooks nothing.
  bool Defunct() const noexcept;
  void Reset() noexcept { *this = Attachment(); }

 private:
  friend class Loader;
  UniqueFd ingress_, egress_;
  MapKeyOwner dedup_if_;  // our ifindex in nfm_dedup_ifs (with --dedup) while attached
  IngressHook hook_ = IngressHook::kNone;
  XdpMode mode_ = XdpMode::kNone;
  unsigned ifindex_ = 0;
};

class Loader {
 public:
  explicit Loader(const LoaderConfig& cfg, bool verbose_hint);  // open + configure + load + rings
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // Ingress per `ingress`: kXdp = XDP in `mode` (kNone = native, then skb with a note),
  // refusing an interface that already has an XDP program; kTc = tcx ingress link; kAuto =
  // XDP when the interface has no XDP program, else tcx ingress (with a note on stderr unless
  // quiet_note). Then tcx egress. Never replaces or detaches another program.
  Attachment Attach(const Interface& iface, IngressChoice ingress, XdpMode mode, bool quiet_note = false);

  const std::vector<int>& RingFds() const noexcept;
  // Advances the dedup clock (nfm_now_s, seconds of CLOCK_MONOTONIC); the drain thread calls
  // it about every 100 ms. No-op without dedup.
  void SetDedupClock(uint64_t mono_ns) noexcept;
  // Sums the per-CPU counter slots. Returns false if the map read failed.
  bool ReadCounters(uint64_t out[NFM_CNT_MAX]) const noexcept;
  // Sums the per-CPU nfm_ring_lost slots of rings 0 .. n-1 (n <= NFM_MAX_RINGS): events lost
  // per ring. Returns false if a map read failed.
  bool ReadRingLost(uint64_t* out, uint32_t n) const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nfm::live
