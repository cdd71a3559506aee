// SPDX-License-Identifier: MIT
// InterfaceSet: which interfaces are captured on, and keeping them attached while they come
// and go. Named interfaces are looked up by name every check interval (0.5 s): one that
// disappears (or is re-created with a new ifindex) is detached with one warning and attached
// again when an interface of that name exists; `auto` re-resolves the default-route
// interfaces every rescan interval; patterns (fnmatch, and the `k8s` preset) are matched
// against every interface of the namespace at start and again on each rtnetlink link event
// (RTMGRP_LINK), so pod interfaces are attached and detached as they appear and vanish.
// It owns the Attachments and the netlink socket, never the BPF object, so counters and rings
// live on across re-attach. Drain thread only; not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bpf_util.hpp"
#include "live.hpp"
#include "loader.hpp"

namespace nfm {
class FlowIfaces;  // output/dataset_columns.hpp
}

namespace nfm::live {

// The `--iface k8s` preset: patterns of the interfaces CNI plugins create on a node
// (docs/DEPLOY.md says which plugin makes which, and why the rest is left out).
const std::vector<std::string>& K8sPreset();
// True when `arg` of --iface is a pattern (has *, ? or [) rather than a name.
bool IsPattern(const std::string& arg) noexcept;
// fnmatch(3) over `patterns`, minus `excludes`: true when `name` is to be captured.
bool MatchesPatterns(const std::string& name, const std::vector<std::string>& patterns,
                     const std::vector<std::string>& excludes) noexcept;

// An AF_NETLINK/NETLINK_ROUTE socket subscribed to RTMGRP_LINK (non-blocking). Owns the fd.
class LinkEvents {
 public:
  // Throws BpfError when the socket cannot be opened or bound.
  void Open();
  // Reads every pending message; true when any link was added, changed or removed, or when
  // the socket overflowed (ENOBUFS: events were lost, so the caller rescans everything).
  bool Pending() noexcept;
  explicit operator bool() const noexcept { return static_cast<bool>(fd_); }

 private:
  UniqueFd fd_;
};

class InterfaceSet {
 public:
  struct Config {
    std::vector<std::string> names;  // as given to --iface ("auto", "k8s" and patterns allowed)
    std::vector<std::string> excludes;  // --iface-exclude patterns
    uint32_t max_ifaces = 256;          // attach at most this many interfaces at a time
    FlowIfaces* flow_ifaces = nullptr;  // --where-columns iface: told each attached name
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
  bool HasPatterns() const noexcept { return !patterns_.empty(); }
  // Life-cycle counts since start (nfm_interface_events_total).
  uint64_t Attached() const noexcept { return n_attached_; }
  uint64_t Detached() const noexcept { return n_detached_; }
  uint64_t Refused() const noexcept { return n_refused_; }
  uint64_t Failed() const noexcept { return n_failed_; }

 private:
  struct Entry {
    std::string name;
    bool named = false;     // given by name (kept for the whole run)
    bool from_auto = false; // currently a default-route interface (--iface auto)
    bool from_pattern = false;  // currently matches a pattern (dropped from the set when it stops)
    bool ever_pattern = false;  // came from a pattern (its entry and series go when it goes)
    bool refused_noted = false; // the --max-ifaces refusal was printed
    Attachment att;
    IngressHook last_hook = IngressHook::kNone;  // as last attached (for the summary)
    XdpMode last_mode = XdpMode::kNone;
    std::string last_error;  // last re-attach error printed (printed again only when it changes)
    bool Wanted() const noexcept { return named || from_auto || from_pattern; }
  };
  Entry& Find(const std::string& name);  // adds it when missing
  bool Check(Entry& e);
  void Rescan();
  void RescanPatterns();

  Loader& loader_;
  Config cfg_;
  bool has_auto_ = false;
  bool warned_no_route_ = false;
  uint64_t check_ns_, rescan_ns_;
  uint64_t next_check_ = 0, next_rescan_ = 0;
  std::vector<Entry> entries_;
  std::vector<std::string> patterns_;  // fnmatch patterns (the k8s preset expanded)
  LinkEvents link_events_;
  uint64_t n_attached_ = 0, n_detached_ = 0, n_refused_ = 0, n_failed_ = 0;
};

}  // namespace nfm::live
