// SPDX-License-Identifier: MIT
// IPFIX wire format (RFC 7011 §3): big-endian field writers, template records and a message
// builder that packs template and data sets into messages no longer than a size limit, with
// the header's length, export time, sequence number and observation domain. No sockets, no
// threads, no knowledge of flows: ipfix_template.* decides what a record holds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace nfm::ipfix {

inline constexpr uint16_t kVersion = 10;
inline constexpr size_t kMessageHeaderLen = 16;
inline constexpr size_t kSetHeaderLen = 4;
inline constexpr uint16_t kTemplateSetId = 2;
inline constexpr uint16_t kFirstDataSetId = 256;
inline constexpr size_t kMaxMessageLen = 65535;  // the header's 16-bit length
inline constexpr uint32_t kReversePen = 29305;   // RFC 5103 reverse information elements

inline uint8_t* Put8(uint8_t* p, uint8_t v) noexcept {
  *p = v;
  return p + 1;
}
inline uint8_t* Put16(uint8_t* p, uint16_t v) noexcept {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
  return p + 2;
}
inline uint8_t* Put32(uint8_t* p, uint32_t v) noexcept {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
  return p + 4;
}
inline uint8_t* Put64(uint8_t* p, uint64_t v) noexcept {
  Put32(p, static_cast<uint32_t>(v >> 32));
  return Put32(p + 4, static_cast<uint32_t>(v));
}
// float64 (RFC 7011 §6.1.5): the IEEE 754 bits in network order.
inline uint8_t* PutDouble(uint8_t* p, double v) noexcept {
  uint64_t bits;
  std::memcpy(&bits, &v, 8);
  return Put64(p, bits);
}
inline uint16_t Get16(const uint8_t* p) noexcept { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline uint32_t Get32(const uint8_t* p) noexcept {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

// One field specifier of a template: IANA element when pen == 0, else enterprise-specific
// (the E bit is set on the wire and the PEN follows).
struct FieldSpec {
  uint16_t id = 0;      // information element id (15 bits)
  uint16_t length = 0;  // bytes in the data record
  uint32_t pen = 0;
};

// A template: id (>= 256) and its fields. A record of it has RecordLength() bytes.
struct Template {
  uint16_t id = kFirstDataSetId;
  std::vector<FieldSpec> fields;
  size_t RecordLength() const noexcept;
  // Bytes of the template record (4 + 4 per field + 4 per enterprise field).
  size_t WireLength() const noexcept;
  // Appends the template record (not a whole set) to out.
  void AppendTo(std::vector<uint8_t>& out) const;
};

// Builds one message at a time in its own buffer of capacity `max_len` (<= 65535).
// Records of one template that follow each other share one data set. A message is never
// longer than max_len; Add* return false when the record does not fit (finish the message
// and start a new one).
class MessageBuilder {
 public:
  MessageBuilder(size_t max_len, uint32_t domain);
  // Starts a message. `sequence`: data records sent in this domain before this message
  // (RFC 7011 §3.1), `export_time`: seconds since the Unix epoch.
  void Begin(uint32_t export_time, uint32_t sequence);
  // A whole template set holding `records` (concatenated template records).
  bool AddTemplateSet(std::span<const uint8_t> records);
  // One data record of template `template_id`.
  bool AddRecord(uint16_t template_id, std::span<const uint8_t> record);
  // Export time of the open message (set it just before Finish when the message was begun
  // ahead of time).
  void SetExportTime(uint32_t export_time) noexcept { Put32(buf_.data() + 4, export_time); }
  // Completes the header and the open set; the bytes stay valid until the next Begin.
  std::span<const uint8_t> Finish();

  size_t Records() const noexcept { return records_; }
  bool Empty() const noexcept { return len_ == kMessageHeaderLen; }
  size_t Length() const noexcept { return len_; }
  size_t MaxLength() const noexcept { return max_len_; }
  // Largest data record that fits in an otherwise empty message.
  size_t MaxRecordLength() const noexcept { return max_len_ - kMessageHeaderLen - kSetHeaderLen; }

 private:
  void CloseSet();
  std::vector<uint8_t> buf_;
  size_t max_len_;
  uint32_t domain_;
  size_t len_ = kMessageHeaderLen;
  size_t set_start_ = 0;  // offset of the open data set's header; 0 = none open
  uint16_t set_id_ = 0;
  size_t records_ = 0;
};

}  // namespace nfm::ipfix
