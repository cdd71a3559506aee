// SPDX-License-Identifier: MIT
// Pieces the single-threaded and the sharded offline replay share: decode status -> skip
// reason, the unsupported-link census and the end-of-run result (errors per file, warnings).
#pragma once

#include <cstdint>
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

// Sets res.error/exit_code (2 when a file was corrupt or truncated) and res.warning.
void FinishResult(const CaptureSet& set, const LinkCensus& links, OfflineResult& res);

}  // namespace nfm
