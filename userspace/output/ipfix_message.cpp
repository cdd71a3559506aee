// SPDX-License-Identifier: MIT
// IPFIX message and template record encoding (RFC 7011 §3.1, §3.3, §3.4.1).
#include "output/ipfix_message.hpp"

#include <algorithm>

namespace nfm::ipfix {

size_t Template::RecordLength() const noexcept {
  size_t n = 0;
  for (const FieldSpec& f : fields) n += f.length;
  return n;
}

size_t Template::WireLength() const noexcept {
  size_t n = 4;
  for (const FieldSpec& f : fields) n += f.pen ? 8 : 4;
  return n;
}

void Template::AppendTo(std::vector<uint8_t>& out) const {
  const size_t at = out.size();
  out.resize(at + WireLength());
  uint8_t* p = out.data() + at;
  p = Put16(p, id);
  p = Put16(p, static_cast<uint16_t>(fields.size()));
  for (const FieldSpec& f : fields) {
    p = Put16(p, static_cast<uint16_t>(f.pen ? (f.id | 0x8000u) : (f.id & 0x7fffu)));
    p = Put16(p, f.length);
    if (f.pen) p = Put32(p, f.pen);
  }
}

MessageBuilder::MessageBuilder(size_t max_len, uint32_t domain)
    : buf_(std::min(max_len, kMaxMessageLen)), max_len_(std::min(max_len, kMaxMessageLen)), domain_(domain) {}

void MessageBuilder::Begin(uint32_t export_time, uint32_t sequence) {
  uint8_t* p = buf_.data();
  p = Put16(p, kVersion);
  p = Put16(p, 0);  // length: Finish
  p = Put32(p, export_time);
  p = Put32(p, sequence);
  Put32(p, domain_);
  len_ = kMessageHeaderLen;
  set_start_ = 0;
  set_id_ = 0;
  records_ = 0;
}

void MessageBuilder::CloseSet() {
  if (set_start_ == 0) return;
  Put16(buf_.data() + set_start_ + 2, static_cast<uint16_t>(len_ - set_start_));
  set_start_ = 0;
  set_id_ = 0;
}

bool MessageBuilder::AddTemplateSet(std::span<const uint8_t> records) {
  CloseSet();
  const size_t need = kSetHeaderLen + records.size();
  if (len_ + need > max_len_) return false;
  uint8_t* p = buf_.data() + len_;
  p = Put16(p, kTemplateSetId);
  p = Put16(p, static_cast<uint16_t>(need));
  std::memcpy(p, records.data(), records.size());
  len_ += need;
  return true;
}

bool MessageBuilder::AddRecord(uint16_t template_id, std::span<const uint8_t> record) {
  const bool same_set = set_start_ != 0 && set_id_ == template_id;
  const size_t need = record.size() + (same_set ? 0 : kSetHeaderLen);
  if (len_ + need > max_len_) return false;
  if (!same_set) {
    CloseSet();
    set_start_ = len_;
    set_id_ = template_id;
    uint8_t* p = buf_.data() + len_;
    p = Put16(p, template_id);
    Put16(p, 0);  // length: CloseSet
    len_ += kSetHeaderLen;
  }
  std::memcpy(buf_.data() + len_, record.data(), record.size());
  len_ += record.size();
  ++records_;
  return true;
}

std::span<const uint8_t> MessageBuilder::Finish() {
  CloseSet();
  Put16(buf_.data() + 2, static_cast<uint16_t>(len_));
  return {buf_.data(), len_};
}

}  // namespace nfm::ipfix
