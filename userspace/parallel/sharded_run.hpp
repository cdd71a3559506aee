// SPDX-License-Identifier: MIT
// Sharded offline replay: the captures are read and decoded in batches that feed N shard
// workers, each with its own engine (FlowEngine, CicEngine or NtlEngine; capacity
// max_flows / N); their finished flows reach the exporters through one ordered merge
// (FlowMerger). With 2 or more workers there are no other threads: a worker about to run out
// of input reads the next batches, and a worker whose flow queue fills (or that has just
// finished a batch) runs the merge, each under a lock taken only by try_lock (cooperative
// mode; on 2 CPUs 1.8x the one-thread rate where 4 threads managed 1.2x: docs/PERFORMANCE.md).
// One worker runs with a reader thread (the caller's) and an output thread (pipelined);
// NFM_SHARD_READ=pipelined forces that for any N.
// Sharding is by a hash of the flow's unordered (address, port) pair and protocol (FlowEngine:
// its canonical key hash), so both directions of a flow meet in one worker. Time is packet
// time: every input entry carries the reader's watermark (the latest packet time so far), which
// every FlowEngine worker applies in input order, so timeouts end flows exactly as with one
// engine (the CIC reference and NTL end flows only on their own packets: no clock). The
// nfm2022 profiles' loose lookup and the corrected CIC set's sweeps cannot be sharded
// (docs/ARCHITECTURE.md "Threads"): they run one worker (pipelined with reader and writer;
// the worker limit of each profile is in profile/profile_table.hpp).
// With NFM_SHARD_READ=replicated in the environment (files only), there is no reader thread:
// every worker reads and decodes the whole input itself and keeps its shard's entries. The
// entries, tags and so the output are the same; it trades N-fold decoding for no hand-off
// (faster when the engine dominates, slower when decoding does: docs/PERFORMANCE.md "Threads").
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "engine/engine.hpp"
#include "engine/ntl/ntl_engine.hpp"
#include "source/offline.hpp"

namespace nfm {

// Live view of the workers for metrics and the progress line (updated once per batch).
struct ShardGauges {
  unsigned workers = 0;
  std::atomic<uint64_t> open_flows[64] = {};
  std::atomic<uint64_t> out_queue_depth[64] = {};  // finished flows not yet exported
  std::atomic<uint64_t> busy_ns[64] = {};          // time spent processing batches
  std::atomic<uint64_t> in_queue_depth{0};         // input batches published, not yet consumed by all
  // CPU seconds each thread used (RUSAGE_THREAD), set when the run ends: the reader (the
  // caller's thread), the workers and the output thread. The slowest one bounds the rate.
  double cpu_reader_s = 0, cpu_output_s = 0;
  double cpu_worker_s[64] = {};
  // Times each thread had to wait (set when the run ends): the reader for ring space, the
  // output thread for flows, each worker for input and for room in its flow queue.
  uint64_t reader_waits = 0, output_waits = 0;
  uint64_t worker_input_waits[64] = {}, worker_output_waits[64] = {};
};

// CPUs in this process's affinity mask (taskset, cgroup cpusets), at least 1.
unsigned AvailableCpus();

// Replays like RunOffline with `workers` shard workers (>= 1; 64 at most). `exporters` must
// have had Begin already (e.g. from FlowEngine::AddExporter of the caller's engine). Exporters see every
// finished flow on the output thread, in an order that depends only on the input and the
// worker count (with 1 worker: the single-threaded order). *total: the workers' stats summed.
// The configuration type of each engine.
template <class Engine>
struct ShardConfig {
  using type = EngineConfig;  // FlowEngine, CicEngine
};
template <>
struct ShardConfig<NtlEngine> {
  using type = NtlConfig;
};

// The same for any engine (instantiated for FlowEngine, CicEngine and NtlEngine). With
// NtlEngine, *ntl_total gets the workers' NtlStats (capped_flows summed; list_bytes_peak is the
// sum of the workers' peaks: an upper bound of the peak of the whole process).
template <class Engine>
OfflineResult RunOfflineSharded(const OfflineOptions& opts, const typename ShardConfig<Engine>::type& cfg,
                                unsigned workers, const std::vector<FlowExporter*>& exporters,
                                const std::atomic<bool>& stop, EngineStats* total, ShardGauges* gauges = nullptr,
                                NtlStats* ntl_total = nullptr);

// FlowEngine (corrected, nfm2022 profiles, --feature-set ntl).
inline OfflineResult RunOfflineSharded(const OfflineOptions& opts, const EngineConfig& cfg, unsigned workers,
                                       const std::vector<FlowExporter*>& exporters, const std::atomic<bool>& stop,
                                       EngineStats* total, ShardGauges* gauges = nullptr) {
  return RunOfflineSharded<FlowEngine>(opts, cfg, workers, exporters, stop, total, gauges);
}

// Sums engine stats (table_capacity too).
void AddStats(EngineStats& to, const EngineStats& s);

}  // namespace nfm
