// SPDX-License-Identifier: MIT
// Test tool for java_double_oracle.py: reads one double per line as 16 hex digits (its IEEE bits)
// and prints "<hex> <text>" with nfm's Java Double.toString rendering (output/java_double).
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>

#include "output/java_double.hpp"

int main() {
  char hex[64];
  std::string s;
  while (std::scanf("%63s", hex) == 1) {
    const uint64_t bits = std::strtoull(hex, nullptr, 16);
    double d;
    std::memcpy(&d, &bits, sizeof d);
    s.clear();
    nfm::fmt::AppendJavaDouble(s, d);
    std::printf("%s %s\n", hex, s.c_str());
  }
  return 0;
}
