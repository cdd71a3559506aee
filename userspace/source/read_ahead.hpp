// SPDX-License-Identifier: MIT
// ReadAhead: a regular file read with pread(2) into a small ring of chunks ahead of the
// parser, so that the kernel's copy of the next bytes (a fifth to a quarter of a one-thread
// replay) is off the parser's path. Who reads ahead: a helper thread of its own, or, in
// cooperative mode (SetCooperative, for runs whose workers take every CPU), whoever calls
// TryFillAny() (the sharded workers before each batch, while another worker holds the serial
// reader), and the parser itself when nothing was read ahead. The parser takes the chunks in
// file order and parses them where they were read: each chunk has kHeadroom bytes in front of
// its data, where the parser puts the unparsed tail of the chunk before (a record that
// straddles two chunks), then gives the chunk before back.
// At most Budget() run in a process at once (kMaxActive by default; a merge of many files reads
// the rest directly). A run that was told to use one core (--threads 1) sets it to 0.
// One consuming thread per ReadAhead; TryFillAny from any thread; the helper thread is
// private. Memory: kSlots x (kHeadroom + kChunk) each.
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
  // Chunks one TryFillAny reads of each ReadAhead: a batch of 512 packets of ~650 B takes ~1.3
  // chunks, so one a call let the reader run dry and read (or wait for) its chunks itself,
  // serially (two a call: ~8 % faster with 2 workers; three: no better).
  static constexpr int kCoopFills = 2;

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

  // The next chunk in file order, waiting for the helper if needed (cooperative: reading it
  // now when nobody did). After the end chunk (n == 0) it returns the end chunk again. Valid
  // until it is released.
  const Chunk& Next();
  // Cooperative ReadAheads (SetCooperative(true) before Start: no thread of their own): reads
  // ahead up to kCoopFills chunks of each that has a free slot and is not being filled right
  // now. Never waits. Whether anything was read.
  static bool TryFillAny();
  static void SetCooperative(bool on) noexcept { cooperative_.store(on, std::memory_order_relaxed); }
  // Gives back the oldest chunk taken by Next and not given back yet.
  void Release();

 private:
  ReadAhead() = default;
  void Run();
  bool FillOne();  // holds fill_mu_; false: no free slot or the end was read
  bool threaded_ = false;
  std::mutex fill_mu_;
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
  static std::atomic<bool> cooperative_;
};

}  // namespace nfm
