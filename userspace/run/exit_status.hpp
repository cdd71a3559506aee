// SPDX-License-Identifier: MIT
// Exit statuses (README "Exit status"). When several apply, the most severe wins, in this order:
// 1 (an output or input failed outright), 3 (a destination lacks records), 4 (the input was
// not read to its end), 2 (a capture is damaged; everything readable was processed).
#pragma once

namespace nfm {

constexpr int kExitFatal = 1;
constexpr int kExitExportIncomplete = 3;
constexpr int kExitInterrupted = 4;

inline int WorseStatus(int a, int b) {
  const auto rank = [](int rc) { return rc == 0 ? 0 : rc == 2 ? 1 : rc == kExitInterrupted ? 2 : rc == 3 ? 3 : 4; };
  return rank(b) > rank(a) ? b : a;
}

}  // namespace nfm
