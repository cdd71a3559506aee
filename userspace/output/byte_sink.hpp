// SPDX-License-Identifier: MIT
// ByteSink: where the CSV writer's bytes go — a plain file (stdio, 1 MiB buffer) or stdout, a
// gzip stream (zlib) or a zstd frame (libzstd). The codec follows the file name: "*.gz" gzip,
// "*.zst" zstd, anything else (and "-") plain. Errors are one line with the errno text and
// make every later Write fail. Not thread-safe (one writer thread).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace nfm {

enum class Codec : uint8_t { kPlain, kGzip, kZstd };
const char* CodecName(Codec c) noexcept;  // "none", "gzip", "zstd"
Codec CodecForPath(std::string_view path) noexcept;

// Name of rotated part n of `path` with time stamp `stamp`: plain files keep the historical
// <path>.<stamp>.<n>; compressed files keep their extension last so tools recognise them:
// out.csv.gz -> out.<stamp>.<n>.csv.gz, out.jsonl.zst -> out.<stamp>.<n>.jsonl.zst,
// x.zst -> x.<stamp>.<n>.zst.
std::string RotatedName(const std::string& path, const std::string& stamp, uint32_t n);

class ByteSink {
 public:
  // path "-" = stdout (always plain). Error text: "open <what> output <path>: <reason>; <hint>"
  // (what: "CSV", "JSON"; the hint names `option`).
  static std::unique_ptr<ByteSink> Open(const std::string& path, std::string* error, std::string_view what = "CSV",
                                        std::string_view option = "--csv");
  virtual ~ByteSink() = default;
  // False once anything failed (Error() says what); later writes are refused.
  virtual bool Write(const char* data, size_t n) = 0;
  // Hands everything written so far to the file (compressed: a sync/flush point a streaming
  // decompressor can read up to), so a reader of the file sees it now. False on failure.
  virtual bool Flush() = 0;
  // Ends the stream (compressed trailer), flushes, fsyncs a real file when `sync` and closes
  // it (stdout is flushed only). Idempotent; false on failure.
  virtual bool Close(bool sync) = 0;
  uint64_t BytesIn() const noexcept { return bytes_in_; }  // uncompressed bytes accepted
  const std::string& Error() const noexcept { return error_; }
  Codec codec() const noexcept { return codec_; }

 protected:
  uint64_t bytes_in_ = 0;
  std::string error_;
  Codec codec_ = Codec::kPlain;
};

}  // namespace nfm
