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

class CaptureSet {
 public:
  // `inputs`: capture files, directories (every regular file inside, not recursive) or "-"
  // (stdin; only as the sole input). Each file is opened once here to read its first record's
  // time. On failure (a path that cannot be opened, is not a capture, an empty directory)
  // returns nullptr and sets *error to a one-line message.
  static std::unique_ptr<CaptureSet> Open(const std::vector<std::string>& inputs, bool deliver_partial,
                                          std::string* error);
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
  };
  CaptureSet() = default;
  bool Join(size_t i);        // open file i and read its first packet into the merge
  void Advance(size_t i);     // file i's head was consumed: read its next packet
  void Finish(size_t i, int rc);
  bool HeapLess(size_t a, size_t b) const noexcept;
  void HeapPush(size_t i);
  size_t HeapPop();

  std::vector<File> files_;   // in merge order: first packet time, then path
  std::vector<size_t> heap_;  // open files by (head ts, file order)
  size_t next_join_ = 0;      // files_[next_join_..] have not joined yet
  size_t last_ = SIZE_MAX;    // file whose head Next() returned last (advanced on the next call)
  bool deliver_partial_ = false;
  uint64_t bytes_total_ = 0;
  uint64_t bytes_closed_ = 0;  // bytes of files that are done
  CaptureStats closed_stats_;
  std::vector<std::string> errors_;
};

}  // namespace nfm
