// SPDX-License-Identifier: MIT
// RunLive: checks -> load -> attach -> drop capabilities -> drain loop (with interface
// checks) -> detach -> final drain -> flush -> one summary line. SetupLiveOptions: the
// live-capture CLI flags. Which counter is a loss, an event or "without event" comes from
// nfm/counter_table.hpp, as for the metrics.
#include "live.hpp"

#include <bpf/libbpf.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "bpf_util.hpp"
#include "drain.hpp"
#include "interfaces.hpp"
#include "engine/cic/cic_engine.hpp"
#include "engine/ntl/ntl_engine.hpp"
#include "loader.hpp"
#include "metrics/kernel_snapshot.hpp"
#include "nfm/counter_table.hpp"
#include "run/summary.hpp"
#include "status_snapshot.hpp"
#include "system.hpp"

namespace nfm::live {

void SetupLiveOptions(CLI::App& app, LiveOptions& opts) {
  auto pow2 = CLI::Validator(
      [](std::string& s) -> std::string {
        unsigned long v = 0;
        try {
          v = std::stoul(s);
        } catch (...) {
          return "not a number: " + s;
        }
        return (v & (v - 1)) == 0 ? std::string() : "must be a power of two: " + s;
      },
      "POW2");
  app.add_option("--iface", opts.ifaces,
                 "Capture on this interface (repeatable): a name, a shell pattern ('veth*'), \"auto\" = "
                 "interfaces of the default routes, \"k8s\" = the CNI interfaces (veth*, cni0, cali*, lxc*, ...); "
                 "pattern interfaces are attached and detached as they come and go")
      ->type_name("IF")
      ->allow_extra_args(false);  // one interface per --iface
  app.add_option("--iface-exclude", opts.iface_excludes,
                 "Never capture on interfaces matching this shell pattern (repeatable; applies to patterns "
                 "and k8s)")
      ->type_name("PATTERN")
      ->allow_extra_args(false);
  app.add_option("--max-ifaces", opts.max_ifaces,
                 "Attach to at most N interfaces at a time; more matches are refused with a warning")
      ->check(CLI::Range(1u, 4096u))
      ->type_name("N")
      ->capture_default_str();
  app.add_option("--dedup", opts.dedup,
                 "Count each packet once when it crosses several captured interfaces (a flow is kept at the "
                 "first interface that saw it): auto (on when --iface can give more than one interface), on, off")
      ->check(CLI::IsMember({"auto", "on", "off"}))
      ->capture_default_str();
  app.add_option("--ingress", opts.ingress,
                 "Ingress hook: auto (XDP, or a tcx link when another XDP program is attached), xdp, tc")
      ->check(CLI::IsMember({"auto", "xdp", "tc"}))
      ->capture_default_str();
  app.add_option("--xdp-mode", opts.xdp_mode, "XDP attach mode: auto (native, else skb), native, skb")
      ->check(CLI::IsMember({"auto", "native", "skb"}))
      ->capture_default_str();
  app.add_option("--iface-rescan", opts.iface_rescan_s,
                 "With --iface auto: re-resolve the default-route interfaces every S seconds")
      ->check(CLI::Range(0.1, 86400.0))
      ->type_name("S")
      ->capture_default_str();
  app.add_option("--ring-size", opts.ring_size_kb, "Size of each ring buffer in KiB (power of two)")
      ->check(CLI::Range(4u, 1048576u) & pow2)
      ->type_name("KB")
      ->capture_default_str();
  app.add_option("--rings", opts.rings,
                 "Number of ring buffers (power of two <= 64; 0 = CPUs rounded up)")
      ->check(CLI::Range(0u, 64u) & pow2)
      ->type_name("N")
      ->capture_default_str();
  app.add_option("--duration", opts.duration_s, "Stop live capture after S seconds (0 = until SIGINT)")
      ->check(CLI::NonNegativeNumber)
      ->type_name("S")
      ->capture_default_str();
  app.add_option("--sample", opts.sample, "Turn 1 in N packets into events (1 = every packet)")
      ->check(CLI::Range(1u, 1u << 30))
      ->type_name("N")
      ->capture_default_str();
}

namespace {

int PrintStderr(enum libbpf_print_level, const char* fmt, va_list ap) {
  return std::vfprintf(stderr, fmt, ap);
}
int PrintNothing(enum libbpf_print_level, const char*, va_list) { return 0; }

// --dedup auto: on whenever the interface set can hold more than one interface (a pattern,
// the k8s preset, auto, or several --iface); with one interface it could never drop anything.
bool DedupWanted(const LiveOptions& o) {
  if (o.dedup != "auto") return o.dedup == "on";
  if (o.ifaces.size() > 1) return true;
  for (const std::string& n : o.ifaces)
    if (n == "auto" || n == "k8s" || IsPattern(n)) return true;
  return false;
}

uint32_t DefaultRings() {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1) n = 1;
  uint32_t r = 1;
  while (r < static_cast<uint32_t>(n) && r < NFM_MAX_RINGS) r <<= 1;
  return r;
}

void Publish(LiveStatus* st, const uint64_t counters[NFM_CNT_MAX], const uint64_t ring_lost[NFM_MAX_RINGS],
             const DrainPool& d) {
  if (!st) return;
  for (int i = 0; i < NFM_CNT_MAX; ++i) st->counters[i].store(counters[i], std::memory_order_relaxed);
  for (int i = 0; i < NFM_MAX_RINGS; ++i) st->ring_lost[i].store(ring_lost[i], std::memory_order_relaxed);
  st->events_decoded.store(d.Decoded(), std::memory_order_relaxed);
  st->events_bad.store(d.Bad(), std::memory_order_relaxed);
  const double fill = d.FillRatio();
  st->ring_fill_ratio.store(fill, std::memory_order_relaxed);
  if (fill > st->ring_fill_peak.load(std::memory_order_relaxed))
    st->ring_fill_peak.store(fill, std::memory_order_relaxed);
  st->SetEngineStats(d.Stats());
}

void PublishInterfaces(LiveStatus* st, const InterfaceSet& set) {
  st->SetInterfaces(set.Status());
  st->interfaces.store(set.UpCount());
  st->xdp_mode.store(set.WeakestXdpMode());
  st->attached.store(set.UpCount() > 0);
  st->iface_attached.store(set.Attached());
  st->iface_detached.store(set.Detached());
  st->iface_refused.store(set.Refused());
  st->iface_failed.store(set.Failed());
}

// The metrics' view of the run (kernel_snapshot.hpp): the status just published, the engine
// totals and the worker loads, all of this tick.
void PublishSnapshot(KernelSnapshotBoard* board, const LiveStatus& st, const DrainPool& d) {
  if (!board) return;
  KernelSnapshot k = SnapshotOf(st);
  k.engine = d.Stats();
  std::vector<WorkerSample> workers;
  for (const auto& g : d.Gauges()) workers.push_back({g.out_queue, g.busy_ns});
  k.workers = WorkerLoads(workers);
  board->Publish(std::move(k));
}

// "xdp 5, tc egress 3, tc ingress 0": every kSeenPackets slot, in table order.
std::string HookCounts(const uint64_t counters[NFM_CNT_MAX]) {
  std::string s;
  for (const CounterInfo& c : kCounterTable) {
    if (c.kind != CounterKind::kSeenPackets) continue;
    s += (s.empty() ? "" : ", ") + std::string(c.summary) + " " + std::to_string(counters[c.slot]);
  }
  return s;
}

// "; engine skipped 5 packets (not_ip 3, unsupported 2)" when packets reached the engine (or
// its profile view) but no flow: out of the profile's scope. Empty when none.
std::string EngineSkips(const EngineStats& es) {
  uint64_t n = 0;
  std::string parts;
  for (int i = 0; i < static_cast<int>(SkipReason::kCount); ++i) {
    if (!es.skipped[i]) continue;
    n += es.skipped[i];
    parts += (parts.empty() ? "" : ", ") + std::string(SkipReasonName(static_cast<SkipReason>(i))) + " " +
             std::to_string(es.skipped[i]);
  }
  return n ? "; engine skipped " + std::to_string(n) + " packets (" + parts + ")" : std::string();
}

}  // namespace

template <class Engine>
int RunLive(const LiveOptions& opts, Engine& engine, const std::atomic<bool>& stop, LiveStatus* status,
            KernelSnapshotBoard* board) {
  libbpf_set_print(opts.verbose ? PrintStderr : PrintNothing);
  LiveStatus local_status;
  LiveStatus* st = status ? status : &local_status;
  const uint32_t rings = opts.rings ? opts.rings : DefaultRings();
  const uint32_t ring_bytes = opts.ring_size_kb * 1024u;
  const long page = sysconf(_SC_PAGESIZE);
  if (rings == 0 || rings > NFM_MAX_RINGS || (rings & (rings - 1)) != 0 || ring_bytes < static_cast<uint64_t>(page) ||
      (ring_bytes & (ring_bytes - 1)) != 0 || opts.sample == 0) {
    std::fprintf(stderr, "nfm-xdp: bad live options: --rings must be a power of two <= 64, "
                         "--ring-size a power of two >= %ld KiB, --sample >= 1\n", page / 1024);
    return 1;
  }
  if (const std::string missing = MissingCaptureCapabilities(); !missing.empty()) {
    std::fprintf(stderr,
                 "nfm-xdp: capture needs CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN, this process lacks %s: run as "
                 "root (sudo), or in a container add %s to securityContext.capabilities.add\n",
                 missing.c_str(), missing.find(',') == std::string::npos ? "it" : "them");
    return 1;
  }

  std::unique_ptr<Loader> loader;
  std::unique_ptr<DrainPool> drainer;
  std::unique_ptr<InterfaceSet> ifaces;
  try {
    const std::string missing = MissingKernelFeature();
    if (!missing.empty()) {
      std::fprintf(stderr, "nfm-xdp: this kernel lacks %s, which live capture needs\n", missing.c_str());
      return 1;
    }
    LoaderConfig lc;
    lc.rings = rings;
    lc.ring_size_bytes = ring_bytes;
    lc.sample = opts.sample;
    // Wake the drain thread early only when a ring is a quarter full; otherwise the 10 ms
    // poll timeout picks events up without a wake-up per event.
    lc.wakeup_bytes = ring_bytes / 4;
    lc.tunnel_inner = opts.tunnel_inner;
    lc.tunnel_trailer = opts.tunnel_trailer;
    lc.vxlan_ports = opts.vxlan_ports;
    lc.dedup = DedupWanted(opts);
    InterfaceSet::Config ic;
    ic.names = opts.ifaces;
    ic.ingress = opts.ingress == "xdp" ? IngressChoice::kXdp
                 : opts.ingress == "tc" ? IngressChoice::kTc
                                        : IngressChoice::kAuto;
    ic.xdp_mode = opts.xdp_mode == "native" ? XdpMode::kNative
                  : opts.xdp_mode == "skb"  ? XdpMode::kSkb
                                            : XdpMode::kNone;
    ic.rescan_s = opts.iface_rescan_s;
    ic.excludes = opts.iface_excludes;
    ic.max_ifaces = opts.max_ifaces;
    ic.flow_ifaces = opts.flow_ifaces;
    loader = std::make_unique<Loader>(lc, opts.verbose);
    drainer = DrainPool::Create(loader->RingFds(), ring_bytes, opts.threads, engine, opts.view, opts.flow_ifaces);
    drainer->SetClockOffset(MonotonicToWallOffsetNs());
    loader->SetDedupClock(MonoNowNs());
    ifaces = std::make_unique<InterfaceSet>(*loader, ic);
    ifaces->AttachAll(MonoNowNs());
    // Everything that needs privileges is done: programs, rings and their mappings exist.
    // Draining (epoll, reading mapped rings, map lookups on our own fds), re-attaching (a link
    // from a program fd we hold, Linux 6.5+) and detaching (closing fds) need no capability,
    // so drop them all.
    if (const int kept = DropAllCapabilities()) {
      std::fprintf(stderr, "nfm-xdp: warning: %d thread(s) did not drop their capabilities "
                           "(they block SIGRTMIN+7)\n", kept);
    }
  } catch (const BpfError& e) {
    std::fprintf(stderr, "nfm-xdp: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nfm-xdp: live setup failed: %s\n", e.what());
    return 1;
  } catch (...) {
    std::fprintf(stderr, "nfm-xdp: live setup failed\n");
    return 1;
  }

  PublishInterfaces(st, *ifaces);
  st->rings.store(rings);
  st->ring_size_bytes.store(ring_bytes);
  st->draining.store(true);
  if (opts.verbose) {
    std::fprintf(stderr, "nfm-xdp: attached to %s (%s + tcx egress), %u rings x %u KiB\n",
                 ifaces->Names().c_str(), ifaces->Hooks().c_str(), rings, opts.ring_size_kb);
  }

  uint64_t counters[NFM_CNT_MAX] = {};
  uint64_t ring_lost[NFM_MAX_RINGS] = {};
  const uint64_t start_mono = MonoNowNs();
  const uint64_t end_mono =
      opts.duration_s > 0 ? start_mono + static_cast<uint64_t>(opts.duration_s * 1e9) : UINT64_MAX;
  uint64_t next_tick = start_mono + 100000000ull;
  uint64_t next_clock = start_mono + 1000000000ull;
  int exit_code = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    const int n = drainer->Poll(10);
    if (n < 0 && n != -EINTR) {
      std::fprintf(stderr, "nfm-xdp: %s\n", FormatError("poll", "ring buffers", -n).c_str());
      exit_code = 1;
      break;
    }
    const uint64_t now = MonoNowNs();
    if (now >= end_mono) break;
    if (now >= next_clock) {  // follow NTP slewing / clock steps
      drainer->SetClockOffset(MonotonicToWallOffsetNs());
      next_clock = now + 1000000000ull;
    }
    if (ifaces->Poll(now)) PublishInterfaces(st, *ifaces);
    if (now >= next_tick) {
      next_tick = now + 100000000ull;
      loader->SetDedupClock(now);
      const uint64_t wall = WallNowNs();
      st->last_drain_ns.store(wall, std::memory_order_relaxed);
      // Counters first: flows that end below know about losses up to now.
      loader->ReadCounters(counters);
      loader->ReadRingLost(ring_lost, rings);
      Publish(st, counters, ring_lost, *drainer);
      if (opts.on_sample) opts.on_sample(*st);
      // One second of slack: events still in the rings may be up to that old.
      if (wall > 1000000000ull) drainer->AdvanceTime(wall - 1000000000ull);
      PublishSnapshot(board, *st, *drainer);
    }
  }

  // Stop: remove the hooks, let programs already running on other CPUs finish (one RCU
  // grace period is far below 20 ms), then empty every ring.
  const std::string names = ifaces->Names(), hooks = ifaces->Hooks();
  ifaces->DetachAll();
  // Interfaces keep their last state in the status (and metrics): stopping is not an outage.
  st->attached.store(false);
  usleep(20000);
  drainer->DrainAll();
  usleep(5000);
  drainer->DrainAll();
  st->draining.store(false);
  st->last_drain_ns.store(WallNowNs());
  loader->ReadCounters(counters);
  loader->ReadRingLost(ring_lost, rings);
  Publish(st, counters, ring_lost, *drainer);
  if (opts.on_sample) opts.on_sample(*st);
  drainer->Flush();
  st->SetEngineStats(drainer->Stats());
  PublishSnapshot(board, *st, *drainer);

  const EngineStats es = drainer->Stats();
  uint64_t exported = 0;
  for (uint64_t v : es.flows_exported) exported += v;
  const double secs = static_cast<double>(MonoNowNs() - start_mono) / 1e9;
  // Losses by reason (the kLoss slots: ring full, empty ring slot) and samples user space
  // could not decode (size/version mismatch between object and agent).
  std::string loss_parts;
  uint64_t lost = 0;
  for (const CounterInfo& c : kCounterTable) {
    if (c.kind != CounterKind::kLoss) continue;
    lost += counters[c.slot];
    loss_parts += std::string(c.summary) + " " + std::to_string(counters[c.slot]) + ", ";
  }
  const uint64_t lost_bad = drainer->Bad();
  lost += lost_bad;
  std::string loss = "no ring losses";
  if (lost) {
    loss = "LOST " + std::to_string(lost) + " events (" + loss_parts + "bad_event " + std::to_string(lost_bad) +
           "): flows are incomplete; raise --ring-size or --rings, or use --sample";
  }
  if (opts.quiet && !lost) return exit_code;
  // Packets the parser rejected or that carry no IP: no event, not a loss. With these, the
  // summary accounts for every packet: hooks = events + sampled + no event + ring_full + no_ring.
  const uint64_t no_event = SumKind(counters, CounterKind::kNoEvent);
  // With --dedup: copies of packets another captured interface reported (after the rest, so
  // the line reads as before without it).
  std::string dedup_words;
  if (DedupWanted(opts)) {
    dedup_words = "; dedup dropped " + std::to_string(SumKind(counters, CounterKind::kDuplicate)) +
                  " copies (" + std::to_string(counters[NFM_CNT_DEDUP_FULL]) + " kept, table full)";
  }
  std::fprintf(stderr,
               "nfm-xdp: live %s (%s + tcx egress) %.1f s: hooks saw %llu packets "
               "(%s), %llu events, %llu sampled out, %llu without event (not IP or "
               "malformed), %s; %llu flows (%llu exported)%s%s\n",
               names.c_str(), hooks.c_str(), secs,
               static_cast<unsigned long long>(SumKind(counters, CounterKind::kSeenPackets)),
               HookCounts(counters).c_str(), static_cast<unsigned long long>(drainer->Decoded()),
               static_cast<unsigned long long>(SumKind(counters, CounterKind::kSampled)),
               static_cast<unsigned long long>(no_event), loss.c_str(),
               static_cast<unsigned long long>(es.flows_created),
               static_cast<unsigned long long>(exported), EngineSkips(es).c_str(), dedup_words.c_str());
  return exit_code;
}

template int RunLive<FlowEngine>(const LiveOptions&, FlowEngine&, const std::atomic<bool>&, LiveStatus*,
                                 KernelSnapshotBoard*);
template int RunLive<CicEngine>(const LiveOptions&, CicEngine&, const std::atomic<bool>&, LiveStatus*,
                                KernelSnapshotBoard*);
template int RunLive<NtlEngine>(const LiveOptions&, NtlEngine&, const std::atomic<bool>&, LiveStatus*,
                                KernelSnapshotBoard*);

}  // namespace nfm::live
