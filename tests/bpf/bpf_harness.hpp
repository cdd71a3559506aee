// SPDX-License-Identifier: MIT
// Test harness for the nfm BPF programs: loads the nfm_bpf skeleton (never attaches),
// creates and installs the ring maps like the loader does, runs frames through
// BPF_PROG_RUN and collects events and per-CPU counter sums. Not thread-safe; one per test.
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <sched.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "nfm.skel.h"
#include "nfm/event.h"

namespace nfm::test {

struct BpfConfig {
  uint32_t rings = 1;                          // power of two, <= NFM_MAX_RINGS
  uint32_t ring_bytes = 1u << 20;              // per ring: power of two, multiple of the page size
  bool install_rings = true;                   // false: leave nfm_rings empty
  uint32_t sample_n = 1;
  uint32_t wakeup_bytes = NFM_WAKEUP_BYTES_DEFAULT;
  uint8_t enable_tc = 1;
  uint8_t tunnel_inner = 0;                    // rodata nfm_tunnel_inner (--tunnel inner)
  uint8_t tunnel_trailer = 0;                  // rodata nfm_tunnel_trailer (--where-columns tunnel)
  uint16_t extra_vxlan_port = 0;               // a third nfm_vxlan_ports entry, 0 = none
  uint8_t dedup = 0;                           // rodata nfm_dedup_on (--dedup)
};

struct GotEvent {
  uint32_t ring = 0;
  nfm_pkt_event ev{};
  bool has_trailer = false;    // a 112-byte nfm_pkt_event_tun record
  nfm_tunnel_trailer tun{};    // its trailer
};

using CounterArray = std::array<uint64_t, NFM_CNT_MAX>;

// Owns the skeleton, the ring maps and the ring_buffer reader.
class BpfHarness {
 public:
  // Returns nullptr and fills *err (with errno in *err_no) when loading fails.
  static std::unique_ptr<BpfHarness> Load(const BpfConfig& cfg, std::string* err, int* err_no) {
    std::unique_ptr<BpfHarness> h(new BpfHarness());
    h->skel_ = nfm_bpf__open();
    if (!h->skel_) {
      *err_no = errno;
      *err = "open nfm_bpf: " + std::string(strerror(*err_no));
      return nullptr;
    }
    h->skel_->rodata->nfm_ring_mask = cfg.rings - 1;
    h->skel_->rodata->nfm_sample_n = cfg.sample_n;
    h->skel_->rodata->nfm_wakeup_bytes = cfg.wakeup_bytes;
    h->skel_->rodata->nfm_enable_tc = cfg.enable_tc;
    h->skel_->rodata->nfm_tunnel_inner = cfg.tunnel_inner;
    h->skel_->rodata->nfm_tunnel_trailer = cfg.tunnel_trailer;
    h->skel_->rodata->nfm_vxlan_ports[2] = cfg.extra_vxlan_port;
    h->skel_->rodata->nfm_dedup_on = cfg.dedup;
    int rc = nfm_bpf__load(h->skel_);
    if (rc) {
      *err_no = -rc;
      *err = "load nfm_bpf: " + std::string(strerror(*err_no));
      return nullptr;
    }
    if (!cfg.install_rings) return h;
    h->ctx_.resize(cfg.rings);
    for (uint32_t i = 0; i < cfg.rings; ++i) {
      int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "nfm_test_ring", 0, 0, cfg.ring_bytes, nullptr);
      if (fd < 0) {
        *err_no = errno;
        *err = "create ring " + std::to_string(i) + ": " + strerror(*err_no);
        return nullptr;
      }
      h->ring_fds_.push_back(fd);
      if (bpf_map_update_elem(bpf_map__fd(h->skel_->maps.nfm_rings), &i, &fd, BPF_ANY)) {
        *err_no = errno;
        *err = "install ring " + std::to_string(i) + " in nfm_rings: " + strerror(*err_no);
        return nullptr;
      }
      h->ctx_[i] = {h.get(), i};
      bool ok = true;
      if (i == 0) {
        h->rb_ = ring_buffer__new(fd, &BpfHarness::OnSample, &h->ctx_[i], nullptr);
        ok = h->rb_ != nullptr;
      } else {
        ok = ring_buffer__add(h->rb_, fd, &BpfHarness::OnSample, &h->ctx_[i]) == 0;
      }
      if (!ok) {
        *err_no = errno;
        *err = "ring_buffer for ring " + std::to_string(i) + ": " + strerror(*err_no);
        return nullptr;
      }
    }
    return h;
  }

  ~BpfHarness() {
    if (rb_) ring_buffer__free(rb_);
    for (int fd : ring_fds_) close(fd);
    if (skel_) nfm_bpf__destroy(skel_);
  }
  BpfHarness(const BpfHarness&) = delete;
  BpfHarness& operator=(const BpfHarness&) = delete;

  // Runs one frame through nfm_xdp or nfm_tc_egress (or, with tc_ingress, nfm_tc_ingress).
  // TC: gso_segs/gso_size set the skb's GSO fields (a super-packet the stack would segment).
  // Returns 0 or -errno; *retval = verdict.
  int Run(bool tc, const std::vector<uint8_t>& frame, int* retval, bool tc_ingress = false, uint32_t gso_segs = 0,
          uint32_t gso_size = 0) {
    std::vector<uint8_t> out(frame.size() + 512);
    struct __sk_buff skb_ctx{};
    skb_ctx.gso_segs = gso_segs;
    skb_ctx.gso_size = gso_size;
    LIBBPF_OPTS(bpf_test_run_opts, opts);
    opts.data_in = frame.data();
    opts.data_size_in = static_cast<uint32_t>(frame.size());
    opts.data_out = out.data();
    opts.data_size_out = static_cast<uint32_t>(out.size());
    opts.repeat = 1;
    int fd = bpf_program__fd(!tc ? skel_->progs.nfm_xdp
                             : tc_ingress ? skel_->progs.nfm_tc_ingress
                                          : skel_->progs.nfm_tc_egress);
    if (tc) {
      opts.ctx_in = &skb_ctx;
      opts.ctx_size_in = sizeof(skb_ctx);
      opts.ctx_out = &skb_ctx;
      opts.ctx_size_out = sizeof(skb_ctx);
    }
    int rc = bpf_prog_test_run_opts(fd, &opts);
    if (rc) return -errno;
    *retval = static_cast<int>(opts.retval);
    return 0;
  }

  // Consumes everything currently in the rings.
  std::vector<GotEvent> Drain() {
    got_.clear();
    if (rb_) ring_buffer__consume(rb_);
    return std::move(got_);
  }

  CounterArray Counters() const { return SumPerCpu<NFM_CNT_MAX>(bpf_map__fd(skel_->maps.nfm_counters)); }

  // nfm_ring_lost summed over CPUs, one entry per ring slot (NFM_MAX_RINGS).
  std::array<uint64_t, NFM_MAX_RINGS> RingLost() const {
    return SumPerCpu<NFM_MAX_RINGS>(bpf_map__fd(skel_->maps.nfm_ring_lost));
  }

  nfm_bpf* skel() { return skel_; }
  size_t bad_samples() const { return bad_samples_; }

 private:
  // Keys 0 .. N-1 of a per-CPU __u64 array, each summed over the possible CPUs.
  template <size_t N>
  static std::array<uint64_t, N> SumPerCpu(int fd) {
    std::array<uint64_t, N> sum{};
    const int ncpu = libbpf_num_possible_cpus();
    std::vector<uint64_t> per_cpu(static_cast<size_t>(ncpu > 0 ? ncpu : 1));
    for (uint32_t k = 0; k < N; ++k) {
      if (bpf_map_lookup_elem(fd, &k, per_cpu.data())) continue;
      for (uint64_t v : per_cpu) sum[k] += v;
    }
    return sum;
  }

  struct Ctx {
    BpfHarness* self;
    uint32_t ring;
  };
  BpfHarness() = default;

  static int OnSample(void* ctx, void* data, size_t size) noexcept {
    auto* c = static_cast<Ctx*>(ctx);
    if (size != sizeof(nfm_pkt_event) && size != sizeof(nfm_pkt_event_tun)) {
      ++c->self->bad_samples_;
      return 0;
    }
    GotEvent g;
    g.ring = c->ring;
    std::memcpy(&g.ev, data, sizeof(g.ev));
    if (size == sizeof(nfm_pkt_event_tun)) {
      g.has_trailer = true;
      std::memcpy(&g.tun, static_cast<const uint8_t*>(data) + offsetof(nfm_pkt_event_tun, tun), sizeof(g.tun));
    }
    c->self->got_.push_back(g);
    return 0;
  }

  nfm_bpf* skel_ = nullptr;
  ring_buffer* rb_ = nullptr;
  std::vector<int> ring_fds_;
  std::vector<Ctx> ctx_;
  std::vector<GotEvent> got_;
  size_t bad_samples_ = 0;
};

}  // namespace nfm::test
