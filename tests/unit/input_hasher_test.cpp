// SPDX-License-Identifier: MIT
// InputHasher (inline and on its helper thread) against FIPS 180-4 vectors and against the
// one-shot digest of generated data fed as reused buffers, the way the capture reader feeds it.
#include "source/input_hasher.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "source/byte_source.hpp"
#include "source/sha256.hpp"

namespace nfm {
namespace {

TEST(InputHasher, Fips180VectorsInlineAndThreaded) {
  for (bool threaded : {false, true}) {
    InputHasher h(threaded);
    const std::string abc = "abc";
    h.Add(reinterpret_cast<const uint8_t*>(abc.data()), abc.size());
    uint64_t bytes = 0;
    EXPECT_EQ(h.Finish(true, &bytes), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(bytes, 3u);
    InputHasher empty(threaded);
    EXPECT_EQ(empty.Finish(true, &bytes), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(bytes, 0u);
  }
}

// Two buffers refilled alternately, each reused only after WaitFor(its ticket): the digest must
// be that of the whole stream (a buffer overwritten too early would change it).
TEST(InputHasher, ReusedBuffersGiveTheWholeStreamsDigest) {
  std::mt19937 rng(7);
  std::vector<uint8_t> stream(9 << 20);
  for (auto& b : stream) b = static_cast<uint8_t>(rng());
  Sha256 ref;
  ref.Update(stream.data(), stream.size());
  const std::string want = ref.HexFinal();
  for (bool threaded : {false, true}) {
    InputHasher h(threaded);
    std::vector<uint8_t> half[2] = {std::vector<uint8_t>(300000), std::vector<uint8_t>(300000)};
    uint64_t ticket[2] = {0, 0};
    size_t pos = 0;
    for (int i = 0; pos < stream.size(); i ^= 1) {
      h.WaitFor(ticket[i]);
      const size_t n = std::min<size_t>(1 + rng() % half[i].size(), stream.size() - pos);
      std::memcpy(half[i].data(), stream.data() + pos, n);
      ticket[i] = h.Add(half[i].data(), n);
      pos += n;
    }
    uint64_t bytes = 0;
    EXPECT_EQ(h.Finish(true, &bytes), want) << (threaded ? "threaded" : "inline");
    EXPECT_EQ(bytes, stream.size());
  }
}

// The file reader hashes the whole file (to_end) whatever the reader did with its descriptor,
// or, stopped, a prefix whose digest is that prefix's.
TEST(InputHasher, ReadingFileHashesTheFileOrAPrefix) {
  std::mt19937 rng(11);
  std::vector<uint8_t> data(5 << 20);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  char path[] = "/tmp/nfm_hasher_XXXXXX";
  const int wfd = mkstemp(path);
  ASSERT_GE(wfd, 0);
  ASSERT_EQ(write(wfd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  close(wfd);
  Sha256 ref;
  ref.Update(data.data(), data.size());
  const std::string want = ref.HexFinal();
  const int fd = open(path, O_RDONLY);
  ASSERT_GE(fd, 0);
  char sink[4096];
  ASSERT_GT(read(fd, sink, sizeof sink), 0);  // the reader's file position does not matter
  auto h = InputHasher::ReadingFile(fd);
  ASSERT_NE(h, nullptr);
  EXPECT_TRUE(h->reads_file());
  close(fd);  // the hasher keeps its own descriptor
  uint64_t bytes = 0;
  EXPECT_EQ(h->Finish(true, &bytes), want);
  EXPECT_EQ(bytes, data.size());
  const int fd2 = open(path, O_RDONLY);
  auto stopped = InputHasher::ReadingFile(fd2);
  close(fd2);
  ASSERT_NE(stopped, nullptr);
  const std::string got = stopped->Finish(false, &bytes);
  EXPECT_LE(bytes, data.size());
  Sha256 prefix;
  prefix.Update(data.data(), bytes);
  EXPECT_EQ(got, prefix.HexFinal()) << bytes << " bytes";
  const int fd3 = open(path, O_RDONLY);
  PendingDigest pending(InputHasher::ReadingFile(fd3));
  close(fd3);
  std::string hex;
  pending.Get(&hex, &bytes);
  EXPECT_EQ(hex, want);
  pending.Get(&hex, &bytes);  // kept
  EXPECT_EQ(hex, want);
  unlink(path);
}

TEST(SniffCompression, MagicBytes) {
  struct Case {
    const char* bytes;
    size_t n;
    Compression want;
  } cases[] = {
      {"\x1f\x8b\x08\x00\x00\x00", 6, Compression::kGzip},
      {"\x28\xb5\x2f\xfd\x24\x00", 6, Compression::kZstd},
      {"\x50\x2a\x4d\x18\x00\x00", 6, Compression::kZstd},  // skippable frame first
      {"\xfd" "7zXZ\0", 6, Compression::kXz},
      {"BZh91AY", 7, Compression::kBzip2},
      {"BZh0", 4, Compression::kNone},                          // block size digit 1..9 only
      {"\xd4\xc3\xb2\xa1\x02\x00", 6, Compression::kNone},      // pcap, little-endian
      {"\x0a\x0d\x0d\x0a\x1c\x00", 6, Compression::kNone},      // pcapng
      {"\x1f", 1, Compression::kNone},
  };
  for (const Case& c : cases)
    EXPECT_EQ(SniffCompression(reinterpret_cast<const uint8_t*>(c.bytes), c.n), c.want) << CompressionName(c.want);
}

}  // namespace
}  // namespace nfm
