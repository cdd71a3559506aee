// SPDX-License-Identifier: MIT
// NumPy/SciPy/statistics arithmetic of NTLFlowLyzer's list statistics, reproduced operation
// by operation (see ntl_stats.hpp). Checked against numpy 1.24 / scipy 1.10 on random lists.
#include "engine/ntl/ntl_stats.hpp"

#include <cmath>
#include <limits>

namespace nfm::ntl {

double PairwiseSum(const double* a, size_t n) noexcept {
  if (n < 8) {
    double res = 0.0;
    for (size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    size_t i = 8;
    for (; i < n - (n % 8); i += 8)
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  size_t n2 = n / 2;
  n2 -= n2 % 8;
  return PairwiseSum(a, n2) + PairwiseSum(a + n2, n - n2);
}

double NpSum(const double* a, size_t n) noexcept {
  constexpr size_t kBuffer = 8192;  // numpy's default ufunc buffer size
  double res = 0.0;
  for (size_t k = 0; k < n; k += kBuffer) res += PairwiseSum(a + k, n - k < kBuffer ? n - k : kBuffer);
  return res;
}

double NpMean(const double* a, size_t n) noexcept {
  if (n == 0) return std::numeric_limits<double>::quiet_NaN();
  return NpSum(a, n) / static_cast<double>(n);
}

double Skew(const double* a, size_t n, double* scratch) noexcept {
  if (n == 0) return std::numeric_limits<double>::quiet_NaN();
  const double mean = NpMean(a, n);
  for (size_t i = 0; i < n; ++i) {
    const double d = a[i] - mean;
    scratch[i] = d * d;
  }
  const double m2 = NpSum(scratch, n) / static_cast<double>(n);
  for (size_t i = 0; i < n; ++i) {
    const double d = a[i] - mean;
    scratch[i] = (d * d) * d;
  }
  const double m3 = NpSum(scratch, n) / static_cast<double>(n);
  const double g = 1e-15 * mean;
  if (m2 <= g * g) return std::numeric_limits<double>::quiet_NaN();
  return m3 / std::pow(m2, 1.5);
}

double Variation(const double* a, size_t n, double* scratch) noexcept {
  if (n == 0) return std::numeric_limits<double>::quiet_NaN();
  const double mean = NpMean(a, n);
  for (size_t i = 0; i < n; ++i) {
    const double d = a[i] - mean;
    scratch[i] = d * d;
  }
  const double std = std::sqrt(NpSum(scratch, n) / static_cast<double>(n));
  return std / mean;  // IEEE: x/0 = +-inf, 0/0 = NaN, as numpy with errstate ignored
}

double ModeSorted(const double* s, size_t n) noexcept {
  double best = s[0];
  size_t best_n = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    while (j < n && s[j] == s[i]) ++j;
    if (j - i > best_n) {  // strictly greater: the first (smallest) value wins ties
      best_n = j - i;
      best = s[i];
    }
    i = j;
  }
  return best;
}

double MedianSorted(const double* s, size_t n) noexcept {
  if (n % 2 == 1) return s[n / 2];
  return (s[n / 2 - 1] + s[n / 2]) / 2.0;
}

int64_t DatetimeMicros(double ts) noexcept {
  double intpart;
  double frac = std::modf(ts, &intpart);
  frac *= 1e6;
  double r = std::round(frac);
  if (std::fabs(frac - r) == 0.5) r = 2.0 * std::round(frac / 2.0);
  if (r >= 1e6) {
    r -= 1e6;
    intpart += 1.0;
  } else if (r < 0) {
    r += 1e6;
    intpart -= 1.0;
  }
  return static_cast<int64_t>(intpart) * 1000000 + static_cast<int64_t>(r);
}

}  // namespace nfm::ntl
