// SPDX-License-Identifier: MIT
// RAII owners for libbpf resources and the one exception type of the live setup path.
// Each resource has exactly one move-only owner; nothing here is thread-safe.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

namespace nfm::live {

// "EPERM", "ENODEV", ... (or "E<n>" when unknown).
const char* ErrnoName(int err) noexcept;

// Formats `<action> <object>: <strerror> (<ERRNAME>)[; <hint>]` (STYLE §5).
std::string FormatError(const std::string& action, const std::string& object, int err,
                        const std::string& hint = {});

// The one exception of the setup path: thrown by setup code, caught by RunLive.
// `err` is a positive errno value.
class BpfError : public std::runtime_error {
 public:
  BpfError(std::string action, std::string object, int err, std::string hint = {})
      : std::runtime_error(FormatError(action, object, err, hint)), err_(err) {}
  int Errno() const noexcept { return err_; }

 private:
  int err_;
};

// A file descriptor (map, ring, link). Closing a link fd detaches the link.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
      Reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }
  int Get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  void Reset() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// One key of a BPF map that we inserted; destruction deletes it (the map fd is borrowed and
// must outlive this owner).
class MapKeyOwner {
 public:
  MapKeyOwner() = default;
  MapKeyOwner(int map_fd, uint32_t key) noexcept : map_fd_(map_fd), key_(key) {}
  MapKeyOwner(MapKeyOwner&& o) noexcept : map_fd_(std::exchange(o.map_fd_, -1)), key_(o.key_) {}
  MapKeyOwner& operator=(MapKeyOwner&& o) noexcept {
    if (this != &o) {
      Reset();
      map_fd_ = std::exchange(o.map_fd_, -1);
      key_ = o.key_;
    }
    return *this;
  }
  MapKeyOwner(const MapKeyOwner&) = delete;
  MapKeyOwner& operator=(const MapKeyOwner&) = delete;
  ~MapKeyOwner() { Reset(); }
  void Reset() noexcept;  // loader.cpp (bpf_map_delete_elem)

 private:
  int map_fd_ = -1;
  uint32_t key_ = 0;
};

// Owns a generated skeleton through its static open/load/destroy functions (move-only).
template <class Skel>
class Skeleton {
 public:
  static Skeleton Open(const char* what) {
    Skel* s = Skel::open();  // NULL + errno on failure (libbpf 1.0 convention)
    const int err = errno;
    if (!s) throw BpfError("open", what, err);
    return Skeleton(s);
  }
  void Load(const char* what, const std::string& hint) {
    const int err = Skel::load(p_.get());  // -errno
    if (err) throw BpfError("load", what, -err, hint);
  }
  Skel* operator->() const noexcept { return p_.get(); }
  Skel* Get() const noexcept { return p_.get(); }
  void Reset() noexcept { p_.reset(); }

 private:
  explicit Skeleton(Skel* s) : p_(s) {}
  struct Del {
    void operator()(Skel* s) const noexcept { Skel::destroy(s); }
  };
  std::unique_ptr<Skel, Del> p_;
};

}  // namespace nfm::live
