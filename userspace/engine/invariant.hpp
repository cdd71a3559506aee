// SPDX-License-Identifier: MIT
// NFM_INVARIANT(cond): a condition the engine's own code guarantees (a bug if false, never a
// property of the input). Checked in every build type, including release (unlike assert): on the
// per-packet and per-flow paths it costs one predicted branch, with the failure path out of
// line. A failure writes one line and aborts, so it can never turn into a log line per packet.
// Input that breaks an expectation is not an invariant: count it in EngineStats instead.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace nfm {

[[noreturn, gnu::cold, gnu::noinline]] inline void InvariantFailed(const char* cond, const char* file,
                                                                   int line) noexcept {
  std::fprintf(stderr, "nfm-xdp: internal error: %s:%d: invariant %s does not hold\n", file, line, cond);
  std::abort();
}

}  // namespace nfm

#define NFM_INVARIANT(cond) \
  ((cond) ? static_cast<void>(0) : ::nfm::InvariantFailed(#cond, __FILE__, __LINE__))
