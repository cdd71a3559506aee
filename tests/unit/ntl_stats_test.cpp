// SPDX-License-Identifier: MIT
// ntl_stats: NumPy/SciPy/statistics arithmetic of NTLFlowLyzer's list statistics, with values
// computed by hand (each case says how).
#include "engine/ntl/ntl_stats.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace nfm::ntl {
namespace {

constexpr double k53 = 9007199254740992.0;  // 2^53: 2^53 + 1 rounds back to 2^53 (tie to even)

TEST(NtlStats, PairwiseSumUsesEightAccumulators) {
  // n = 9: ((a0+a1)+(a2+a3)) + ((a4+a5)+(a6+a7)) + a8 = (2^53 + 2) - 2^53 = 2; a left-to-right
  // sum loses both ones against 2^53 and gives 0.
  const double a[9] = {k53, 0, 1, 1, 0, 0, 0, 0, -k53};
  EXPECT_EQ(PairwiseSum(a, 9), 2.0);
  // n < 8: left to right: (1 + 2^53) = 2^53, - 2^53 = 0.
  const double b[3] = {1, k53, -k53};
  EXPECT_EQ(PairwiseSum(b, 3), 0.0);
}

TEST(NtlStats, NpSumReducesIn8192ElementChunks) {
  // 2^53 first, ones at positions 8191 and 8192. One pairwise pass over all 8193 elements
  // would add the two ones together (right half) before meeting 2^53: 2^53 + 2. numpy sums
  // chunk 1 (2^53 + 1 -> 2^53) and then adds chunk 2 (+1 -> 2^53): 2^53.
  std::vector<double> a(8193, 0.0);
  a[0] = k53;
  a[8191] = 1;
  a[8192] = 1;
  EXPECT_EQ(NpSum(a.data(), a.size()), k53);
  EXPECT_EQ(PairwiseSum(a.data(), a.size()), k53 + 2);
}

TEST(NtlStats, MedianOddEvenAndFloatSum) {
  const double odd[3] = {1, 2, 3};
  EXPECT_EQ(MedianSorted(odd, 3), 2.0);
  const double even[4] = {1, 2, 3, 10};
  EXPECT_EQ(MedianSorted(even, 4), 2.5);  // (2 + 3) / 2
  // Floats: the middle two are added in double first: 0.1 + 0.2 = 0.30000000000000004, / 2.
  const double f[2] = {0.1, 0.2};
  EXPECT_EQ(MedianSorted(f, 2), 0.15000000000000002);
}

TEST(NtlStats, SkewnessAndItsGuard) {
  double s[8];
  // {0, 0, 3}: mean 1, deviations -1 -1 2: m2 = 6/3 = 2, m3 = 6/3 = 2, 2 / 2^1.5 = 1/RN(sqrt 2)
  // = 0.70710678118654746 (one ulp below RN(1/sqrt 2)).
  const double a[3] = {0, 0, 3};
  EXPECT_EQ(Skew(a, 3, s), 0.7071067811865475);
  // Symmetric: m3 = 0.
  const double b[3] = {1, 2, 3};
  EXPECT_EQ(Skew(b, 3, s), 0.0);
  // Guard: m2 = 0 <= (1e-15 * mean)^2 -> NaN (all equal, one value, empty).
  const double c[3] = {7, 7, 7};
  EXPECT_TRUE(std::isnan(Skew(c, 3, s)));
  EXPECT_TRUE(std::isnan(Skew(c, 1, s)));
  EXPECT_TRUE(std::isnan(Skew(c, 0, s)));
  // Mean 0 and m2 > 0: the guard is 0, m2 > 0 passes: {-1, 1} -> m3 = 0 -> 0.
  const double d[2] = {-1, 1};
  EXPECT_EQ(Skew(d, 2, s), 0.0);
}

TEST(NtlStats, CoefficientOfVariation) {
  double s[8];
  const double a[2] = {2, 4};  // mean 3, std 1
  EXPECT_EQ(Variation(a, 2, s), 1.0 / 3.0);
  const double zero_mean[2] = {-1, 1};  // std 1 / mean 0
  EXPECT_EQ(Variation(zero_mean, 2, s), INFINITY);
  const double zeros[2] = {0, 0};  // 0 / 0
  EXPECT_TRUE(std::isnan(Variation(zeros, 2, s)));
  const double neg[2] = {-2, -4};  // 1 / -3
  EXPECT_EQ(Variation(neg, 2, s), -1.0 / 3.0);
  const double one_neg[1] = {-12};  // 0 / -12 = -0 (the reference prints "-0")
  const double r = Variation(one_neg, 1, s);
  EXPECT_EQ(r, 0.0);
  EXPECT_TRUE(std::signbit(r));
  EXPECT_TRUE(std::isnan(Variation(a, 0, s)));
}

TEST(NtlStats, ModeTiesToTheSmallest) {
  const double a[5] = {1, 1, 2, 3, 3};  // 1 and 3 twice: the smallest
  EXPECT_EQ(ModeSorted(a, 5), 1.0);
  const double b[4] = {-5, 2, 2, 9};
  EXPECT_EQ(ModeSorted(b, 4), 2.0);
  const double c[1] = {2.5};
  EXPECT_EQ(ModeSorted(c, 1), 2.5);
}

TEST(NtlStats, DatetimeMicrosRoundsTheFraction) {
  EXPECT_EQ(DatetimeMicros(1.5), 1500000);
  EXPECT_EQ(DatetimeMicros(1262893114.474342), 1262893114474342);  // sec + usec / 1e6 round trips
  // 0.9999996 s: 999999.6 us rounds to 1000000: carried into the seconds.
  EXPECT_EQ(DatetimeMicros(0.9999996), 1000000);
  // A fraction of exactly 0.5 us (2^-21 s = 0.476837158203125 us rounds down; 1.5 * 2^-20 s =
  // 1.430511474609375 us rounds down; 2.5 us is not exact in binary): plain nearest here.
  EXPECT_EQ(DatetimeMicros(1.0 + 1.5 / 1048576.0), 1000001);
}

}  // namespace
}  // namespace nfm::ntl
