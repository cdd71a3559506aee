// SPDX-License-Identifier: MIT
// Live capture source: loads the BPF programs, attaches XDP or tcx (ingress) and tcx (egress)
// to the chosen interfaces, follows them as they disappear and come back, drains the ring
// buffers into a FlowEngine, and detaches on stop. It does not write CSV or serve metrics;
// it only feeds the engine and publishes LiveStatus (and, for the metrics, a KernelSnapshot).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "live/profile_view.hpp"
#include "nfm/event.h"

namespace CLI {
class App;
}
namespace nfm {
class KernelSnapshotBoard;  // metrics/kernel_snapshot.hpp
class FlowIfaces;  // output/dataset_columns.hpp
}

namespace nfm::live {

// Every member has a default: CLI11 leaves a variable untouched when its flag is absent.
struct LiveOptions {
  // Names, shell patterns (fnmatch: `veth*`), "auto" = interfaces carrying the default routes,
  // "k8s" = the CNI interface preset (interfaces.hpp, K8sPreset()).
  std::vector<std::string> ifaces;
  std::vector<std::string> iface_excludes;  // patterns never attached (wins over --iface patterns)
  uint32_t max_ifaces = 256;        // attached interfaces at most; more are refused (metric)
  std::string dedup = "auto";       // auto (on with patterns / k8s / auto / several interfaces) | on | off
  std::string xdp_mode = "auto";    // auto | native | skb
  std::string ingress = "auto";     // auto (XDP unless another XDP program is there, else tcx) | xdp | tc
  double iface_rescan_s = 10;       // --iface auto: re-resolve the default-route interfaces this often
  uint32_t ring_size_kb = 4096;     // per ring; power of two, >= page size
  uint32_t rings = 0;               // 0 = number of CPUs rounded up to a power of two (max 64)
  double duration_s = 0;            // 0 = until stop
  uint32_t sample = 1;              // 1-in-N packets become events (1 = all)
  bool verbose = false;             // route libbpf's log (verifier output) to stderr
  bool quiet = false;               // no summary line at exit, unless events were lost
  unsigned threads = 1;             // FlowEngine: drain/engine workers, at most one per ring (DrainPool)
  LiveView view = LiveView::kNative;  // the reference profiles' packet view (profile_view.hpp)
  bool tunnel_inner = false;        // --tunnel inner: the BPF programs decapsulate (rodata)
  // --where-columns tunnel: decapsulated packets' events carry the tunnel trailer, which the
  // drain hands to the engine (EngineConfig::tunnel_columns).
  bool tunnel_trailer = false;
  std::vector<uint16_t> vxlan_ports;  // --vxlan-port: VXLAN ports besides 4789 and 8472 (<= 6)
  // Optional (--where-columns iface): the drain threads record each event's interface here,
  // and every attached interface's name. Not owned; outlives the run.
  FlowIfaces* flow_ifaces = nullptr;
  // Optional: called on the drain thread right after each counter sample (about every 100 ms)
  // and once after the final drain, before the final flush (loss timeline of --loss-column).
  std::function<void(const struct LiveStatus&)> on_sample;
};

// Adds --iface (repeatable), --ingress, --xdp-mode, --iface-rescan, --ring-size, --rings,
// --duration, --sample.
void SetupLiveOptions(CLI::App& app, LiveOptions& opts);

enum class XdpMode : uint8_t { kNone = 0, kNative, kSkb };
// "none", "native", "skb". Inline: header-only users (status_snapshot.hpp) need no nfm_live.
inline const char* XdpModeName(XdpMode m) noexcept {
  return m == XdpMode::kNative ? "native" : m == XdpMode::kSkb ? "skb" : "none";
}
// --ingress: what the user asked for.
enum class IngressChoice : uint8_t { kAuto = 0, kXdp, kTc };
// What an interface's ingress is hooked with.
enum class IngressHook : uint8_t { kNone = 0, kXdp, kTcx };
// "none", "xdp", "tcx_ingress" (the nfm_attach_info hook label).
inline const char* IngressHookName(IngressHook h) noexcept {
  return h == IngressHook::kXdp ? "xdp" : h == IngressHook::kTcx ? "tcx_ingress" : "none";
}

// One capture interface as the drain thread last saw it.
struct InterfaceStatus {
  std::string name;
  unsigned ifindex = 0;           // 0 while down
  bool up = false;                // hooks attached and alive
  IngressHook hook = IngressHook::kNone;
  XdpMode xdp_mode = XdpMode::kNone;
};

// Progress of a live run. Written by the drain thread only; every member may be read from
// any thread at any time (relaxed atomics: each value is consistent, the set is not).
struct LiveStatus {
  std::atomic<bool> attached{false};     // hooks attached (on at least one interface)
  std::atomic<bool> draining{false};     // drain loop running
  std::atomic<XdpMode> xdp_mode{XdpMode::kNone};  // weakest XDP mode attached now (none: no XDP)
  std::atomic<uint32_t> interfaces{0};   // interfaces with hooks attached now
  std::atomic<uint32_t> rings{0};
  std::atomic<uint64_t> ring_size_bytes{0};
  // Kernel counters (enum nfm_counter), summed over CPUs; refreshed about every 100 ms.
  std::atomic<uint64_t> counters[NFM_CNT_MAX] = {};
  std::atomic<uint64_t> events_decoded{0};  // events handed to the engine
  std::atomic<uint64_t> events_bad{0};      // samples with wrong size/version (not fed)
  // Events lost per ring (nfm_ring_lost: ring full or empty slot), rings 0 .. rings-1.
  std::atomic<uint64_t> ring_lost[NFM_MAX_RINGS] = {};
  std::atomic<double> ring_fill_ratio{0.0}; // fullest ring at the last sample: pending/size
  std::atomic<double> ring_fill_peak{0.0};  // highest ring_fill_ratio seen
  std::atomic<uint64_t> last_drain_ns{0};   // CLOCK_REALTIME ns of the last poll round
  // Interface life cycle since start (nfm_interface_events_total{event}).
  std::atomic<uint64_t> iface_attached{0};  // attach succeeded (start, pattern match, re-attach)
  std::atomic<uint64_t> iface_detached{0};  // detached because the interface went away / stopped matching
  std::atomic<uint64_t> iface_refused{0};   // not attached: --max-ifaces interfaces attached already
  std::atomic<uint64_t> iface_failed{0};    // an attach attempt failed (retried)

  // Every interface ever captured on (also those gone now), in the order first seen.
  void SetInterfaces(std::vector<InterfaceStatus> list) {
    std::lock_guard<std::mutex> lock(iface_mu_);
    ifaces_ = std::move(list);
  }
  std::vector<InterfaceStatus> Interfaces() const {
    std::lock_guard<std::mutex> lock(iface_mu_);
    return ifaces_;
  }
  // The engine totals (summed over drain workers) at the last sample and after the final
  // flush: what other threads (a manifest written at CSV rotation or at the end) may read.
  void SetEngineStats(const EngineStats& s) {
    std::lock_guard<std::mutex> lock(stats_mu_);
    engine_stats_ = s;
  }
  EngineStats GetEngineStats() const {
    std::lock_guard<std::mutex> lock(stats_mu_);
    return engine_stats_;
  }

 private:
  mutable std::mutex iface_mu_;
  std::vector<InterfaceStatus> ifaces_;
  mutable std::mutex stats_mu_;
  EngineStats engine_stats_{};
};

// Runs a live capture until `stop` becomes true or opts.duration_s elapses. The calling
// thread is the drain thread: it alone touches `engine`. Returns the process exit code
// (0 after a clean stop, also when events were lost; 1 on setup failure). Throws nothing:
// setup errors are printed as one line on stderr. `status` may be null. `board` (may be
// null) gets the run's KernelSnapshot (status_snapshot.hpp, plus the engine totals and worker
// loads) published by the drain thread about every 100 ms and once after the final flush.
// Engine: FlowEngine, CicEngine or NtlEngine (OnPacket, OnSkipped, AdvanceTime, Flush, Stats);
// live.cpp instantiates all three. Packets pass opts.view first (the reference profiles: their
// tool's view, profile_view.hpp: IPv4 only, the rest counted in EngineStats::skipped).
template <class Engine>
int RunLive(const LiveOptions& opts, Engine& engine, const std::atomic<bool>& stop, LiveStatus* status,
            KernelSnapshotBoard* board = nullptr);

}  // namespace nfm::live
