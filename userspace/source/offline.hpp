// SPDX-License-Identifier: MIT
// Offline source: replays a pcap/pcapng file (or stdin) through the flow engine.
// It owns the read/decode loop and the progress line; it knows nothing about CSV or metrics.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "source/capture_reader.hpp"

namespace nfm {

// What the replay knows about its input, kept current while reading (for manifests written
// when a rotated output part closes mid-run). Updated on the replay thread only.
struct InputProgress {
  std::string path;
  std::string format;
  uint64_t size = 0;
  uint64_t records = 0;
  bool have_times = false;
  uint64_t first_ns = 0, last_ns = 0;  // earliest / latest record time so far
  std::string sha256;                   // set at the end of input (see hash_input)
  uint64_t sha256_bytes = 0;
  bool sha256_complete = false;
  std::vector<CaptureDrop> drops;       // pcapng ISB drop intervals read so far
};

struct OfflineOptions {
  std::string path;         // capture file, "-" = stdin
  bool progress = false;    // print a progress line on stderr (when it is a terminal)
  bool scapy_decode = false;  // decode IPv4 as NetFlowMeter 2022 did (nfm2022 profiles)
  bool cic_decode = false;    // decode as CICFlowMeter master did (profile cic, CIC.md §1)
  // Optional: filled and kept current while reading. With hash_input, the SHA-256 of the input
  // is computed from the bytes as they are read; at the end of input the unread rest (after a
  // corrupt record) is hashed too; after a stop signal only the bytes read (sha256_complete false).
  InputProgress* info = nullptr;
  bool hash_input = false;
  bool dpkt_decode = false;   // decode frames as NTLFlowLyzer's dpkt did (ntl profile)
};

// Reads a capture's framing to the end and returns its pcapng drop intervals (for the offline
// loss column, which must know them before the first flow ends). False with *error on failure.
bool ScanCaptureDrops(const std::string& path, std::vector<CaptureDrop>* drops, std::string* error);

struct OfflineResult {
  int exit_code = 0;        // 0 ok, 1 cannot open, 2 corrupt/truncated (flows still written)
  uint64_t records = 0;
  double seconds = 0.0;     // wall time of the replay
  std::string error;        // one line, empty on success
  std::string warning;      // e.g. clamped timestamps
};

// Reads every record, feeds the engine, flushes all open flows at the end (also after a
// corrupt record). Stops early when `stop` becomes true. Engine: anything with FlowEngine's
// packet interface (OnPacket, OnSkipped, PrefetchIndex, PrefetchFlow, Flush, Stats);
// offline.cpp instantiates it for each engine type.
template <class Engine>
OfflineResult RunOffline(const OfflineOptions& opts, Engine& engine, const std::atomic<bool>& stop);

}  // namespace nfm
