// SPDX-License-Identifier: MIT
// CaptureReader implementation: classic pcap (draft-ietf-opsawg-pcap) and pcapng
// (draft-ietf-opsawg-pcapng) read from a file, stdin or a pipe in chunks (see Input), plain or
// compressed (source/byte_source.hpp).
// It validates framing only (lengths, magic numbers); it never looks inside packet bytes.
#include "source/capture_reader.hpp"

#include <time.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <thread>
#include <vector>

#include "source/byte_source.hpp"
#include "source/read_ahead.hpp"

namespace nfm {
namespace {

// A record longer than this is treated as corruption (pcap/pcapng writers use <= 256 KiB;
// libpcap's MAXIMUM_SNAPLEN is 262144).
constexpr uint32_t kMaxCapLen = 256 * 1024;
// Non-packet pcapng blocks (SHB/IDB options, NRB, custom ...) above this are corrupt.
constexpr uint32_t kMaxBlockLen = 64u * 1024 * 1024;
// Read size. Small enough that the buffer stays in the CPU's L2 cache: reading a 183 MB file
// through a 256 KiB buffer took 14-18 ms on the 2-vCPU VM, through 4 MiB 36 ms, and touching
// the same bytes through a read-only mapping 45-60 ms (a TLB miss per 4 KiB page, and far
// dearer under nested paging); a record longer than this grows the buffer.
constexpr size_t kStreamChunk = 256u * 1024;

constexpr uint32_t kPcapMagicUs = 0xa1b2c3d4;
constexpr uint32_t kPcapMagicNs = 0xa1b23c4d;
constexpr uint32_t kPcapMagicKuznetzov = 0xa1b2cd34;  // "modified pcap": 24-byte records
constexpr uint32_t kPcapngShb = 0x0a0d0d0a;
constexpr uint32_t kPcapngBom = 0x1a2b3c4d;
constexpr uint32_t kBlockIdb = 1;
constexpr uint32_t kBlockOpb = 2;  // obsolete Packet Block
constexpr uint32_t kBlockSpb = 3;
constexpr uint32_t kBlockIsb = 5;
constexpr uint32_t kBlockEpb = 6;

constexpr uint64_t kInt64Max = uint64_t(std::numeric_limits<int64_t>::max());

// The parser's window on the capture: a buffer refilled by read(2) straight from the stored
// input (file, stdin or pipe), or from a Decompressor over it. Not a memory mapping: slower
// here (above), and a file truncated while mapped kills the process with SIGBUS where read(2)
// just ends early (a "truncated record" error). With a hasher fed on a helper thread, the
// buffer alternates between two halves so the helper hashes one while the other is parsed.
// An uncompressed regular file of kReadAheadMin bytes or more whose digest is not being computed
// (no manifest, or a digest remembered between runs) is read by a ReadAhead helper instead, and
// parsed in its chunks.
class Input {
 public:
  // The hasher may still read the buffers below: it finishes (and its thread ends) first.
  ~Input() { src_.SetHasher(nullptr); }

  bool Open(const std::string& path, std::string* error, bool hash, DigestCache* cache) {
    if (!src_.Open(path, error)) return false;
    if (!hash) return true;
    // A regular file whose digest a cache remembers for its current stamp is not hashed again;
    // one that is hashed whole is offered to the cache at the end (DigestCache's rules).
    FileStamp stamp;
    const bool stamped = cache != nullptr && src_.file_size() > 0 && StampOf(src_.fd(), &stamp);
    if (stamped) {
      std::string hex;
      if (cache->Lookup(stamp, &hex)) {
        src_.SetHasher(InputHasher::Known(std::move(hex), stamp.size));
        return true;
      }
    }
    // A helper thread pays off for inputs of a few MiB and up (its start costs ~0.1 ms) when
    // there is a second CPU. A regular file is read a second time by the helper, from the page
    // cache into a buffer on its own core: hashing the reader's buffers on another core was
    // slower than hashing them inline on this VM (docs/PERFORMANCE.md "Input hash"). stdin and
    // pipes can be read once only: their buffers are fed to a helper thread.
    // NFM_HASH_MODE=inline|fed|file overrides the choice (benchmarks; "file" needs a file).
    const uint64_t size = src_.file_size();
    bool helper = std::thread::hardware_concurrency() >= 2 && (size == 0 || size >= kThreadedHashMin);
    bool own_read = helper && size > 0;
    if (const char* m = std::getenv("NFM_HASH_MODE"); m && *m) {
      helper = std::strcmp(m, "inline") != 0;
      own_read = std::strcmp(m, "file") == 0 && size > 0;
    }
    std::unique_ptr<InputHasher> h;
    if (own_read) h = InputHasher::ReadingFile(src_.fd());
    if (!h) {
      h = std::make_unique<InputHasher>(helper);
      halves_ = helper ? 2 : 1;
    }
    if (stamped) {
      struct timespec now {};
      clock_gettime(CLOCK_REALTIME, &now);
      h->RememberIn(cache, src_.fd(), stamp, int64_t(now.tv_sec) * 1'000'000'000 + now.tv_nsec);
    }
    src_.SetHasher(std::move(h));
    return true;
  }

  // Called once, after the first Ensure: when the first bytes are a compression format's magic,
  // they and the rest of the stored input go through a decompressor from now on.
  Compression StartDecompressing() {
    const Compression c = SniffCompression(Cur(), end_ - pos_);
    if (c == Compression::kNone) {
      MaybeReadAhead();
      return c;
    }
    dec_ = Decompressor::Make(c, src_, Cur(), end_ - pos_);
    Wait(0);  // the buffer now holds decompressed bytes only: no hashing of it to wait for
    Wait(1);
    pos_ = end_ = 0;
    eof_ = false;
    error_.clear();
    return c;
  }

  // Makes up to `want` bytes available at Cur(); returns how many are (fewer only at the
  // end of the input or on a read error, see io_error()).
  size_t Ensure(size_t want) {
    if (end_ - pos_ >= want || eof_) return std::min(want, end_ - pos_);
    if (ahead_) return EnsureAhead(want);
    // The unconsumed tail goes to the start of the next half (the same buffer when unhashed),
    // then the rest is read behind it.
    const int next = (cur_ + 1) % halves_;
    Wait(next);
    std::vector<uint8_t>& nb = buf_[next];
    const size_t tail = end_ - pos_;
    if (next == cur_) {
      if (pos_ > 0) std::memmove(nb.data(), base_ + pos_, tail);
      if (nb.size() < want || nb.size() < kStreamChunk) nb.resize(std::max(want, kStreamChunk));
    } else {
      if (nb.size() < want || nb.size() < kStreamChunk) nb.resize(std::max(want, kStreamChunk));
      if (tail > 0) std::memcpy(nb.data(), base_ + pos_, tail);
    }
    end_ = tail;
    pos_ = 0;
    cur_ = next;
    prefetched_ = pos_;  // the buffer moved (and is refilled below)
    base_ = nb.data();
    while (end_ < want) {
      uint8_t* dst = nb.data() + end_;
      const ssize_t n = dec_ ? dec_->Read(dst, nb.size() - end_) : src_.Read(dst, nb.size() - end_);
      if (n <= 0) {
        if (n < 0) error_ = dec_ ? dec_->Error() : std::string(std::strerror(src_.Errno()));
        eof_ = true;
        break;
      }
      end_ += size_t(n);
    }
    if (InputHasher* h = src_.hasher()) {
      if (!h->reads_file()) {
        if (!dec_) ticket_[cur_] = h->Fed();
      } else if (src_.stored_offset() > kMaxHashLag) {
        // Stay at most kMaxHashLag ahead of the file's hasher, so the pages it reads a second
        // time are still in the page cache (a capture larger than the memory is read from the
        // disk once).
        h->WaitFor(src_.stored_offset() - kMaxHashLag);
      }
    }
    return std::min(want, end_ - pos_);
  }
  const uint8_t* Cur() const { return base_ + pos_; }
  void Advance(size_t n) {
    pos_ += n;
    offset_ += n;
    // Record headers form a dependent chain through memory (each one's length locates the
    // next), so each would be a cache miss: stream the bytes kPrefetchAhead ahead of the read
    // position into the cache (replay of a 1.5 GB capture: 0.43 -> 0.23 s of CPU).
    const size_t until = std::min(pos_ + kPrefetchAhead, end_);
    for (; prefetched_ < until; prefetched_ += 64) __builtin_prefetch(base_ + prefetched_);
  }
  uint64_t offset() const { return offset_; }
  uint64_t stored_offset() const { return ahead_ ? ahead_stored_ : src_.stored_offset(); }
  uint64_t file_size() const { return src_.file_size(); }
  bool compressed() const { return dec_ != nullptr; }

  // The digest of the stored bytes read so far (to_end: of every stored byte, reading the
  // rest once).
  std::string FinishHash(bool to_end, uint64_t* bytes) {
    std::unique_ptr<InputHasher> h = TakeHasher(to_end);
    if (!h) {
      *bytes = 0;
      return {};
    }
    return h->Finish(to_end, bytes);
  }
  // The hasher, done with this reader's buffers (to_end: fed every stored byte); one reading
  // the file itself may still be working.
  std::unique_ptr<InputHasher> TakeHasher(bool to_end) {
    InputHasher* h = src_.hasher();
    if (!h) return nullptr;
    if (to_end) src_.HashRest();
    if (!h->reads_file()) h->WaitFor(h->Fed());
    return src_.TakeHasher();
  }
  // Empty, or why the input could not be read further: strerror text for the stored input,
  // the decompressor's one-line reason for a compressed one.
  const std::string& io_error() const { return error_; }

 private:
  static constexpr uint64_t kThreadedHashMin = 4u << 20;
  static constexpr uint64_t kMaxHashLag = 64u << 20;
  static constexpr uint64_t kReadAheadMin = 8u << 20;

  // After the first bytes (read directly) showed an uncompressed capture (ReadAhead::Budget()
  // says whether at all). NFM_READ_AHEAD=1 turns it on for any regular file (tests).
  void MaybeReadAhead() {
    const uint64_t size = src_.file_size();
    InputHasher* h = src_.hasher();
    // A hasher at work (fed, or reading the file on its own thread) has the other CPU already:
    // a reader thread beside it made the first run over a capture 5 % slower.
    if (size == 0 || eof_ || (h != nullptr && !h->known())) return;
    bool on = size >= kReadAheadMin;
    if (const char* e = std::getenv("NFM_READ_AHEAD"); e && *e) on = *e != '0';  // any size (tests)
    if (!on) return;
    ahead_stored_ = src_.stored_offset();
    ahead_ = ReadAhead::Start(src_.fd(), ahead_stored_);
  }

  // Ensure from the ReadAhead's chunks: the unparsed tail goes into the headroom in front of
  // the next chunk, which becomes the window; a record longer than that is gathered in big_.
  size_t EnsureAhead(size_t want) {
    const size_t tail = end_ - pos_;
    const uint8_t* tp = base_ + pos_;
    const ReadAhead::Chunk* c = &ahead_->Next();
    if (c->n == 0) return EndAhead(*c, want);
    ahead_stored_ += c->n;
    prefetched_ = 0;
    if (tail <= ReadAhead::kHeadroom && tail + c->n >= want) {
      uint8_t* dst = c->data - tail;
      if (tail > 0) std::memcpy(dst, tp, tail);
      if (held_) ahead_->Release();  // the chunk the tail came from
      held_ = true;
      base_ = dst;
      pos_ = 0;
      end_ = tail + c->n;
    } else {
      std::vector<uint8_t> nb;
      nb.reserve(std::max(want, tail + c->n));
      nb.assign(tp, tp + tail);
      nb.insert(nb.end(), c->data, c->data + c->n);
      if (held_) ahead_->Release();
      ahead_->Release();  // c
      held_ = false;
      const ReadAhead::Chunk* end = nullptr;  // the end chunk (never released: safe to read)
      while (nb.size() < want) {
        c = &ahead_->Next();
        if (c->n == 0) {
          end = c;
          break;
        }
        ahead_stored_ += c->n;
        nb.insert(nb.end(), c->data, c->data + c->n);
        ahead_->Release();  // c may be refilled from now on: not read again
      }
      big_.swap(nb);
      base_ = big_.data();
      pos_ = 0;
      end_ = big_.size();
      if (end != nullptr) EndAhead(*end, want);
    }
    // No hasher to wait for: read-ahead runs only when none is at work (MaybeReadAhead).
    return std::min(want, end_ - pos_);
  }
  size_t EndAhead(const ReadAhead::Chunk& c, size_t want) {
    if (c.err != 0) error_ = std::strerror(c.err);
    eof_ = true;
    return std::min(want, end_ - pos_);
  }
  // Half h's bytes (stored bytes, fed to the hasher as read) are hashed and may be overwritten.
  void Wait(int h) {
    if (ticket_[h] != 0 && src_.hasher()) src_.hasher()->WaitFor(ticket_[h]);
    ticket_[h] = 0;
  }
  StoredInput src_;
  std::unique_ptr<Decompressor> dec_;
  std::vector<uint8_t> buf_[2];
  int halves_ = 1, cur_ = 0;
  uint64_t ticket_[2] = {0, 0};  // hasher tickets of the stored bytes in each half
  const uint8_t* base_ = nullptr;
  size_t pos_ = 0, end_ = 0;
  static constexpr size_t kPrefetchAhead = 4096;
  size_t prefetched_ = 0;  // bytes before base_ + prefetched_ were prefetched
  bool eof_ = false;
  std::string error_;
  uint64_t offset_ = 0;
  std::unique_ptr<ReadAhead> ahead_;  // declared last: its thread ends before the rest goes
  bool held_ = false;                 // the window is a chunk of ahead_ (given back when left)
  std::vector<uint8_t> big_;          // the window when a record did not fit a chunk's headroom
  uint64_t ahead_stored_ = 0;         // stored bytes taken from ahead_ (and read before it)
};

struct Interface {
  uint32_t link_type = 0;
  uint32_t snaplen = 0;
  bool pow2 = false;     // if_tsresol: 2^-k instead of 10^-k
  uint8_t k = 6;         // resolution exponent
  bool isb_seen = false; // an ISB with drop counters was read
  uint64_t last_isb_ns = 0;
  uint64_t drops = 0;    // cumulative isb_ifdrop + isb_osdrop at the last ISB
};

class Reader final : public CaptureReader {
 public:
  explicit Reader(std::string name) : name_(std::move(name)) {}

  bool Init(const std::string& path, bool hash, DigestCache* cache, std::string* error) {
    std::string why;
    if (!in_.Open(path, &why, hash, cache)) {
      *error = "open capture " + name_ + ": " + why;
      return false;
    }
    size_t a = in_.Ensure(24);
    if (a > 0 && in_.io_error().empty()) {
      compression_ = in_.StartDecompressing();
      if (compression_ != Compression::kNone) a = in_.Ensure(24);
    }
    if (!in_.io_error().empty()) {
      *error = "open capture " + name_ + ": " + (in_.compressed() ? "" : "read error: ") + in_.io_error();
      return false;
    }
    if (a == 0) {
      *error = "open capture " + name_ + ": empty " +
               (in_.compressed() ? std::string(CompressionName(compression_)) + " stream (0 bytes decompressed)"
                                 : std::string("file (0 bytes)")) +
               "; expected a pcap or pcapng header";
      return false;
    }
    const uint8_t* p = in_.Cur();
    if (a < 4) {
      *error = "open capture " + name_ + ": not a pcap or pcapng file (only " +
               std::to_string(a) + " bytes)";
      return false;
    }
    uint32_t m;
    std::memcpy(&m, p, 4);
    const uint32_t ms = __builtin_bswap32(m);
    if (m == kPcapngShb) {
      if (a < 16) return InitFail(error, "truncated pcapng section header block");
      uint32_t bom;
      std::memcpy(&bom, p + 8, 4);
      if (bom != kPcapngBom && __builtin_bswap32(bom) != kPcapngBom)
        return InitFail(error, "not a pcapng file (bad byte-order magic in the section header)");
      swap_ = bom != kPcapngBom;
      // libpcap 1.10 (sf-pcapng.c) opens sections of version 1.0 and 1.2 only; 1.1 and
      // anything else is refused before a record is read.
      const uint16_t major = R16(p + 12), minor = R16(p + 14);
      if (!(major == 1 && (minor == 0 || minor == 2)))
        return InitFail(error, "unsupported pcapng version " + std::to_string(major) + "." + std::to_string(minor) +
                                   " in the section header at byte offset 12 (libpcap reads 1.0 and 1.2); "
                                   "nothing was read");
      pcapng_ = true;
      return true;  // Next() parses the SHB like any other block.
    }
    uint32_t magic;
    if (m == kPcapMagicUs || m == kPcapMagicNs || m == kPcapMagicKuznetzov) {
      swap_ = false;
      magic = m;
    } else if (ms == kPcapMagicUs || ms == kPcapMagicNs || ms == kPcapMagicKuznetzov) {
      swap_ = true;
      magic = ms;
    } else {
      char hex[32];
      std::snprintf(hex, sizeof hex, "0x%02x%02x%02x%02x", p[0], p[1], p[2], p[3]);
      *error = "open capture " + name_ + ": not a pcap or pcapng file (first bytes " + hex +
               (in_.compressed() ? std::string(" after ") + CompressionName(compression_) + " decompression" : "") +
               "); check the path or convert it with editcap";
      return false;
    }
    if (a < 24)
      return InitFail(error, "truncated pcap file header (" + std::to_string(a) +
                                 " of 24 bytes)");
    // libpcap 1.10 (sf-pcap.c) reads versions 2.0-2.4 and 543.0 (DG/UX tcpdump) only.
    const uint16_t major = R16(p + 4), minor = R16(p + 6);
    if (!((major == 2 && minor <= 4) || (major == 543 && minor == 0)))
      return InitFail(error, "unsupported pcap version " + std::to_string(major) + "." + std::to_string(minor) +
                                 " in the file header at byte offset 4 (libpcap reads 2.0 to 2.4 and 543.0); "
                                 "nothing was read");
    ns_ = magic == kPcapMagicNs;
    rec_hdr_len_ = magic == kPcapMagicKuznetzov ? 24 : 16;
    // LinkType is the low 16 bits; bits 26..31 carry FCS information (pcap draft §4).
    link_type_ = R32(p + 20) & 0xffff;
    in_.Advance(24);
    return true;
  }

  int Next(RawPacket* pkt) override {
    if (failed_) return -1;
    return pcapng_ ? NextPcapng(pkt) : NextPcap(pkt);
  }
  const std::string& Error() const override { return error_; }
  void SetDeliverPartialRecord(bool on) override { deliver_partial_ = on; }
  uint64_t Offset() const override { return in_.offset(); }
  uint64_t FileSize() const override { return in_.file_size(); }
  const CaptureStats& Stats() const override { return stats_; }
  const char* Format() const override { return pcapng_ ? "pcapng" : ns_ ? "pcap-ns" : "pcap"; }
  const std::vector<CaptureDrop>& Drops() const override { return drops_; }
  uint64_t StoredOffset() const override { return in_.stored_offset(); }
  const char* CompressionFormat() const override { return CompressionName(compression_); }
  std::string FinishSha256(bool to_end, uint64_t* bytes) override { return in_.FinishHash(to_end, bytes); }
  std::unique_ptr<InputHasher> TakeSha256() override { return in_.TakeHasher(true); }

 private:
  uint32_t R32(const uint8_t* p) const {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return swap_ ? __builtin_bswap32(v) : v;
  }
  uint64_t R64(const uint8_t* p) const {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return swap_ ? __builtin_bswap64(v) : v;
  }
  uint16_t R16(const uint8_t* p) const {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return swap_ ? __builtin_bswap16(v) : v;
  }

  bool InitFail(std::string* error, const std::string& what) {
    *error = "open capture " + name_ + ": " + what;
    return false;
  }

  // Records the first error; every later Next() returns -1 too.
  int Fail(uint64_t offset, const std::string& what, const std::string& hint) {
    failed_ = true;
    if (!in_.io_error().empty() && in_.compressed()) {
      // The decompressor's reason; offsets of the capture count decompressed bytes.
      error_ = "capture " + name_ + ": " + in_.io_error() + ", at decompressed byte offset " +
               std::to_string(in_.offset()) + "; all " + std::to_string(stats_.records) +
               " earlier records were read";
      return -1;
    }
    if (!in_.io_error().empty()) {
      error_ = "capture " + name_ + ": read error at byte offset " + std::to_string(offset) +
               ": " + in_.io_error() + "; all " + std::to_string(stats_.records) +
               " earlier records were read";
      return -1;
    }
    const char* dec = in_.compressed() ? "decompressed " : "";
    error_ = "capture " + name_ + ": " + what + " at " + dec + "byte offset " + std::to_string(offset) +
             " (" + hint + "); all " + std::to_string(stats_.records) +
             " earlier records were read";
    return -1;
  }

  int NextPcap(RawPacket* pkt) {
    const size_t h = rec_hdr_len_;
    size_t a = in_.Ensure(h);
    if (a == 0) return in_.io_error().empty() ? 0 : Fail(in_.offset(), "", "");
    if (a < h)
      return Fail(in_.offset(), "truncated record header",
                  std::to_string(h) + "-byte header, " + std::to_string(a) +
                      " bytes left; the file was cut");
    const uint8_t* p = in_.Cur();
    const uint32_t sec = R32(p), frac = R32(p + 4), orig = R32(p + 12);
    uint32_t incl = R32(p + 8);
    if (incl > kMaxCapLen)
      return Fail(in_.offset(), "corrupt record",
                  "captured length " + std::to_string(incl) + " exceeds the " +
                      std::to_string(kMaxCapLen) + "-byte limit; the file is damaged here");
    a = in_.Ensure(h + incl);
    if (a < h + incl) {
      Fail(in_.offset(), "truncated record",
           "header says " + std::to_string(incl) + " bytes, " + std::to_string(a - h) +
               " left; the file was cut");
      // scapy (NetFlowMeter 2022) returns the bytes that are there as a shorter packet.
      if (!deliver_partial_) return -1;
      incl = static_cast<uint32_t>(a - h);
    }
    p = in_.Cur();
    // Seconds are unsigned 32-bit: at most ~4.3e18 ns, always below INT64_MAX.
    pkt->ts_ns = uint64_t(sec) * 1000000000u + (ns_ ? uint64_t(frac) : uint64_t(frac) * 1000u);
    pkt->ts_exp = ns_ ? -9 : -6;
    pkt->link_type = link_type_;
    pkt->cap_len = incl;
    pkt->wire_len = orig;
    pkt->data = p + h;
    if (incl > orig) ++stats_.caplen_clamped;
    in_.Advance(h + incl);
    ++stats_.records;
    return 1;
  }

  // An ISB: the drop counters (isb_ifdrop 5, isb_osdrop 7) are cumulative per interface; an
  // increase since the interface's previous ISB becomes one CaptureDrop.
  void ParseIsb(const uint8_t* body, uint32_t body_len) {
    if (body_len < 12) return;
    const uint32_t ifid = R32(body);
    if (ifid >= ifaces_.size()) return;
    Interface& ifc = ifaces_[ifid];
    ++stats_.stats_blocks;
    const uint64_t ts = IfcNs(ifc, uint64_t(R32(body + 4)) << 32 | R32(body + 8));
    uint64_t start = 0, dropped = 0;
    bool have_start = false, have_drop = false;
    const uint8_t* p = body + 12;
    const uint8_t* end = body + body_len;
    while (end - p >= 4) {
      const uint16_t code = R16(p), len = R16(p + 2);
      p += 4;
      if (code == 0 || size_t(end - p) < len) break;
      if (len == 8) {
        const uint64_t v = code == 2 ? uint64_t(R32(p)) << 32 | R32(p + 4) : R64(p);
        if (code == 2) {
          start = IfcNs(ifc, v);
          have_start = true;
        } else if (code == 5 || code == 7) {
          dropped += v;
          have_drop = true;
        }
      }
      p += (size_t(len) + 3) & ~size_t(3);
    }
    if (!have_drop) return;
    const uint64_t from = ifc.isb_seen ? ifc.last_isb_ns : have_start ? start : 0;
    if (dropped > ifc.drops) drops_.push_back({ifid, from, ts, dropped - ifc.drops});
    ifc.drops = dropped;
    ifc.last_isb_ns = ts;
    ifc.isb_seen = true;
  }

  // A pcapng timestamp in interface units, in ns (rounded as SetTimestamp does).
  uint64_t IfcNs(const Interface& ifc, uint64_t units) {
    RawPacket tmp;
    const uint64_t keep_ns = last_ts_ns_;
    const int8_t keep_exp = last_ts_exp_;
    const uint64_t keep_clamped = stats_.ts_clamped;
    SetTimestamp(ifc, units, &tmp);
    last_ts_ns_ = keep_ns;
    last_ts_exp_ = keep_exp;
    stats_.ts_clamped = keep_clamped;
    return tmp.ts_ns;
  }

  // Converts a pcapng timestamp in interface units to ns and the shortest-decimal exponent.
  void SetTimestamp(const Interface& ifc, uint64_t units, RawPacket* pkt) {
    unsigned __int128 ns;
    if (ifc.pow2) {
      // 2^-k units: rounded to the nearest ns; reported as a nanosecond timestamp.
      const unsigned k = ifc.k;
      unsigned __int128 v = (unsigned __int128)units * 1000000000u;
      ns = k == 0 ? v : k >= 100 ? 0 : (v + ((unsigned __int128)1 << (k - 1))) >> k;
      pkt->ts_exp = -9;
    } else {
      const unsigned k = ifc.k;
      if (k <= 9) {
        uint64_t mul = 1;
        for (unsigned i = k; i < 9; ++i) mul *= 10;
        ns = (unsigned __int128)units * mul;
      } else if (k - 9 > 19) {
        ns = 0;  // 10^(k-9) > 2^64 > units
      } else {
        uint64_t div = 1;
        for (unsigned i = 9; i < k; ++i) div *= 10;
        ns = (units + div / 2) / div;  // round half up
      }
      // Python: Decimal(units) / 10**k is exact and reduced towards the ideal exponent 0,
      // i.e. trailing zeros of `units` are dropped, and never past 10^0.
      int e = -int(k);
      if (units == 0) {
        e = 0;
      } else {
        for (uint64_t u = units; e < 0 && u % 10 == 0; u /= 10) ++e;
      }
      pkt->ts_exp = int8_t(e);
    }
    if (ns > kInt64Max) {
      ns = kInt64Max;
      ++stats_.ts_clamped;
    }
    pkt->ts_ns = uint64_t(ns);
    last_ts_ns_ = pkt->ts_ns;
    last_ts_exp_ = pkt->ts_exp;
  }

  // Parses IDB options (we only need if_tsresol, code 9). Options: 2-byte code, 2-byte
  // length, value padded to 4 bytes; opt_endofopt (0) ends the list.
  void ParseIdbOptions(const uint8_t* p, const uint8_t* end, Interface* ifc) {
    while (end - p >= 4) {
      const uint16_t code = R16(p), len = R16(p + 2);
      p += 4;
      if (code == 0 || size_t(end - p) < len) break;
      if (code == 9 && len >= 1) {
        ifc->pow2 = (p[0] & 0x80) != 0;
        ifc->k = p[0] & 0x7f;
      }
      p += (size_t(len) + 3) & ~size_t(3);
    }
  }

  int NextPcapng(RawPacket* pkt) {
    for (;;) {
      const uint64_t off = in_.offset();
      size_t a = in_.Ensure(12);
      if (a == 0) return in_.io_error().empty() ? 0 : Fail(off, "", "");
      if (a < 8)
        return Fail(off, "truncated block header",
                    std::to_string(a) + " of 8 bytes left; the file was cut");
      const uint8_t* p = in_.Cur();
      uint32_t type;
      std::memcpy(&type, p, 4);  // SHB type is byte-order independent
      if (type == kPcapngShb) {
        if (a < 12)
          return Fail(off, "truncated section header block", "the file was cut");
        uint32_t bom;
        std::memcpy(&bom, p + 8, 4);
        if (bom == kPcapngBom) {
          swap_ = false;
        } else if (__builtin_bswap32(bom) == kPcapngBom) {
          swap_ = true;
        } else {
          return Fail(off, "corrupt section header block",
                      "bad byte-order magic; the file is damaged here");
        }
      } else {
        type = R32(p);
      }
      const uint32_t len = R32(p + 4);
      if (len < 12 || len % 4 != 0)
        return Fail(off, "inconsistent block length",
                    "block type " + std::to_string(type) + " says " + std::to_string(len) +
                        " bytes, must be a multiple of 4 and >= 12; the file is damaged here");
      if (len > kMaxBlockLen)
        return Fail(off, "corrupt block",
                    "block length " + std::to_string(len) + " exceeds the " +
                        std::to_string(kMaxBlockLen) + "-byte limit; the file is damaged here");
      a = in_.Ensure(len);
      if (a < len)
        return Fail(off, "truncated block",
                    "block header says " + std::to_string(len) + " bytes, " + std::to_string(a) +
                        " left; the file was cut or the length is corrupt");
      p = in_.Cur();
      const uint32_t trail = R32(p + len - 4);
      if (trail != len)
        return Fail(off, "inconsistent block length",
                    "leading length " + std::to_string(len) + ", trailing length " +
                        std::to_string(trail) + "; the file is damaged here");
      const uint8_t* body = p + 8;
      const uint32_t body_len = len - 12;
      switch (type) {
        case kPcapngShb:
          if (body_len < 16)
            return Fail(off, "corrupt section header block", "shorter than 28 bytes");
          // A later section: libpcap 1.10 checks the major version only (minor is not checked).
          if (R16(body + 4) != 1)
            return Fail(off + 12, "unsupported pcapng version " + std::to_string(R16(body + 4)) + "." +
                                      std::to_string(R16(body + 6)) + " in a section header",
                        "libpcap reads major version 1 only");
          ifaces_.clear();  // interface ids are per section
          break;
        case kBlockIdb: {
          if (body_len < 8) return Fail(off, "corrupt interface description block", "shorter than 20 bytes");
          Interface ifc;
          ifc.link_type = R16(body);
          ifc.snaplen = R32(body + 4);
          ParseIdbOptions(body + 8, body + body_len, &ifc);
          ifaces_.push_back(ifc);
          break;
        }
        case kBlockEpb:
        case kBlockOpb: {
          if (body_len < 20) return Fail(off, "corrupt packet block", "shorter than 32 bytes");
          uint32_t ifid, tsh, tsl, cap, wire;
          if (type == kBlockEpb) {
            ifid = R32(body);
          } else {
            ifid = R16(body);  // OPB: 16-bit interface id, 16-bit drops count
          }
          tsh = R32(body + 4);
          tsl = R32(body + 8);
          cap = R32(body + 12);
          wire = R32(body + 16);
          if (cap > kMaxCapLen)
            return Fail(off, "corrupt packet block",
                        "captured length " + std::to_string(cap) + " exceeds the " +
                            std::to_string(kMaxCapLen) + "-byte limit; the file is damaged here");
          if (cap > body_len - 20)
            return Fail(off, "inconsistent packet block",
                        "captured length " + std::to_string(cap) + " exceeds the block's " +
                            std::to_string(body_len - 20) + " data bytes");
          if (ifid >= ifaces_.size())
            return Fail(off, "packet block for an undeclared interface",
                        "interface id " + std::to_string(ifid) + ", only " +
                            std::to_string(ifaces_.size()) + " declared in this section");
          const Interface& ifc = ifaces_[ifid];
          SetTimestamp(ifc, uint64_t(tsh) << 32 | tsl, pkt);
          pkt->link_type = ifc.link_type;
          pkt->cap_len = cap;
          pkt->wire_len = wire;
          pkt->data = body + 20;
          if (cap > wire) ++stats_.caplen_clamped;
          in_.Advance(len);
          ++stats_.records;
          return 1;
        }
        case kBlockSpb: {
          if (body_len < 4) return Fail(off, "corrupt simple packet block", "shorter than 16 bytes");
          if (ifaces_.empty())
            return Fail(off, "simple packet block without an interface",
                        "no interface description block precedes it in this section");
          const Interface& ifc = ifaces_[0];
          const uint32_t wire = R32(body);
          uint32_t cap = std::min(wire, body_len - 4);
          if (ifc.snaplen != 0) cap = std::min(cap, ifc.snaplen);
          if (cap > kMaxCapLen)
            return Fail(off, "corrupt simple packet block",
                        "captured length " + std::to_string(cap) + " exceeds the " +
                            std::to_string(kMaxCapLen) + "-byte limit; the file is damaged here");
          // An SPB has no timestamp: reuse the previous record's (0 for the first record).
          pkt->ts_ns = last_ts_ns_;
          pkt->ts_exp = last_ts_exp_;
          pkt->link_type = ifc.link_type;
          pkt->cap_len = cap;
          pkt->wire_len = wire;
          pkt->data = body + 4;
          in_.Advance(len);
          ++stats_.records;
          return 1;
        }
        case kBlockIsb:
          ParseIsb(body, body_len);
          break;
        default:
          ++stats_.skipped_blocks;  // NRB, DSB, custom, ...
          break;
      }
      in_.Advance(len);
    }
  }

  std::string name_;
  Input in_;
  std::string error_;
  CaptureStats stats_;
  bool pcapng_ = false;
  bool ns_ = false;
  bool swap_ = false;
  bool failed_ = false;
  bool deliver_partial_ = false;
  Compression compression_ = Compression::kNone;
  size_t rec_hdr_len_ = 16;
  uint32_t link_type_ = 0;
  std::vector<Interface> ifaces_;
  std::vector<CaptureDrop> drops_;
  uint64_t last_ts_ns_ = 0;
  int8_t last_ts_exp_ = 0;
};

}  // namespace

std::unique_ptr<CaptureReader> CaptureReader::Open(const std::string& path, std::string* error, bool hash,
                                                   DigestCache* cache) {
  auto r = std::make_unique<Reader>(path == "-" ? std::string("<stdin>") : path);
  std::string err;
  if (!r->Init(path, hash, cache, &err)) {
    if (error != nullptr) *error = err;
    return nullptr;
  }
  return r;
}

}  // namespace nfm
