// SPDX-License-Identifier: MIT
// IPFIX transports: URL parsing/resolution, UDP and TCP sockets, RFC 5655 files.
#include "output/ipfix_transport.hpp"

#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <thread>

namespace nfm::ipfix {
namespace {

std::string ErrnoText(int e) {
  const char* name = strerrordesc_np(e);
  const char* abbrev = strerrorname_np(e);
  return std::string(name ? name : "error") + " (" + (abbrev ? abbrev : "?") + ")";
}

bool SameAddress(const sockaddr_storage& a, const sockaddr_storage& b) {
  if (a.ss_family != b.ss_family) return false;
  if (a.ss_family == AF_INET) {
    const auto& x = reinterpret_cast<const sockaddr_in&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in&>(b);
    return x.sin_addr.s_addr == y.sin_addr.s_addr;
  }
  if (a.ss_family == AF_INET6) {
    const auto& x = reinterpret_cast<const sockaddr_in6&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in6&>(b);
    return std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof(in6_addr)) == 0;
  }
  return false;
}

class UdpTransport : public Transport {
 public:
  explicit UdpTransport(const Destination& d) : d_(d) {}
  ~UdpTransport() override {
    if (fd_ >= 0) ::close(fd_);
    if (diag_fd_ >= 0) ::close(diag_fd_);
  }
  bool Open(std::string* error) override {
    if (fd_ >= 0) return true;
    fd_ = ::socket(d_.addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      *error = "open UDP socket for " + d_.url + ": " + ErrnoText(errno);
      return false;
    }
    // connect(): the kernel reports ICMP port-unreachable as ECONNREFUSED on a later send.
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&d_.addr), d_.addr_len) != 0) {
      *error = "connect UDP socket to " + d_.url + ": " + ErrnoText(errno);
      ::close(fd_);
      fd_ = -1;
      return false;
    }
    // The destination is on this host when the kernel picked it as our own source address
    // (an address of ours, loopback included, is routed through lo). Then the collector's
    // socket is visible to sock_diag: its queue, buffer and drops.
    local_len_ = sizeof(local_);
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&local_), &local_len_) == 0 && SameAddress(local_, d_.addr)) {
      diag_fd_ = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    }
    return true;
  }
  bool LocalReceiver() const override { return diag_fd_ >= 0; }
  // One inet_diag lookup of the socket a datagram from us to the destination is delivered to
  // (udp_dump_one: "src" is the sender, "dst" the receiver), with its memory counters.
  bool ProbeReceiver(ReceiverInfo* r) override {
    if (diag_fd_ < 0) return false;
    struct {
      nlmsghdr nlh;
      inet_diag_req_v2 req;
    } q{};
    q.nlh.nlmsg_len = sizeof(q);
    q.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    q.nlh.nlmsg_flags = NLM_F_REQUEST;
    q.nlh.nlmsg_seq = ++diag_seq_;
    q.req.sdiag_family = static_cast<uint8_t>(d_.addr.ss_family);
    q.req.sdiag_protocol = IPPROTO_UDP;
    q.req.idiag_ext = 1u << (INET_DIAG_SKMEMINFO - 1);
    q.req.idiag_states = ~0u;
    q.req.id.idiag_cookie[0] = q.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
    if (d_.addr.ss_family == AF_INET) {
      const auto* src = reinterpret_cast<const sockaddr_in*>(&local_);
      const auto* dst = reinterpret_cast<const sockaddr_in*>(&d_.addr);
      q.req.id.idiag_sport = src->sin_port;
      q.req.id.idiag_dport = dst->sin_port;
      std::memcpy(q.req.id.idiag_src, &src->sin_addr, 4);
      std::memcpy(q.req.id.idiag_dst, &dst->sin_addr, 4);
    } else {
      const auto* src = reinterpret_cast<const sockaddr_in6*>(&local_);
      const auto* dst = reinterpret_cast<const sockaddr_in6*>(&d_.addr);
      q.req.id.idiag_sport = src->sin6_port;
      q.req.id.idiag_dport = dst->sin6_port;
      std::memcpy(q.req.id.idiag_src, &src->sin6_addr, 16);
      std::memcpy(q.req.id.idiag_dst, &dst->sin6_addr, 16);
    }
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(diag_fd_, &q, sizeof(q), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel)) < 0) return false;
    alignas(nlmsghdr) uint8_t buf[4096];
    for (;;) {
      const ssize_t got = ::recv(diag_fd_, buf, sizeof(buf), 0);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return false;
      int n = static_cast<int>(got);
      for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
        if (h->nlmsg_seq != diag_seq_) continue;  // a late answer to an earlier question
        if (h->nlmsg_type == NLMSG_ERROR) {
          const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
          *r = ReceiverInfo{};
          return e->error == -ENOENT;  // nothing bound: found = false
        }
        if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY) continue;
        const auto* m = static_cast<const inet_diag_msg*>(NLMSG_DATA(h));
        int len = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
        for (auto* a = reinterpret_cast<const rtattr*>(m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
          if (a->rta_type != INET_DIAG_SKMEMINFO || RTA_PAYLOAD(a) < sizeof(uint32_t) * (SK_MEMINFO_DROPS + 1))
            continue;
          const auto* v = static_cast<const uint32_t*>(RTA_DATA(a));
          r->found = true;
          r->queued = v[SK_MEMINFO_RMEM_ALLOC];
          r->rcvbuf = v[SK_MEMINFO_RCVBUF];
          r->drops = v[SK_MEMINFO_DROPS];
          return true;
        }
        return false;  // no memory counters in the answer
      }
    }
  }
  bool IsOpen() const override { return fd_ >= 0; }
  bool Send(std::span<const uint8_t> msg, std::string* error) override {
    const ssize_t n = ::send(fd_, msg.data(), msg.size(), MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(msg.size())) return true;
    refused_ = n < 0 && errno == ECONNREFUSED;
    *error = "send to " + d_.url + ": " + (n < 0 ? ErrnoText(errno) : std::string("short datagram"));
    return false;
  }
  bool Refused() const override { return refused_; }
  bool Close(std::string*) override {
    if (fd_ >= 0) ::close(fd_);
    if (diag_fd_ >= 0) ::close(diag_fd_);
    fd_ = diag_fd_ = -1;
    return true;
  }
  bool Datagram() const override { return true; }

 private:
  Destination d_;
  int fd_ = -1;
  int diag_fd_ = -1;  // NETLINK_SOCK_DIAG, only for a destination on this host
  uint32_t diag_seq_ = 0;
  bool refused_ = false;
  sockaddr_storage local_{};
  socklen_t local_len_ = 0;
};

class TcpTransport : public Transport {
 public:
  TcpTransport(const Destination& d, double send_timeout_s) : d_(d), send_timeout_s_(send_timeout_s) {}
  ~TcpTransport() override {
    if (fd_ >= 0) ::close(fd_);
  }
  bool Open(std::string* error) override {
    if (fd_ >= 0) return true;
    const int fd = ::socket(d_.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
      *error = "open TCP socket for " + d_.url + ": " + ErrnoText(errno);
      return false;
    }
    int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&d_.addr), d_.addr_len);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = ::poll(&p, 1, 2000);
      int err = ETIMEDOUT;
      if (rc > 0) {
        socklen_t len = sizeof(err);
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      }
      errno = err;
      rc = err == 0 ? 0 : -1;
    }
    if (rc != 0) {
      *error = "connect to " + d_.url + ": " + ErrnoText(errno);
      ::close(fd);
      return false;
    }
    // Blocking sends with a timeout: the sender thread may wait, the engine never does.
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(send_timeout_s_);
    tv.tv_usec = static_cast<suseconds_t>((send_timeout_s_ - static_cast<double>(tv.tv_sec)) * 1e6);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fd_ = fd;
    unacked_ = 0;
    return true;
  }
  bool IsOpen() const override { return fd_ >= 0; }
  bool PeerClosed() override {
    if (fd_ < 0) return true;
    pollfd p{fd_, POLLIN | POLLRDHUP, 0};
    if (::poll(&p, 1, 0) <= 0) return false;
    if (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) return Drop();
    char c;
    const ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return Drop();
    return false;  // a collector does not talk back; ignore
  }
  bool Send(std::span<const uint8_t> msg, std::string* error) override {
    size_t off = 0;
    while (off < msg.size()) {
      const ssize_t n = ::send(fd_, msg.data() + off, msg.size() - off, MSG_NOSIGNAL);
      if (n > 0) {
        off += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      const int e = n < 0 ? errno : EPIPE;
      *error = "send to " + d_.url + ": " +
               (e == EAGAIN || e == EWOULDBLOCK ? std::string("collector not reading (send timeout)") : ErrnoText(e));
      Drop(off);
      return false;
    }
    return true;
  }
  bool Close(std::string*) override {
    if (fd_ >= 0) {
      // Until the collector's host acknowledged every byte (at most the send timeout): what
      // is still unacknowledged then is reported by Unacknowledged().
      const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(send_timeout_s_);
      int outq = 0;
      while (::ioctl(fd_, SIOCOUTQ, &outq) == 0 && outq > 0 && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      if (outq > 0) unacked_ = static_cast<uint64_t>(outq);
      ::shutdown(fd_, SHUT_WR);
      ::close(fd_);
    }
    fd_ = -1;
    return true;
  }
  bool Datagram() const override { return false; }
  uint64_t Unacknowledged() const override { return unacked_; }

 private:
  // `partial`: bytes of the message whose Send failed (the caller accounts for that message).
  bool Drop(size_t partial = 0) {
    // SIOCOUTQ: written minus acknowledged bytes (write_seq - snd_una); still valid after a
    // reset, which only purges the queue.
    int outq = 0;
    if (::ioctl(fd_, SIOCOUTQ, &outq) == 0 && static_cast<size_t>(std::max(outq, 0)) > partial)
      unacked_ = static_cast<uint64_t>(outq) - partial;
    ::close(fd_);
    fd_ = -1;
    return true;
  }
  Destination d_;
  double send_timeout_s_;
  int fd_ = -1;
  uint64_t unacked_ = 0;
};

class FileTransport : public Transport {
 public:
  explicit FileTransport(const Destination& d) : d_(d) {}
  ~FileTransport() override {
    if (f_) std::fclose(f_);
  }
  bool Open(std::string* error) override {
    if (f_) return true;
    f_ = std::fopen(d_.path.c_str(), "wb");
    if (!f_) {
      *error = "open IPFIX file " + d_.path + ": " + ErrnoText(errno);
      return false;
    }
    std::setvbuf(f_, nullptr, _IOFBF, 1 << 20);
    return true;
  }
  bool IsOpen() const override { return f_ != nullptr; }
  bool Send(std::span<const uint8_t> msg, std::string* error) override {
    if (std::fwrite(msg.data(), 1, msg.size(), f_) == msg.size()) return true;
    *error = "write IPFIX file " + d_.path + ": " + ErrnoText(errno);
    return false;
  }
  bool Close(std::string* error) override {
    if (!f_) return true;
    const bool ok = std::fflush(f_) == 0;
    const int e = errno;
    const bool closed = std::fclose(f_) == 0;
    f_ = nullptr;
    if (!ok || !closed) {
      *error = "write IPFIX file " + d_.path + ": " + ErrnoText(ok ? errno : e);
      return false;
    }
    return true;
  }
  bool Datagram() const override { return false; }

 private:
  Destination d_;
  std::FILE* f_ = nullptr;
};

}  // namespace

bool ParseDestination(std::string_view url, Destination* d, std::string* error) {
  d->url = std::string(url);
  std::string_view rest;
  if (url.starts_with("file:")) {
    d->kind = Destination::Kind::kFile;
    rest = url.substr(5);
    if (rest.starts_with("//")) rest.remove_prefix(2);  // file:///tmp/x -> /tmp/x
    if (rest.empty()) {
      *error = "no file name (use file:PATH)";
      return false;
    }
    d->path = std::string(rest);
    return true;
  }
  if (url.starts_with("udp://")) {
    d->kind = Destination::Kind::kUdp;
  } else if (url.starts_with("tcp://")) {
    d->kind = Destination::Kind::kTcp;
  } else {
    *error = "unsupported scheme (use udp://HOST[:PORT], tcp://HOST[:PORT] or file:PATH)";
    return false;
  }
  rest = url.substr(6);
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  std::string_view host, port;
  if (rest.starts_with("[")) {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) {
      *error = "unterminated '[' in the address";
      return false;
    }
    host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') {
        *error = "expected ':PORT' after ']'";
        return false;
      }
      port = after.substr(1);
    }
  } else {
    const size_t colon = rest.rfind(':');
    if (colon != std::string_view::npos && rest.find(':') != colon) {
      *error = "IPv6 addresses need brackets, e.g. udp://[::1]:4739";
      return false;
    }
    host = colon == std::string_view::npos ? rest : rest.substr(0, colon);
    if (colon != std::string_view::npos) port = rest.substr(colon + 1);
  }
  if (host.empty()) {
    *error = "no host";
    return false;
  }
  d->port = kDefaultPort;
  if (!port.empty() || (rest.find(':') != std::string_view::npos && !rest.starts_with("["))) {
    unsigned v = 0;
    const auto r = std::from_chars(port.data(), port.data() + port.size(), v);
    if (port.empty() || r.ec != std::errc() || r.ptr != port.data() + port.size() || v == 0 || v > 65535) {
      *error = "bad port '" + std::string(port) + "' (1..65535)";
      return false;
    }
    d->port = static_cast<uint16_t>(v);
  }
  d->host = std::string(host);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = d->kind == Destination::Kind::kUdp ? SOCK_DGRAM : SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string port_text = std::to_string(d->port);
  const int rc = ::getaddrinfo(d->host.c_str(), port_text.c_str(), &hints, &res);
  if (rc != 0 || res == nullptr) {
    *error = "cannot resolve host '" + d->host + "': " + (rc == EAI_SYSTEM ? ErrnoText(errno) : gai_strerror(rc));
    return false;
  }
  std::memcpy(&d->addr, res->ai_addr, res->ai_addrlen);
  d->addr_len = static_cast<socklen_t>(res->ai_addrlen);
  ::freeaddrinfo(res);
  return true;
}

std::unique_ptr<Transport> MakeTransport(const Destination& d, double send_timeout_s) {
  switch (d.kind) {
    case Destination::Kind::kUdp: return std::make_unique<UdpTransport>(d);
    case Destination::Kind::kTcp: return std::make_unique<TcpTransport>(d, send_timeout_s);
    case Destination::Kind::kFile: return std::make_unique<FileTransport>(d);
  }
  return nullptr;
}

}  // namespace nfm::ipfix
