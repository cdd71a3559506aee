// SPDX-License-Identifier: MIT
// Sha256 against FIPS 180-4 test vectors and against the system's sha256sum (an independent
// implementation) on generated data fed in irregular chunks.
#include "source/sha256.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace nfm {
namespace {

std::string Hash(const std::string& s, size_t chunk, bool portable = false) {
  Sha256 h;
  h.ForcePortable(portable);
  for (size_t i = 0; i < s.size(); i += chunk) h.Update(s.data() + i, std::min(chunk, s.size() - i));
  return h.HexFinal();
}

TEST(Sha256, Fips180Vectors) {
  EXPECT_EQ(Hash("", 1), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Hash("abc", 1), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Hash("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 5),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Hash(std::string(1000000, 'a'), 4093),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_EQ(Hash("abc", 1, true), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::printf("SHA extensions: %s\n", Sha256::UsesShaExtensions() ? "used" : "not available (portable only)");
}

std::string SystemSha256(const std::string& data) {
  char path[] = "/tmp/nfm_sha256_XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return "mkstemp failed";
  if (write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) return "write failed";
  close(fd);
  std::string cmd = std::string("sha256sum ") + path;
  FILE* p = popen(cmd.c_str(), "r");
  char buf[128] = {};
  if (!p || !fgets(buf, sizeof buf, p)) return "sha256sum failed";
  pclose(p);
  unlink(path);
  return std::string(buf, 64);
}

TEST(Sha256, MatchesSha256sumOnEveryLengthAroundBlockEdges) {
  if (system("command -v sha256sum >/dev/null 2>&1") != 0) GTEST_SKIP() << "SKIP: sha256sum not installed";
  std::mt19937_64 rng(7);
  for (size_t len : {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 65537, 300001}) {
    std::string s(len, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    const std::string want = SystemSha256(s);
    for (size_t chunk : {1, 3, 64, 100, 4096, 1 << 20}) {
      EXPECT_EQ(Hash(s, chunk), want) << len << "/" << chunk;
      EXPECT_EQ(Hash(s, chunk, true), want) << len << "/" << chunk << " portable";
    }
  }
}

}  // namespace
}  // namespace nfm
