// SPDX-License-Identifier: MIT
// CaptureReader: reads classic pcap (µs/ns, either byte order) and pcapng (SHB/IDB/EPB/SPB/
// OPB, several interfaces with different link types, if_tsresol, either byte order) from a
// file or stdin ("-"), stored plain or gzip/zstd/xz/bzip2-compressed (told by magic bytes). Our own parser (no libpcap): it must report the byte offset of a
// corrupt or truncated record and keep every record before it. Does not decode packets.
// Not thread-safe. The buffer behind RawPacket::data is valid until the next Next() call.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "source/input_hasher.hpp"

namespace nfm {

// Timestamps: pcap sec*1e9 + frac (µs*1000 or ns), ts_exp -6 / -9. pcapng: units of the
// interface's if_tsresol (default 10^-6); 10^-k: ts_exp = exponent of the shortest exact
// decimal, capped at 0 (Python's Decimal(units) / 10**k); 2^-k: rounded to ns, ts_exp -9.
// if_tsoffset is ignored (as scapy does). A Simple Packet Block has no timestamp: it gets the
// previous record's ts_ns/ts_exp (0/0 if first). Records longer than 256 KiB are corrupt.
struct RawPacket {
  uint64_t ts_ns = 0;      // since the epoch; clamped to [0, INT64_MAX] (see ts_clamped)
  int8_t ts_exp = -6;      // see PacketMeta::ts_exp
  uint32_t link_type = 0;  // DLT/LINKTYPE number of the record's interface
  uint32_t cap_len = 0;
  uint32_t wire_len = 0;
  const uint8_t* data = nullptr;
};

struct CaptureStats {
  uint64_t records = 0;         // packet records returned
  uint64_t ts_clamped = 0;      // timestamps outside the representable range
  uint64_t caplen_clamped = 0;  // records with cap_len > wire_len: counted, both kept as stored
  uint64_t skipped_blocks = 0;  // pcapng blocks of other types (NRB, custom, ...)
  uint64_t stats_blocks = 0;    // pcapng Interface Statistics Blocks read
};

// Packets the capturing system reports it dropped, from pcapng Interface Statistics Blocks:
// `drops` (increase of isb_ifdrop + isb_osdrop since the interface's previous ISB) happened
// somewhere in [from_ns, to_ns] (previous ISB time, or isb_starttime, or 0 for the first; this
// ISB's time). Classic pcap records no drops.
struct CaptureDrop {
  uint32_t interface = 0;  // interface id within its section
  uint64_t from_ns = 0, to_ns = 0;
  uint64_t drops = 0;
};

class CaptureReader {
 public:
  // Opens `path` ("-" = stdin). On failure returns nullptr and sets *error to a one-line
  // message naming the file, the reason, and a hint (e.g. "not a pcap or pcapng file").
  // `hash`: compute the SHA-256 of the input as stored (the compressed bytes of a compressed
  // file) from the bytes as they are read, on a helper thread for inputs of a few MiB and more
  // (see FinishSha256). `cache` (with `hash`, may be null): a regular file's digest is taken
  // from it when it remembers the file's current stamp, and offered to it once hashed whole.
  static std::unique_ptr<CaptureReader> Open(const std::string& path, std::string* error, bool hash = false,
                                             DigestCache* cache = nullptr);
  virtual ~CaptureReader() = default;

  // 1: a packet was read into *pkt. 0: clean end of input. -1: corrupt/truncated input
  // (a corrupt or truncated compressed stream included); Error() then says what and at which
  // byte offset ("... at byte offset 1234"; of the decompressed bytes for a compressed input).
  virtual int Next(RawPacket* pkt) = 0;
  virtual const std::string& Error() const = 0;
  // Classic pcap cut inside a record's data: return the bytes that are there as one last,
  // shorter record (what scapy, and so NetFlowMeter 2022, does) before reporting the error.
  virtual void SetDeliverPartialRecord(bool on) = 0;
  virtual uint64_t Offset() const = 0;    // capture bytes consumed so far (decompressed)
  virtual uint64_t StoredOffset() const = 0;  // stored bytes read so far (compressed, read ahead)
  virtual uint64_t FileSize() const = 0;  // stored size; 0 when unknown (stdin, pipe)
  virtual const char* CompressionFormat() const = 0;  // "none", "gzip", "zstd", "xz", "bzip2"
  virtual const CaptureStats& Stats() const = 0;
  virtual const char* Format() const = 0;  // "pcap", "pcap-ns", "pcapng"
  // Drop intervals from the ISBs read so far (only intervals with drops > 0).
  virtual const std::vector<CaptureDrop>& Drops() const = 0;

  // With Open's `hash`: the SHA-256 of the stored input, computed from the bytes as the reader
  // reads them (no second read). `to_end`: the bytes not read yet are read once and hashed too
  // (stdin included). Returns the hex digest of the *bytes hashed bytes (the whole input when
  // to_end, else the prefix read so far); empty without `hash`. Once.
  virtual std::string FinishSha256(bool to_end, uint64_t* bytes) = 0;
  // FinishSha256(true, ...) without waiting for a hasher that reads the file on its own: the
  // hasher (null without `hash`), whose Finish(true, ...) gives the digest; it no longer needs
  // this reader.
  virtual std::unique_ptr<InputHasher> TakeSha256() = 0;
};

}  // namespace nfm
