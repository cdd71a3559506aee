// SPDX-License-Identifier: MIT
// InterfaceSet: start-up attach, presence checks by name (if_nametoindex + link liveness),
// default-route rescans for `auto`, and the stderr lines for each change (one per change).
#include "interfaces.hpp"

#include <net/if.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "system.hpp"

namespace nfm::live {

namespace {

constexpr uint64_t kCheckNs = 500'000'000;  // presence check of every interface

std::string HookWords(IngressHook h, XdpMode m) {
  if (h == IngressHook::kXdp) return std::string("xdp ") + XdpModeName(m);
  if (h == IngressHook::kTcx) return "tc ingress";
  return "none";
}

}  // namespace

InterfaceSet::InterfaceSet(Loader& loader, Config cfg) : loader_(loader), cfg_(std::move(cfg)) {
  const double r = cfg_.rescan_s > 0 ? cfg_.rescan_s : 10;
  rescan_ns_ = static_cast<uint64_t>(r * 1e9);
  check_ns_ = std::min(kCheckNs, rescan_ns_);
}

InterfaceSet::Entry& InterfaceSet::Find(const std::string& name) {
  for (Entry& e : entries_)
    if (e.name == name) return e;
  entries_.push_back(Entry{});
  entries_.back().name = name;
  return entries_.back();
}

void InterfaceSet::AttachAll(uint64_t now) {
  for (const std::string& n : cfg_.names) {
    if (n == "auto") {
      has_auto_ = true;
      const auto defaults = DefaultRouteInterfaces();
      if (defaults.empty())
        throw BpfError("find", "default-route interfaces (--iface auto)", ENODEV,
                       "no default route; name the interface with --iface");
      for (const std::string& d : defaults) Find(d).from_auto = true;
    } else {
      Find(n).named = true;
    }
  }
  if (entries_.empty()) throw BpfError("attach to", "(no interface)", ENODEV, "give --iface IF");
  for (Entry& e : entries_) {  // all exist before anything is attached
    if (if_nametoindex(e.name.c_str()) == 0) {
      const int err = errno == 0 ? ENODEV : errno;
      throw BpfError("attach to", e.name, err, "check `ip link`");
    }
  }
  for (Entry& e : entries_) {
    const unsigned idx = if_nametoindex(e.name.c_str());
    e.att = loader_.Attach({e.name, idx}, cfg_.ingress, cfg_.xdp_mode);
    e.last_hook = e.att.Hook();
    e.last_mode = e.att.Mode();
  }
  next_check_ = now + check_ns_;
  next_rescan_ = now + rescan_ns_;
}

void InterfaceSet::Rescan() {
  const auto defaults = DefaultRouteInterfaces();
  for (Entry& e : entries_)
    e.from_auto = std::find(defaults.begin(), defaults.end(), e.name) != defaults.end();
  for (const std::string& d : defaults) Find(d).from_auto = true;
  if (defaults.empty() && !warned_no_route_) {
    std::fprintf(stderr, "nfm-xdp: warning: --iface auto: no default route any more; capturing only on "
                         "named interfaces until one appears\n");
  }
  warned_no_route_ = defaults.empty();
}

// One interface: detach when gone / re-created / no longer wanted, attach when wanted and
// present. Returns true on a state change.
bool InterfaceSet::Check(Entry& e) {
  bool changed = false;
  if (!e.Wanted()) {
    if (e.att) {
      e.att.Reset();
      std::fprintf(stderr, "nfm-xdp: note: %s no longer carries a default route; detached from it\n",
                   e.name.c_str());
      changed = true;
    }
    return changed;
  }
  const unsigned idx = if_nametoindex(e.name.c_str());
  if (e.att) {
    if (idx == e.att.Ifindex() && !e.att.Defunct()) return false;
    const unsigned old = e.att.Ifindex();
    e.att.Reset();
    changed = true;
    if (idx == 0) {
      std::fprintf(stderr,
                   "nfm-xdp: warning: interface %s (ifindex %u) disappeared; %s; capture resumes on %s when an "
                   "interface of that name appears\n",
                   e.name.c_str(), old, UpCount() ? "capturing on the other interfaces" : "no interface is captured now",
                   e.name.c_str());
    } else {
      std::fprintf(stderr, "nfm-xdp: warning: interface %s was replaced (ifindex %u -> %u); re-attaching\n",
                   e.name.c_str(), old, idx);
    }
  }
  if (idx == 0) return changed;
  try {
    e.att = loader_.Attach({e.name, idx}, cfg_.ingress, cfg_.xdp_mode);
    e.last_hook = e.att.Hook();
    e.last_mode = e.att.Mode();
    e.last_error.clear();
    std::fprintf(stderr, "nfm-xdp: note: attached to %s (ifindex %u, %s + tcx egress)\n", e.name.c_str(), idx,
                 HookWords(e.last_hook, e.last_mode).c_str());
    return true;
  } catch (const BpfError& err) {
    if (err.what() != e.last_error) {
      std::fprintf(stderr, "nfm-xdp: warning: %s; retrying every %.1f s\n", err.what(),
                   static_cast<double>(check_ns_) / 1e9);
      e.last_error = err.what();
    }
    return changed;
  }
}

bool InterfaceSet::Poll(uint64_t now) {
  if (now < next_check_) return false;
  next_check_ = now + check_ns_;
  if (has_auto_ && now >= next_rescan_) {
    next_rescan_ = now + rescan_ns_;
    Rescan();
  }
  bool changed = false;
  for (Entry& e : entries_) changed |= Check(e);
  return changed;
}

void InterfaceSet::DetachAll() noexcept {
  for (Entry& e : entries_) e.att.Reset();
}

std::vector<InterfaceStatus> InterfaceSet::Status() const {
  std::vector<InterfaceStatus> out;
  for (const Entry& e : entries_) {
    InterfaceStatus s;
    s.name = e.name;
    s.up = static_cast<bool>(e.att);
    s.ifindex = s.up ? e.att.Ifindex() : 0;
    s.hook = s.up ? e.att.Hook() : IngressHook::kNone;
    s.xdp_mode = s.up ? e.att.Mode() : XdpMode::kNone;
    out.push_back(std::move(s));
  }
  return out;
}

uint32_t InterfaceSet::UpCount() const noexcept {
  uint32_t n = 0;
  for (const Entry& e : entries_) n += e.att ? 1 : 0;
  return n;
}

XdpMode InterfaceSet::WeakestXdpMode() const noexcept {
  XdpMode m = XdpMode::kNone;
  for (const Entry& e : entries_) {
    if (!e.att || e.att.Hook() != IngressHook::kXdp) continue;
    if (m == XdpMode::kNone || e.att.Mode() == XdpMode::kSkb) m = e.att.Mode();
  }
  return m;
}

std::string InterfaceSet::Names() const {
  std::string s;
  for (const Entry& e : entries_)
    if (e.last_hook != IngressHook::kNone) s += (s.empty() ? "" : ",") + e.name;
  return s;
}

std::string InterfaceSet::Hooks() const {
  std::vector<std::string> words;
  bool same = true;
  for (const Entry& e : entries_) {
    if (e.last_hook == IngressHook::kNone) continue;
    words.push_back(HookWords(e.last_hook, e.last_mode));
    same = same && words.back() == words.front();
  }
  if (words.empty()) return "none";
  if (same) return words.front();
  std::string s;
  size_t i = 0;
  for (const Entry& e : entries_) {
    if (e.last_hook == IngressHook::kNone) continue;
    s += (s.empty() ? "" : ", ") + words[i++] + " on " + e.name;
  }
  return s;
}

}  // namespace nfm::live
