// SPDX-License-Identifier: MIT
// InputHasher: the SHA-256 of an input's stored bytes, fed the read buffers in file order. With a
// helper thread the hashing of one buffer overlaps the parsing of the next, on the other core;
// without, each buffer is hashed when it is fed. It never reads the input itself.
// One feeding thread; the helper thread is private.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "source/sha256.hpp"

namespace nfm {

class InputHasher {
 public:
  // threaded: hash on a helper thread (falls back to the caller's thread if it cannot start).
  explicit InputHasher(bool threaded);
  ~InputHasher();
  InputHasher(const InputHasher&) = delete;
  InputHasher& operator=(const InputHasher&) = delete;

  // Queues n bytes at p, which must stay unchanged until WaitFor(returned ticket) returns.
  // Returns the ticket: the number of bytes fed so far.
  uint64_t Add(const uint8_t* p, size_t n);
  // Waits until the first `ticket` bytes fed are hashed (their buffers may then be reused).
  void WaitFor(uint64_t ticket);
  uint64_t Fed() const noexcept { return fed_; }
  // Waits for every byte fed; the hex digest of all of them, and their count in *bytes. Once.
  std::string Finish(uint64_t* bytes);

 private:
  void Run();
  struct Span {
    const uint8_t* p;
    size_t n;
  };
  static constexpr size_t kSlots = 16;
  Sha256 sha_;
  uint64_t fed_ = 0;
  bool threaded_ = false;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  std::array<Span, kSlots> ring_{};
  size_t head_ = 0, tail_ = 0;  // ring_[head_..tail_) queued, guarded by mu_
  bool stop_ = false;           // guarded by mu_
  std::atomic<uint64_t> hashed_{0};
};

}  // namespace nfm
