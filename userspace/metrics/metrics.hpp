// SPDX-License-Identifier: MIT
// Prometheus metrics of the agent (prometheus-cpp, pull): a fixed set of low-cardinality
// families registered once at construction, an HTTP exposer for /metrics, and /healthz +
// /livez answered on the same port. Flow tuples and addresses are never labels.
// Metrics only observe: offline, the engine's thread pushes its totals (Update); live, the
// live source publishes KernelSnapshots on KernelBoard() and every scrape reads the latest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "metrics/kernel_snapshot.hpp"

namespace nfm {

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
  std::string attach_mode = "none";  // "native", "skb", ...; offline: "none". Live: replaced by KernelSnapshot::attach_mode
};

// Owns the registry, the metric families, the live snapshot board and (when addr is not
// empty) the HTTP server.
// Thread safety: Update, UpdateWorkers, ObserveFlow and OnCsv* are called by one thread (the
// engine's); KernelBoard() is published to by the live source's drain thread; SetHealth may
// be called from any thread; scrapes, Render() and HealthBody() run on any thread.
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

  // Offline: refresh every engine-derived value (packets/bytes come from the engine and are
  // labelled hook="pcap").
  void Update(const EngineStats& stats);
  // Live: the one way kernel state, interface state, health and the drain workers' engine
  // totals reach the metrics. The live source publishes a KernelSnapshot here every drain
  // tick (threading rule: kernel_snapshot.hpp); each scrape, Render() and /healthz read the
  // latest one. Lives as long as this object.
  KernelSnapshotBoard& KernelBoard();
  // One exported flow: feeds the duration/packets/bytes histograms.
  void ObserveFlow(const FlowSummary& flow);
  // Health as the offline source sees it; /healthz is 200 only when both are true and Update()
  // was called within the last stale_after_s seconds (default 30). Once a KernelSnapshot is
  // published, its attached/draining and publication time are the health instead.
  void SetHealth(bool attached, bool draining);
  void SetStaleAfter(double seconds);  // 0 disables the staleness check
  // CSV writer outcome: one successfully written row of `bytes` bytes / one failed write.
  void OnCsvRow(std::size_t bytes);
  void OnCsvError();
  void OnCsvRotate();  // a new CSV file was opened by size-based rotation
  // Offline shard workers (--threads > 1): per worker, finished flows queued for output and
  // busy seconds; called by the thread that calls Update. Live: KernelSnapshot::workers.
  using WorkerLoad = nfm::WorkerLoad;
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
