// SPDX-License-Identifier: MIT
// CaptureSet: many capture files read as one continuous capture. Files are ordered by their
// first packet's time and merged by timestamp where they overlap (a k-way merge of the files'
// next packets, as mergecap does; equal times: the earlier file in that order first). A file
// is open only while it takes part in the merge, so a directory of thousands of rotated files
// keeps a few descriptors. Corruption in one file ends that file (Errors() names file and byte
// offset); the others continue. Built on CaptureReader; does not decode packets. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "source/capture_reader.hpp"

namespace nfm {

// What the replay knows about one input file, kept current while reading (for manifests written
// when a rotated output part closes mid-run). Updated on the reading thread only.
struct InputProgress {
  std::string path;
  std::string format;
  std::string compression = "none";  // CaptureReader::CompressionFormat
  uint64_t size = 0;                   // as stored
  uint64_t records = 0;
  bool have_times = false;
  uint64_t first_ns = 0, last_ns = 0;  // earliest / latest record time so far
  std::string sha256;                   // set when the file is done (see Open's `hash`),
  uint64_t sha256_bytes = 0;            // or then by sha256_pending->Get (see Sha256())
  std::shared_ptr<PendingDigest> sha256_pending;
  bool sha256_complete = false;
  std::vector<CaptureDrop> drops;       // pcapng ISB drop intervals (set when the file is done)
  // sha256 and sha256_bytes, waiting for a pending digest (any thread, after the file is done).
  void Sha256(std::string* hex, uint64_t* bytes) const {
    *hex = sha256;
    *bytes = sha256_bytes;
    if (sha256_pending) sha256_pending->Get(hex, bytes);
  }
};

class CaptureSet {
 public:
  // `inputs`: capture files, directories (every regular file inside, not recursive) or "-"
  // (stdin; only as the sole input). Each file is opened once here to read its first record's
  // time. On failure (a path that cannot be opened, is not a capture, an empty directory)
  // returns nullptr and sets *error to a one-line message.
  // `infos` (optional): resized to one InputProgress per file, in merge order, and kept current
  // (path, format, size, records, first/last time; drops and, with `hash`, the SHA-256 of the
  // file's bytes computed while reading, when the file is done or at FinishInputs()).
  // `cache` (with `hash`; may be null): digests remembered between runs (DigestCache).
  static std::unique_ptr<CaptureSet> Open(const std::vector<std::string>& inputs, bool deliver_partial,
                                          std::string* error, std::vector<InputProgress>* infos = nullptr,
                                          bool hash = false, DigestCache* cache = nullptr);
  // Expands directories (sorted regular files inside); false with *error as Open does.
  static bool ExpandInputs(const std::vector<std::string>& inputs, std::vector<std::string>* paths,
                           std::string* error);
  // End of replay: files still open (a stop signal) get their drops and a partial SHA-256
  // (sha256_complete false; true when the digest came from the cache: it covers the file). Files that never joined keep an empty hash.
  void FinishInputs();
  ~CaptureSet();

  // 1: a packet (its data is valid until the next Next()); 0: every file is done.
  int Next(RawPacket* pkt);

  size_t FileCount() const noexcept { return files_.size(); }
  const std::string& CurrentPath() const;       // file of the packet Next() returned last
  const std::string& FirstPath() const { return files_.front().path; }
  uint64_t BytesDone() const noexcept;          // bytes consumed over all files
  uint64_t BytesTotal() const noexcept { return bytes_total_; }  // 0 when unknown (stdin)
  // One line per corrupt/truncated file ("capture F: ... at byte offset N"), in file order.
  const std::vector<std::string>& Errors() const noexcept { return errors_; }
  CaptureStats Stats() const noexcept;          // summed over the files read so far

 private:
  struct File {
    std::string path;
    uint64_t first_ts = 0;
    uint64_t size = 0;
    std::unique_ptr<CaptureReader> reader;  // open while in the merge
    RawPacket head{};                       // its next packet (valid while open)
    bool done = false;
    InputProgress info;                     // first pass (moved to *infos_ after the sort)
  };
  CaptureSet() = default;
  bool Join(size_t i);        // open file i and read its first packet into the merge
  void Advance(size_t i);     // file i's head was consumed: read its next packet
  void Finish(size_t i, int rc);
  bool HeapLess(size_t a, size_t b) const noexcept;
  void HeapPush(size_t i);
  size_t HeapPop();
  int Take(size_t i, RawPacket* pkt);  // file i's head is the next packet: hand it out

  std::vector<File> files_;   // in merge order: first packet time, then path
  std::vector<size_t> heap_;  // open files by (head ts, file order)
  size_t next_join_ = 0;      // files_[next_join_..] have not joined yet
  size_t last_ = SIZE_MAX;    // file whose head Next() returned last (advanced on the next call)
  bool deliver_partial_ = false;
  uint64_t bytes_total_ = 0;
  uint64_t bytes_closed_ = 0;  // bytes of files that are done
  CaptureStats closed_stats_;
  std::vector<std::string> errors_;
  std::vector<InputProgress>* infos_ = nullptr;
  bool hash_ = false;
  DigestCache* cache_ = nullptr;
};

}  // namespace nfm
