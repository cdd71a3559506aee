// SPDX-License-Identifier: MIT
// DigestCache: an input's SHA-256 remembered between runs. The rules (stored only for an
// unchanged, settled file of 1 MiB and more; found only for the exact stamp; the newest entry
// wins; torn lines, foreign or group-writable cache files ignored; compaction keeps the newest
// half) and the reader's use of it: a second open of an unchanged capture takes the digest from
// the cache (the expected digest is sha256sum's), an in-place rewrite that keeps the size and
// the mtime is hashed again.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "../common/sha256sum.hpp"
#include "source/capture_reader.hpp"
#include "source/digest_cache.hpp"

namespace nfm {
namespace {

using nfm::testing::Sha256sumOf;

struct TempDir {
  std::string path;
  TempDir() {
    char t[] = "/tmp/nfm_digest_XXXXXX";
    path = mkdtemp(t);
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
};

// A valid pcap of `records` 1,000-byte frames (about 1 KiB each on disk).
void WritePcap(const std::string& path, int records, uint8_t fill) {
  std::ofstream f(path, std::ios::binary);
  const uint32_t gh[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
  f.write(reinterpret_cast<const char*>(gh), 24);
  std::vector<char> frame(1000, char(fill));
  for (int i = 0; i < records; ++i) {
    const uint32_t rh[4] = {uint32_t(1000 + i), 0, 1000, 1000};
    f.write(reinterpret_cast<const char*>(rh), 16);
    f.write(frame.data(), std::streamsize(frame.size()));
  }
}

FileStamp Stamp(const std::string& path) {
  FileStamp st;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_TRUE(fd >= 0 && StampOf(fd, &st));
  close(fd);
  return st;
}

const std::string kHexA(64, 'a'), kHexB(64, 'b');

TEST(DigestCache, StoresOnlySettledUnchangedLargeFiles) {
  TempDir d;
  DigestCache cache(d.path + "/sub/sha256.cache");  // the directory is created on the first store
  FileStamp st{1, 2, 5u << 20, 100, 200};
  const int64_t settled = 200 + DigestCache::kSettleNs;
  std::string hex;
  EXPECT_FALSE(cache.Lookup(st, &hex));  // no cache file yet
  FileStamp changed = st;
  changed.ctime_ns += 1;
  EXPECT_FALSE(cache.Store(st, changed, settled + 1, kHexA)) << "changed while hashed";
  EXPECT_FALSE(cache.Store(st, st, settled - 1, kHexA)) << "ctime too recent";
  FileStamp small = st;
  small.size = DigestCache::kMinFileBytes - 1;
  EXPECT_FALSE(cache.Store(small, small, settled, kHexA)) << "small file";
  EXPECT_FALSE(cache.Store(st, st, settled, "not-hex")) << "malformed digest";
  EXPECT_FALSE(cache.Lookup(st, &hex));
  ASSERT_TRUE(cache.Store(st, st, settled, kHexA)) << cache.LastError();
  ASSERT_TRUE(cache.Lookup(st, &hex));
  EXPECT_EQ(hex, kHexA);
  for (FileStamp other : {FileStamp{1, 2, 5u << 20, 101, 200}, FileStamp{1, 2, 5u << 20, 100, 201},
                          FileStamp{1, 3, 5u << 20, 100, 200}, FileStamp{9, 2, 5u << 20, 100, 200},
                          FileStamp{1, 2, (5u << 20) + 1, 100, 200}})
    EXPECT_FALSE(cache.Lookup(other, &hex)) << other.dev << " " << other.ino << " " << other.size;
  ASSERT_TRUE(cache.Store(st, st, settled, kHexB));  // the newest entry wins
  ASSERT_TRUE(cache.Lookup(st, &hex));
  EXPECT_EQ(hex, kHexB);
  EXPECT_EQ(cache.Hits(), 2u);
  EXPECT_EQ(cache.StoreFailures(), 0u);
  struct stat ds {};
  ASSERT_EQ(stat((d.path + "/sub").c_str(), &ds), 0);
  EXPECT_EQ(ds.st_mode & 0777, 0700u);
}

TEST(DigestCache, IgnoresTornLinesAndUntrustedFiles) {
  TempDir d;
  const std::string path = d.path + "/c";
  FileStamp st{1, 2, 5u << 20, 100, 200};
  {
    std::ofstream f(path);
    f << "garbage line\n1 2 5242880 100 200 " << kHexA << "\n1 2 5242880 100 200 " << kHexB.substr(0, 30);
  }
  chmod(path.c_str(), 0600);
  DigestCache cache(path);
  std::string hex;
  ASSERT_TRUE(cache.Lookup(st, &hex));
  EXPECT_EQ(hex, kHexA) << "the torn last line is not an entry";
  chmod(path.c_str(), 0620);  // group-writable: someone else could forge digests
  EXPECT_FALSE(cache.Lookup(st, &hex));
  EXPECT_FALSE(cache.Store(st, st, 200 + DigestCache::kSettleNs, kHexA));
  EXPECT_EQ(cache.StoreFailures(), 1u);
  EXPECT_NE(cache.LastError().find(path), std::string::npos) << cache.LastError();
  DigestCache unwritable("/proc/nfm-no-such-dir/c");
  EXPECT_FALSE(unwritable.Store(st, st, 200 + DigestCache::kSettleNs, kHexA));
  EXPECT_EQ(unwritable.StoreFailures(), 1u);
}

TEST(DigestCache, CompactsToTheNewestHalf) {
  TempDir d;
  DigestCache cache(d.path + "/c");
  const auto stamp = [](uint64_t i) { return FileStamp{1, i, 5u << 20, 100, 200}; };
  const int64_t settled = 200 + DigestCache::kSettleNs;
  uint64_t i = 0;
  struct stat cs {};
  do {
    ASSERT_TRUE(cache.Store(stamp(i), stamp(i), settled, kHexA));
    ++i;
    ASSERT_EQ(stat((d.path + "/c").c_str(), &cs), 0);
  } while (uint64_t(cs.st_size) <= DigestCache::kMaxBytes);
  const uint64_t before = uint64_t(cs.st_size);
  ASSERT_TRUE(cache.Store(stamp(i), stamp(i), settled, kHexB));  // compacts, keeps this entry
  ASSERT_EQ(stat((d.path + "/c").c_str(), &cs), 0);
  EXPECT_LT(uint64_t(cs.st_size), before / 2 + 200);
  std::string hex;
  ASSERT_TRUE(cache.Lookup(stamp(i), &hex));
  EXPECT_EQ(hex, kHexB);
  EXPECT_TRUE(cache.Lookup(stamp(i - 1), &hex)) << "the newest half stays";
  EXPECT_FALSE(cache.Lookup(stamp(0), &hex)) << "the oldest half goes";
}

TEST(DigestCache, ReaderTakesTheDigestOfAnUnchangedFileFromTheCache) {
  if (system("command -v sha256sum >/dev/null 2>&1") != 0) GTEST_SKIP() << "SKIP: sha256sum not installed";
  TempDir d;
  const std::string cap = d.path + "/in.pcap";
  WritePcap(cap, 1500, 0x11);  // 1.5 MB
  // Only a file whose ctime is kSettleNs old is remembered.
  std::this_thread::sleep_for(std::chrono::nanoseconds(DigestCache::kSettleNs + 100'000'000));
  DigestCache cache(d.path + "/c");
  const std::string want = Sha256sumOf(cap);
  const auto hash_of = [&](bool read_all, uint64_t* bytes) {
    std::string err;
    auto r = CaptureReader::Open(cap, &err, /*hash=*/true, &cache);
    EXPECT_NE(r, nullptr) << err;
    RawPacket p;
    if (read_all)
      while (r->Next(&p) == 1) {
      }
    return r->FinishSha256(read_all, bytes);
  };
  uint64_t bytes = 0;
  EXPECT_EQ(hash_of(true, &bytes), want);  // hashed, then remembered
  EXPECT_EQ(bytes, Stamp(cap).size);
  EXPECT_EQ(cache.Hits(), 0u);
  std::string hex;
  ASSERT_TRUE(cache.Lookup(Stamp(cap), &hex)) << cache.LastError();
  EXPECT_EQ(hex, want);
  // Nothing read, stopped at once: the remembered digest covers the whole file.
  EXPECT_EQ(hash_of(false, &bytes), want);
  EXPECT_EQ(bytes, Stamp(cap).size);
  EXPECT_EQ(cache.Hits(), 2u);
  // Rewritten in place with other bytes, same size, mtime put back: ctime moved, so hashed.
  const FileStamp old = Stamp(cap);
  WritePcap(cap, 1500, 0x22);
  const struct timespec times[2] = {{0, UTIME_OMIT}, {old.mtime_ns / 1'000'000'000, old.mtime_ns % 1'000'000'000}};
  ASSERT_EQ(utimensat(AT_FDCWD, cap.c_str(), times, 0), 0);
  ASSERT_EQ(Stamp(cap).mtime_ns, old.mtime_ns);
  const std::string want2 = Sha256sumOf(cap);
  ASSERT_NE(want2, want);
  EXPECT_EQ(hash_of(true, &bytes), want2);
  EXPECT_FALSE(cache.Lookup(Stamp(cap), &hex)) << "a file changed less than 2 s ago is not remembered";
}

}  // namespace
}  // namespace nfm
