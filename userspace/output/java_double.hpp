// SPDX-License-Identifier: MIT
// Java's Double.toString text of a double, as CICFlowMeter's CSV shows it (CIC.md §6.2):
// shortest round-trip digits laid out as Java does (plain for 1e-3 <= |x| < 1e7 with at least
// one fraction digit, else d.dddE<exp>), "NaN", "Infinity", "-Infinity", "-0.0". It does not
// emulate the pre-JDK-19 FloatingDecimal digit choice (extreme values only, see the spec).
#pragma once

#include <string>

namespace nfm::fmt {

inline constexpr int kMaxJavaDoubleChars = 32;
// Writes at p (room for kMaxJavaDoubleChars) and returns the end.
char* WriteJavaDouble(char* p, double x) noexcept;
void AppendJavaDouble(std::string& out, double x);

}  // namespace nfm::fmt
