// SPDX-License-Identifier: MIT
// InterfaceSet: start-up attach, presence checks by name (if_nametoindex + link liveness),
// default-route rescans for `auto`, pattern matching (fnmatch, the k8s preset) driven by
// rtnetlink link events, the --max-ifaces limit, and the stderr lines for each change (one per
// change).
#include "interfaces.hpp"

// glibc's net/if.h before the UAPI headers (they then skip their copy of struct ifreq).
#include <net/if.h>
#include <net/if_arp.h>
#include <fnmatch.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "output/dataset_columns.hpp"
#include "system.hpp"

namespace nfm::live {

namespace {

constexpr uint64_t kCheckNs = 500'000'000;  // presence check of every interface

// ARPHRD_* type of an interface (-1 when it cannot be read). The parser starts at an Ethernet
// header, so only ARPHRD_ETHER devices (veth, bridge, vxlan, geneve, physical NICs) are
// attached by pattern; L3 devices (ipip tunl0, WireGuard, loopback) would be misparsed.
int LinkType(const std::string& name) noexcept {
  if (name.size() >= IFNAMSIZ) return -1;
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  ifreq ifr = {};
  std::memcpy(ifr.ifr_name, name.c_str(), name.size() + 1);
  const int rc = ::ioctl(fd, SIOCGIFHWADDR, &ifr);
  ::close(fd);
  return rc == 0 ? ifr.ifr_hwaddr.sa_family : -1;
}

std::string HookWords(IngressHook h, XdpMode m) {
  if (h == IngressHook::kXdp) return std::string("xdp ") + XdpModeName(m);
  if (h == IngressHook::kTcx) return "tc ingress";
  return "none";
}

}  // namespace

const std::vector<std::string>& K8sPreset() {
  // Ethernet-type interfaces that CNI plugins create (docs/DEPLOY.md, per plugin). Left out on
  // purpose: tunl0 (Calico IPIP) and WireGuard devices (flannel-wg, cilium_wg0, wireguard.cali)
  // are L3 devices without an Ethernet header, and their traffic also crosses the pod veths;
  // kube-ipvs0 and nodelocaldns are dummy devices that carry no packets; the node's uplink is
  // `--iface auto`.
  static const std::vector<std::string> preset = {
      "veth*",        // bridge plugin (Flannel, kubenet, kindnet, Docker): node side of pod veths
      "cni0",         // bridge plugin's bridge (Flannel, kindnet's bridge setups)
      "cbr0",         // kubenet's bridge
      "flannel*",     // flannel.1 (vxlan backend), flannel.<vni>
      "vxlan*",       // vxlan.calico and other VXLAN overlays
      "cali*",        // Calico pod veths
      "cilium_*",     // cilium_host, cilium_net, cilium_vxlan, cilium_geneve
      "lxc*",         // Cilium pod veths (lxc<hash>, lxc_health)
      "eni*",         // AWS VPC CNI pod veths
      "gke*",         // GKE (dataplane v1) pod veths
      "ovn-k8s*",     // OVN-Kubernetes management port (ovn-k8s-mp0)
      "genev_sys_*",  // Open vSwitch Geneve tunnel port (OVN-Kubernetes, Antrea)
      "antrea-*",     // Antrea gateway and tunnel (antrea-gw0, antrea-tun0)
  };
  return preset;
}

bool IsPattern(const std::string& arg) noexcept { return arg.find_first_of("*?[") != std::string::npos; }

bool MatchesPatterns(const std::string& name, const std::vector<std::string>& patterns,
                     const std::vector<std::string>& excludes) noexcept {
  auto any = [&](const std::vector<std::string>& v) {
    for (const std::string& p : v)
      if (fnmatch(p.c_str(), name.c_str(), 0) == 0) return true;
    return false;
  };
  return any(patterns) && !any(excludes);
}

void LinkEvents::Open() {
  const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) throw BpfError("open", "rtnetlink socket (link events)", errno);
  UniqueFd owned(fd);
  sockaddr_nl sa = {};
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = RTMGRP_LINK;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
    throw BpfError("bind", "rtnetlink socket to RTMGRP_LINK", errno);
  fd_ = std::move(owned);
}

bool LinkEvents::Pending() noexcept {
  if (!fd_) return false;
  bool any = false;
  alignas(nlmsghdr) char buf[16384];
  for (;;) {
    const ssize_t n = ::recv(fd_.Get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) {  // the kernel dropped events: everything must be looked at again
        any = true;
        continue;
      }
      return any;  // EAGAIN: nothing more
    }
    int len = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len))
      if (h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK) any = true;
  }
}

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
    if (n == "k8s") {
      for (const std::string& p : K8sPreset()) patterns_.push_back(p);
    } else if (IsPattern(n)) {
      patterns_.push_back(n);
    } else if (n == "auto") {
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
  if (entries_.empty() && patterns_.empty())
    throw BpfError("attach to", "(no interface)", ENODEV, "give --iface IF");
  for (Entry& e : entries_) {  // all exist before anything is attached
    if (if_nametoindex(e.name.c_str()) == 0) {
      const int err = errno == 0 ? ENODEV : errno;
      throw BpfError("attach to", e.name, err, "check `ip link`");
    }
  }
  if (entries_.size() > cfg_.max_ifaces) {
    throw BpfError("attach to", std::to_string(entries_.size()) + " named interfaces", E2BIG,
                   "--max-ifaces is " + std::to_string(cfg_.max_ifaces) + "; raise it");
  }
  for (Entry& e : entries_) {
    const unsigned idx = if_nametoindex(e.name.c_str());
    e.att = loader_.Attach({e.name, idx}, cfg_.ingress, cfg_.xdp_mode);
    e.last_hook = e.att.Hook();
    e.last_mode = e.att.Mode();
    ++n_attached_;
    if (cfg_.flow_ifaces) cfg_.flow_ifaces->SetName(idx, e.name);
  }
  if (!patterns_.empty()) {
    // Subscribe before the first scan, so an interface created in between is not missed.
    link_events_.Open();
    RescanPatterns();
    for (Entry& e : entries_)
      if (e.ever_pattern) Check(e);
    std::erase_if(entries_, [](const Entry& e) { return e.ever_pattern && !e.Wanted() && !e.att; });
    if (UpCount() == 0) {
      std::fprintf(stderr, "nfm-xdp: note: no interface matches the --iface patterns yet; attaching when one "
                           "appears\n");
    }
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

// The interfaces of this namespace that match the patterns (Ethernet-type ones only).
void InterfaceSet::RescanPatterns() {
  std::vector<std::string> now;
  if (struct if_nameindex* list = if_nameindex()) {
    for (struct if_nameindex* i = list; i->if_index != 0 && i->if_name != nullptr; ++i) {
      const std::string name = i->if_name;
      if (MatchesPatterns(name, patterns_, cfg_.excludes) && LinkType(name) == ARPHRD_ETHER) now.push_back(name);
    }
    if_freenameindex(list);
  }
  for (Entry& e : entries_)
    e.from_pattern = std::find(now.begin(), now.end(), e.name) != now.end();
  for (const std::string& n : now) {
    Entry& e = Find(n);
    e.from_pattern = true;
    e.ever_pattern = e.ever_pattern || !e.named;
  }
}

// One interface: detach when gone / re-created / no longer wanted, attach when wanted and
// present. Returns true on a state change.
bool InterfaceSet::Check(Entry& e) {
  bool changed = false;
  if (!e.Wanted()) {
    if (e.att) {
      const unsigned old = e.att.Ifindex();
      e.att.Reset();
      ++n_detached_;
      if (e.ever_pattern) {
        std::fprintf(stderr, "nfm-xdp: note: %s (ifindex %u) is gone or no longer matches; detached from it\n",
                     e.name.c_str(), old);
      } else {
        std::fprintf(stderr, "nfm-xdp: note: %s no longer carries a default route; detached from it\n",
                     e.name.c_str());
      }
      changed = true;
    }
    return changed;
  }
  const unsigned idx = if_nametoindex(e.name.c_str());
  if (e.att) {
    if (idx == e.att.Ifindex() && !e.att.Defunct()) return false;
    const unsigned old = e.att.Ifindex();
    e.att.Reset();
    ++n_detached_;
    changed = true;
    if (idx == 0 && e.ever_pattern) {
      std::fprintf(stderr, "nfm-xdp: note: %s (ifindex %u) is gone; detached from it\n", e.name.c_str(), old);
    } else if (idx == 0) {
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
  if (idx == 0) {
    if (e.ever_pattern) e.from_pattern = false;  // gone: leaves the set (a link event may still come)
    return changed;
  }
  if (UpCount() >= cfg_.max_ifaces) {
    if (!e.refused_noted) {
      std::fprintf(stderr,
                   "nfm-xdp: warning: not attaching to %s: %u interfaces are attached, the --max-ifaces limit; "
                   "raise --max-ifaces or narrow --iface / --iface-exclude\n",
                   e.name.c_str(), cfg_.max_ifaces);
      e.refused_noted = true;
      ++n_refused_;
    }
    return changed;
  }
  try {
    e.att = loader_.Attach({e.name, idx}, cfg_.ingress, cfg_.xdp_mode);
    e.last_hook = e.att.Hook();
    e.last_mode = e.att.Mode();
    e.last_error.clear();
    e.refused_noted = false;
    ++n_attached_;
    if (cfg_.flow_ifaces) cfg_.flow_ifaces->SetName(idx, e.name);
    std::fprintf(stderr, "nfm-xdp: note: attached to %s (ifindex %u, %s + tcx egress)\n", e.name.c_str(), idx,
                 HookWords(e.last_hook, e.last_mode).c_str());
    return true;
  } catch (const BpfError& err) {
    ++n_failed_;
    if (err.what() != e.last_error) {
      std::fprintf(stderr, "nfm-xdp: warning: %s; retrying every %.1f s\n", err.what(),
                   static_cast<double>(check_ns_) / 1e9);
      e.last_error = err.what();
    }
    return changed;
  }
}

bool InterfaceSet::Poll(uint64_t now) {
  const bool link_event = link_events_.Pending();  // non-blocking; one recv when idle
  if (now < next_check_ && !link_event) return false;
  next_check_ = now + check_ns_;
  if (has_auto_ && now >= next_rescan_) {
    next_rescan_ = now + rescan_ns_;
    Rescan();
  }
  if (link_event) RescanPatterns();
  bool changed = false;
  for (Entry& e : entries_) changed |= Check(e);
  // Pattern interfaces that are gone leave the set (and their metric series): pods come and go.
  const size_t before = entries_.size();
  std::erase_if(entries_, [](const Entry& e) { return e.ever_pattern && !e.Wanted() && !e.att; });
  return changed || entries_.size() != before;
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
