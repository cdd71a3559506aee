// SPDX-License-Identifier: MIT
// Prometheus metrics of the agent (prometheus-cpp, pull): a fixed set of low-cardinality
// families registered once at construction, an HTTP exposer for /metrics, and /healthz +
// /livez answered on the same port. Flow tuples and addresses are never labels.
// Metrics does not read the engine itself: the thread that owns the engine pushes snapshots.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "nfm/event.h"

namespace nfm {
namespace live {
struct LiveStatus;  // live/live.hpp: published by the live source's drain thread
}

// Per-flow numbers the histograms observe.
struct FlowSummary {
  EndReason reason;
  double duration_s;
  uint64_t packets;
  uint64_t bytes;  // payload bytes (profile's payload definition)
};

// Constant facts about this process, shown as labels of nfm_build_info.
struct BuildInfo {
  std::string version;             // NFM_VERSION
  std::string kernel;              // empty: uname(2) release
  std::string mode = "offline";    // "live" (XDP/TC hooks) or "offline" (capture file)
  std::string attach_mode = "none";  // "native", "skb", ...; offline: "none". Updatable via KernelSnapshot
};

// One capture interface (live): nfm_interface_up{iface} and nfm_attach_info{iface,hook,xdp_mode}.
struct InterfaceSnapshot {
  std::string name;
  bool up = false;
  std::string hook = "none";      // "xdp" | "tcx_ingress" while up
  std::string xdp_mode = "none";  // "native" | "skb" with hook "xdp"
};

// What the kernel side reports, summed over CPUs and rings by the live source.
// Counters are absolute values since attach (Metrics turns them into counter increments).
struct KernelSnapshot {
  uint64_t counters[NFM_CNT_MAX] = {};  // index: enum nfm_counter, summed over CPUs
  double ring_fill_ratio = 0.0;         // fullest ring: bytes pending / ring size, 0..1
  uint64_t ring_size_bytes = 0;         // size of one ring buffer
  double ring_fill_peak = 0.0;          // highest ring_fill_ratio seen so far
  uint32_t interfaces = 0;              // interfaces the hooks are attached to
  uint64_t events_bad = 0;              // ring samples with wrong size/version (not fed)
  const char* attach_mode = nullptr;    // XDP mode actually attached ("native", "skb"); null: unchanged
  // Every named interface captured on so far (also those gone now: set to 0) and every
  // pattern-matched interface present now; the series of a name missing here are removed.
  std::vector<InterfaceSnapshot> interface_list;
  // nfm_interface_events_total{event="attached","detached","refused_limit","attach_failed"}.
  uint64_t iface_events[4] = {};
};

// Owns the registry, the metric families and (when addr is not empty) the HTTP server.
// Thread safety: Update, ObserveFlow and OnCsv* are called by one thread (the engine's);
// SetHealth may be called from any thread; scrapes run on the server's own threads.
class Metrics {
 public:
  // addr: "HOST:PORT" ("127.0.0.1:9477", "[::1]:9477", "0.0.0.0:9477"; port 0 = any free port).
  // Empty: no HTTP server, values are still kept (Render() works).
  // Throws std::runtime_error with a one-line message when the address is malformed or
  // cannot be bound, e.g. "metrics: cannot listen on 127.0.0.1:9477: Address already in use
  // (EADDRINUSE); use --metrics-addr to choose another address".
  Metrics(const std::string& addr, const BuildInfo& info);
  // Same, but returns nullptr and sets *error (one line) instead of throwing.
  static std::unique_ptr<Metrics> Create(const std::string& addr, const BuildInfo& info, std::string* error);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Refresh every engine- and kernel-derived value. kernel == nullptr: offline mode
  // (packets/bytes come from the engine and are labelled hook="pcap").
  void Update(const EngineStats& stats, const KernelSnapshot* kernel);
  // Live: kernel counters, ring fill, attach mode and health (attached/draining) from the
  // live source's status (e.g. from LiveOptions::on_tick on the drain thread).
  void Update(const EngineStats& stats, const live::LiveStatus& status);
  // Remember the live status; later Update(stats, nullptr) calls read it (may be null).
  void AttachLive(const live::LiveStatus* status);
  // One exported flow: feeds the duration/packets/bytes histograms.
  void ObserveFlow(const FlowSummary& flow);
  // Health as the capture source sees it (Update with a LiveStatus sets it too); /healthz is 200 only when both are true and
  // Update() was called within the last stale_after_s seconds (default 30).
  void SetHealth(bool attached, bool draining);
  void SetStaleAfter(double seconds);  // 0 disables the staleness check
  // CSV writer outcome: one successfully written row of `bytes` bytes / one failed write.
  void OnCsvRow(std::size_t bytes);
  void OnCsvError();
  void OnCsvRotate();  // a new CSV file was opened by size-based rotation
  // Shard workers (--threads > 1): per worker, finished flows queued for output (read by
  // the output thread, or by whichever worker holds the output lock) and busy seconds;
  // called by the thread that calls Update.
  struct WorkerLoad {
    double queue_depth = 0, busy_seconds = 0;
  };
  void UpdateWorkers(const std::vector<WorkerLoad>& workers);
  // IPFIX export; called from the exporters' sender threads (thread-safe).
  void OnIpfixRecords(bool sent, uint64_t n);
  void OnIpfixLost(uint64_t n);  // sent, then lost (nfm_ipfix_records_total{result="lost"})
  void OnIpfixMessage();
  void OnIpfixConnected(bool up);  // nfm_ipfix_connected counts destinations up

  // Port the server listens on (useful with port 0); 0 when disabled.
  int Port() const;
  // The text exposition of the registry (what /metrics shows, without exposer_* metrics).
  std::string Render() const;
  // The /healthz body and status code (200 or 503), as the HTTP handler answers.
  std::string HealthBody(int* status) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The exporter through which metrics observe finished flows (histograms; snapshot rows are
// not flows that ended and are left out). It only reads.
class FlowMetricsObserver : public FlowExporter {
 public:
  explicit FlowMetricsObserver(Metrics& metrics) : metrics_(metrics) {}
  void Export(const FlowView& flow) override;

 private:
  Metrics& metrics_;
};

}  // namespace nfm
