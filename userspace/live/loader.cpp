// SPDX-License-Identifier: MIT
// Loader implementation: skeleton life cycle, ring creation and the XDP/tcx links.
// Links are created with bpf_link_create and never pinned: they die with the process's fds.
// XDP is attached with bpf_link_create(BPF_XDP) rather than bpf_program__attach_xdp because
// libbpf 1.1's attach_xdp cannot ask for a mode (native/skb); both make the same BPF link.
#include "loader.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "bpf_util.hpp"
#include "nfm.skel.h"

namespace nfm::live {

namespace {

// BPF_TCX_INGRESS / BPF_TCX_EGRESS from linux/bpf.h >= 6.6; Debian 12's UAPI header predates them.
constexpr int kBpfTcxIngress = 46;
constexpr int kBpfTcxEgress = 47;
// BPF_F_BEFORE (linux/bpf.h >= 6.6): with relative fd 0, "before every program" (first).
constexpr uint32_t kBpfFBefore = 1u << 3;

std::string ModeWord(XdpMode m) { return m == XdpMode::kSkb ? "skb (generic)" : "native"; }

// Id of the XDP program attached to ifindex in any mode, 0 when none. Throws BpfError.
uint32_t XdpProgramOn(const Interface& iface) {
  LIBBPF_OPTS(bpf_xdp_query_opts, q);
  const int err = bpf_xdp_query(static_cast<int>(iface.ifindex), 0, &q);
  if (err) throw BpfError("query XDP on", iface.name, -err);
  return q.prog_id ? q.prog_id : q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id ? q.skb_prog_id : q.hw_prog_id;
}

// "id 42 (xdp_pass)", or "id 42" when the name cannot be read (needs CAP_SYS_ADMIN).
std::string ProgramWords(uint32_t id) {
  std::string s = "id " + std::to_string(id);
  const int fd = bpf_prog_get_fd_by_id(id);
  if (fd >= 0) {
    bpf_prog_info info = {};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.name[0]) s += std::string(" (") + info.name + ")";
    close(fd);
  }
  return s;
}

}  // namespace

void MapKeyOwner::Reset() noexcept {
  if (map_fd_ >= 0) bpf_map_delete_elem(map_fd_, &key_);
  map_fd_ = -1;
}

bool Attachment::Defunct() const noexcept {
  // XDP and tcx link info both start their union member with the interface index (xdp.ifindex,
  // tcx.ifindex), which the kernel zeroes when the device goes away; Debian 12's UAPI header
  // only names the xdp one.
  for (const UniqueFd* l : {&ingress_, &egress_}) {
    if (!*l) continue;
    bpf_link_info info = {};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(l->Get(), &info, &len) != 0) continue;  // unknown: assume alive
    if (info.xdp.ifindex == 0) return true;
  }
  return false;
}

struct Loader::Impl {
  Skeleton<nfm_bpf> skel;
  std::vector<UniqueFd> rings;
  std::vector<int> ring_fds;
  int ncpus = 1;
  bool dedup = false;

  explicit Impl(Skeleton<nfm_bpf> s) : skel(std::move(s)) {}
};

Loader::Loader(const LoaderConfig& cfg, bool verbose_hint) {
  auto skel = Skeleton<nfm_bpf>::Open("BPF object nfm");
  skel->rodata->nfm_ring_mask = cfg.rings - 1;
  skel->rodata->nfm_sample_n = cfg.sample;
  skel->rodata->nfm_wakeup_bytes = cfg.wakeup_bytes;
  skel->rodata->nfm_enable_tc = 1;
  skel->rodata->nfm_tunnel_inner = cfg.tunnel_inner ? 1 : 0;
  skel->rodata->nfm_tunnel_trailer = cfg.tunnel_inner && cfg.tunnel_trailer ? 1 : 0;
  for (size_t i = 0; i < cfg.vxlan_ports.size() && i + 2 < NFM_MAX_VXLAN_PORTS; ++i)
    skel->rodata->nfm_vxlan_ports[i + 2] = cfg.vxlan_ports[i];
  skel->rodata->nfm_dedup_on = cfg.dedup ? 1 : 0;
  skel->rodata->nfm_dedup_hold_s = cfg.dedup_hold_s;
  // tcx links need the program to be loaded for that attach type (kernel checks it on
  // BPF_LINK_CREATE); libbpf 1.1 has no section name for it, so set it by number.
  int err = bpf_program__set_expected_attach_type(
      skel->progs.nfm_tc_egress, static_cast<enum bpf_attach_type>(kBpfTcxEgress));
  if (err) throw BpfError("configure", "program nfm_tc_egress", -err);
  err = bpf_program__set_expected_attach_type(skel->progs.nfm_tc_ingress,
                                              static_cast<enum bpf_attach_type>(kBpfTcxIngress));
  if (err) throw BpfError("configure", "program nfm_tc_ingress", -err);

  skel.Load("BPF programs nfm_xdp/nfm_tc_ingress/nfm_tc_egress",
            verbose_hint ? "the verifier log is above"
                         : "run with --verbose to see the verifier log");
  impl_ = std::make_unique<Impl>(std::move(skel));
  const int ncpus = libbpf_num_possible_cpus();
  if (ncpus <= 0) throw BpfError("count", "possible CPUs", -ncpus);
  impl_->ncpus = ncpus;
  impl_->dedup = cfg.dedup;

  // One RINGBUF per shard, created here (the size is a run-time choice) and stored in the
  // ARRAY_OF_MAPS before anything is attached, so the programs never see an empty slot.
  const int outer = bpf_map__fd(impl_->skel->maps.nfm_rings);
  for (uint32_t i = 0; i < cfg.rings; ++i) {
    char name[24];  // "nfm_ringNN" stays below the 15-character kernel limit
    std::snprintf(name, sizeof name, "nfm_ring%u", i);
    const int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, name, 0, 0, cfg.ring_size_bytes, nullptr);
    if (fd < 0) {
      throw BpfError("create", std::string("ring buffer ") + name + " (" +
                                   std::to_string(cfg.ring_size_bytes / 1024) + " KiB)",
                     -fd, "try a smaller --ring-size or fewer --rings");
    }
    impl_->rings.emplace_back(fd);
    impl_->ring_fds.push_back(fd);
    err = bpf_map_update_elem(outer, &i, &fd, BPF_ANY);
    if (err) throw BpfError("insert", std::string(name) + " into map nfm_rings", -err);
  }
}

Loader::~Loader() = default;

Attachment Loader::Attach(const Interface& iface, IngressChoice ingress, XdpMode mode, bool quiet_note) {
  const int ifindex = static_cast<int>(iface.ifindex);
  Attachment a;
  a.ifindex_ = iface.ifindex;
  // Never replace someone else's XDP program: look first, and (below) attach as a link,
  // which the kernel also refuses with EBUSY while any program is attached.
  bool use_xdp = ingress != IngressChoice::kTc;
  if (use_xdp) {
    const uint32_t other = XdpProgramOn(iface);
    if (other && ingress == IngressChoice::kXdp) {
      throw BpfError("attach XDP to", iface.name, EBUSY,
                     "XDP program id " + std::to_string(other) +
                         " is already attached; nfm-xdp never replaces it (see `bpftool net show dev " +
                         iface.name + "`); --ingress auto or tc captures next to it with a tcx link");
    }
    if (other) {
      if (!quiet_note) {
        std::fprintf(stderr,
                     "nfm-xdp: note: %s has XDP program %s attached; capturing ingress with a tcx link "
                     "instead (it sees the packets that program passes on)\n",
                     iface.name.c_str(), ProgramWords(other).c_str());
      }
      use_xdp = false;
    }
  }

  if (use_xdp) {
    const int xdp_fd = bpf_program__fd(impl_->skel->progs.nfm_xdp);
    auto attach = [&](XdpMode m) {
      LIBBPF_OPTS(bpf_link_create_opts, lo);
      lo.flags = m == XdpMode::kSkb ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
      return bpf_link_create(xdp_fd, ifindex, BPF_XDP, &lo);  // -errno on failure
    };
    XdpMode got = mode == XdpMode::kNone ? XdpMode::kNative : mode;
    int fd = attach(got);
    if (fd < 0 && mode == XdpMode::kNone && fd != -EBUSY && fd != -EEXIST) {
      std::fprintf(stderr, "nfm-xdp: note: native XDP on %s refused: %s (%s); using skb (generic) mode\n",
                   iface.name.c_str(), std::strerror(-fd), ErrnoName(-fd));
      got = XdpMode::kSkb;
      fd = attach(got);
    }
    if ((fd == -EBUSY || fd == -EEXIST) && ingress == IngressChoice::kAuto) {
      // Someone attached between the query and our attach: same answer as above.
      if (!quiet_note) {
        std::fprintf(stderr, "nfm-xdp: note: XDP on %s is taken (%s); capturing ingress with a tcx link instead\n",
                     iface.name.c_str(), ErrnoName(-fd));
      }
      use_xdp = false;
    } else if (fd < 0) {
      std::string hint;
      if (fd == -EBUSY || fd == -EEXIST)
        hint = "another XDP program is attached (see `bpftool net show dev " + iface.name + "`)";
      else if (got == XdpMode::kNative)
        hint = "the driver refuses native XDP; retry with --xdp-mode=skb";
      else if (fd == -EINVAL || fd == -EOPNOTSUPP)
        hint = "the kernel lacks XDP links (Linux 5.9+)";
      throw BpfError("attach XDP (" + ModeWord(got) + ") to", iface.name, -fd, hint);
    } else {
      a.ingress_ = UniqueFd(fd);
      LIBBPF_OPTS(bpf_xdp_query_opts, q2);
      if (bpf_xdp_query(ifindex, 0, &q2) == 0 && q2.attach_mode == XDP_ATTACHED_SKB) got = XdpMode::kSkb;
      a.hook_ = IngressHook::kXdp;
      a.mode_ = got;
    }
  }
  if (!use_xdp) {
    // tcx ingress, first in the chain (BPF_F_BEFORE, no anchor): we see what reaches tc, like
    // a packet socket does, and return TCX_NEXT so every other program still runs and decides.
    LIBBPF_OPTS(bpf_link_create_opts, lo);
    lo.flags = kBpfFBefore;
    const int fd = bpf_link_create(bpf_program__fd(impl_->skel->progs.nfm_tc_ingress), ifindex,
                                   static_cast<enum bpf_attach_type>(kBpfTcxIngress), &lo);
    if (fd < 0) {
      throw BpfError("attach TC ingress (tcx) to", iface.name, -fd,
                     fd == -EINVAL ? "the kernel lacks tcx links (Linux 6.6+)" : "");
    }
    a.ingress_ = UniqueFd(fd);
    a.hook_ = IngressHook::kTcx;
  }

  // tcx egress: a link owned by this process, gone when the fd closes (also on kill -9).
  const int tc_fd = bpf_program__fd(impl_->skel->progs.nfm_tc_egress);
  const int fd = bpf_link_create(tc_fd, ifindex, static_cast<enum bpf_attach_type>(kBpfTcxEgress), nullptr);
  if (fd < 0) {
    throw BpfError("attach TC egress (tcx) to", iface.name, -fd,
                   fd == -EINVAL ? "the kernel lacks tcx links (Linux 6.6+)" : "");
  }
  a.egress_ = UniqueFd(fd);
  if (impl_->dedup) {
    // Owners of flows in the dedup table must be attached interfaces (dedup.bpf.h).
    const int map_fd = bpf_map__fd(impl_->skel->maps.nfm_dedup_ifs);
    const uint32_t key = iface.ifindex;
    const uint8_t one = 1;
    const int err = bpf_map_update_elem(map_fd, &key, &one, BPF_ANY);
    if (err) throw BpfError("register", iface.name + " in map nfm_dedup_ifs", -err, "raise --max-ifaces below 4096");
    a.dedup_if_ = MapKeyOwner(map_fd, key);
  }
  return a;
}

void Loader::SetDedupClock(uint64_t mono_ns) noexcept {
  if (impl_->dedup && impl_->skel->bss) impl_->skel->bss->nfm_now_s = static_cast<uint32_t>(mono_ns / 1000000000ull);
}

const std::vector<int>& Loader::RingFds() const noexcept { return impl_->ring_fds; }

namespace {

// Sums keys 0 .. n-1 of a per-CPU array of __u64 over the possible CPUs into out[].
bool SumPerCpu(int fd, int ncpus, uint64_t* out, uint32_t n) noexcept {
  // Per-CPU values are 8-byte aligned slots, one per possible CPU.
  uint64_t vals[1024];
  if (ncpus > 1024) return false;
  bool ok = true;
  for (uint32_t k = 0; k < n; ++k) {
    if (bpf_map_lookup_elem(fd, &k, vals) != 0) {
      ok = false;
      continue;
    }
    uint64_t sum = 0;
    for (int c = 0; c < ncpus; ++c) sum += vals[c];
    out[k] = sum;
  }
  return ok;
}

}  // namespace

bool Loader::ReadCounters(uint64_t out[NFM_CNT_MAX]) const noexcept {
  return SumPerCpu(bpf_map__fd(impl_->skel->maps.nfm_counters), impl_->ncpus, out, NFM_CNT_MAX);
}

bool Loader::ReadRingLost(uint64_t* out, uint32_t n) const noexcept {
  if (n > NFM_MAX_RINGS) return false;
  return SumPerCpu(bpf_map__fd(impl_->skel->maps.nfm_ring_lost), impl_->ncpus, out, n);
}

}  // namespace nfm::live
