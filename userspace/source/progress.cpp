// SPDX-License-Identifier: MIT
// ProgressLine: throttled "\r...\033[K" status line on a terminal's stderr.
#include "source/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace nfm {

namespace {
void Size(char* b, size_t n, double v) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (v >= 1000.0 && u < 4) {
    v /= 1000.0;
    ++u;
  }
  std::snprintf(b, n, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
}
}  // namespace

void FormatProgress(char* buf, size_t n, uint64_t bytes_done, uint64_t total_bytes, uint64_t packets,
                    double seconds, uint64_t open_flows) {
  char done[32], total[32], eta[32] = "";
  Size(done, sizeof done, static_cast<double>(bytes_done));
  const double rate = seconds > 0 ? static_cast<double>(packets) / seconds : 0.0;
  if (total_bytes == 0) {
    std::snprintf(buf, n, "%s  %.2f Mpkt/s  %llu open flows", done, rate / 1e6,
                  static_cast<unsigned long long>(open_flows));
    return;
  }
  Size(total, sizeof total, static_cast<double>(total_bytes));
  const double frac = bytes_done >= total_bytes ? 1.0 : static_cast<double>(bytes_done) / static_cast<double>(total_bytes);
  if (frac > 0 && seconds > 0) {
    const double left = seconds * (1.0 - frac) / frac;
    const unsigned long long s = static_cast<unsigned long long>(left + 0.5);
    if (s >= 3600)
      std::snprintf(eta, sizeof eta, "  ETA %llu:%02llu:%02llu", s / 3600, s / 60 % 60, s % 60);
    else
      std::snprintf(eta, sizeof eta, "  ETA %llu:%02llu", s / 60, s % 60);
  }
  std::snprintf(buf, n, "[%5.1f%%] %s of %s  %.2f Mpkt/s  %llu open flows%s", 100.0 * frac, done, total,
                rate / 1e6, static_cast<unsigned long long>(open_flows), eta);
}

ProgressLine::ProgressLine(bool enabled, bool force, uint64_t total_bytes)
    : on_(enabled && (force || isatty(STDERR_FILENO))), total_(total_bytes) {
  start_ = std::chrono::steady_clock::now();
  last_ = start_ - std::chrono::milliseconds(250);  // the first Update prints
}

void ProgressLine::Update(uint64_t bytes_done, uint64_t packets, uint64_t open_flows, bool final) {
  if (!on_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!final && now - last_ < std::chrono::milliseconds(250)) return;
  last_ = now;
  char line[192];
  FormatProgress(line, sizeof line, bytes_done, total_, packets,
                 std::chrono::duration<double>(now - start_).count(), open_flows);
  std::fprintf(stderr, "\r%s\033[K", line);
  std::fflush(stderr);
  shown_ = true;
}

void ProgressLine::Clear() {
  if (shown_) std::fprintf(stderr, "\r\033[K");
  shown_ = false;
}

}  // namespace nfm
