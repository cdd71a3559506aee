// SPDX-License-Identifier: MIT
// Where IPFIX messages go: `udp://HOST:PORT`, `tcp://HOST:PORT` (default port 4739) or
// `file:PATH` (RFC 5655 file: the messages back to back). Parsing and name resolution happen
// once, up front, so a bad URL fails before capture starts. Transports send whole messages
// and report failures; they never retry or queue (ipfix_exporter.* does). A UDP destination on
// this host can report its receiving socket's queue (sock_diag), so the sender can wait for room.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace nfm::ipfix {

inline constexpr uint16_t kDefaultPort = 4739;

struct Destination {
  enum class Kind : uint8_t { kUdp, kTcp, kFile };
  Kind kind = Kind::kUdp;
  std::string url;   // as given
  std::string host;  // udp/tcp
  uint16_t port = kDefaultPort;
  std::string path;  // file
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
};

// Parses and resolves `url`. On failure returns false and sets *error to one line without
// the flag name (the caller prefixes "--ipfix URL: ").
bool ParseDestination(std::string_view url, Destination* d, std::string* error);

// The socket that receives a local UDP destination's datagrams, as the kernel reports it.
struct ReceiverInfo {
  bool found = false;   // a socket is bound to the destination (false: nothing listens)
  uint32_t queued = 0;  // bytes charged to its receive queue (sk_rmem_alloc)
  uint32_t rcvbuf = 0;  // its receive buffer (SO_RCVBUF)
  uint32_t drops = 0;   // datagrams it dropped since it was created (the SO_RXQ_OVFL count)
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Opens / connects. False with *error when not possible now (TCP: retry later).
  virtual bool Open(std::string* error) = 0;
  virtual bool IsOpen() const = 0;
  // Sends one whole message. False with *error on failure (TCP: the connection is closed
  // and must be reopened; UDP: e.g. ECONNREFUSED after an ICMP port unreachable).
  virtual bool Send(std::span<const uint8_t> msg, std::string* error) = 0;
  // TCP only: true if the peer closed the connection (checked before sending).
  virtual bool PeerClosed() { return false; }
  // Flushes and closes. False with *error if buffered data could not be written.
  virtual bool Close(std::string* error) = 0;
  // Datagram transport (MTU applies, templates are refreshed by time).
  virtual bool Datagram() const = 0;
  // UDP to an address of this host (after Open): ProbeReceiver can see the collector's socket.
  virtual bool LocalReceiver() const { return false; }
  // Fills *r for a local receiver. False when the kernel cannot tell (not local, no sock_diag).
  virtual bool ProbeReceiver(ReceiverInfo* r) { (void)r; return false; }
  // UDP: the last failed Send reported an ICMP port unreachable, which an *earlier* datagram
  // caused (that one is lost; the failed one was not sent).
  virtual bool Refused() const { return false; }
  // TCP: bytes written but not acknowledged by the peer when the connection broke or was
  // closed (not counting a message whose Send failed): lost with the connection. Read before
  // the next Open. 0 for other transports.
  virtual uint64_t Unacknowledged() const { return 0; }
};

// send_timeout_s: TCP sends give up after this long (the collector stopped reading).
std::unique_ptr<Transport> MakeTransport(const Destination& d, double send_timeout_s = 2.0);

}  // namespace nfm::ipfix
