// SPDX-License-Identifier: MIT
// Pieces the single-threaded and the sharded offline replay share: decode status -> skip
// reason, the unsupported-link census and the end-of-run result (errors per file, warnings).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "engine/engine.hpp"
#include "source/capture_set.hpp"
#include "source/decode.hpp"
#include "source/offline.hpp"

namespace nfm {

SkipReason ToSkip(DecodeStatus s);

struct LinkCensus {
  uint64_t unsupported = 0;
  uint32_t first_link = 0;
  std::string first_path;
  void Count(uint32_t link, const CaptureSet& set) {
    if (unsupported++ == 0) {
      first_link = link;
      first_path = set.CurrentPath();
    }
  }
};

// Opens the run's inputs (OfflineInputs(opts)) as one capture set, delivering cut records as
// the scapy/dpkt-emulating decoders expect. `manifest`: record per-file progress and hashes
// into opts.inputs as opts.hash_input says (false: a second reader of the same files). On
// failure: null, with res.exit_code 1 and res.error set.
std::unique_ptr<CaptureSet> OpenInputs(const OfflineOptions& opts, bool manifest, OfflineResult& res);

// Sets res.error/exit_code (2 when a file was corrupt or truncated) and res.warning.
void FinishResult(const CaptureSet& set, const LinkCensus& links, OfflineResult& res);

}  // namespace nfm
