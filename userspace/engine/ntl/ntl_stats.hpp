// SPDX-License-Identifier: MIT
// The list statistics of NTLFlowLyzer e2def39 (spec §8.2), with its libraries' arithmetic:
// NumPy 1.24 float64 reductions (pairwise summation in buffer chunks of 8192 elements),
// SciPy 1.10 skew / variation / mode, Python 3.11 statistics.median. The exact population
// mean / variance / std of the statistics module live in engine/exact.hpp. Pure functions
// over caller-owned arrays; no allocation, no state.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nfm::ntl {

// numpy's pairwise_sum_DOUBLE over a[0..n) (n < 8: left to right; n <= 128: eight
// accumulators; else split at n/2 rounded down to a multiple of 8).
double PairwiseSum(const double* a, size_t n) noexcept;
// np.add.reduce of a float64 vector (or of an int64 vector cast to float64): the reduction
// runs over buffer chunks of 8192 elements, res = 0; res += PairwiseSum(chunk) per chunk.
double NpSum(const double* a, size_t n) noexcept;
// np.mean: NpSum / n (NaN for n == 0).
double NpMean(const double* a, size_t n) noexcept;

// scipy.stats.skew(a) (bias=True): m3 / m2**1.5 with m_k = np.mean((a - mean)**k) (the cube
// as (d*d)*d), NaN when m2 <= (1e-15 * mean)**2 (all values equal, one value) or n == 0.
// `scratch` holds n doubles.
double Skew(const double* a, size_t n, double* scratch) noexcept;
// scipy.stats.variation(a) (ddof 0): np.std(a) / np.mean(a); mean 0 gives +-inf (NaN when
// the std is 0 too); NaN for n == 0. `scratch` holds n doubles.
double Variation(const double* a, size_t n, double* scratch) noexcept;
// scipy.stats.mode(a)[0] of an ascending-sorted array: the most frequent value, ties to the
// smallest (np.unique + argmax). n >= 1.
double ModeSorted(const double* sorted, size_t n) noexcept;
// statistics.median of an ascending-sorted array (n >= 1): the middle element; even n:
// (a + b) / 2 with the addition rounded in double (for integer-valued data below 2^53 the
// sum is exact, as Python's int arithmetic is).
double MedianSorted(const double* sorted, size_t n) noexcept;

// Python's datetime.fromtimestamp(ts) microsecond count since the epoch for a double ts:
// floor part + round-half-even(modf(ts) * 1e6) (CPython's _PyTime_DoubleToDenominator).
int64_t DatetimeMicros(double ts) noexcept;

}  // namespace nfm::ntl
