// SPDX-License-Identifier: MIT
// ByteSink implementations: stdio for plain text; zlib deflate (gzip wrapper, level 6) and
// libzstd (level 3) fed from a 256 KiB input buffer and written through stdio.
#include "output/byte_sink.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

namespace nfm {
namespace {

std::string ErrnoText(int err) {
  const char* name = strerrordesc_np(err);
  const char* abbrev = strerrorname_np(err);
  std::string s = name ? name : "unknown error";
  if (abbrev) s += std::string(" (") + abbrev + ")";
  return s;
}
constexpr size_t kBufferBytes = 1 << 20;
constexpr size_t kChunk = 256 * 1024;

bool EndsWith(std::string_view s, std::string_view suf) {
  return s.size() >= suf.size() && s.substr(s.size() - suf.size()) == suf;
}

// Plain and compressed sinks share the FILE and its error handling.
class FileSink : public ByteSink {
 public:
  bool OpenFile(const std::string& path, std::string* error, std::string_view what, std::string_view option) {
    path_ = path;
    what_ = what;
    if (path == "-") {
      file_ = stdout;
      is_stdout_ = true;
    } else {
      file_ = std::fopen(path.c_str(), "wb");
      if (!file_) {
        *error = "open " + what_ + " output " + path + ": " + ErrnoText(errno) + "; choose a writable path with " +
                 std::string(option) + " (or '-' for stdout)";
        return false;
      }
    }
    if (!is_stdout_) {
      // glibc ignores the size when setvbuf is given no buffer (it then allocates st_blksize,
      // 4 KiB: one write(2) per 4 KiB of CSV); stdout keeps its own buffer (other code may
      // write to it after this sink is gone).
      buffer_ = std::make_unique_for_overwrite<char[]>(kBufferBytes);
      std::setvbuf(file_, buffer_.get(), _IOFBF, kBufferBytes);
    }
    struct stat st {};
    kick_ = !is_stdout_ && ::fstat(fileno(file_), &st) == 0 && S_ISREG(st.st_mode);
    return true;
  }
  ~FileSink() override {
    if (file_ && !is_stdout_) std::fclose(file_);
    else if (file_) std::fflush(file_);
  }

 protected:
  bool Fail(const char* action, int err) {
    if (error_.empty()) error_ = std::string(action) + " " + what_ + " output " + path_ + ": " + ErrnoText(err);
    failed_ = true;
    return false;
  }
  bool Raw(const void* data, size_t n) {
    if (n && fwrite_unlocked(data, 1, n, file_) != n) return Fail("write", errno);
    written_ += n;
    if (kick_ && written_ >= kicked_ + kKickBytes + kBufferBytes) Kick();
    return true;
  }
  // Starts the write-back of what the kernel has of this file so far, without waiting for it
  // (SYNC_FILE_RANGE_WRITE): the fsync at the end then waits for the last few MiB only, not
  // for the whole file. Bytes more than kBufferBytes back have surely left the stdio buffer. A
  // file system that refuses it ends the kicks; errors are the fsync's to report.
  void Kick() {
    const uint64_t upto = written_ - kBufferBytes;
    if (::sync_file_range(fileno(file_), static_cast<off_t>(kicked_), static_cast<off_t>(upto - kicked_),
                          SYNC_FILE_RANGE_WRITE) != 0)
      kick_ = false;
    kicked_ = upto;
  }
  static constexpr uint64_t kKickBytes = 4u << 20;
  bool kick_ = false;  // a regular file (OpenFile)
  uint64_t written_ = 0, kicked_ = 0;
  bool CloseFile(bool sync) {
    if (!file_) return !failed_;
    if (std::fflush(file_) != 0 && !failed_) Fail("write", errno);
    if (!is_stdout_) {
      // fsync failure on a real file means data may be lost (e.g. EIO, ENOSPC on NFS).
      if (sync && !failed_ && ::fsync(fileno(file_)) != 0 && errno != EINVAL) Fail("sync", errno);
      if (std::fclose(file_) != 0 && !failed_) Fail("close", errno);
    }
    file_ = nullptr;
    return !failed_;
  }

  bool FlushFile() {
    if (failed_ || !file_) return false;
    if (std::fflush(file_) != 0) return Fail("write", errno);
    return true;
  }

  std::FILE* file_ = nullptr;
  std::unique_ptr<char[]> buffer_;  // file_'s stdio buffer (outlives it: fclose comes first)
  bool is_stdout_ = false;
  bool failed_ = false;
  std::string path_;
  std::string what_ = "CSV";
};

class PlainSink final : public FileSink {
 public:
  bool Write(const char* data, size_t n) override {
    if (failed_ || !file_) return false;
    if (!Raw(data, n)) return false;
    bytes_in_ += n;
    return true;
  }
  bool Flush() override { return FlushFile(); }
  bool Close(bool sync) override { return CloseFile(sync); }
};

// Compressed sinks collect input in `in_` and compress it kChunk at a time.
class CompressedSink : public FileSink {
 public:
  bool Write(const char* data, size_t n) override {
    if (failed_ || !file_) return false;
    bytes_in_ += n;
    while (n > 0) {
      const size_t take = std::min(n, kChunk - in_.size());
      in_.insert(in_.end(), data, data + take);
      data += take;
      n -= take;
      if (in_.size() == kChunk && !Compress(Mode::kContinue)) return false;
    }
    return true;
  }
  bool Flush() override {
    if (failed_ || !file_) return false;
    return Compress(Mode::kFlush) && FlushFile();
  }
  bool Close(bool sync) override {
    if (file_ && !failed_) Compress(Mode::kEnd);
    return CloseFile(sync);
  }

 protected:
  enum class Mode { kContinue, kFlush, kEnd };
  // Consumes in_ entirely; kFlush: ends a block a decompressor can read up to; kEnd: finishes
  // the stream.
  virtual bool Compress(Mode mode) = 0;
  std::vector<char> in_;
  std::vector<unsigned char> out_ = std::vector<unsigned char>(kChunk);
};

class GzipSink final : public CompressedSink {
 public:
  bool Init(std::string* error) {
    codec_ = Codec::kGzip;
    in_.reserve(kChunk);
    // windowBits 15 + 16: gzip wrapper; memLevel 8 (zlib's default).
    if (deflateInit2(&zs_, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      *error = "open " + what_ + " output " + path_ + ": zlib initialisation failed";
      return false;
    }
    init_ = true;
    return true;
  }
  ~GzipSink() override {
    if (init_) deflateEnd(&zs_);
  }

 private:
  bool Compress(Mode mode) override {
    const bool end = mode == Mode::kEnd;
    zs_.next_in = reinterpret_cast<Bytef*>(in_.data());
    zs_.avail_in = static_cast<uInt>(in_.size());
    int rc;
    do {
      zs_.next_out = out_.data();
      zs_.avail_out = static_cast<uInt>(out_.size());
      rc = deflate(&zs_, end ? Z_FINISH : mode == Mode::kFlush ? Z_SYNC_FLUSH : Z_NO_FLUSH);
      if (rc == Z_STREAM_ERROR) {
        error_ = "compress " + what_ + " output " + path_ + ": zlib stream error";
        failed_ = true;
        return false;
      }
      if (!Raw(out_.data(), out_.size() - zs_.avail_out)) return false;
    } while (zs_.avail_out == 0 || (end && rc != Z_STREAM_END));
    in_.clear();
    return true;
  }
  z_stream zs_{};
  bool init_ = false;
};

class ZstdSink final : public CompressedSink {
 public:
  bool Init(std::string* error) {
    codec_ = Codec::kZstd;
    in_.reserve(kChunk);
    cctx_ = ZSTD_createCCtx();
    if (!cctx_ || ZSTD_isError(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, 3)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1))) {
      *error = "open " + what_ + " output " + path_ + ": zstd initialisation failed";
      return false;
    }
    return true;
  }
  ~ZstdSink() override { ZSTD_freeCCtx(cctx_); }

 private:
  bool Compress(Mode mode) override {
    const bool end = mode == Mode::kEnd;
    const ZSTD_EndDirective directive = end ? ZSTD_e_end : mode == Mode::kFlush ? ZSTD_e_flush : ZSTD_e_continue;
    ZSTD_inBuffer in{in_.data(), in_.size(), 0};
    size_t remaining;
    do {
      ZSTD_outBuffer out{out_.data(), out_.size(), 0};
      remaining = ZSTD_compressStream2(cctx_, &out, &in, directive);
      if (ZSTD_isError(remaining)) {
        error_ = "compress " + what_ + " output " + path_ + ": " + ZSTD_getErrorName(remaining);
        failed_ = true;
        return false;
      }
      if (!Raw(out_.data(), out.pos)) return false;
    } while (directive != ZSTD_e_continue ? remaining != 0 : in.pos < in.size);
    in_.clear();
    return true;
  }
  ZSTD_CCtx* cctx_ = nullptr;
};

}  // namespace

const char* CodecName(Codec c) noexcept {
  switch (c) {
    case Codec::kGzip: return "gzip";
    case Codec::kZstd: return "zstd";
    default: return "none";
  }
}

Codec CodecForPath(std::string_view path) noexcept {
  if (path == "-") return Codec::kPlain;
  if (EndsWith(path, ".gz")) return Codec::kGzip;
  if (EndsWith(path, ".zst")) return Codec::kZstd;
  return Codec::kPlain;
}

std::string RotatedName(const std::string& path, const std::string& stamp, uint32_t n) {
  const std::string tag = "." + stamp + "." + std::to_string(n);
  if (CodecForPath(path) == Codec::kPlain) return path + tag;
  std::string_view ext = EndsWith(path, ".gz") ? ".gz" : ".zst";
  std::string_view p = path;
  p.remove_suffix(ext.size());
  if (EndsWith(p, ".csv")) {
    p.remove_suffix(4);
    ext = EndsWith(path, ".gz") ? ".csv.gz" : ".csv.zst";
  } else if (EndsWith(p, ".jsonl")) {
    p.remove_suffix(6);
    ext = EndsWith(path, ".gz") ? ".jsonl.gz" : ".jsonl.zst";
  }
  // A name that is only the extension (".csv.gz") keeps the tag in front.
  return std::string(p) + tag + std::string(ext);
}

std::unique_ptr<ByteSink> ByteSink::Open(const std::string& path, std::string* error, std::string_view what,
                                         std::string_view option) {
  switch (CodecForPath(path)) {
    case Codec::kGzip: {
      auto s = std::make_unique<GzipSink>();
      if (!s->OpenFile(path, error, what, option) || !s->Init(error)) return nullptr;
      return s;
    }
    case Codec::kZstd: {
      auto s = std::make_unique<ZstdSink>();
      if (!s->OpenFile(path, error, what, option) || !s->Init(error)) return nullptr;
      return s;
    }
    default: {
      auto s = std::make_unique<PlainSink>();
      if (!s->OpenFile(path, error, what, option)) return nullptr;
      return s;
    }
  }
}

}  // namespace nfm
