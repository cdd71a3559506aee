// SPDX-License-Identifier: MIT
// ReadAhead: a helper thread that reads a regular file with pread(2) into a small ring of
// chunks ahead of the parser, so the kernel's copy of the next bytes (a fifth to a third of a
// one-thread replay) runs on another core while the parser works on the current ones. The
// parser takes the chunks in file order and parses them where the helper wrote them: each
// chunk has kHeadroom bytes in front of its data, where the parser puts the unparsed tail of
// the chunk before (a record that straddles two chunks), then gives the chunk before back.
// At most Budget() run in a process at once (kMaxActive by default; a merge of many files reads
// the rest directly). A run that was told to use one core (--threads 1) sets it to 0.
// One consuming thread; the helper thread is private. Memory: kSlots x (kHeadroom + kChunk).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

namespace nfm {

class ReadAhead {
 public:
  static constexpr size_t kChunk = 256 * 1024;     // one pread; stays in the L2 cache
  static constexpr size_t kHeadroom = 64 * 1024;   // room for the tail of the chunk before
  static constexpr size_t kSlots = 4;
  static constexpr int kMaxActive = 2;

  struct Chunk {
    uint8_t* data = nullptr;  // kHeadroom writable bytes precede it
    size_t n = 0;             // 0: the end of the file, or a read error (err)
    int err = 0;              // errno of the failed pread
  };

  // How many may run at once in this process (set before reading starts; 0: none).
  static void SetBudget(int n) noexcept { budget_.store(n, std::memory_order_relaxed); }
  static int Budget() noexcept { return budget_.load(std::memory_order_relaxed); }
  // Reads the file open at fd (duplicated) from `offset` on. Null when Budget() are running
  // or the thread or its memory cannot be had (the caller reads directly).
  static std::unique_ptr<ReadAhead> Start(int fd, uint64_t offset);
  ~ReadAhead();
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

  // The next chunk in file order, waiting for the helper if needed. After the end chunk
  // (n == 0) it returns the end chunk again. Valid until it is released.
  const Chunk& Next();
  // Gives back the oldest chunk taken by Next and not given back yet.
  void Release();

 private:
  ReadAhead() = default;
  void Run();
  int fd_ = -1;
  uint64_t offset_ = 0;  // helper: the next byte to read
  std::unique_ptr<uint8_t[]> mem_;
  Chunk slots_[kSlots];
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable filled_cv_, freed_cv_;
  uint64_t produced_ = 0, taken_ = 0, released_ = 0;  // guarded by mu_
  bool ended_ = false;                                 // the helper wrote the end chunk; mu_
  bool stop_ = false;                                  // mu_
  bool consumer_waits_ = false, producer_waits_ = false;  // mu_: notify only a waiter
  static std::atomic<int> active_, budget_;
};

}  // namespace nfm
