// SPDX-License-Identifier: MIT
// ProgressLine: the offline replay's one-line status on stderr, rewritten in place at most
// 4 times a second: bytes done of the total over all input files, packets/s, open flows, ETA.
// Off unless enabled AND (stderr is a terminal or forced). Called from one thread (the reader's).
#pragma once

#include <chrono>
#include <cstdint>

namespace nfm {

class ProgressLine {
 public:
  // total_bytes 0: unknown (stdin): no percentage or ETA. force: even when not a terminal.
  ProgressLine(bool enabled, bool force, uint64_t total_bytes);
  ~ProgressLine() { Clear(); }
  bool On() const noexcept { return on_; }
  // Cheap when called often: it reads the clock and prints only every 250 ms (final: now).
  void Update(uint64_t bytes_done, uint64_t packets, uint64_t open_flows, bool final = false);
  void Clear();  // erase the line (before other stderr output and at the end)

 private:
  bool on_;
  bool shown_ = false;
  uint64_t total_;
  std::chrono::steady_clock::time_point start_, last_;
};

// The line's text (for tests): "[ 42.0%] 1.2 of 2.9 GB  3.10 Mpkt/s  8532 open flows  ETA 0:41".
// Writes at most n-1 chars into buf.
void FormatProgress(char* buf, size_t n, uint64_t bytes_done, uint64_t total_bytes, uint64_t packets,
                    double seconds, uint64_t open_flows);

}  // namespace nfm
