// SPDX-License-Identifier: MIT
// Offline source: replays pcap/pcapng files (or stdin) through the flow engine, as one capture
// (CaptureSet: merged by timestamp). It owns the read/decode loop and the progress line; it
// knows nothing about CSV or metrics. The sharded (multi-threaded) replay is parallel/sharded_run.hpp.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "source/capture_set.hpp"
#include "source/decode.hpp"

namespace nfm {

class DigestCache;

struct OfflineOptions {
  std::string path;         // capture file, "-" = stdin (used when `paths` is empty)
  std::vector<std::string> paths;  // files and/or directories, read as one capture
  bool progress = false;    // print a progress line on stderr (when it is a terminal)
  bool progress_force = false;  // ... even when stderr is not a terminal
  // How frames become packets: strict (corrected profile) or as the profile's reference tool
  // decoded them (source/decode.hpp).
  DecodeMode decode = DecodeMode::kStrict;
  // Sharded replay, FlowEngine: the workers follow the reader's packet clock, so time ends
  // flows as in one engine. false: the profile ends flows only at their own packets.
  bool shared_clock = true;
  // Optional: one entry per input file (merge order), filled and kept current while reading
  // (CaptureSet::Open). With hash_input, each file's SHA-256 is computed from the bytes as they
  // are read; at the end of a file the unread rest (after a corrupt record) is hashed too; after
  // a stop signal only the bytes read (sha256_complete false). Single-threaded replay only.
  std::vector<InputProgress>* inputs = nullptr;
  bool hash_input = false;
  DigestCache* digest_cache = nullptr;  // with hash_input: digests remembered between runs
  TunnelConfig tunnels;       // --tunnel inner: the strict decoder opens overlay tunnels
};

// Reads a capture's framing to the end and returns its pcapng drop intervals (for the offline
// loss column, which must know them before the first flow ends). False with *error on failure.
bool ScanCaptureDrops(const std::string& path, std::vector<CaptureDrop>* drops, std::string* error);

struct OfflineResult {
  int exit_code = 0;        // 0 ok, 1 cannot open, 2 corrupt/truncated (flows still written)
  uint64_t records = 0;
  double seconds = 0.0;     // wall time of the replay
  std::string error;        // one line per failed file, empty on success
  std::string warning;      // e.g. clamped timestamps
};

// The inputs of `opts` (paths, else path).
std::vector<std::string> OfflineInputs(const OfflineOptions& opts);

// Reads every record, feeds the engine, flushes all open flows at the end (also after a
// corrupt record). Stops early when `stop` becomes true. Engine: anything with FlowEngine's
// packet interface (OnPacket, OnSkipped, PrefetchIndex, PrefetchFlow, Flush, Stats);
// offline.cpp instantiates it for each engine type.
template <class Engine>
OfflineResult RunOffline(const OfflineOptions& opts, Engine& engine, const std::atomic<bool>& stop);

}  // namespace nfm
