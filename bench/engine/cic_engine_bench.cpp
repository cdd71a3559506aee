// SPDX-License-Identifier: MIT
// cic_engine_bench: CicEngine + CIC row text alone (no capture reading in the timed loop).
// Decodes CAPTURE once as CICFlowMeter does, then replays it LOOPS times (each copy shifted by
// the capture span + 200 s) through the engine in profile cic and in the corrected CIC set,
// rendering every row. Prints packets/s per profile. Not run by CTest.
//   usage: cic_engine_bench CAPTURE [LOOPS=400]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/cic/cic_engine.hpp"
#include "output/cic_row.hpp"
#include "profile/profile_table.hpp"
#include "source/capture_reader.hpp"
#include "source/decode.hpp"

namespace {

class RowSink : public nfm::FlowExporter {
 public:
  void Export(const nfm::FlowView& v) override {
    row_.clear();
    nfm::AppendCicRow(row_, v, false);
    bytes += row_.size();
  }
  size_t bytes = 0;

 private:
  std::string row_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: cic_engine_bench CAPTURE [LOOPS=400]\n");
    return 1;
  }
  const int loops = argc > 2 ? std::atoi(argv[2]) : 400;
  std::string err;
  auto reader = nfm::CaptureReader::Open(argv[1], &err);
  if (!reader) {
    std::fprintf(stderr, "cic_engine_bench: %s\n", err.c_str());
    return 1;
  }
  std::vector<nfm::PacketMeta> packets;
  nfm::RawPacket raw;
  nfm::PacketMeta m;
  while (reader->Next(&raw) == 1) {
    if (nfm::DecodePacket(raw.link_type, raw.data, raw.cap_len, raw.wire_len, &m, nfm::DecodeMode::kCic) ==
        nfm::DecodeStatus::kOk) {
      m.ts_ns = raw.ts_ns;
      packets.push_back(m);
    }
  }
  if (packets.empty()) {
    std::fprintf(stderr, "cic_engine_bench: no IPv4 packet in %s\n", argv[1]);
    return 1;
  }
  const uint64_t span = packets.back().ts_ns - packets.front().ts_ns + 200000000000ull;
  for (nfm::Profile profile : {nfm::Profile::kCic, nfm::Profile::kCorrected}) {
    nfm::EngineConfig cfg;
    cfg.profile = profile;
    nfm::ApplyProfileDefaults(cfg, false, false, false);
    nfm::CicEngine engine(cfg);
    RowSink sink;
    engine.AddExporter(sink);
    const auto t0 = std::chrono::steady_clock::now();
    for (int l = 0; l < loops; ++l) {
      for (nfm::PacketMeta p : packets) {
        p.ts_ns += static_cast<uint64_t>(l) * span;
        engine.OnPacket(p);
      }
    }
    engine.Flush();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double n = static_cast<double>(packets.size()) * loops;
    std::printf("%-13s %.0f packets, %.3f s, %.2f M pkt/s, %zu row bytes\n",
                profile == nfm::Profile::kCic ? "cic" : "corrected-cic", n, s, n / s / 1e6, sink.bytes);
  }
  return 0;
}
