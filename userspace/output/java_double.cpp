// SPDX-License-Identifier: MIT
// Java Double.toString layout over the shortest round-trip digits of std::to_chars.
#include "output/java_double.hpp"

#include <charconv>
#include <cmath>
#include <cstring>

namespace nfm::fmt {

char* WriteJavaDouble(char* p, double x) noexcept {
  if (std::isnan(x)) {
    std::memcpy(p, "NaN", 3);
    return p + 3;
  }
  if (std::signbit(x)) {
    *p++ = '-';
    x = -x;
  }
  if (std::isinf(x)) {
    std::memcpy(p, "Infinity", 8);
    return p + 8;
  }
  if (x == 0.0) {
    std::memcpy(p, "0.0", 3);
    return p + 3;
  }
  // Shortest digits in scientific form: d[.ddd]e[+-]XX.
  char buf[40];
  const auto r = std::to_chars(buf, buf + sizeof(buf), x, std::chars_format::scientific);
  const char* end = r.ptr;
  const char* e = static_cast<const char*>(std::memchr(buf, 'e', static_cast<size_t>(end - buf)));
  char digits[20];
  int n = 0;
  for (const char* q = buf; q < e; ++q) {
    if (*q != '.') digits[n++] = *q;
  }
  int exp = 0;
  std::from_chars(e + 1 + (e[1] == '+'), end, exp);
  if (x >= 1e-3 && x < 1e7) {
    if (exp >= 0) {
      for (int i = 0; i <= exp; ++i) *p++ = i < n ? digits[i] : '0';
      *p++ = '.';
      if (n > exp + 1) {
        for (int i = exp + 1; i < n; ++i) *p++ = digits[i];
      } else {
        *p++ = '0';
      }
    } else {
      *p++ = '0';
      *p++ = '.';
      for (int i = 0; i < -exp - 1; ++i) *p++ = '0';
      for (int i = 0; i < n; ++i) *p++ = digits[i];
    }
    return p;
  }
  *p++ = digits[0];
  *p++ = '.';
  if (n > 1) {
    for (int i = 1; i < n; ++i) *p++ = digits[i];
  } else {
    *p++ = '0';
  }
  *p++ = 'E';
  const auto r2 = std::to_chars(p, p + 8, exp);
  return r2.ptr;
}

void AppendJavaDouble(std::string& out, double x) {
  char buf[kMaxJavaDoubleChars];
  out.append(buf, WriteJavaDouble(buf, x));
}

}  // namespace nfm::fmt
