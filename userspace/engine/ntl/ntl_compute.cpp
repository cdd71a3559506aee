// SPDX-License-Identifier: MIT
// ComputeNtlFeatures (see ntl_compute.hpp): the 339 (reference) / 341 (corrected) values of a
// flow in the arithmetic of NTLFlowLyzer's libraries (ntl_stats) or, corrected, exact.
#include "engine/ntl/ntl_compute.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string_view>

#include "engine/column_writer.hpp"
#include "engine/exact.hpp"
#include "engine/ntl/ntl_stats.hpp"

namespace nfm {

namespace {
constexpr int64_t kNsPerSec = 1000000000;
// Flag column order FIN, PSH, URG, ECE, SYN, ACK, CWR, RST as bit numbers of the flag byte.
constexpr int kFlagColumnBits[8] = {0, 3, 5, 6, 1, 4, 7, 2};
}  // namespace

// float(ts) as the reference holds it: sec + usec / 1e6 (two roundings) for microsecond
// captures; float(Decimal) = RN(ns / 1e9) for nanosecond captures.
double NtlTsDouble(int64_t ns, bool ns_time) noexcept {
  if (ns_time) return exact::RatioToDouble(ns, kNsPerSec);
  const int64_t sec = ns / kNsPerSec;
  const int64_t usec = (ns % kNsPerSec) / 1000;
  return static_cast<double>(sec) + static_cast<double>(usec) / 1e6;
}


namespace {

Decimal DecimalNs(int64_t ns) {
  Decimal d;
  d.neg = ns < 0;
  d.coeff = static_cast<unsigned __int128>(ns < 0 ? -static_cast<__int128>(ns) : ns);
  d.exp = -9;
  return d;
}

// Statistics of one list (values in list order) in the reference's libraries.
struct ListStats {
  double mean = 0, std = 0, var = 0, median = 0, skew = 0, cov = 0, mode = 0, min = 0, max = 0;
};

// Appends the statistics of one list in the column order `spec` gives, one letter per column
// (each family of the reference orders and prints them its own way), or one "no value" per
// letter when the list is empty. Min / max: N / M unsigned, n / x repr, i / j float; the rest
// float: a mean, s std, v variance, d median, k skewness, c cov, o mode.
void EmitStats(NtlValues& out, const ListStats& s, bool empty, std::string_view spec) {
  for (const char k : spec) {
    if (empty) {
      out.Z();
      continue;
    }
    switch (k) {
      case 'N': out.U(static_cast<uint64_t>(s.min)); break;
      case 'M': out.U(static_cast<uint64_t>(s.max)); break;
      case 'n': out.R(s.min); break;
      case 'x': out.R(s.max); break;
      case 'i': out.X(s.min); break;
      case 'j': out.X(s.max); break;
      case 'a': out.X(s.mean); break;
      case 's': out.X(s.std); break;
      case 'v': out.X(s.var); break;
      case 'd': out.X(s.median); break;
      case 'k': out.X(s.skew); break;
      case 'c': out.X(s.cov); break;
      case 'o': out.X(s.mode); break;
      default: break;
    }
  }
}

// Sorts integer-valued doubles: an LSD radix sort (two 11-bit passes over x + 2^21) when all
// values lie in [-2^21, 2^21) and the list is long, else std::sort. Same result either way.
void SortIntValued(std::vector<double>& a, size_t n, std::vector<uint32_t>& k0, std::vector<uint32_t>& k1) {
  if (n < 64) {
    std::sort(a.begin(), a.begin() + static_cast<long>(n));
    return;
  }
  k0.resize(n);
  k1.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const double x = a[i];
    if (!(x >= -2097152.0 && x < 2097152.0)) {
      std::sort(a.begin(), a.begin() + static_cast<long>(n));
      return;
    }
    k0[i] = static_cast<uint32_t>(static_cast<int32_t>(x) + 2097152);
  }
  uint32_t c0[2048] = {}, c1[2048] = {};
  for (size_t i = 0; i < n; ++i) {
    ++c0[k0[i] & 2047];
    ++c1[k0[i] >> 11];
  }
  uint32_t s0 = 0, s1 = 0;
  for (int b = 0; b < 2048; ++b) {
    const uint32_t t0 = c0[b], t1 = c1[b];
    c0[b] = s0;
    c1[b] = s1;
    s0 += t0;
    s1 += t1;
  }
  for (size_t i = 0; i < n; ++i) k1[c0[k0[i] & 2047]++] = k0[i];
  for (size_t i = 0; i < n; ++i) k0[c1[k1[i] >> 11]++] = k1[i];
  for (size_t i = 0; i < n; ++i) a[i] = static_cast<double>(static_cast<int32_t>(k0[i]) - 2097152);
}

// The order statistics (from `sorted`, ascending) and the shape (skewness, coefficient of
// variation) of a list of n > 0 values, for IntStats and FloatStats.
void OrderAndShape(const double* a, size_t n, const std::vector<double>& sorted, std::vector<double>& scratch,
                   ListStats& s) {
  s.min = sorted.front();
  s.max = sorted.back();
  s.median = ntl::MedianSorted(sorted.data(), n);
  s.mode = ntl::ModeSorted(sorted.data(), n);
  scratch.resize(n);
  s.skew = ntl::Skew(a, n, scratch.data());
  s.cov = ntl::Variation(a, n, scratch.data());
}

// Integer-valued lists (sizes, size differences; |x| < 2^31): statistics' exact mean /
// variance / std from integer sums (the same rationals as over the doubles). `sorted` holds
// the values sorted ascending on entry when `presorted`, else it is filled here.
ListStats IntStats(const double* a, size_t n, std::vector<double>& sorted, std::vector<double>& scratch,
                   bool presorted = false) {
  static thread_local std::vector<uint32_t> k0, k1;
  ListStats s;
  if (n == 0) return s;
  __int128 sum = 0;
  unsigned __int128 sq = 0;
  for (size_t i = 0; i < n; ++i) {
    const int64_t x = static_cast<int64_t>(a[i]);
    sum += x;
    sq += static_cast<unsigned __int128>(static_cast<__int128>(x) * x);
  }
  const unsigned __int128 nn = n;
  s.mean = exact::RatioToDouble(sum, nn);
  const __int128 var_num = static_cast<__int128>(nn * sq) - sum * sum;  // n*sum_sq - sum^2 >= 0
  s.var = n < 2 ? 0.0 : exact::RatioToDouble(var_num, nn * nn);
  s.std = n < 2 ? 0.0 : exact::SqrtRatioToDouble(static_cast<unsigned __int128>(var_num), nn * nn);
  if (!presorted) {
    sorted.assign(a, a + n);
    SortIntValued(sorted, n, k0, k1);
  }
  OrderAndShape(a, n, sorted, scratch, s);
  return s;
}

ListStats FloatStats(const double* a, size_t n, std::vector<double>& sorted, std::vector<double>& scratch,
                     bool presorted = false) {
  ListStats s;
  if (n == 0) {
    s.skew = s.cov = std::numeric_limits<double>::quiet_NaN();
    return s;
  }
  // statistics' exact mean / pvariance / pstdev. One or two values need no big integers when
  // the sum and difference of the two are exact doubles (checked with TwoSum): then the mean is
  // (a+b)/2, the std |a-b|/2 and the variance RN(((a-b)/2)^2), each rounded once.
  bool done = false;
  if (n == 1 && std::isfinite(a[0])) {
    s.mean = a[0];
    s.var = s.std = 0.0;
    done = true;
  } else if (n == 2 && std::isfinite(a[0]) && std::isfinite(a[1])) {
    auto exact_op = [](double x, double y, double r) {  // TwoSum error of r = x + y is 0
      const double yv = r - x;
      return (x - (r - yv)) + (y - yv) == 0.0;
    };
    const double sum = a[0] + a[1], diff = a[0] - a[1];
    const double hs = sum / 2, hd = std::fabs(diff) / 2;
    if (exact_op(a[0], a[1], sum) && exact_op(a[0], -a[1], diff) && (sum == 0 || std::fabs(hs) >= 0x1p-1021) &&
        (diff == 0 || hd >= 0x1p-1021)) {  // halving exact: not subnormal
      s.mean = hs;
      s.std = hd;
      s.var = hd * hd;
      done = true;
    }
  }
  if (!done) {
    exact::DoubleMoments m;
    for (size_t i = 0; i < n; ++i) m.Add(a[i]);
    s.mean = m.Mean();
    s.var = m.PVar();
    s.std = m.PStd();
  }
  if (!presorted) {
    sorted.assign(a, a + n);
    std::sort(sorted.begin(), sorted.end());
  }
  OrderAndShape(a, n, sorted, scratch, s);
  return s;
}

}  // namespace

namespace {
// Position in the corrected set of each reference column's name (names are unique in a set).
// The corrected set is the reference's order with two columns inserted, so column i is looked
// for at i and i + 2 first: a full search for each of the 339 names exceeds clang's
// constant-evaluation step limit.
constexpr std::array<int16_t, kNtlNumFeatures> kCorrectedPosition = [] {
  std::array<int16_t, kNtlNumFeatures> pos{};
  for (int i = 0; i < kNtlNumFeatures; ++i) {
    pos[i] = -1;
    const std::string_view name = kNtlFeatures[i].name;
    for (int k : {i, i + 2})
      if (pos[i] < 0 && k < kNtlCorrectedNumFeatures && kNtlCorrectedFeatures[k].name == name)
        pos[i] = static_cast<int16_t>(k);
    for (int k = 0; pos[i] < 0 && k < kNtlCorrectedNumFeatures; ++k)
      if (kNtlCorrectedFeatures[k].name == name) pos[i] = static_cast<int16_t>(k);
  }
  return pos;
}();
}  // namespace

void NtlValues::At(NtlCol c) const {
  const int ref = static_cast<int>(c);
  const int want = corrected_ ? kCorrectedPosition[ref] : ref;
  if (n_ != want) [[unlikely]]
    ColumnOrderFailure(corrected_ ? kNtlCorrectedFeatureSet : kNtlFeatureSet, want);
}

void NtlValues::Z() {
  if (corrected_) {
    const FeatureInfo* cols = kNtlCorrectedFeatures.data();
    if (n_ < kNtlCorrectedNumFeatures && cols[n_].type == FeatureType::kFloat) {
      Push(FeatureValue::Float(0.0));
      return;
    }
  }
  Push(FeatureValue::Uint(0));
}

void ComputeNtlFeatures(const NtlInput& in, NtlScratch& sc, NtlValues& out) {
  const bool c = in.corrected;
  const bool ns_time = in.ns_time && !c;
  const std::span<const ListedPacket> pk = in.pk;
  const size_t nl = pk.size();
  std::vector<double>& v = sc.v;
  std::vector<double>& sorted = sc.sorted;
  std::vector<double>& scratch = sc.scratch;
  std::vector<double>* sorted_dir = sc.sorted_dir;
  std::vector<uint32_t>& order = sc.order;
  std::vector<int64_t>& us = sc.us;
  std::vector<double>& ts = sc.ts;
  ts.resize(nl);
  for (size_t i = 0; i < nl; ++i) ts[i] = NtlTsDouble(pk[i].ts_ns, ns_time);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const uint64_t nF = in.n[0], nB = in.n[1], nP = nF + nB;
  const uint64_t payF = in.pay[0], payB = in.pay[1], payP = payF + payB;

  // Lists of a per-packet quantity over P (dir -1), F (0) or B (1), in arrival order.
  auto gather = [&](int dir, auto get) {
    v.clear();
    for (const ListedPacket& x : pk)
      if (dir < 0 || x.Dir() == dir) v.push_back(static_cast<double>(get(x)));
    return v.size();
  };

  using N = NtlCol;
  // duration
  out.At(N::duration);
  const double dur = in.duration;
  if (ns_time) out.Empty(); else out.R(dur);
  out.U(nP);
  out.U(nF);
  out.U(nB);
  out.U(payP);
  out.U(payF);
  out.U(payB);

  auto payload = [](const ListedPacket& x) { return x.Payload(); };
  auto header = [](const ListedPacket& x) { return x.Header(); };
  auto segment = [](const ListedPacket& x) { return x.Header() + x.Payload(); };
  auto frame = [](const ListedPacket& x) { return x.Frame(); };

  // Statistics of a per-packet size over P, F, B (index 0, 1, 2). P's sorted values are the
  // merge of F's and B's.
  ListStats st[3];
  size_t stn[3];
  double st_total[3];
  auto tri = [&](auto get) {
    for (int d = 0; d < 2; ++d) {
      const size_t n = gather(d, get);
      stn[d + 1] = n;
      double total = 0;
      for (size_t i = 0; i < n; ++i) total += v[i];
      st_total[d + 1] = total;
      st[d + 1] = IntStats(v.data(), n, sorted_dir[d], scratch);
    }
    const size_t n = gather(-1, get);
    stn[0] = n;
    st_total[0] = st_total[1] + st_total[2];
    sorted.resize(n);
    std::merge(sorted_dir[0].begin(), sorted_dir[0].begin() + static_cast<long>(stn[1]), sorted_dir[1].begin(),
               sorted_dir[1].begin() + static_cast<long>(stn[2]), sorted.begin());
    st[0] = IntStats(v.data(), n, sorted, scratch, true);
  };
  // payload over P (unguarded), F, B (guarded on an empty direction).
  tri(payload);
  static constexpr N kPayloadAt[3] = {N::payload_bytes_max, N::fwd_payload_bytes_max, N::bwd_payload_bytes_max};
  for (int w = 0; w < 3; ++w) {
    out.At(kPayloadAt[w]);
    EmitStats(out, st[w], stn[w] == 0, "MNasvdkco");
  }
  // header: total, max, min, mean, std, median, skewness, cov, mode, variance.
  tri(header);
  static constexpr N kHeaderAt[3] = {N::total_header_bytes, N::fwd_total_header_bytes, N::bwd_total_header_bytes};
  for (int w = 0; w < 3; ++w) {
    out.At(kHeaderAt[w]);
    if (stn[w] == 0) {
      out.Z();
    } else {
      out.U(static_cast<uint64_t>(st_total[w]));
    }
    EmitStats(out, st[w], stn[w] == 0, "MNasdkcov");
  }
  // segment size (header + payload) over F, B, P: mean, max, min, std, variance, median,
  // skewness, cov, mode.
  tri(segment);
  static constexpr N kSegmentAt[3] = {N::segment_size_mean, N::fwd_segment_size_mean, N::bwd_segment_size_mean};
  for (int w : {1, 2, 0}) {
    out.At(kSegmentAt[w]);
    EmitStats(out, st[w], stn[w] == 0, "aMNsvdkco");
  }
  out.At(N::fwd_init_win_bytes);
  out.U(in.init_win[0]);
  out.U(in.init_win[1]);

  // active / idle.
  {
    static const std::vector<double> kNone;
    // Corrected: the lists hold integer ns; mean and std as the corrected 114 features compute
    // them (exact over ns, then / 1e9), the rest over the values in seconds.
    auto period_stats = [&](const std::vector<double>& L) {
      if (!c) return FloatStats(L.data(), L.size(), sorted, scratch);
      sc.sorted_dir[1].resize(L.size());
      exact::IntMoments m;
      for (size_t i = 0; i < L.size(); ++i) {
        sc.sorted_dir[1][i] = exact::NsToSeconds(static_cast<int64_t>(L[i]));
        m.Add(static_cast<uint64_t>(L[i]));
      }
      ListStats s = FloatStats(sc.sorted_dir[1].data(), L.size(), sorted, scratch);
      if (!L.empty()) {
        s.mean = m.Mean() / 1e9;
        s.std = m.PStd() / 1e9;
      }
      return s;
    };
    const std::vector<double>& A = in.act ? *in.act : kNone;
    out.At(N::active_min);
    EmitStats(out, A.empty() ? ListStats{} : period_stats(A), A.empty(), "nxasdkcov");
    const std::vector<double>& I = in.idle ? *in.idle : kNone;
    const ListStats s = period_stats(I);
    out.At(N::idle_min);
    EmitStats(out, s, I.empty(), "nxas");
    EmitStats(out, s, c ? I.empty() : A.empty(), "dkcov");  // N3: the reference gates on the active list
  }

  // rates over the whole-flow duration (D18); a nanosecond capture's duration raises.
  const uint64_t rate_num[6] = {payP, payF, payB, nP, nB, nF};
  out.At(N::bytes_rate);
  for (uint64_t x : rate_num) {
    if (ns_time) out.Empty();
    else if (dur == 0.0) out.Z();
    else out.R(static_cast<double>(x) / dur);
  }
  out.At(N::down_up_rate);
  if (nF) out.R(static_cast<double>(nB) / static_cast<double>(nF)); else out.Z();

  // bulk.
  out.At(N::avg_fwd_bytes_per_bulk);
  for (int d = 0; d < 2; ++d) {
    const NtlBulkOut& b = in.bulk[d];
    if (b.states) {
      out.R(static_cast<double>(b.bytes) / static_cast<double>(b.states));
      out.R(static_cast<double>(b.pkts) / static_cast<double>(b.states));
    } else {
      out.Z();
      out.Z();
    }
    if (b.dur == 0) {
      out.Z();
    } else if (c) {  // as the corrected 114 features: bytes / exact duration, one rounding
      out.R(exact::RatioToDouble(static_cast<__int128>(b.bytes) * kNsPerSec, static_cast<unsigned __int128>(b.dur_ns)));
    } else {
      out.R(static_cast<double>(b.bytes) / b.dur);
    }
  }
  out.At(N::fwd_bulk_state_count);
  for (int d = 0; d < 2; ++d) {
    const NtlBulkOut& b = in.bulk[d];
    out.U(b.states);
    out.U(b.bytes);
    out.U(b.pkts);
    if (b.dur_set) out.R(b.dur); else out.Z();
  }

  // flags: counts all/fwd/bwd, ratios in total, ratios in direction.
  out.At(N::fin_flag_counts);
  for (int bit : kFlagColumnBits) out.U(static_cast<uint64_t>(in.flags[0][bit]) + in.flags[1][bit]);
  for (int d = 0; d < 2; ++d)
    for (int bit : kFlagColumnBits) out.U(in.flags[d][bit]);
  out.At(N::fin_flag_percentage_in_total);
  for (int bit : kFlagColumnBits)
    out.R(static_cast<double>(in.flags[0][bit] + in.flags[1][bit]) / static_cast<double>(nP));
  for (int d = 0; d < 2; ++d)
    for (int bit : kFlagColumnBits) out.R(static_cast<double>(in.flags[d][bit]) / static_cast<double>(nP));
  out.At(N::fwd_fin_flag_percentage_in_fwd_packets);
  for (int d = 0; d < 2; ++d)
    for (int bit : kFlagColumnBits) {
      if (in.n[d]) out.R(static_cast<double>(in.flags[d][bit]) / static_cast<double>(in.n[d])); else out.Z();
    }

  // IAT over P, F, B (arrival order; a 1-packet list holds the timestamp, D6).
  static constexpr N kIatAt[3] = {N::packets_IAT_mean, N::fwd_packets_IAT_mean, N::bwd_packets_IAT_mean};
  for (int dir = -1; dir <= 1; ++dir) {
    out.At(kIatAt[dir + 1]);
    v.clear();
    int64_t prev_ns = 0, first_ns = 0;
    __int128 dsum = 0;
    unsigned __int128 dsq = 0;
    double prev = 0;
    size_t cnt = 0;
    for (size_t i = 0; i < nl; ++i) {
      if (dir >= 0 && pk[i].Dir() != dir) continue;
      if (cnt == 0) first_ns = pk[i].ts_ns;
      if (cnt > 0 && c) {
        const int64_t d = pk[i].ts_ns - prev_ns;  // effective times: >= 0
        dsum += d;
        dsq += static_cast<unsigned __int128>(static_cast<__int128>(d) * d);
      }
      if (cnt > 0) {
        v.push_back(ns_time || c ? exact::RatioToDouble(pk[i].ts_ns - prev_ns, kNsPerSec) : ts[i] - prev);
      }
      prev_ns = pk[i].ts_ns;
      prev = ts[i];
      ++cnt;
    }
    if (cnt == 1 && !c) v.push_back(prev);  // D6 (corrected: one packet has no interval)
    const size_t n = v.size();
    if (n == 0) {
      for (int i = 0; i < 6; ++i) out.Z();
      if (c) {
        out.Z();
        out.Z();
      } else {
        out.X(nan);  // scipy on an empty list
        out.X(nan);
      }
      out.Z();
      out.Z();
      continue;
    }
    double total = 0;
    for (double x : v) total += x;  // Python sum(): left to right
    ListStats s = FloatStats(v.data(), n, sorted, scratch);
    if (c) {  // exact over the integer ns intervals, as the corrected 114 features
      const unsigned __int128 nn = n, g = static_cast<unsigned __int128>(kNsPerSec);
      total = exact::RatioToDouble(prev_ns - first_ns, g);
      s.mean = exact::RatioToDouble(dsum, nn * g);
      const __int128 vnum = static_cast<__int128>(nn * dsq) - dsum * dsum;
      s.var = exact::RatioToDouble(vnum, nn * nn * g * g);
      exact::IntMoments m;  // std as the corrected 114 features: PStd over ns, then / 1e9
      m.n = n;
      m.sum = static_cast<unsigned __int128>(dsum);
      m.sum_sq = dsq;
      s.std = m.PStd() / 1e9;
    }
    out.X(s.mean);
    out.X(s.std);
    out.R(s.max);
    out.R(s.min);
    out.R(total);
    out.X(s.median);
    out.X(s.skew);
    out.X(s.cov);
    out.X(s.mode);
    out.X(s.var);
  }

  // subflows (sfcount = gaps > 1 s; D4: bwd bytes repeat the fwd bytes).
  out.At(N::subflow_fwd_packets);
  if (c) {  // D13: gaps + 1 subflows; D4 fixed
    const double k = static_cast<double>(in.sfcount + 1);
    out.R(static_cast<double>(nF) / k);
    out.R(static_cast<double>(nB) / k);
    out.R(static_cast<double>(payF) / k);
    out.R(static_cast<double>(payB) / k);
  } else if (in.sfcount == 0) {
    for (int i = 0; i < 4; ++i) out.Z();
  } else {
    const double k = static_cast<double>(in.sfcount);
    out.R(static_cast<double>(nF) / k);
    out.R(static_cast<double>(nB) / k);
    out.R(static_cast<double>(payF) / k);
    out.R(static_cast<double>(payF) / k);
  }

  // handshake.
  out.At(N::delta_start);
  if (c) {  // N4: a handshake completed by the last packet counts; absent values are NaN
    out.X(in.hs_state == 3 && in.hs_other ? exact::RatioToDouble(in.hs_other_ns - in.hs_last_ns, kNsPerSec) : nan);
    out.X(in.hs_state == 3 ? exact::RatioToDouble(in.hs_last_ns - in.hs_first_ns, kNsPerSec) : nan);
  } else if (in.hs_done) {
    if (ns_time) {
      out.Dec(DecimalNs(in.hs_other_ns - in.hs_last_ns));
      out.Dec(DecimalNs(in.hs_last_ns - in.hs_first_ns));
    } else {
      out.X(NtlTsDouble(in.hs_other_ns, false) - NtlTsDouble(in.hs_last_ns, false));
      out.X(NtlTsDouble(in.hs_last_ns, false) - NtlTsDouble(in.hs_first_ns, false));
    }
  } else {
    out.Text(0);
    out.Text(0);
  }
  out.At(N::handshake_state);
  out.U(in.hs_state);

  // Sorted order of the listed packets: by timestamp, equal timestamps in reverse arrival
  // order (Python's sort of (timestamp, packet) pairs whose packets compare with <=).
  order.resize(nl);
  for (size_t i = 0; i < nl; ++i) order[i] = static_cast<uint32_t>(i);
  bool increasing = true;  // the usual case: arrival order is already the sorted order
  for (size_t i = 1; i < nl && increasing; ++i) increasing = pk[i - 1].ts_ns < pk[i].ts_ns;
  if (!increasing) {
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      return pk[a].ts_ns != pk[b].ts_ns ? pk[a].ts_ns < pk[b].ts_ns : a > b;
    });
  }

  // delta time: microsecond remainder of consecutive sorted datetimes, in ms (N2).
  us.resize(nl);
  for (size_t i = 0; i < nl; ++i) us[i] = ntl::DatetimeMicros(ts[i]);
  ListStats dt[3];
  size_t dtn[3];
  for (int dir = -1; dir <= 1; ++dir) {
    std::vector<double>& L = v;
    L.clear();
    sorted_dir[0].clear();  // the remainders in us, sorted as integers (m -> m / 1000 is monotone)
    int64_t prev = 0;
    bool have = false;
    for (uint32_t i : order) {
      if (dir >= 0 && pk[i].Dir() != dir) continue;
      if (have && c) {  // N2 fixed: the whole gap, in ms
        L.push_back(exact::RatioToDouble(pk[i].ts_ns - prev, 1000000));
      } else if (have) {
        const int64_t m = (us[i] - prev) % 1000000;
        L.push_back(static_cast<double>(m) / 1000.0);
        sorted_dir[0].push_back(static_cast<double>(m));
      }
      prev = c ? pk[i].ts_ns : us[i];
      have = true;
    }
    const size_t n = L.size();
    if (!c) {
      SortIntValued(sorted_dir[0], n, sc.radix_k0, sc.radix_k1);
      sorted.resize(n);
      for (size_t i = 0; i < n; ++i) sorted[i] = sorted_dir[0][i] / 1000.0;
    }
    dtn[dir + 1] = n;
    dt[dir + 1] = FloatStats(L.data(), n, sorted, scratch, !c);
  }
  auto dt_rest = [&](int w) { EmitStats(out, dt[w], dtn[w] == 0, "aovsdkc"); };
  auto dt_minmax = [&](int w) { EmitStats(out, dt[w], dtn[w] == 0, "ij"); };
  // N1: the reference's all-packet min/max are overwritten by the backward ones under the bwd
  // names (25 columns); corrected: 27 columns, each list with its own min/max.
  dt_minmax(c ? 0 : 2);
  out.At(N::mean_packets_delta_time);
  dt_rest(0);
  if (c) dt_minmax(2);
  out.At(N::mean_bwd_packets_delta_time);
  dt_rest(2);
  out.At(N::min_fwd_packets_delta_time);
  dt_minmax(1);
  dt_rest(1);

  // delta len of frame length, header bytes, payload bytes; each over P, B, F.
  auto delta_len = [&](auto get, const N (&at)[3]) {
    for (int dir : {-1, 1, 0}) {
      out.At(at[dir + 1]);
      v.clear();
      double prev = 0;
      bool have = false;
      for (uint32_t i : order) {
        if (dir >= 0 && pk[i].Dir() != dir) continue;
        const double x = static_cast<double>(get(pk[i]));
        if (have) v.push_back(x - prev);
        prev = x;
        have = true;
      }
      const size_t n = v.size();
      // integer-valued differences
      EmitStats(out, n ? IntStats(v.data(), n, sorted, scratch) : ListStats{}, n == 0, "nxaovsdkc");
    }
  };
  delta_len(frame, {N::min_packets_delta_len, N::min_fwd_packets_delta_len, N::min_bwd_packets_delta_len});
  delta_len(header,
            {N::min_header_bytes_delta_len, N::min_fwd_header_bytes_delta_len, N::min_bwd_header_bytes_delta_len});
  delta_len(payload,
            {N::min_payload_bytes_delta_len, N::min_fwd_payload_bytes_delta_len, N::min_bwd_payload_bytes_delta_len});
  if (out.size() != (c ? kNtlCorrectedNumFeatures : kNtlNumFeatures)) [[unlikely]]
    ColumnOrderFailure(c ? kNtlCorrectedFeatureSet : kNtlFeatureSet, out.size());
}

}  // namespace nfm
