// SPDX-License-Identifier: MIT
// Sha256: a small streaming SHA-256 (FIPS 180-4) for the input hashes of the manifest. Uses the
// x86 SHA extensions when the CPU has them (GB/s), else portable C++ (~200 MB/s); both tested
// against sha256sum. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace nfm {

class Sha256 {
 public:
  Sha256() { Reset(); }
  void Reset() noexcept;
  void Update(const void* data, size_t n) noexcept;
  // Finishes (the object must be Reset before reuse) and writes 32 bytes.
  void Final(uint8_t out[32]) noexcept;
  // Final() as 64 lowercase hex digits.
  std::string HexFinal();
  uint64_t Bytes() const noexcept { return total_; }
  // Whether this CPU's SHA extensions are used; tests force the portable code to cover both.
  static bool UsesShaExtensions() noexcept;
  void ForcePortable(bool on) noexcept { force_portable_ = on; }

 private:
  void Blocks(const uint8_t* p, size_t nblocks) noexcept;
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t buf_len_ = 0;
  uint64_t total_ = 0;
  bool force_portable_ = false;
};

}  // namespace nfm
