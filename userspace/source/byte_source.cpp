// SPDX-License-Identifier: MIT
// StoredInput (read(2) with the hasher watching) and the four decompressors: zlib (gzip),
// libzstd, liblzma (xz) and libbz2, each driven as a stream over StoredInput's bytes.
#include "source/byte_source.hpp"

#include <bzlib.h>
#include <fcntl.h>
#include <lzma.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <vector>

namespace nfm {

const char* CompressionName(Compression c) noexcept {
  switch (c) {
    case Compression::kGzip: return "gzip";
    case Compression::kZstd: return "zstd";
    case Compression::kXz: return "xz";
    case Compression::kBzip2: return "bzip2";
    default: return "none";
  }
}

Compression SniffCompression(const uint8_t* p, size_t n) noexcept {
  // gzip: 1f 8b (RFC 1952 2.3.1); zstd frame: 28 b5 2f fd, skippable frame: 5? 2a 4d 18
  // (RFC 8878 3.1); xz: fd '7zXZ' 00; bzip2: 'BZh' + block size '1'..'9'. None of them is a
  // pcap or pcapng magic in either byte order.
  if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b) return Compression::kGzip;
  if (n >= 4 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd && p[0] == 0x28) return Compression::kZstd;
  if (n >= 4 && (p[0] & 0xf0) == 0x50 && p[1] == 0x2a && p[2] == 0x4d && p[3] == 0x18) return Compression::kZstd;
  if (n >= 6 && std::memcmp(p, "\xfd" "7zXZ\0", 6) == 0) return Compression::kXz;
  if (n >= 4 && p[0] == 'B' && p[1] == 'Z' && p[2] == 'h' && p[3] >= '1' && p[3] <= '9') return Compression::kBzip2;
  return Compression::kNone;
}

StoredInput::~StoredInput() {
  hasher_.reset();  // joins the helper before the buffers it may read go away
  if (own_fd_) close(fd_);
}

bool StoredInput::Open(const std::string& path, std::string* error) {
  if (path == "-") {
    fd_ = 0;
  } else {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      *error = std::string(std::strerror(errno)) + "; check the path and permissions";
      return false;
    }
    own_fd_ = true;
  }
  struct stat st {};
  if (fstat(fd_, &st) == 0 && S_ISREG(st.st_mode)) {
    file_size_ = uint64_t(st.st_size);
    posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);  // larger read-ahead from disk
  }
  return true;
}

ssize_t StoredInput::Read(uint8_t* buf, size_t n) {
  if (eof_) return errno_ ? -1 : 0;
  for (;;) {
    const ssize_t r = ::read(fd_, buf, n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      errno_ = errno;
      eof_ = true;
      return -1;
    }
    if (r == 0) {
      eof_ = true;
      return 0;
    }
    offset_ += uint64_t(r);
    if (hasher_ && !hasher_->reads_file()) hasher_->Add(buf, size_t(r));
    return r;
  }
}

void StoredInput::HashRest() {
  if (!hasher_ || hasher_->reads_file() || eof_) return;  // a file reader reads to the end itself
  std::vector<uint8_t> tmp(256 * 1024);
  while (Read(tmp.data(), tmp.size()) > 0) hasher_->WaitFor(hasher_->Fed());
  hasher_->WaitFor(hasher_->Fed());
}

Decompressor::Decompressor(StoredInput& in, const uint8_t* first, size_t n)
    : in_(in), in_buf_(new uint8_t[2 * kInChunk + n]), first_n_(n) {
  // The bytes read before the magic was known go first, in a region of their own.
  std::memcpy(in_buf_.get() + 2 * kInChunk, first, n);
  in_next_ = in_buf_.get() + 2 * kInChunk;
  in_avail_ = n;
}

bool Decompressor::Refill() {
  if (in_avail_ > 0) return true;
  if (in_eof_ || !error_.empty()) return false;
  half_ ^= 1;
  uint8_t* dst = in_buf_.get() + size_t(half_) * kInChunk;
  if (InputHasher* h = in_.hasher()) h->WaitFor(ticket_[half_]);  // its old bytes are hashed
  const ssize_t r = in_.Read(dst, kInChunk);
  if (r < 0) {
    error_ = std::string("read error after ") + std::to_string(in_.stored_offset()) + " stored bytes: " +
             std::strerror(in_.Errno());
    return false;
  }
  if (r == 0) {
    in_eof_ = true;
    return false;
  }
  if (InputHasher* h = in_.hasher()) ticket_[half_] = h->Fed();
  in_next_ = dst;
  in_avail_ = size_t(r);
  return true;
}

ssize_t Decompressor::Fail(const std::string& what, size_t produced) {
  if (error_.empty()) error_ = what;
  return produced > 0 ? ssize_t(produced) : -1;  // the bytes before the damage first
}

ssize_t Decompressor::Truncated(const char* format) {
  return Fail(std::string(format) + " stream truncated: the input ends inside compressed data after " +
              std::to_string(in_.stored_offset()) + " stored bytes (the file was cut; copy or compress it again)");
}

namespace {

class GzipDecompressor final : public Decompressor {
 public:
  GzipDecompressor(StoredInput& in, const uint8_t* first, size_t n) : Decompressor(in, first, n) {
    ok_ = inflateInit2(&z_, 15 + 16) == Z_OK;  // gzip wrapper only
  }
  ~GzipDecompressor() override {
    if (ok_) inflateEnd(&z_);
  }
  Compression Kind() const noexcept override { return Compression::kGzip; }
  ssize_t Read(uint8_t* out, size_t n) override {
    if (!ok_) return Fail("gzip: cannot initialise zlib (out of memory)");
    if (!error_.empty()) return -1;
    for (;;) {
      if (in_avail_ == 0 && !Refill()) {
        if (!error_.empty()) return -1;
        // End of the stored input: clean only between members.
        return in_member_ ? Truncated("gzip") : 0;
      }
      if (!in_member_) {  // the next member of a concatenation (cat a.gz b.gz)
        inflateReset(&z_);
        in_member_ = true;
      }
      z_.next_in = const_cast<Bytef*>(in_next_);
      z_.avail_in = uInt(std::min<size_t>(in_avail_, UINT_MAX));
      z_.next_out = out;
      z_.avail_out = uInt(std::min<size_t>(n, UINT_MAX));
      const uInt before_in = z_.avail_in;
      const int rc = inflate(&z_, Z_NO_FLUSH);
      in_next_ += before_in - z_.avail_in;
      in_avail_ -= before_in - z_.avail_in;
      const size_t produced = size_t(z_.next_out - out);
      if (rc == Z_STREAM_END) {
        in_member_ = false;
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return Fail(std::string("corrupt gzip data after ") + std::to_string(in_.stored_offset() - in_avail_) +
                        " stored bytes: " + (z_.msg ? z_.msg : "zlib error " + std::to_string(rc)) +
                        " (the file is damaged; check it with gzip -t)",
                    produced);
      }
      if (produced > 0) return ssize_t(produced);
    }
  }

 private:
  z_stream z_{};
  bool ok_ = false;
  bool in_member_ = true;  // inside a member (the first starts at byte 0)
};

class ZstdDecompressor final : public Decompressor {
 public:
  ZstdDecompressor(StoredInput& in, const uint8_t* first, size_t n)
      : Decompressor(in, first, n), dctx_(ZSTD_createDCtx()) {}
  ~ZstdDecompressor() override { ZSTD_freeDCtx(dctx_); }
  Compression Kind() const noexcept override { return Compression::kZstd; }
  ssize_t Read(uint8_t* out, size_t n) override {
    if (!dctx_) return Fail("zstd: cannot create a decompression context (out of memory)");
    if (!error_.empty()) return -1;
    for (;;) {
      const bool more = in_avail_ > 0 || Refill();
      if (!more && !error_.empty()) return -1;
      ZSTD_inBuffer ib{in_next_, in_avail_, 0};
      ZSTD_outBuffer ob{out, n, 0};
      const size_t rc = ZSTD_decompressStream(dctx_, &ob, &ib);
      in_next_ += ib.pos;
      in_avail_ -= ib.pos;
      if (ZSTD_isError(rc))
        return Fail(std::string("corrupt zstd data after ") + std::to_string(in_.stored_offset() - in_avail_) +
                        " stored bytes: " + ZSTD_getErrorName(rc) + " (the file is damaged; check it with zstd -t)",
                    ob.pos);
      // rc == 0: a frame ended and everything is flushed; the next bytes start a new frame. A
      // call without progress (no input left) returns a size hint instead: it tells nothing.
      if (ib.pos > 0 || ob.pos > 0) frame_open_ = rc != 0;
      if (ob.pos > 0) return ssize_t(ob.pos);
      if (!more) return frame_open_ ? Truncated("zstd") : 0;
    }
  }

 private:
  ZSTD_DCtx* dctx_;
  bool frame_open_ = false;
};

class XzDecompressor final : public Decompressor {
 public:
  XzDecompressor(StoredInput& in, const uint8_t* first, size_t n) : Decompressor(in, first, n) {
    ok_ = lzma_stream_decoder(&s_, UINT64_MAX, LZMA_CONCATENATED) == LZMA_OK;
  }
  ~XzDecompressor() override { lzma_end(&s_); }
  Compression Kind() const noexcept override { return Compression::kXz; }
  ssize_t Read(uint8_t* out, size_t n) override {
    if (!ok_) return Fail("xz: cannot initialise liblzma (out of memory)");
    if (!error_.empty()) return -1;
    if (ended_) return 0;
    for (;;) {
      const bool more = in_avail_ > 0 || Refill();
      if (!more && !error_.empty()) return -1;
      s_.next_in = in_next_;
      s_.avail_in = in_avail_;
      s_.next_out = out;
      s_.avail_out = n;
      const lzma_ret rc = lzma_code(&s_, more ? LZMA_RUN : LZMA_FINISH);
      in_next_ = s_.next_in;
      in_avail_ = s_.avail_in;
      const size_t produced = n - s_.avail_out;
      if (rc == LZMA_STREAM_END) ended_ = true;
      if (rc == LZMA_BUF_ERROR && !more && produced == 0) return Truncated("xz");
      if (rc != LZMA_OK && rc != LZMA_STREAM_END && rc != LZMA_BUF_ERROR)
        return Fail(std::string("corrupt xz data after ") + std::to_string(in_.stored_offset() - in_avail_) +
                        " stored bytes: " + What(rc) + " (the file is damaged; check it with xz -t)",
                    produced);
      if (produced > 0) return ssize_t(produced);
      if (ended_) return 0;
    }
  }

 private:
  static const char* What(lzma_ret rc) {
    switch (rc) {
      case LZMA_MEM_ERROR: return "out of memory";
      case LZMA_FORMAT_ERROR: return "not in the .xz format";
      case LZMA_OPTIONS_ERROR: return "unsupported compression options";
      case LZMA_DATA_ERROR: return "compressed data is corrupt";
      case LZMA_MEMLIMIT_ERROR: return "memory limit reached";
      default: return "liblzma error";
    }
  }
  lzma_stream s_ = LZMA_STREAM_INIT;
  bool ok_ = false;
  bool ended_ = false;
};

class Bzip2Decompressor final : public Decompressor {
 public:
  Bzip2Decompressor(StoredInput& in, const uint8_t* first, size_t n) : Decompressor(in, first, n) {
    ok_ = BZ2_bzDecompressInit(&s_, 0, 0) == BZ_OK;
  }
  ~Bzip2Decompressor() override {
    if (ok_) BZ2_bzDecompressEnd(&s_);
  }
  Compression Kind() const noexcept override { return Compression::kBzip2; }
  ssize_t Read(uint8_t* out, size_t n) override {
    if (!ok_) return Fail("bzip2: cannot initialise libbz2 (out of memory)");
    if (!error_.empty()) return -1;
    for (;;) {
      const bool more = in_avail_ > 0 || Refill();
      if (!more) {
        if (!error_.empty()) return -1;
        if (!in_stream_) return 0;
      }
      if (!in_stream_) {  // a further stream of a concatenation (pbzip2, cat a.bz2 b.bz2)
        BZ2_bzDecompressEnd(&s_);
        ok_ = BZ2_bzDecompressInit(&s_, 0, 0) == BZ_OK;
        if (!ok_) return Fail("bzip2: cannot initialise libbz2 (out of memory)");
        in_stream_ = true;
      }
      s_.next_in = reinterpret_cast<char*>(const_cast<uint8_t*>(in_next_));
      s_.avail_in = unsigned(std::min<size_t>(in_avail_, UINT_MAX));
      s_.next_out = reinterpret_cast<char*>(out);
      s_.avail_out = unsigned(std::min<size_t>(n, UINT_MAX));
      const unsigned before_in = s_.avail_in, before_out = s_.avail_out;
      const int rc = BZ2_bzDecompress(&s_);
      in_next_ += before_in - s_.avail_in;
      in_avail_ -= before_in - s_.avail_in;
      const size_t produced = before_out - s_.avail_out;
      if (rc == BZ_STREAM_END) {
        in_stream_ = false;
      } else if (rc != BZ_OK) {
        const char* what = rc == BZ_DATA_ERROR_MAGIC ? "bad stream magic"
                           : rc == BZ_MEM_ERROR      ? "out of memory"
                                                     : "data error";
        return Fail(std::string("corrupt bzip2 data after ") + std::to_string(in_.stored_offset() - in_avail_) +
                        " stored bytes: " + what + " (the file is damaged; check it with bzip2 -t)",
                    produced);
      }
      if (produced > 0) return ssize_t(produced);
      if (!more && in_stream_) return Truncated("bzip2");
    }
  }

 private:
  bz_stream s_{};
  bool ok_ = false;
  bool in_stream_ = true;
};

}  // namespace

std::unique_ptr<Decompressor> Decompressor::Make(Compression c, StoredInput& in, const uint8_t* first, size_t n) {
  switch (c) {
    case Compression::kGzip: return std::make_unique<GzipDecompressor>(in, first, n);
    case Compression::kZstd: return std::make_unique<ZstdDecompressor>(in, first, n);
    case Compression::kXz: return std::make_unique<XzDecompressor>(in, first, n);
    case Compression::kBzip2: return std::make_unique<Bzip2Decompressor>(in, first, n);
    default: return nullptr;
  }
}

}  // namespace nfm
