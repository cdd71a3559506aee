// SPDX-License-Identifier: MIT
// libFuzzer target: the whole offline path on an in-memory capture file.
//  1. the input is written to a memfd; RunOffline (CaptureReader on the mmap'ed file ->
//     DecodePacket -> FlowEngine -> CSV rendering into a counting sink) runs on
//     /proc/self/fd/N once per profile (corrected: strict decode; nfm2022: scapy decode and
//     partial last record), with a small flow table and short timeouts so eviction and
//     every termination path are reached with few packets;
//  2. the input is fed through a pipe to CaptureReader::Open("-") (the streaming reader,
//     heap buffers: ASan sees overreads) and every record is decoded in both modes.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "source/capture_reader.hpp"
#include "source/decode.hpp"
#include "engine/engine.hpp"
#include "profile/profile_table.hpp"
#include "source/offline.hpp"
#include "output/csv_row.hpp"

#include <optional>

namespace {

// Renders every flow as the CSV exporter does and checks the row's shape.
class CountingSink : public nfm::FlowExporter {
 public:
  explicit CountingSink(const char* spec) : spec_(*nfm::fmt::FloatSpec::Parse(spec)) {}
  void Begin(nfm::Profile profile, const nfm::FeatureSet&) override {
    if (renderer_) __builtin_trap();  // exactly one Begin, before flows
    renderer_.emplace(profile, false, spec_);
    if (renderer_->HeaderLine().empty()) __builtin_trap();
  }
  void Export(const nfm::FlowView& v) override {
    if (!renderer_) __builtin_trap();
    const std::string_view r = renderer_->Render(v);
    if (r.size() < 2 || r[r.size() - 2] != '\r' || r.back() != '\n') __builtin_trap();
    bytes += r.size();
  }
  uint64_t bytes = 0;

 private:
  nfm::fmt::FloatSpec spec_;
  std::optional<nfm::CsvRowRenderer> renderer_;
};

bool WriteAll(int fd, const uint8_t* p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w <= 0) return false;
    p += w;
    n -= size_t(w);
  }
  return true;
}

void RunProfiles(const std::string& path) {
  static const std::atomic<bool> stop{false};
  for (nfm::Profile prof : {nfm::Profile::kCorrected, nfm::Profile::kNfm2022}) {
    nfm::EngineConfig cfg;
    cfg.profile = prof;
    nfm::ApplyProfileDefaults(cfg, true, true, false);
    cfg.idle_timeout_s = 2.0;
    cfg.active_timeout_s = 10.0;
    cfg.max_flows = 8;
    CountingSink sink(prof == nfm::Profile::kCorrected ? "" : ".64f");
    nfm::FlowEngine engine(cfg);
    engine.AddExporter(sink);
    nfm::OfflineOptions o;
    o.path = path;
    o.decode = prof != nfm::Profile::kCorrected ? nfm::DecodeMode::kScapy2022 : nfm::DecodeMode::kStrict;
    nfm::OfflineResult r = nfm::RunOffline(o, engine, stop);
    if (r.exit_code != 0 && r.error.empty()) __builtin_trap();  // failures must say why
    if (r.exit_code != 0 && r.error.find('\n') != std::string::npos) __builtin_trap();  // one line
    const nfm::EngineStats& st = engine.Stats();
    if (st.flows_active != 0) __builtin_trap();  // RunOffline flushes everything
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // 1. mmap'ed file path, both profiles.
  static int mfd = memfd_create("fuzz_capture", 0);
  if (mfd < 0 || ftruncate(mfd, 0) != 0 || lseek(mfd, 0, SEEK_SET) != 0 || !WriteAll(mfd, data, size)) abort();
  RunProfiles("/proc/self/fd/" + std::to_string(mfd));

  // 2. Streaming reader through a pipe on stdin (inputs up to the pipe size; libFuzzer's
  // default -max_len is far below it).
  int p[2];
  if (pipe(p) != 0) abort();
  if (size > 65536) fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
  const bool fits = size <= size_t(fcntl(p[1], F_GETPIPE_SZ)) && size > 0 && (data[size - 1] & 3) == 0;
  if (fits && WriteAll(p[1], data, size)) {
    close(p[1]);
    if (dup2(p[0], 0) < 0) abort();
    close(p[0]);
    std::string err;
    auto reader = nfm::CaptureReader::Open("-", &err);
    if (reader) {
      reader->SetDeliverPartialRecord(size & 1);
      nfm::RawPacket raw;
      while (reader->Next(&raw) == 1) {
        nfm::PacketMeta meta;
        nfm::DecodePacket(raw.link_type, raw.data, raw.cap_len, raw.wire_len, &meta, nfm::DecodeMode::kStrict);
        nfm::DecodePacket(raw.link_type, raw.data, raw.cap_len, raw.wire_len, &meta, nfm::DecodeMode::kScapy2022);
      }
    } else if (err.empty() || err.find('\n') != std::string::npos) {
      __builtin_trap();
    }
    reader.reset();
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    close(devnull);
  } else {
    close(p[0]);
    close(p[1]);
  }
  return 0;
}
