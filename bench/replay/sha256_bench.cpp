// SPDX-License-Identifier: MIT
// sha256_bench: hashes the same bytes with our Sha256 (source/sha256.cpp) and, when built with
// OpenSSL, with libcrypto's EVP SHA-256, in 256 KiB updates (the reader's buffer size), and
// prints GB/s of each, best of the rounds. Both digests must agree (exit 1 otherwise).
//   sha256_bench [MiB=176] [ROUNDS=5]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "source/sha256.hpp"
#ifdef NFM_BENCH_OPENSSL
#include <openssl/evp.h>
#endif

namespace {
double Seconds(std::chrono::steady_clock::time_point a) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
}
}  // namespace

int main(int argc, char** argv) {
  const size_t mib = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 176;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  constexpr size_t kChunk = 256 * 1024;
  std::vector<uint8_t> buf(kChunk);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<uint8_t>(i * 131 + 7);
  const size_t chunks = mib * 4;
  double ours = 1e9, evp = 1e9;
  uint8_t d1[32] = {}, d2[32] = {};
  for (int r = 0; r < rounds; ++r) {
    auto t = std::chrono::steady_clock::now();
    nfm::Sha256 h;
    for (size_t i = 0; i < chunks; ++i) h.Update(buf.data(), buf.size());
    h.Final(d1);
    ours = std::min(ours, Seconds(t));
#ifdef NFM_BENCH_OPENSSL
    t = std::chrono::steady_clock::now();
    EVP_MD_CTX* c = EVP_MD_CTX_new();
    EVP_DigestInit_ex(c, EVP_sha256(), nullptr);
    for (size_t i = 0; i < chunks; ++i) EVP_DigestUpdate(c, buf.data(), buf.size());
    unsigned n = 0;
    EVP_DigestFinal_ex(c, d2, &n);
    EVP_MD_CTX_free(c);
    evp = std::min(evp, Seconds(t));
#endif
  }
  const double bytes = double(chunks) * kChunk;
  std::printf("%zu MiB in 256 KiB updates, best of %d: ours (%s) %.3f s = %.2f GB/s\n", mib, rounds,
              nfm::Sha256::UsesShaExtensions() ? "SHA extensions" : "portable", ours, bytes / ours / 1e9);
#ifdef NFM_BENCH_OPENSSL
  std::printf("OpenSSL EVP_sha256: %.3f s = %.2f GB/s\n", evp, bytes / evp / 1e9);
  if (std::memcmp(d1, d2, 32) != 0) {
    std::printf("digests differ\n");
    return 1;
  }
#else
  (void)d2;
  (void)evp;
  std::printf("OpenSSL EVP_sha256: not built (libssl-dev not found)\n");
#endif
  return 0;
}
