// SPDX-License-Identifier: MIT
// Tests for CaptureReader on the self-made captures in tests/data (see make_captures.py for
// their layout; expected values are computed by hand there and checked with tshark), on
// stdin, on large generated streams, and on the shared corpus when ../shared/pcaps exists beside the checkout.
#include "source/capture_reader.hpp"
#include "source/read_ahead.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <thread>
#include <vector>

#ifndef NFM_SOURCE_DIR
#define NFM_SOURCE_DIR "."
#endif

namespace nfm {
namespace {

std::string Data(const std::string& name) { return std::string(NFM_SOURCE_DIR) + "/tests/data/" + name; }

std::unique_ptr<CaptureReader> MustOpen(const std::string& path) {
  std::string err;
  auto r = CaptureReader::Open(path, &err);
  EXPECT_NE(r, nullptr) << err;
  return r;
}

struct Rec {
  uint64_t ts_ns;
  int ts_exp;
  uint32_t link, cap, wire;
};

std::vector<Rec> ReadAll(CaptureReader* r, int* last_rc) {
  std::vector<Rec> out;
  RawPacket p;
  int rc;
  while ((rc = r->Next(&p)) == 1) out.push_back({p.ts_ns, p.ts_exp, p.link_type, p.cap_len, p.wire_len});
  *last_rc = rc;
  return out;
}

TEST(CaptureReader, PcapMicrosecondsLittleEndian) {
  auto r = MustOpen(Data("pcap_us_le.pcap"));
  ASSERT_NE(r, nullptr);
  EXPECT_STREQ(r->Format(), "pcap");
  EXPECT_EQ(r->FileSize(), 226u);
  RawPacket p;
  ASSERT_EQ(r->Next(&p), 1);
  EXPECT_EQ(p.ts_ns, 1658945740490110000u);
  EXPECT_EQ(p.ts_exp, -6);
  EXPECT_EQ(p.link_type, 1u);
  EXPECT_EQ(p.cap_len, 52u);
  EXPECT_EQ(p.wire_len, 52u);
  EXPECT_EQ(p.data[12], 0x08);  // EtherType IPv4
  EXPECT_EQ(p.data[13], 0x00);
  EXPECT_EQ(r->Offset(), 24u + 16 + 52);
  ASSERT_EQ(r->Next(&p), 1);
  EXPECT_EQ(p.ts_ns, 1658945741000001000u);
  EXPECT_EQ(p.cap_len, 34u);
  EXPECT_EQ(p.wire_len, 60u);
  ASSERT_EQ(r->Next(&p), 1);  // zero-length record is a valid record
  EXPECT_EQ(p.ts_ns, 1658945742999999000u);
  EXPECT_EQ(p.cap_len, 0u);
  EXPECT_EQ(p.wire_len, 0u);
  ASSERT_EQ(r->Next(&p), 1);  // cap_len 52 > wire_len 40: kept, counted
  EXPECT_EQ(p.ts_ns, 2000000000u);
  EXPECT_EQ(p.cap_len, 52u);
  EXPECT_EQ(p.wire_len, 40u);
  EXPECT_EQ(r->Next(&p), 0);
  EXPECT_EQ(r->Next(&p), 0);
  EXPECT_EQ(r->Stats().records, 4u);
  EXPECT_EQ(r->Stats().caplen_clamped, 1u);
  EXPECT_EQ(r->Offset(), 226u);
  EXPECT_EQ(r->Error(), "");
}

TEST(CaptureReader, PcapNanosecondsBigEndianRaw) {
  auto r = MustOpen(Data("pcap_ns_be.pcap"));
  ASSERT_NE(r, nullptr);
  EXPECT_STREQ(r->Format(), "pcap-ns");
  RawPacket p;
  ASSERT_EQ(r->Next(&p), 1);
  EXPECT_EQ(p.ts_ns, 1600000000123456789u);
  EXPECT_EQ(p.ts_exp, -9);
  EXPECT_EQ(p.link_type, 101u);
  EXPECT_EQ(p.cap_len, 40u);
  EXPECT_EQ(p.data[0], 0x45);
  ASSERT_EQ(r->Next(&p), 1);
  EXPECT_EQ(p.ts_ns, 4294967295999999999u);  // largest pcap time: no clamp needed
  EXPECT_EQ(r->Next(&p), 0);
  EXPECT_EQ(r->Stats().ts_clamped, 0u);
}

TEST(CaptureReader, HugeSnaplenHeaderIsFine) {
  auto r = MustOpen(Data("pcap_huge_snaplen.pcap"));
  ASSERT_NE(r, nullptr);
  RawPacket p;
  ASSERT_EQ(r->Next(&p), 1);
  EXPECT_EQ(p.ts_ns, 10000020000u);
  EXPECT_EQ(p.cap_len, 52u);
  EXPECT_EQ(r->Next(&p), 0);
}

TEST(CaptureReader, PcapngSectionsInterfacesResolutions) {
  auto r = MustOpen(Data("pcapng_multi.pcapng"));
  ASSERT_NE(r, nullptr);
  EXPECT_STREQ(r->Format(), "pcapng");
  int rc;
  auto v = ReadAll(r.get(), &rc);
  EXPECT_EQ(rc, 0) << r->Error();
  const uint64_t kMax = uint64_t(std::numeric_limits<int64_t>::max());
  const std::vector<Rec> want = {
      {1658945740490110000u, -5, 1, 52, 52},    // 10^-6 units, shortest decimal .49011
      {1658945740123456789u, -9, 113, 54, 54},  // if_tsresol 9
      {1000976563u, -9, 101, 40, 40},           // 2^-10: 1025/1024 s rounded to ns
      {1000976563u, -9, 1, 52, 52},             // SPB: interface 0, previous timestamp
      {1600000000000000000u, 0, 1, 52, 52},     // OPB; Decimal 1600000000 -> exponent 0
      {1500000000u, -1, 101, 40, 40},           // section 2 (big-endian), 10^-3: 1.5 s
      {0u, 0, 101, 40, 40},                     // zero timestamp
      {kMax, -3, 101, 40, 40},                  // ~year 584 million: clamped
  };
  ASSERT_EQ(v.size(), want.size());
  for (size_t i = 0; i < v.size(); ++i) {
    SCOPED_TRACE("record " + std::to_string(i + 1));
    EXPECT_EQ(v[i].ts_ns, want[i].ts_ns);
    EXPECT_EQ(v[i].ts_exp, want[i].ts_exp);
    EXPECT_EQ(v[i].link, want[i].link);
    EXPECT_EQ(v[i].cap, want[i].cap);
    EXPECT_EQ(v[i].wire, want[i].wire);
  }
  EXPECT_EQ(r->Stats().ts_clamped, 1u);
  EXPECT_EQ(r->Stats().skipped_blocks, 1u);  // NRB
  EXPECT_EQ(r->Stats().stats_blocks, 1u);    // ISB
  EXPECT_EQ(r->Stats().records, 8u);
  EXPECT_EQ(r->Offset(), 828u);
}

TEST(CaptureReader, HeaderOnlyFilesHaveNoRecords) {
  for (const char* f : {"pcap_header_only.pcap", "pcapng_header_only.pcapng"}) {
    auto r = MustOpen(Data(f));
    ASSERT_NE(r, nullptr);
    RawPacket p;
    EXPECT_EQ(r->Next(&p), 0) << f << ": " << r->Error();
    EXPECT_EQ(r->Error(), "");
  }
}

struct BadCase {
  const char* file;
  size_t good_records;
  std::vector<std::string> needles;  // substrings the one-line error must contain
};

TEST(CaptureReader, CorruptAndTruncatedFilesKeepEarlierRecords) {
  const std::vector<BadCase> cases = {
      {"pcap_truncated.pcap", 2,
       {"pcap_truncated.pcap", "truncated record at byte offset 160",
        "header says 52 bytes, 20 left", "all 2 earlier records were read"}},
      {"pcap_cut_header.pcap", 1,
       {"truncated record header at byte offset 92", "8 bytes left", "all 1 earlier"}},
      {"pcap_corrupt_caplen.pcap", 1,
       {"corrupt record at byte offset 92", "1048576", "262144"}},
      {"pcapng_corrupt_len.pcapng", 1,
       {"inconsistent block length at byte offset 132", "trailing length 999"}},
      {"pcapng_truncated.pcapng", 1,
       {"truncated block at byte offset 132", "84 bytes, 40 left"}},
      {"pcapng_bad_len.pcapng", 0,
       {"inconsistent block length at byte offset 48", "multiple of 4", "all 0 earlier"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    auto r = MustOpen(Data(c.file));
    ASSERT_NE(r, nullptr);
    int rc;
    auto v = ReadAll(r.get(), &rc);
    EXPECT_EQ(rc, -1);
    EXPECT_EQ(v.size(), c.good_records);
    const std::string& e = r->Error();
    EXPECT_EQ(e.find('\n'), std::string::npos);
    for (const auto& n : c.needles) EXPECT_NE(e.find(n), std::string::npos) << e;
    RawPacket p;
    EXPECT_EQ(r->Next(&p), -1);  // sticky
  }
}

TEST(CaptureReader, OpenErrors) {
  std::string err;
  EXPECT_EQ(CaptureReader::Open(Data("empty.pcap"), &err), nullptr);
  EXPECT_NE(err.find("open capture"), std::string::npos) << err;
  EXPECT_NE(err.find("empty.pcap"), std::string::npos) << err;
  EXPECT_NE(err.find("empty file"), std::string::npos) << err;

  EXPECT_EQ(CaptureReader::Open(Data("not_a_capture.txt"), &err), nullptr);
  EXPECT_NE(err.find("not a pcap or pcapng file (first bytes 0x68656c6c)"), std::string::npos)
      << err;

  EXPECT_EQ(CaptureReader::Open(Data("does_not_exist.pcap"), &err), nullptr);
  EXPECT_NE(err.find("does_not_exist.pcap"), std::string::npos) << err;
  EXPECT_NE(err.find("No such file"), std::string::npos) << err;
}

// Header versions libpcap 1.10 refuses (make_captures.py; tcpdump 4.99.3 refuses the same
// files): Open fails with one line naming the file, the version and its byte offset.
TEST(CaptureReader, UnsupportedHeaderVersionsAreRefusedAtOpen) {
  const struct {
    const char* file;
    const char* version;
    const char* offset;
  } cases[] = {
      {"pcap_version_2_5.pcap", "unsupported pcap version 2.5", "byte offset 4"},
      {"pcap_version_1_0_be.pcap", "unsupported pcap version 1.0", "byte offset 4"},
      {"pcapng_version_1_1.pcapng", "unsupported pcapng version 1.1", "byte offset 12"},
      {"pcapng_version_2_0_be.pcapng", "unsupported pcapng version 2.0", "byte offset 12"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    std::string err;
    EXPECT_EQ(CaptureReader::Open(Data(c.file), &err), nullptr);
    EXPECT_NE(err.find(c.file), std::string::npos) << err;
    EXPECT_NE(err.find(c.version), std::string::npos) << err;
    EXPECT_NE(err.find(c.offset), std::string::npos) << err;
    EXPECT_EQ(err.find('\n'), std::string::npos);
  }
  // pcapng 1.2 is read (libpcap accepts it).
  auto r = MustOpen(Data("pcapng_version_1_2.pcapng"));
  ASSERT_NE(r, nullptr);
  int rc;
  EXPECT_EQ(ReadAll(r.get(), &rc).size(), 1u);
  EXPECT_EQ(rc, 0);
  // A later section of major version 2 (SHB at 132, version at 144): the record before it
  // is kept, then the reader fails (libpcap: "unknown pcapng savefile major version number 2").
  r = MustOpen(Data("pcapng_second_section_v2.pcapng"));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(ReadAll(r.get(), &rc).size(), 1u);
  EXPECT_EQ(rc, -1);
  EXPECT_NE(r->Error().find("unsupported pcapng version 2.0 in a section header at byte offset 144"),
            std::string::npos)
      << r->Error();
}

// Builds an in-memory µs pcap of n Ethernet-sized records; record i has cap_len 60 + i % 7
// and its first 4 data bytes hold i (little-endian) so misplaced buffers are detected.
std::string MakePcap(uint32_t n) {
  std::string s;
  auto put32 = [&](uint32_t v) { s.append(reinterpret_cast<const char*>(&v), 4); };
  put32(0xa1b2c3d4);
  put32(0x00040002);
  put32(0);
  put32(0);
  put32(65535);
  put32(1);
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t len = 60 + i % 7;
    put32(i);
    put32(i % 1000000);
    put32(len);
    put32(len);
    put32(i);
    s.append(len - 4, char(i));
  }
  return s;
}

void CheckStream(CaptureReader* r, uint32_t n) {
  RawPacket p;
  for (uint32_t i = 0; i < n; ++i) {
    ASSERT_EQ(r->Next(&p), 1) << i << ": " << r->Error();
    ASSERT_EQ(p.cap_len, 60 + i % 7);
    uint32_t tag;
    std::memcpy(&tag, p.data, 4);
    ASSERT_EQ(tag, i);
    ASSERT_EQ(p.data[p.cap_len - 1], uint8_t(i));
    ASSERT_EQ(p.ts_ns, uint64_t(i) * 1000000000u + uint64_t(i % 1000000) * 1000u);
  }
  EXPECT_EQ(r->Next(&p), 0) << r->Error();
}

// Replaces fd 0 with a pipe fed by a thread while `body` runs.
template <typename F>
void WithStdin(const std::string& bytes, F body) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const int saved = dup(0);
  ASSERT_EQ(dup2(fds[0], 0), 0);
  close(fds[0]);
  std::thread writer([&] {
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t w = write(fds[1], bytes.data() + off, std::min<size_t>(bytes.size() - off, 65536));
      if (w <= 0) break;
      off += size_t(w);
    }
    close(fds[1]);
  });
  body();
  writer.join();
  dup2(saved, 0);
  close(saved);
}

TEST(CaptureReader, StdinLargeStream) {
  const uint32_t n = 150000;  // ~11 MB: several refills and compactions of the 4 MiB buffer
  const std::string bytes = MakePcap(n);
  WithStdin(bytes, [&] {
    std::string err;
    auto r = CaptureReader::Open("-", &err);
    ASSERT_NE(r, nullptr) << err;
    EXPECT_EQ(r->FileSize(), 0u);
    CheckStream(r.get(), n);
    EXPECT_EQ(r->Offset(), bytes.size());
  });
}

TEST(CaptureReader, StdinPcapngAndTruncation) {
  std::FILE* f = std::fopen(Data("pcapng_multi.pcapng").c_str(), "rb");
  ASSERT_NE(f, nullptr);
  std::string bytes(828, '\0');
  ASSERT_EQ(std::fread(bytes.data(), 1, bytes.size(), f), bytes.size());
  std::fclose(f);
  WithStdin(bytes, [&] {
    std::string err;
    auto r = CaptureReader::Open("-", &err);
    ASSERT_NE(r, nullptr) << err;
    int rc;
    auto v = ReadAll(r.get(), &rc);
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(v.size(), 8u);
  });
  const std::string cut = MakePcap(10).substr(0, 24 + 2 * 80 + 30);
  WithStdin(cut, [&] {
    std::string err;
    auto r = CaptureReader::Open("-", &err);
    ASSERT_NE(r, nullptr) << err;
    int rc;
    auto v = ReadAll(r.get(), &rc);
    EXPECT_EQ(rc, -1);
    EXPECT_EQ(v.size(), 2u);
    EXPECT_NE(r->Error().find("<stdin>"), std::string::npos) << r->Error();
    EXPECT_NE(r->Error().find("byte offset 177"), std::string::npos) << r->Error();
  });
  WithStdin("", [&] {
    std::string err;
    EXPECT_EQ(CaptureReader::Open("-", &err), nullptr);
    EXPECT_NE(err.find("empty"), std::string::npos) << err;
  });
}

TEST(CaptureReader, LargeRegularFile) {
  const uint32_t n = 150000;
  const std::string bytes = MakePcap(n);
  const std::string path =
      (std::filesystem::temp_directory_path() / ("nfm_cr_test_" + std::to_string(getpid()) + ".pcap"))
          .string();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  {
    auto r = MustOpen(path);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->FileSize(), bytes.size());
    CheckStream(r.get(), n);
  }
  std::remove(path.c_str());
}

// Record counts from capinfos (SOURCES.md "packets" column, checked with `capinfos -c`).
TEST(CaptureReader, SharedCorpusRecordCounts) {
  const std::string dir = std::string(NFM_SOURCE_DIR) + "/../shared/pcaps";
  if (!std::filesystem::is_directory(dir))
    GTEST_SKIP() << "SKIPPED: shared capture corpus directory " << dir
                 << " does not exist on this machine; the corpus check did not run";
  const std::map<std::string, uint64_t> counts = {
      {"cs_http_espn.pcapng", 956}, {"cs_icmp_traceroute.pcapng", 54},
      {"cs_synscan.pcapng", 2011}, {"cs_tcp_handshake.pcapng", 3},
      {"cs_tcp_retransmissions.pcapng", 6}, {"cs_tcp_teardown.pcapng", 4},
      {"ndpi_fuzz-2006-06-26-2594.pcap", 691}, {"ndpi_gnutella.pcap", 3905},
      {"ndpi_gquic_only_from_server.pcap", 30}, {"ndpi_quic.pcap", 518},
      {"ndpi_telegram.pcap", 1566}, {"ndpi_whatsapp.pcap", 679},
      {"ppp_650HttpResponses.pcap", 682}, {"ppp_DnsPackets.pcap", 464},
      {"ppp_example.pcap", 4631}, {"ppp_example2.pcap", 4709},
      {"ppp_four_ipv6_http_streams.pcap", 81}, {"ppp_ip4_fragments.pcap", 53},
      {"ppp_nanosecs_big_endian.pcap", 10}, {"ppp_pcapng-example.pcapng", 159},
      {"ppp_raw_ip.pcap", 100}, {"ppp_sll.pcap", 518}, {"ppp_sll2.pcap", 3},
      {"ppp_tls2.pcap", 7451}, {"tcpdump_afs.pcap", 601},
      {"tcpdump_babel_update_oobr.pcap", 107}, {"tcpdump_ip-snmp-leftshift-unsigned.pcap", 1},
      {"tcpdump_ipv4_invalid_hdr_length.pcap", 1}, {"tcpdump_quic_handshake_truncated.pcap", 18},
      {"tcpdump_resp_1_benchmark.pcap", 150}, {"tcpdump_tcp-handshake-nano.pcap", 3},
      {"zeek_dhcp_flood.pcap", 500}, {"zeek_empty.pcap", 0}, {"zeek_ftp_ipv6.pcap", 136},
      {"zeek_http-qinq-0.pcap", 14}, {"zeek_http-vlan-0.pcap", 14},
      {"zeek_http_methods.pcap", 655}, {"zeek_ipv6-fragmented-dns.pcap", 8},
      {"zeek_ldap_modify-request.pcapng", 17}, {"zeek_quic_chromium-fragmented.pcap", 917},
      {"zeek_redis_pubsub.pcap", 60}, {"zeek_smtp.pcap", 125}, {"zeek_ssh.pcap", 1797},
      {"zeek_tcp_retransmit-fast009.pcap", 39}, {"zeek_tcp_truncated-header.pcap", 24},
  };
  size_t seen = 0;
  for (const auto& [name, want] : counts) {
    const std::string path = dir + "/" + name;
    if (!std::filesystem::exists(path)) {
      ADD_FAILURE() << "missing corpus file " << path;
      continue;
    }
    ++seen;
    auto r = MustOpen(path);
    ASSERT_NE(r, nullptr);
    int rc;
    auto v = ReadAll(r.get(), &rc);
    EXPECT_EQ(rc, 0) << name << ": " << r->Error();
    EXPECT_EQ(v.size(), want) << name;
    EXPECT_EQ(r->Offset(), r->FileSize()) << name;
  }
  EXPECT_EQ(seen, counts.size());
  // pcapng with an SLL interface whose timestamps are in year 586524 (100 records).
  {
    auto r = MustOpen(dir + "/ppp_pcapng-example.pcapng");
    int rc;
    auto v = ReadAll(r.get(), &rc);
    EXPECT_EQ(r->Stats().ts_clamped, 100u);
    size_t sll = 0;
    for (const auto& x : v) sll += x.link == 113;
    EXPECT_EQ(sll, 100u);
  }
  // DERIVED file cut inside record 8 (head -c 4000): 7 records, then a truncation error.
  {
    auto r = MustOpen(dir + "/derived_zeek_http-vlan-0_filecut.pcap");
    int rc;
    auto v = ReadAll(r.get(), &rc);
    EXPECT_EQ(rc, -1);
    EXPECT_EQ(v.size(), 7u);
    EXPECT_NE(r->Error().find("truncated record"), std::string::npos) << r->Error();
  }
}

}  // namespace
}  // namespace nfm

namespace nfm {
namespace {

// The ReadAhead path (NFM_READ_AHEAD=1 forces it on for any regular file) returns the same
// records, bytes included, as reading directly: records of every size from 1 byte to 200 KiB
// (longer than a chunk's headroom, and than a whole chunk), so that records straddle chunk
// boundaries at every offset, and a file cut inside its last record (the same error).
TEST(CaptureReader, ReadAheadGivesTheSameRecordsAsDirectReads) {
  char path[] = "/tmp/nfm_ra_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  std::vector<uint8_t> file;
  const auto put32 = [&](uint32_t v) { file.insert(file.end(), reinterpret_cast<uint8_t*>(&v), reinterpret_cast<uint8_t*>(&v) + 4); };
  put32(0xa1b2c3d4);
  put32(0x00040002);
  put32(0);
  put32(0);
  put32(262144);
  put32(1);
  uint32_t x = 12345;
  for (uint32_t i = 0; file.size() < (12u << 20); ++i) {
    x = x * 1103515245 + 12345;
    uint32_t len = (i % 97 == 0) ? 65536 + (x >> 8) % 140000 : 1 + (x >> 8) % 3000;
    put32(1000 + i);
    put32(0);
    put32(len);
    put32(len);
    for (uint32_t k = 0; k < len; ++k) file.push_back(uint8_t(i * 31 + k));
  }
  for (size_t cut : {size_t(0), size_t(7)}) {  // whole, then cut 7 bytes into... the last record
    const size_t n = file.size() - cut;
    ASSERT_EQ(ftruncate(fd, 0), 0);
    ASSERT_EQ(pwrite(fd, file.data(), n, 0), ssize_t(n));
    struct Out {
      std::vector<uint64_t> sums;
      int rc = 0;
      std::string err;
    } got[3];
    // 0: direct reads; 1: a read-ahead thread; 2: cooperative read-ahead, filled by another
    // thread calling TryFillAny (as idle shard workers do) and by the reader when it is behind.
    for (int ahead = 0; ahead < 3; ++ahead) {
      setenv("NFM_READ_AHEAD", ahead ? "1" : "0", 1);
      ReadAhead::SetCooperative(ahead == 2);
      std::atomic<bool> done{false};
      std::atomic<uint64_t> fills{0};
      std::thread filler;
      if (ahead == 2) {
        filler = std::thread([&] {
          while (!done.load()) {
            if (ReadAhead::TryFillAny()) fills.fetch_add(1);
          }
        });
      }
      auto r = MustOpen(path);
      ASSERT_NE(r, nullptr);
      RawPacket p;
      while ((got[ahead].rc = r->Next(&p)) == 1) {
        uint64_t h = 1469598103934665603ull ^ p.cap_len;
        for (uint32_t k = 0; k < p.cap_len; ++k) h = (h ^ p.data[k]) * 1099511628211ull;
        got[ahead].sums.push_back(h);
      }
      got[ahead].err = r->Error();
      r.reset();
      done = true;
      if (filler.joinable()) filler.join();
      if (ahead == 2) {
        EXPECT_GT(fills.load(), 0u) << "the other thread read nothing ahead";
      }
    }
    ReadAhead::SetCooperative(false);
    unsetenv("NFM_READ_AHEAD");
    EXPECT_GT(got[0].sums.size(), 4000u);
    for (int ahead = 1; ahead < 3; ++ahead) {
      EXPECT_EQ(got[0].sums, got[ahead].sums) << "cut " << cut << " mode " << ahead;
      EXPECT_EQ(got[0].rc, got[ahead].rc);
      EXPECT_EQ(got[0].err, got[ahead].err);
    }
    EXPECT_EQ(got[1].rc, cut ? -1 : 0);
  }
  close(fd);
  unlink(path);
}

}  // namespace
}  // namespace nfm
