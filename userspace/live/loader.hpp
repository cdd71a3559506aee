// SPDX-License-Identifier: MIT
// Loader: the only user of the BPF skeleton. Opens it, writes the rodata configuration,
// loads it, creates the sharded ring buffers, and attaches XDP + tcx egress links.
// Closing the link fds (Detach or destruction, or the process dying) removes every hook.
// Setup methods throw BpfError. Not thread-safe; ReadCounters may run on any one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

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
};

class Loader {
 public:
  explicit Loader(const LoaderConfig& cfg, bool verbose_hint);  // open + configure + load + rings
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // XDP in `mode` (kNone = auto: native, then skb with a note) and tcx egress on `iface`.
  // Refuses an interface that already has an XDP program.
  void Attach(const Interface& iface, XdpMode mode);
  // Closes every link: the hooks are gone when this returns (in-flight programs may still
  // finish their current packet).
  void Detach() noexcept;

  const std::vector<int>& RingFds() const noexcept;
  XdpMode AttachedMode() const noexcept;  // weakest mode over the interfaces (skb < native)
  // Sums the per-CPU counter slots. Returns false if the map read failed.
  bool ReadCounters(uint64_t out[NFM_CNT_MAX]) const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nfm::live
