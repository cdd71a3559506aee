// SPDX-License-Identifier: MIT
// Exact statistics with O(1) state (spec §5.1, §6.5): population mean, variance and standard
// deviation computed from exact running sums and rounded ONCE to the nearest double, as
// Python 3.11's `statistics` module does. Also the 28-digit Decimal mean/std of the 2022
// active/idle lists. No heap allocation; Add() is cheap enough for the per-packet path.
#pragma once

#include <cstdint>

#include "engine/decimal.hpp"

namespace nfm::exact {

// RN(num / den): the exact quotient rounded once to the nearest double (ties to even).
// den > 0. E.g. RatioToDouble(d_ns, 1000000000) turns an exact nanosecond difference into
// seconds exactly as Python's float(Decimal) / Fraction would.
double RatioToDouble(__int128 num, unsigned __int128 den) noexcept;
// RN(sqrt(num / den)), den > 0 (0 for num == 0): what PStd rounds.
double SqrtRatioToDouble(unsigned __int128 num, unsigned __int128 den) noexcept;

// RN(ns / 1e9): seconds of an integer nanosecond count, one correct rounding.
inline double NsToSeconds(int64_t ns) noexcept {
  if (ns > -(int64_t{1} << 53) && ns < (int64_t{1} << 53))
    return static_cast<double>(ns) / 1e9;  // both operands exact: one correct rounding
  return RatioToDouble(ns, 1000000000);
}

// Test hooks: the same roundings through the big-integer kernel only, without the
// hardware fast paths (IEEE double division, x87 extended division/sqrt with a guard band)
// that RatioToDouble / SqrtRatioToDouble try first.
namespace detail {
double RatioToDoubleBig(__int128 num, unsigned __int128 den) noexcept;
double SqrtRatioToDoubleBig(unsigned __int128 num, unsigned __int128 den) noexcept;
}  // namespace detail

// Fixed-width unsigned integer of N 64-bit limbs (little-endian limbs). Used internally and
// exposed for tests.
template <int N>
struct WideUint {
  uint64_t limb[N] = {};
};

// Exact moments of a list of non-negative integers (payload/header sizes).
// Sums kept as n (u64), sum (u128), sum of squares (u128): exact for any realistic flow
// (sum_sq wraps only once the squares add up past 2^128, e.g. ~2^64 values of 2^32).
struct IntMoments {
  uint64_t n = 0;
  unsigned __int128 sum = 0;
  unsigned __int128 sum_sq = 0;
  void Add(uint64_t x) noexcept {
    ++n;
    sum += x;
    sum_sq += static_cast<unsigned __int128>(x) * x;
  }
  double Mean() const noexcept;   // RN(sum / n); 0 if n == 0
  double PVar() const noexcept;   // RN((n*sum_sq - sum^2) / n^2); 0 if n < 2
  double PStd() const noexcept;   // RN(sqrt((n*sum_sq - sum^2) / n^2)) of the exact rational
};

// Exact moments of a list of doubles (inter-arrival times): the exact binary values of
// x and x^2 are accumulated in fixed point (sum: 2^-112 resolution in 4 limbs, signed;
// sum of squares: 2^-224 resolution in 8 limbs). Values whose exact value does not fit
// those grids set `inexact` (then results are still computed, from a double fallback):
// that is any x whose lowest set bit is below 2^-112 (so every |x| >= 2^-60 ~ 8.7e-19 s
// fits), |x| >= 2^78, NaN/inf and subnormals. Zero of either sign always fits.
// Mean/PVar/PStd of an empty list are 0; PVar/PStd of one element are 0. Add() is
// branch-light (~7 ns); the finalisers cost a few microseconds (big-integer division).
struct DoubleMoments {
  uint64_t n = 0;
  WideUint<4> sum{};     // two's complement, scaled by 2^112
  WideUint<8> sum_sq{};  // scaled by 2^224 (always >= 0)
  bool inexact = false;
  double fallback_sum = 0.0, fallback_sum_sq = 0.0;
  void Add(double x) noexcept;
  double Mean() const noexcept;  // RN(exact sum / n)
  double PVar() const noexcept;  // RN(exact population variance)
  double PStd() const noexcept;  // RN(sqrt(exact population variance))
};

// Exact moments of a list of decimal values given in integer nanoseconds (2022 active/idle
// lists). Mean and std follow Python's statistics on Decimal data with the default context
// (28 significant digits, ROUND_HALF_EVEN): mean = Decimal(num)/den of the reduced exact
// fraction; pstdev = _decimal_sqrt_of_frac (exact zero -> Decimal("0.0")). The returned
// Decimal carries Python's exponent exactly (e.g. mean of [-1.6 s] is {neg, 16, -1}, of
// [150 s, 150 s] {+, 150, 0}). Empty list (Python raises): Mean() = 0, PStd() = 0.0.
// Any int64 values and any count are exact (sum in i128, squares in 256 bits).
struct DecimalMoments {
  uint64_t n = 0;
  __int128 sum_ns = 0;
  WideUint<4> sum_sq_ns{};  // sum of squares in ns^2 (unsigned)
  void Add(int64_t x_ns) noexcept;
  Decimal Mean() const noexcept;
  Decimal PStd() const noexcept;
};

}  // namespace nfm::exact
