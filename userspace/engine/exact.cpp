// SPDX-License-Identifier: MIT
// Exact population statistics (spec §5.1, §6.5): fixed-point/integer running sums and a
// small fixed-capacity big-integer kernel that rounds rationals and square roots of
// rationals exactly once, plus a mirror of Python's decimal division/sqrt for the 2022
// Decimal mean/std. It does not format anything (see numfmt.cpp) and never allocates.
#include "engine/exact.hpp"

#include <bit>
#include <cmath>
#include <cstring>

namespace nfm::exact {
namespace {

using u128 = unsigned __int128;

// ---------------------------------------------------------------------------------------
// Big: unsigned integer with a fixed capacity of kCap 64-bit limbs (little endian) and a
// trimmed length. Only what the finalisers need; all values here stay far below 2^1500.
// ---------------------------------------------------------------------------------------
constexpr int kCap = 32;

struct Big {
  uint64_t l[kCap];
  int n = 0;  // used limbs; l[n-1] != 0 unless n == 0

  Big() { std::memset(l, 0, sizeof(l)); }
  static Big FromU128(u128 v) {
    Big b;
    b.l[0] = static_cast<uint64_t>(v);
    b.l[1] = static_cast<uint64_t>(v >> 64);
    b.n = 2;
    b.Trim();
    return b;
  }
  static Big FromLimbs(const uint64_t* p, int count) {
    Big b;
    for (int i = 0; i < count; ++i) b.l[i] = p[i];
    b.n = count;
    b.Trim();
    return b;
  }
  void Trim() {
    while (n > 0 && l[n - 1] == 0) --n;
  }
  bool IsZero() const { return n == 0; }
  int BitLen() const { return n == 0 ? 0 : 64 * (n - 1) + (64 - std::countl_zero(l[n - 1])); }
  void SetBit(int i) {
    l[i / 64] |= uint64_t{1} << (i % 64);
    if (i / 64 + 1 > n) n = i / 64 + 1;
  }
  // Only meaningful when the value fits (callers guarantee it).
  u128 ToU128() const { return (static_cast<u128>(l[1]) << 64) | l[0]; }
};

int Cmp(const Big& a, const Big& b) {
  if (a.n != b.n) return a.n < b.n ? -1 : 1;
  for (int i = a.n - 1; i >= 0; --i) {
    if (a.l[i] != b.l[i]) return a.l[i] < b.l[i] ? -1 : 1;
  }
  return 0;
}

void AddTo(Big& a, const Big& b) {
  int m = a.n > b.n ? a.n : b.n;
  unsigned carry = 0;
  for (int i = 0; i < m; ++i) {
    u128 s = static_cast<u128>(a.l[i]) + b.l[i] + carry;
    a.l[i] = static_cast<uint64_t>(s);
    carry = static_cast<unsigned>(s >> 64);
  }
  if (carry && m < kCap) a.l[m++] = carry;
  a.n = m;
  a.Trim();
}

// a -= b, requires a >= b.
void SubFrom(Big& a, const Big& b) {
  uint64_t borrow = 0;
  for (int i = 0; i < a.n; ++i) {
    uint64_t bi = i < b.n ? b.l[i] : 0;
    u128 d = static_cast<u128>(a.l[i]) - bi - borrow;
    a.l[i] = static_cast<uint64_t>(d);
    borrow = static_cast<uint64_t>(d >> 64) & 1;
  }
  a.Trim();
}

void MulSmall(Big& a, uint64_t m) {
  uint64_t carry = 0;
  for (int i = 0; i < a.n; ++i) {
    u128 p = static_cast<u128>(a.l[i]) * m + carry;
    a.l[i] = static_cast<uint64_t>(p);
    carry = static_cast<uint64_t>(p >> 64);
  }
  if (carry && a.n < kCap) a.l[a.n++] = carry;
  a.Trim();
}

Big Mul(const Big& a, const Big& b) {
  Big r;
  if (a.IsZero() || b.IsZero()) return r;
  for (int i = 0; i < a.n; ++i) {
    uint64_t carry = 0;
    for (int j = 0; j < b.n && i + j < kCap; ++j) {
      u128 p = static_cast<u128>(a.l[i]) * b.l[j] + r.l[i + j] + carry;
      r.l[i + j] = static_cast<uint64_t>(p);
      carry = static_cast<uint64_t>(p >> 64);
    }
    if (i + b.n < kCap) r.l[i + b.n] = carry;
  }
  r.n = a.n + b.n < kCap ? a.n + b.n : kCap;
  r.Trim();
  return r;
}

Big Shl(const Big& a, int k) {
  Big r;
  if (a.IsZero()) return r;
  int ls = k / 64, bs = k % 64;
  for (int i = a.n - 1; i >= 0; --i) {
    if (i + ls + 1 < kCap && bs) r.l[i + ls + 1] |= a.l[i] >> (64 - bs);
    if (i + ls < kCap) r.l[i + ls] |= a.l[i] << bs;
  }
  r.n = a.n + ls + 1 < kCap ? a.n + ls + 1 : kCap;
  r.Trim();
  return r;
}

void Shr1(Big& a) {
  for (int i = 0; i < a.n; ++i) {
    a.l[i] = (a.l[i] >> 1) | (i + 1 < a.n ? a.l[i + 1] << 63 : 0);
  }
  a.Trim();
}

// q = a / b, r = a % b (b != 0). One-limb divisors (n, n^2 for n < 2^32: the common case)
// use schoolbook limb division; otherwise shift-and-subtract, which the callers keep short
// (quotients of <= ~200 bits).
void DivMod(const Big& a, const Big& b, Big& q, Big& r) {
  q = Big();
  if (b.n == 1) {
    const uint64_t d = b.l[0];
    uint64_t rem = 0;
    for (int i = a.n - 1; i >= 0; --i) {
      const u128 cur = (static_cast<u128>(rem) << 64) | a.l[i];
      q.l[i] = static_cast<uint64_t>(cur / d);
      rem = static_cast<uint64_t>(cur % d);
    }
    q.n = a.n;
    q.Trim();
    r = Big::FromU128(rem);
    return;
  }
  r = a;
  int s = a.BitLen() - b.BitLen();
  if (s < 0) return;
  Big d = Shl(b, s);
  for (int i = s; i >= 0; --i) {
    if (Cmp(r, d) >= 0) {
      SubFrom(r, d);
      q.SetBit(i);
    }
    Shr1(d);
  }
}

// a >> k; `lost` is set when a non-zero bit is shifted out.
Big Shr(const Big& a, int k, bool& lost) {
  Big r;
  lost = false;
  const int ls = k / 64, bs = k % 64;
  for (int i = 0; i < ls && i < a.n; ++i) lost |= a.l[i] != 0;
  if (ls < a.n && bs) lost |= (a.l[ls] & ((uint64_t{1} << bs) - 1)) != 0;
  for (int i = ls; i < a.n; ++i) {
    uint64_t v = a.l[i] >> bs;
    if (bs && i + 1 < a.n) v |= a.l[i + 1] << (64 - bs);
    r.l[i - ls] = v;
  }
  r.n = a.n > ls ? a.n - ls : 0;
  r.Trim();
  return r;
}

Big Pow10(int k) {
  Big r = Big::FromU128(1);
  while (k >= 19) {
    MulSmall(r, 10000000000000000000ull);
    k -= 19;
  }
  uint64_t p = 1;
  while (k-- > 0) p *= 10;
  MulSmall(r, p);
  return r;
}

int NumDigits(const Big& a) {
  if (a.IsZero()) return 1;
  // 10^(d-1) <= a < 10^d; start from the bit-length estimate and correct.
  int d = static_cast<int>((a.BitLen() - 1) * 0.30102999566398120) + 1;
  while (Cmp(a, Pow10(d)) >= 0) ++d;
  while (d > 1 && Cmp(a, Pow10(d - 1)) < 0) --d;
  return d;
}

int NumDigits128(u128 v) {
  int d = 1;
  while (v >= 10) {
    v /= 10;
    ++d;
  }
  return d;
}

u128 Pow10u(int k) {
  u128 r = 1;
  while (k-- > 0) r *= 10;
  return r;
}

// ---------------------------------------------------------------------------------------
// Binary rounding.
// ---------------------------------------------------------------------------------------

// RN((q + sticky*eps) * 2^exp2) for q >= 2^54 when sticky (so that the sticky part lies
// strictly below the rounding bit), ties to even. Subnormal results may double-round; the
// spec does not need them.
double RoundToDouble(bool neg, u128 q, bool sticky, int exp2) {
  if (q == 0) return 0.0;
  const uint64_t hi = static_cast<uint64_t>(q >> 64), lo = static_cast<uint64_t>(q);
  const int len = hi != 0 ? 128 - std::countl_zero(hi) : 64 - std::countl_zero(lo);
  uint64_t m;
  int e = exp2;
  if (len > 53) {
    int sh = len - 53;
    u128 rest = q & ((static_cast<u128>(1) << sh) - 1);
    u128 half = static_cast<u128>(1) << (sh - 1);
    m = static_cast<uint64_t>(q >> sh);
    e += sh;
    if (rest > half || (rest == half && (sticky || (m & 1)))) ++m;
    if (m == (uint64_t{1} << 53)) {
      m >>= 1;
      ++e;
    }
  } else {
    m = static_cast<uint64_t>(q);
  }
  double r = std::ldexp(static_cast<double>(m), e);
  return neg ? -r : r;
}

// RN(num/den * 2^exp2) for big num >= 0, den > 0.
double RatioBig(bool neg, const Big& num, const Big& den, int exp2) {
  if (num.IsZero()) return 0.0;
  // Scale so that the integer quotient has 55 or 56 bits: 53 kept + round bit + at least
  // one more bit, the rest goes into the sticky flag (the remainder).
  // Shrinking the numerator instead of growing the denominator keeps one-limb divisors on
  // the fast path: floor(floor(num / 2^j) / den) == floor(num / (den * 2^j)), and the
  // quotient is inexact iff a shifted-out bit or the remainder is non-zero.
  int k = 55 - (num.BitLen() - den.BitLen());
  bool lost = false;
  Big a = k >= 0 ? Shl(num, k) : Shr(num, -k, lost);
  Big q, r;
  DivMod(a, den, q, r);
  return RoundToDouble(neg, q.ToU128(), lost || !r.IsZero(), exp2 - k);
}

u128 Isqrt128(u128 t) {
  if (t == 0) return 0;
  u128 s = static_cast<u128>(std::sqrt(static_cast<double>(t)));
  // One Newton step from the double estimate, then exact correction.
  if (s != 0) s = (s + t / s) / 2;
  while (s * s > t) --s;
  while ((s + 1) * (s + 1) <= t) ++s;
  return s;
}

// RN(sqrt(num/den) * 2^exp2) for big num >= 0, den > 0.
double SqrtRatioBig(const Big& num, const Big& den, int exp2) {
  if (num.IsZero()) return 0.0;
  // t = floor(num * 4^k / den) with 111..113 bits, so s = isqrt(t) has >= 55 bits.
  // floor(sqrt(t + f)) == isqrt(t) for 0 <= f < 1, and the exact root exceeds s iff
  // t > s^2 or the division left a remainder: that is the sticky bit.
  int diff = num.BitLen() - den.BitLen();
  int twok = 112 - diff;
  int k = twok >= 0 ? twok / 2 : -((-twok + 1) / 2);  // floor(twok / 2)
  bool lost = false;
  Big a = k >= 0 ? Shl(num, 2 * k) : Shr(num, -2 * k, lost);  // see RatioBig
  Big q, r;
  DivMod(a, den, q, r);
  u128 t = q.ToU128();
  u128 s = Isqrt128(t);
  bool sticky = lost || !r.IsZero() || s * s != t;
  return RoundToDouble(false, s, sticky, exp2 - k);
}

// Fast paths without Big: a divisor below 2^64 lets the quotient be extended 64 bits at a
// time with 128-bit arithmetic. They give the same correctly rounded results as RatioBig /
// SqrtRatioBig (same scaling, same sticky rule) and cover every realistic flow statistic.

int BitLen128(u128 v) {
  const uint64_t hi = static_cast<uint64_t>(v >> 64);
  return hi != 0 ? 128 - std::countl_zero(hi) : 64 - std::countl_zero(static_cast<uint64_t>(v));
}

// floor(num * 2^k / den) for den in [1, 2^64), k >= 0, when the result fits in 128 bits;
// *inexact tells whether a remainder was left.
u128 DivShift(u128 num, uint64_t den, int k, bool* inexact) {
  u128 q = num / den;
  u128 r = num % den;  // < 2^64
  while (k > 0) {
    const int step = k > 64 ? 64 : k;
    const u128 rr = r << step;
    q = (q << step) + rr / den;
    r = rr % den;
    k -= step;
  }
  *inexact = r != 0;
  return q;
}

// Hardware fast paths, tried first by RatioFast / SqrtRatioFast.
//
// num, den < 2^53: both are exact doubles and IEEE division rounds the exact quotient once.
//
// num, den < 2^64 (x86-64 only): both are exact in the x87 80-bit format (64-bit
// significand). q = RN64(num/den) has a relative error <= 2^-64; sqrtl(q) adds at most half an
// ulp of that format, so either result is within one 64-bit ulp of the exact value. Rounding
// it to a double then gives the exact value's rounding unless it lies within one 64-bit ulp
// of a halfway point between two doubles, i.e. its 11 extra significand bits are 0x3ff,
// 0x400 or 0x401; those (1 in ~680) and any non-normal result go to the integer paths.
constexpr u128 kTwo53 = static_cast<u128>(1) << 53;

#if defined(__x86_64__) && (__LDBL_MANT_DIG__ == 64)
constexpr bool kHaveExt = true;
// The x87 unit really rounds to 64 bits (its precision control is at the Linux default;
// valgrind, for one, emulates it with doubles): checked once, at run time.
bool ExtPrecisionOk() {
  static const bool ok = [] {
    volatile long double big = 0x1p63L, one = 1.0L;
    return (big + one) - big == 1.0L;
  }();
  return ok;
}
// Double rounding of a normal, positive x87 value `v`, or false when it could go wrong.
bool ExtToDouble(long double v, double* out) {
  if (!ExtPrecisionOk()) return false;
  if (!(v >= 0x1p-1000L && v <= 0x1p+1000L)) return false;
  uint64_t sig;
  std::memcpy(&sig, &v, sizeof(sig));  // the 64-bit significand is the first 8 bytes
  const unsigned extra = static_cast<unsigned>(sig & 0x7ff);
  if (extra >= 0x3ff && extra <= 0x401) return false;
  *out = static_cast<double>(v);
  return true;
}
#else
constexpr bool kHaveExt = false;
bool ExtToDouble(long double, double*) { return false; }
#endif

bool RatioHw(bool neg, u128 num, u128 den, double* out) {
  if (num < kTwo53 && den < kTwo53) {
    const double r = static_cast<double>(static_cast<uint64_t>(num)) / static_cast<double>(static_cast<uint64_t>(den));
    *out = neg ? -r : r;
    return true;
  }
  if (!kHaveExt || (num >> 64) || (den >> 64)) return false;
  const long double q = static_cast<long double>(static_cast<uint64_t>(num)) /
                        static_cast<long double>(static_cast<uint64_t>(den));
  double r;
  if (!ExtToDouble(q, &r)) return false;
  *out = neg ? -r : r;
  return true;
}

bool SqrtRatioHw(u128 num, u128 den, double* out) {
  if (!kHaveExt || (num >> 64) || (den >> 64)) return false;
  const long double q = static_cast<long double>(static_cast<uint64_t>(num)) /
                        static_cast<long double>(static_cast<uint64_t>(den));
  return ExtToDouble(std::sqrt(q), out);
}

// RN(num/den); false when the fast path does not apply (den >= 2^64).
bool RatioFast(bool neg, u128 num, u128 den, double* out) {
  if (den >> 64) return false;
  if (num == 0) {
    *out = 0.0;
    return true;
  }
  if (RatioHw(neg, num, den, out)) return true;
  const int k = 55 - (BitLen128(num) - BitLen128(den));
  bool lost = false, inexact = false;
  u128 q;
  if (k >= 0) {
    q = DivShift(num, static_cast<uint64_t>(den), k, &inexact);
  } else {
    lost = (num & ((static_cast<u128>(1) << -k) - 1)) != 0;
    q = DivShift(num >> -k, static_cast<uint64_t>(den), 0, &inexact);
  }
  *out = RoundToDouble(neg, q, lost || inexact, -k);
  return true;
}

// RN(sqrt(num/den)); false when the fast path does not apply.
bool SqrtRatioFast(u128 num, u128 den, double* out) {
  if (den >> 64) return false;
  if (num == 0) {
    *out = 0.0;
    return true;
  }
  if (SqrtRatioHw(num, den, out)) return true;
  const int twok = 112 - (BitLen128(num) - BitLen128(den));
  const int k = twok >= 0 ? twok / 2 : -((-twok + 1) / 2);  // floor(twok / 2)
  bool lost = false, inexact = false;
  u128 t;
  if (k >= 0) {
    t = DivShift(num, static_cast<uint64_t>(den), 2 * k, &inexact);
  } else {
    if (-2 * k >= 128) return false;
    lost = (num & ((static_cast<u128>(1) << (-2 * k)) - 1)) != 0;
    t = DivShift(num >> (-2 * k), static_cast<uint64_t>(den), 0, &inexact);
  }
  const u128 sq = Isqrt128(t);
  *out = RoundToDouble(false, sq, lost || inexact || sq * sq != t, -k);
  return true;
}

// n*sum_sq - sum^2 and n^2 in 128 bits, when nothing overflows.
bool IntVarianceFraction128(u128 n, u128 sum, u128 sum_sq, u128* num, u128* den) {
  u128 a, b;
  if (__builtin_mul_overflow(n, sum_sq, &a) || __builtin_mul_overflow(sum, sum, &b) ||
      __builtin_mul_overflow(n, n, den))
    return false;
  *num = a - b;  // >= 0 (Cauchy-Schwarz on the exact values)
  return true;
}

// Two's complement helpers on WideUint-style limb arrays.
template <int N>
bool IsNegative(const WideUint<N>& w) {
  return (w.limb[N - 1] >> 63) != 0;
}
template <int N>
Big AbsBig(const WideUint<N>& w, bool& neg) {
  neg = IsNegative(w);
  uint64_t t[N];
  if (neg) {
    unsigned carry = 1;
    for (int i = 0; i < N; ++i) {
      u128 s = static_cast<u128>(~w.limb[i]) + carry;
      t[i] = static_cast<uint64_t>(s);
      carry = static_cast<unsigned>(s >> 64);
    }
  } else {
    for (int i = 0; i < N; ++i) t[i] = w.limb[i];
  }
  return Big::FromLimbs(t, N);
}

// ---------------------------------------------------------------------------------------
// Python decimal (default context: prec 28, ROUND_HALF_EVEN) mirrors.
// ---------------------------------------------------------------------------------------
constexpr int kPrec = 28;

// Decimal._fix for finite values: round the coefficient to kPrec digits, half even.
Decimal Fix(bool neg, u128 coeff, int exp) {
  int nd = NumDigits128(coeff);
  if (nd > kPrec) {
    int drop = nd - kPrec;
    u128 p = Pow10u(drop);
    u128 rem = coeff % p;
    coeff /= p;
    exp += drop;
    u128 half = p / 2;
    if (rem > half || (rem == half && (coeff & 1))) ++coeff;
    if (coeff == Pow10u(kPrec)) {  // 9999..9 rounded up: drop the extra zero digit
      coeff /= 10;
      ++exp;
    }
  }
  return Decimal{neg, coeff, exp};
}

// Decimal(a) / Decimal(b) for integers a >= 0, b > 0 (Decimal.__truediv__ + _fix).
Decimal DecimalDivide(bool neg, const Big& a, const Big& b) {
  if (a.IsZero()) return Decimal{neg, 0, 0};
  int shift = NumDigits(b) - NumDigits(a) + kPrec + 1;
  int exp = -shift;
  Big q, r;
  if (shift >= 0) {
    DivMod(Mul(a, Pow10(shift)), b, q, r);
  } else {
    DivMod(a, Mul(b, Pow10(-shift)), q, r);
  }
  u128 coeff = q.ToU128();  // prec+1 or prec+2 digits
  if (!r.IsZero()) {
    // Inexact: make the last digit non-0/5 so that the final rounding sees the sticky part.
    if (coeff % 5 == 0) ++coeff;
  } else {
    // Exact: move towards the ideal exponent 0 (exp(a) - exp(b)).
    while (exp < 0 && coeff % 10 == 0) {
      coeff /= 10;
      ++exp;
    }
  }
  return Fix(neg, coeff, exp);
}

Big Isqrt(const Big& c) {
  // Bitwise integer square root; the callers' results have < 100 bits.
  Big res;
  int top = (c.BitLen() + 1) / 2;
  for (int i = top; i >= 0; --i) {
    Big cand = res;
    cand.SetBit(i);
    if (Cmp(Mul(cand, cand), c) <= 0) res = cand;
  }
  return res;
}

// Decimal.sqrt() of a positive finite value in the default context.
Decimal DecimalSqrt(const Decimal& x) {
  const int prec = kPrec + 1;  // one extra digit, rounded down, then sticky-fixed
  int e = x.exp >> 1;          // floor(exp / 2): the ideal exponent
  int len = NumDigits128(x.coeff);
  Big c = Big::FromU128(x.coeff);
  int l;
  if (x.exp & 1) {
    MulSmall(c, 10);
    l = (len >> 1) + 1;
  } else {
    l = (len + 1) >> 1;
  }
  int shift = prec - l;  // >= 0 because coeff has <= 28 digits
  bool exact = true;
  if (shift >= 0) {
    c = Mul(c, Pow10(2 * shift));
  } else {
    Big q, r;
    DivMod(c, Pow10(-2 * shift), q, r);
    exact = r.IsZero();
    c = q;
  }
  e -= shift;
  Big n = Isqrt(c);
  exact = exact && Cmp(Mul(n, n), c) == 0;
  u128 nn = n.ToU128();
  if (exact) {
    if (shift >= 0) {
      nn /= Pow10u(shift);
    } else {
      nn *= Pow10u(-shift);
    }
    e += shift;
  } else {
    if (nn % 5 == 0) ++nn;
  }
  return Fix(false, nn, e);
}

// Compares num/den (> 0) with ((x + y) / 2)^2 for decimals x = xc*10^xe, y = yc*10^ye.
// Returns sign(num/den - mid^2).
int CompareWithMidSquare(const Big& num, const Big& den, u128 xc, int xe, u128 yc, int ye) {
  int e = xe < ye ? xe : ye;
  Big a = Mul(Big::FromU128(xc), Pow10(xe - e));
  AddTo(a, Mul(Big::FromU128(yc), Pow10(ye - e)));
  // mid = a/2 * 10^e:  num/den ? a^2/4 * 10^(2e)  <=>  4*num*10^(-2e) ? den*a^2 (e < 0).
  Big lhs = num;
  MulSmall(lhs, 4);
  Big rhs = Mul(den, Mul(a, a));
  if (e < 0) {
    lhs = Mul(lhs, Pow10(-2 * e));
  } else {
    rhs = Mul(rhs, Pow10(2 * e));
  }
  return Cmp(lhs, rhs);
}

// statistics._decimal_sqrt_of_frac(num, den) for num > 0.
Decimal DecimalSqrtOfFrac(const Big& num, const Big& den) {
  Decimal root = DecimalSqrt(DecimalDivide(false, num, den));
  // root at 28 digits: next_plus/next_minus step by one unit of the 28th digit.
  int nd = NumDigits128(root.coeff);
  u128 r28 = root.coeff * Pow10u(kPrec - nd);
  int e28 = root.exp - (kPrec - nd);
  u128 pc = r28 + 1;
  int pe = e28;
  if (pc == Pow10u(kPrec)) {
    pc /= 10;
    ++pe;
  }
  if (CompareWithMidSquare(num, den, r28, e28, pc, pe) > 0) return Decimal{false, pc, pe};
  u128 mc;
  int me;
  if (r28 == Pow10u(kPrec - 1)) {  // power of ten: the next lower value has 28 nines
    mc = Pow10u(kPrec) - 1;
    me = e28 - 1;
  } else {
    mc = r28 - 1;
    me = e28;
  }
  if (CompareWithMidSquare(num, den, r28, e28, mc, me) < 0) return Decimal{false, mc, me};
  return root;
}

u128 Gcd(u128 a, u128 b) {
  while (b != 0) {
    u128 t = a % b;
    a = b;
    b = t;
  }
  return a;
}

// acc += (-1)^negative * v * 2^shift in N-limb two's complement, for v < 2^128 with
// v * 2^(shift mod 64) < 2^(64 * kSpan) (kSpan = 2 or 3 limbs starting at shift / 64, all
// inside acc). Carries past the addend are rare, hence the early-out ripple loop. Written
// with u128 so that the compiler emits add/adc chains: this is the per-packet hot path.
template <int N, int kSpan>
inline void AccumulateShifted(WideUint<N>& acc, u128 v, int shift, bool negative) {
  const int idx = shift >> 6, off = shift & 63;
  uint64_t* p = acc.limb + idx;
  const u128 low = v << off;  // low 128 bits of the shifted addend
  // Bits shifted out of the low 128; (x >> 1) >> (63 - off) avoids a shift by 64 at off 0.
  const uint64_t top = kSpan == 3 ? ((static_cast<uint64_t>(v >> 64) >> 1) >> (63 - off)) : 0;
  const u128 cur = (static_cast<u128>(p[1]) << 64) | p[0];
  int i = idx + 2;
  if (!negative) {
    const u128 r = cur + low;
    p[0] = static_cast<uint64_t>(r);
    p[1] = static_cast<uint64_t>(r >> 64);
    uint64_t carry = r < low;
    if constexpr (kSpan == 3) {
      const u128 t = static_cast<u128>(p[2]) + top + carry;
      p[2] = static_cast<uint64_t>(t);
      carry = static_cast<uint64_t>(t >> 64);
      ++i;
    }
    for (; carry != 0 && i < N; ++i) carry = (++acc.limb[i] == 0);
  } else {
    uint64_t borrow = cur < low;
    const u128 r = cur - low;
    p[0] = static_cast<uint64_t>(r);
    p[1] = static_cast<uint64_t>(r >> 64);
    if constexpr (kSpan == 3) {
      const u128 t = static_cast<u128>(p[2]) - top - borrow;
      p[2] = static_cast<uint64_t>(t);
      borrow = static_cast<uint64_t>(t >> 64) & 1;
      ++i;
    }
    for (; borrow != 0 && i < N; ++i) borrow = (acc.limb[i]-- == 0);
  }
}

}  // namespace

double RatioToDouble(__int128 num, unsigned __int128 den) noexcept {
  if (den == 0 || num == 0) return 0.0;
  bool neg = num < 0;
  u128 a = neg ? -static_cast<u128>(num) : static_cast<u128>(num);
  double r;
  if (RatioFast(neg, a, den, &r)) return r;
  return RatioBig(neg, Big::FromU128(a), Big::FromU128(den), 0);
}

double SqrtRatioToDouble(unsigned __int128 num, unsigned __int128 den) noexcept {
  if (den == 0 || num == 0) return 0.0;
  double r;
  if (SqrtRatioFast(num, den, &r)) return r;
  return SqrtRatioBig(Big::FromU128(num), Big::FromU128(den), 0);
}

namespace detail {
double RatioToDoubleBig(__int128 num, unsigned __int128 den) noexcept {
  if (den == 0 || num == 0) return 0.0;
  const bool neg = num < 0;
  const u128 a = neg ? -static_cast<u128>(num) : static_cast<u128>(num);
  return RatioBig(neg, Big::FromU128(a), Big::FromU128(den), 0);
}
double SqrtRatioToDoubleBig(unsigned __int128 num, unsigned __int128 den) noexcept {
  if (den == 0 || num == 0) return 0.0;
  return SqrtRatioBig(Big::FromU128(num), Big::FromU128(den), 0);
}
}  // namespace detail

// ----------------------------------- IntMoments -----------------------------------------

double IntMoments::Mean() const noexcept {
  if (n == 0) return 0.0;
  double r;
  if (RatioFast(false, sum, n, &r)) return r;
  return RatioBig(false, Big::FromU128(sum), Big::FromU128(n), 0);
}

namespace {
// n*sum_sq - sum^2 (>= 0 by Cauchy-Schwarz on the exact values) and n^2.
void IntVarianceFraction(const IntMoments& m, Big& num, Big& den) {
  Big nb = Big::FromU128(m.n);
  num = Mul(nb, Big::FromU128(m.sum_sq));
  Big s = Big::FromU128(m.sum);
  SubFrom(num, Mul(s, s));
  den = Mul(nb, nb);
}
}  // namespace

double IntMoments::PVar() const noexcept {
  if (n < 2) return 0.0;
  u128 num128, den128;
  double r;
  if (IntVarianceFraction128(n, sum, sum_sq, &num128, &den128) && RatioFast(false, num128, den128, &r)) return r;
  Big num, den;
  IntVarianceFraction(*this, num, den);
  return RatioBig(false, num, den, 0);
}

double IntMoments::PStd() const noexcept {
  if (n < 2) return 0.0;
  u128 num128, den128;
  double r;
  if (IntVarianceFraction128(n, sum, sum_sq, &num128, &den128) && SqrtRatioFast(num128, den128, &r)) return r;
  Big num, den;
  IntVarianceFraction(*this, num, den);
  return SqrtRatioBig(num, den, 0);
}

// ---------------------------------- DoubleMoments ---------------------------------------
//
// x = m * 2^e with m < 2^53. The sum grid is 2^-112 and the square grid 2^-224, so any x
// whose lowest set bit is >= 2^-112 (every IAT >= ~1e-18 s) is held exactly. |x| < 2^78
// keeps sum (<= 2^64 terms) inside 255 bits and sum_sq inside 511 bits.

void DoubleMoments::Add(double x) noexcept {
  ++n;
  fallback_sum += x;
  fallback_sum_sq += x * x;
  uint64_t bits = std::bit_cast<uint64_t>(x);
  int be = static_cast<int>((bits >> 52) & 0x7ff);
  uint64_t m = bits & ((uint64_t{1} << 52) - 1);
  if (be == 0) {
    if (m != 0) inexact = true;  // subnormal: far below the grid
    return;                      // +-0 adds nothing
  }
  if (be == 0x7ff) {
    inexact = true;
    return;
  }
  m |= uint64_t{1} << 52;
  int e = be - 1075;
  if (e < -112) [[unlikely]] {
    // Below the grid unless the low mantissa bits are zero.
    int need = -112 - e;
    if (need > 52 || (m & ((uint64_t{1} << need) - 1)) != 0) {
      inexact = true;
      return;
    }
    m >>= need;
    e = -112;
  }
  if (e > 25) [[unlikely]] {
    inexact = true;
    return;
  }
  bool negative = (bits >> 63) != 0;
  AccumulateShifted<4, 2>(sum, m, e + 112, negative);  // idx <= 2
  AccumulateShifted<8, 3>(sum_sq, static_cast<u128>(m) * m, 2 * e + 224, false);  // idx <= 4
}

double DoubleMoments::Mean() const noexcept {
  if (n == 0) return 0.0;
  if (inexact) return fallback_sum / static_cast<double>(n);
  bool neg;
  Big s = AbsBig(sum, neg);
  return RatioBig(neg, s, Big::FromU128(n), -112);
}

namespace {
// Variance = (n*Q - S^2) / n^2 * 2^-224 with S = sum*2^112, Q = sum_sq*2^224 exact.
void DoubleVarianceFraction(const DoubleMoments& m, Big& num, Big& den) {
  bool neg;
  Big s = AbsBig(m.sum, neg);
  Big q = Big::FromLimbs(m.sum_sq.limb, 8);
  Big nb = Big::FromU128(m.n);
  num = Mul(nb, q);
  SubFrom(num, Mul(s, s));
  den = Mul(nb, nb);
}
double FallbackVar(const DoubleMoments& m) {
  double nn = static_cast<double>(m.n);
  double mean = m.fallback_sum / nn;
  double v = m.fallback_sum_sq / nn - mean * mean;
  return v > 0 ? v : 0.0;
}
}  // namespace

double DoubleMoments::PVar() const noexcept {
  if (n < 2) return 0.0;
  if (inexact) return FallbackVar(*this);
  Big num, den;
  DoubleVarianceFraction(*this, num, den);
  return RatioBig(false, num, den, -224);
}

double DoubleMoments::PStd() const noexcept {
  if (n < 2) return 0.0;
  if (inexact) return std::sqrt(FallbackVar(*this));
  Big num, den;
  DoubleVarianceFraction(*this, num, den);
  return SqrtRatioBig(num, den, -112);
}

// --------------------------------- DecimalMoments ---------------------------------------

void DecimalMoments::Add(int64_t x_ns) noexcept {
  ++n;
  sum_ns += x_ns;
  uint64_t a = x_ns < 0 ? uint64_t{0} - static_cast<uint64_t>(x_ns) : static_cast<uint64_t>(x_ns);
  AccumulateShifted<4, 3>(sum_sq_ns, static_cast<u128>(a) * a, 0, false);
}

Decimal DecimalMoments::Mean() const noexcept {
  if (n == 0) return Decimal{};
  // statistics.mean: Fraction(sum_ns, n * 10^9) reduced, then Decimal(num) / Decimal(den).
  bool neg = sum_ns < 0;
  u128 a = neg ? -static_cast<u128>(sum_ns) : static_cast<u128>(sum_ns);
  u128 d = static_cast<u128>(n) * 1000000000u;
  if (a == 0) return Decimal{};
  u128 g = Gcd(a, d);
  return DecimalDivide(neg, Big::FromU128(a / g), Big::FromU128(d / g));
}

Decimal DecimalMoments::PStd() const noexcept {
  // Variance in s^2 = (n*sum_sq - sum^2) / (n^2 * 10^18). The division/sqrt mirrors are
  // value based, so the fraction need not be reduced.
  if (n == 0) return Decimal{false, 0, -1};
  Big nb = Big::FromU128(n);
  Big num = Mul(nb, Big::FromLimbs(sum_sq_ns.limb, 4));
  bool neg = sum_ns < 0;
  Big s = Big::FromU128(neg ? -static_cast<u128>(sum_ns) : static_cast<u128>(sum_ns));
  SubFrom(num, Mul(s, s));
  if (num.IsZero()) return Decimal{false, 0, -1};  // Decimal("0.0")
  Big den = Mul(Mul(nb, nb), Pow10(18));
  return DecimalSqrtOfFrac(num, den);
}

}  // namespace nfm::exact
