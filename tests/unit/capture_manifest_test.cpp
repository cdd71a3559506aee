// SPDX-License-Identifier: MIT
// CaptureReader additions for the dataset manifest and the loss column: the SHA-256 computed
// while reading equals sha256sum of the file (whole read, partial read finished to the end,
// corrupt file, stdin-like stream), and pcapng Interface Statistics Blocks become drop
// intervals (hand-built capture, expected intervals computed by hand).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "../common/sha256sum.hpp"
#include "source/capture_reader.hpp"

#ifndef NFM_SOURCE_DIR
#define NFM_SOURCE_DIR "."
#endif

namespace nfm {
namespace {

std::string Data(const std::string& name) { return std::string(NFM_SOURCE_DIR) + "/tests/data/" + name; }

using nfm::testing::Sha256sumOf;

TEST(CaptureSha256, EqualsSha256sumForEveryTestCapture) {
  if (system("command -v sha256sum >/dev/null 2>&1") != 0) GTEST_SKIP() << "SKIP: sha256sum not installed";
  for (const char* f : {"pcap_us_le.pcap", "pcap_ns_be.pcap", "pcapng_multi.pcapng", "pcap_truncated.pcap",
                        "pcapng_truncated.pcapng", "pcap_corrupt_caplen.pcap", "pcapng_header_only.pcapng"}) {
    SCOPED_TRACE(f);
    const std::string want = Sha256sumOf(Data(f));
    for (int stop_after : {-1, 0, 1}) {  // read everything / nothing / one record, then finish
      std::string err;
      auto r = CaptureReader::Open(Data(f), &err, /*hash=*/true);
      ASSERT_NE(r, nullptr) << err;
      RawPacket p;
      int n = 0;
      while ((stop_after < 0 || n < stop_after) && r->Next(&p) == 1) ++n;
      uint64_t bytes = 0;
      EXPECT_EQ(r->FinishSha256(true, &bytes), want) << "stop_after " << stop_after;
      FILE* fp = fopen(Data(f).c_str(), "rb");
      fseek(fp, 0, SEEK_END);
      EXPECT_EQ(bytes, static_cast<uint64_t>(ftell(fp)));
      fclose(fp);
    }
  }
}

TEST(CaptureSha256, StreamInputFromAPipe) {
  if (system("command -v sha256sum >/dev/null 2>&1") != 0) GTEST_SKIP() << "SKIP: sha256sum not installed";
  // A generated 12 MB pcap through a pipe exercises the refilled buffer (4 MiB chunks).
  char path[] = "/tmp/nfm_hash_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  std::vector<uint8_t> file(24);
  const uint32_t hdr[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
  std::memcpy(file.data(), hdr, 24);
  for (uint32_t i = 0; i < 12000; ++i) {
    const uint32_t rec[4] = {i, 0, 1000, 1000};
    const uint8_t* b = reinterpret_cast<const uint8_t*>(rec);
    file.insert(file.end(), b, b + 16);
    file.insert(file.end(), 1000, static_cast<uint8_t>(i * 7));
  }
  ASSERT_EQ(write(fd, file.data(), file.size()), static_cast<ssize_t>(file.size()));
  close(fd);
  const std::string want = Sha256sumOf(path);
  FILE* pipe = popen((std::string("cat ") + path).c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  const int saved = dup(0);
  dup2(fileno(pipe), 0);
  std::string err;
  auto r = CaptureReader::Open("-", &err, /*hash=*/true);
  ASSERT_NE(r, nullptr) << err;
  RawPacket p;
  for (int i = 0; i < 5000; ++i) ASSERT_EQ(r->Next(&p), 1);
  uint64_t bytes = 0;
  EXPECT_EQ(r->FinishSha256(true, &bytes), want);
  EXPECT_EQ(bytes, file.size());
  r.reset();
  dup2(saved, 0);
  close(saved);
  pclose(pipe);
  unlink(path);
}

// pcapng builder (little-endian).
struct Png {
  std::vector<uint8_t> b;
  void U32(uint32_t v) { b.insert(b.end(), reinterpret_cast<uint8_t*>(&v), reinterpret_cast<uint8_t*>(&v) + 4); }
  void U16(uint16_t v) { b.insert(b.end(), reinterpret_cast<uint8_t*>(&v), reinterpret_cast<uint8_t*>(&v) + 2); }
  void U64(uint64_t v) { b.insert(b.end(), reinterpret_cast<uint8_t*>(&v), reinterpret_cast<uint8_t*>(&v) + 8); }
  void Block(uint32_t type, const std::vector<uint8_t>& body) {
    U32(type);
    U32(static_cast<uint32_t>(12 + body.size()));
    b.insert(b.end(), body.begin(), body.end());
    U32(static_cast<uint32_t>(12 + body.size()));
  }
};
std::vector<uint8_t> Body(const std::function<void(Png&)>& f) {
  Png p;
  f(p);
  return p.b;
}

TEST(CaptureDrops, IsbCountersBecomeDropIntervals) {
  Png f;
  f.Block(0x0a0d0d0a, Body([](Png& p) { p.U32(0x1a2b3c4d); p.U16(1); p.U16(0); p.U64(~0ull); }));
  f.Block(1, Body([](Png& p) { p.U16(1); p.U16(0); p.U32(0); }));  // Ethernet, µs
  f.Block(1, Body([](Png& p) { p.U16(1); p.U16(0); p.U32(0); }));  // second interface
  auto epb = [&](uint64_t us) {
    f.Block(6, Body([&](Png& p) {
      p.U32(0); p.U32(static_cast<uint32_t>(us >> 32)); p.U32(static_cast<uint32_t>(us)); p.U32(4); p.U32(60);
      p.U32(0);
    }));
  };
  // ISB: interface, time (µs), options: starttime (2), ifdrop (5), osdrop (7).
  auto isb = [&](uint32_t ifc, uint64_t us, int64_t start_us, int64_t ifdrop, int64_t osdrop) {
    f.Block(5, Body([&](Png& p) {
      p.U32(ifc); p.U32(static_cast<uint32_t>(us >> 32)); p.U32(static_cast<uint32_t>(us));
      if (start_us >= 0) { p.U16(2); p.U16(8); p.U32(static_cast<uint32_t>(uint64_t(start_us) >> 32)); p.U32(static_cast<uint32_t>(start_us)); }
      if (ifdrop >= 0) { p.U16(5); p.U16(8); p.U64(static_cast<uint64_t>(ifdrop)); }
      if (osdrop >= 0) { p.U16(7); p.U16(8); p.U64(static_cast<uint64_t>(osdrop)); }
      p.U16(0); p.U16(0);
    }));
  };
  epb(1000000);
  isb(0, 2000000, 500000, 0, -1);   // 0 drops since 0.5 s: no interval
  epb(3000000);
  isb(0, 4000000, 500000, 5, -1);   // +5 in [2 s, 4 s]
  isb(1, 4500000, 1000000, 2, 1);   // interface 1: 3 drops in [1 s, 4.5 s] (from its start time)
  isb(0, 5000000, -1, 5, -1);       // no increase
  isb(0, 6000000, -1, 6, 2);        // +3 (ifdrop +1, osdrop +2) in [5 s, 6 s]
  isb(1, 7000000, -1, -1, -1);      // no counters: ignored
  char path[] = "/tmp/nfm_isb_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, f.b.data(), f.b.size()), static_cast<ssize_t>(f.b.size()));
  close(fd);
  std::string err;
  auto r = CaptureReader::Open(path, &err);
  ASSERT_NE(r, nullptr) << err;
  RawPacket p;
  int n = 0, rc;
  while ((rc = r->Next(&p)) == 1) ++n;
  EXPECT_EQ(rc, 0) << r->Error();
  EXPECT_EQ(n, 2);
  EXPECT_EQ(r->Stats().stats_blocks, 6u);
  const auto& d = r->Drops();
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].interface, 0u);
  EXPECT_EQ(d[0].from_ns, 2000000000u);
  EXPECT_EQ(d[0].to_ns, 4000000000u);
  EXPECT_EQ(d[0].drops, 5u);
  EXPECT_EQ(d[1].interface, 1u);
  EXPECT_EQ(d[1].from_ns, 1000000000u);
  EXPECT_EQ(d[1].to_ns, 4500000000u);
  EXPECT_EQ(d[1].drops, 3u);
  EXPECT_EQ(d[2].interface, 0u);
  EXPECT_EQ(d[2].from_ns, 5000000000u);
  EXPECT_EQ(d[2].to_ns, 6000000000u);
  EXPECT_EQ(d[2].drops, 3u);
  unlink(path);
}

}  // namespace
}  // namespace nfm
