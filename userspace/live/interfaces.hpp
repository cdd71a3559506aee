// SPDX-License-Identifier: MIT
// InterfaceSet: which interfaces are captured on, and keeping them attached while they come
// and go. Named interfaces are looked up by name every check interval (0.5 s): one that
// disappears (or is re-created with a new ifindex) is detached with one warning and attached
// again when an interface of that name exists; `auto` re-resolves the default-route
// interfaces every rescan interval. It owns the Attachments, never the BPF object, so
// counters and rings live on across re-attach. Drain thread only; not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "live.hpp"
#include "loader.hpp"

namespace nfm::live {

class InterfaceSet {
 public:
  struct Config {
    std::vector<std::string> names;  // as given to --iface ("auto" allowed)
    IngressChoice ingress = IngressChoice::kAuto;
    XdpMode xdp_mode = XdpMode::kNone;  // kNone = native, else skb
    double rescan_s = 10;               // "auto" re-resolution interval
  };

  InterfaceSet(Loader& loader, Config cfg);
  ~InterfaceSet() { DetachAll(); }
  InterfaceSet(const InterfaceSet&) = delete;
  InterfaceSet& operator=(const InterfaceSet&) = delete;

  // Start: resolves every name and attaches; throws BpfError on the first failure (an
  // interface that does not exist at start is a usage error, as before).
  void AttachAll(uint64_t now_mono_ns);
  // Drain loop: cheap unless a check is due. Returns true when any interface changed state.
  bool Poll(uint64_t now_mono_ns);
  // Closes every link (the hooks are gone when this returns).
  void DetachAll() noexcept;

  std::vector<InterfaceStatus> Status() const;
  uint32_t UpCount() const noexcept;
  XdpMode WeakestXdpMode() const noexcept;  // over interfaces up with XDP; kNone when none
  std::string Names() const;                // "a,b": every interface captured on so far
  std::string Hooks() const;                // "xdp native" / "tc ingress" / "xdp native on a, tc ingress on b"

 private:
  struct Entry {
    std::string name;
    bool named = false;     // given by name (kept for the whole run)
    bool from_auto = false; // currently a default-route interface (--iface auto)
    Attachment att;
    IngressHook last_hook = IngressHook::kNone;  // as last attached (for the summary)
    XdpMode last_mode = XdpMode::kNone;
    std::string last_error;  // last re-attach error printed (printed again only when it changes)
    bool Wanted() const noexcept { return named || from_auto; }
  };
  Entry& Find(const std::string& name);  // adds it when missing
  bool Check(Entry& e);
  void Rescan();

  Loader& loader_;
  Config cfg_;
  bool has_auto_ = false;
  bool warned_no_route_ = false;
  uint64_t check_ns_, rescan_ns_;
  uint64_t next_check_ = 0, next_rescan_ = 0;
  std::vector<Entry> entries_;
};

}  // namespace nfm::live
