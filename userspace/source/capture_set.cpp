// SPDX-License-Identifier: MIT
// CaptureSet: input expansion (files, directories, stdin), first-packet ordering and the
// k-way timestamp merge over CaptureReaders.
#include "source/capture_set.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace nfm {

namespace {
void AddStats(CaptureStats& to, const CaptureStats& s) {
  to.records += s.records;
  to.ts_clamped += s.ts_clamped;
  to.caplen_clamped += s.caplen_clamped;
  to.skipped_blocks += s.skipped_blocks;
}
}  // namespace

CaptureSet::~CaptureSet() = default;

bool CaptureSet::ExpandInputs(const std::vector<std::string>& inputs, std::vector<std::string>* out,
                              std::string* error) {
  std::vector<std::string>& paths = *out;
  for (const std::string& in : inputs) {
    if (in == "-") {
      if (inputs.size() != 1) {
        *error = "open captures: stdin ('-') can only be the sole --pcap input";
        return false;
      }
      paths.push_back(in);
      continue;
    }
    struct stat st {};
    if (::stat(in.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      std::vector<std::string> found;
      std::error_code ec;
      for (const auto& e : std::filesystem::directory_iterator(in, ec)) {
        std::error_code ec2;
        if (e.is_regular_file(ec2)) found.push_back(e.path().string());
      }
      if (ec) {
        *error = "open capture directory " + in + ": " + ec.message();
        return false;
      }
      if (found.empty()) {
        *error = "open capture directory " + in + ": no regular file inside";
        return false;
      }
      std::sort(found.begin(), found.end());
      paths.insert(paths.end(), found.begin(), found.end());
    } else {
      paths.push_back(in);  // CaptureReader::Open reports a missing file
    }
  }
  return true;
}

std::unique_ptr<CaptureSet> CaptureSet::Open(const std::vector<std::string>& inputs, bool deliver_partial,
                                             std::string* error, std::vector<InputProgress>* infos, bool hash,
                                             DigestCache* cache) {
  std::unique_ptr<CaptureSet> set(new CaptureSet());
  set->deliver_partial_ = deliver_partial;
  set->infos_ = infos;
  set->hash_ = hash && infos != nullptr;
  set->cache_ = cache;
  std::vector<std::string> paths;
  if (!ExpandInputs(inputs, &paths, error)) return nullptr;
  if (paths.empty()) {
    *error = "open captures: no input given";
    return nullptr;
  }
  for (const std::string& p : paths) {
    File f;
    f.path = p;
    set->files_.push_back(std::move(f));
  }
  if (set->files_.size() == 1) {  // one input (maybe stdin): streamed, no first pass
    File& f = set->files_[0];
    f.reader = CaptureReader::Open(f.path, error, set->hash_, cache);
    if (!f.reader) return nullptr;
    f.reader->SetDeliverPartialRecord(deliver_partial);
    f.size = f.reader->FileSize();
    set->bytes_total_ = f.size;
    set->next_join_ = 1;
    if (infos) {
      infos->assign(1, InputProgress{});
      InputProgress& in = (*infos)[0];
      in.path = f.path;
      in.format = f.reader->Format();
      in.compression = f.reader->CompressionFormat();
      in.size = f.size;
    }
    const int rc = f.reader->Next(&f.head);
    if (rc == 1) set->HeapPush(0); else set->Finish(0, rc);
    return set;
  }

  // First pass: each file's first packet time and size. Closed again right away.
  for (File& f : set->files_) {
    auto r = CaptureReader::Open(f.path, error);
    if (!r) return nullptr;
    r->SetDeliverPartialRecord(deliver_partial);
    f.size = r->FileSize();
    set->bytes_total_ += f.size;
    f.info.path = f.path;
    f.info.format = r->Format();
    f.info.compression = r->CompressionFormat();
    f.info.size = f.size;
    RawPacket raw;
    const int rc = r->Next(&raw);
    if (rc == 1) {
      f.first_ts = raw.ts_ns;
    } else {
      // No packet (header only) or corrupt from the first record: nothing to merge.
      if (rc < 0) set->errors_.push_back(r->Error());
      f.info.drops = r->Drops();
      const CaptureStats stats = r->Stats();
      if (set->hash_) {  // it never joins the merge: hash it now (one more read of it)
        r.reset();
        std::string err;
        if (auto h = CaptureReader::Open(f.path, &err, true, cache)) {
          f.info.sha256_complete = true;
          f.info.sha256 = h->FinishSha256(true, &f.info.sha256_bytes);
        }
      }
      AddStats(set->closed_stats_, stats);
      f.done = true;
      set->bytes_closed_ += f.size;
    }
  }
  std::stable_sort(set->files_.begin(), set->files_.end(), [](const File& a, const File& b) {
    if (a.first_ts != b.first_ts) return a.first_ts < b.first_ts;
    return a.path < b.path;
  });
  if (infos) {
    infos->clear();
    for (File& f : set->files_) infos->push_back(std::move(f.info));
  }
  return set;
}

const std::string& CaptureSet::CurrentPath() const {
  static const std::string kNone;
  return last_ < files_.size() ? files_[last_].path : kNone;
}

uint64_t CaptureSet::BytesDone() const noexcept {
  uint64_t b = bytes_closed_;
  for (const File& f : files_)
    if (f.reader) b += f.reader->StoredOffset();
  return b;
}

CaptureStats CaptureSet::Stats() const noexcept {
  CaptureStats s = closed_stats_;
  for (const File& f : files_)
    if (f.reader) AddStats(s, f.reader->Stats());
  return s;
}

bool CaptureSet::HeapLess(size_t a, size_t b) const noexcept {
  // true when a comes AFTER b (std heap functions keep the "largest" on top).
  const uint64_t ta = files_[a].head.ts_ns, tb = files_[b].head.ts_ns;
  if (ta != tb) return ta > tb;
  return a > b;
}

void CaptureSet::HeapPush(size_t i) {
  heap_.push_back(i);
  std::push_heap(heap_.begin(), heap_.end(), [this](size_t a, size_t b) { return HeapLess(a, b); });
}

size_t CaptureSet::HeapPop() {
  std::pop_heap(heap_.begin(), heap_.end(), [this](size_t a, size_t b) { return HeapLess(a, b); });
  const size_t i = heap_.back();
  heap_.pop_back();
  return i;
}

void CaptureSet::Finish(size_t i, int rc) {
  File& f = files_[i];
  if (rc < 0) errors_.push_back(f.reader->Error());
  if (infos_) {
    InputProgress& in = (*infos_)[i];
    in.drops = f.reader->Drops();
    if (hash_) {  // end of input or corrupt record: the rest is hashed too
      in.sha256_complete = true;
      std::unique_ptr<InputHasher> h = f.reader->TakeSha256();
      if (h && h->reads_file()) {
        // Still reading the file: the digest is waited for when a manifest asks (the flush
        // of the open flows runs meanwhile).
        in.sha256_pending = std::make_shared<PendingDigest>(std::move(h));
      } else if (h) {
        in.sha256 = h->Finish(true, &in.sha256_bytes);
        if (in.size == 0) in.size = in.sha256_bytes;
      }
    }
  }
  AddStats(closed_stats_, f.reader->Stats());
  bytes_closed_ += f.size ? f.size : f.reader->StoredOffset();
  f.reader.reset();
  f.done = true;
}

bool CaptureSet::Join(size_t i) {
  File& f = files_[i];
  if (f.done) return false;
  std::string err;
  f.reader = CaptureReader::Open(f.path, &err, hash_, cache_);
  if (!f.reader) {  // it opened in the first pass: it changed since
    errors_.push_back(err);
    f.done = true;
    bytes_closed_ += f.size;
    return false;
  }
  f.reader->SetDeliverPartialRecord(deliver_partial_);
  const int rc = f.reader->Next(&f.head);
  if (rc != 1) {
    Finish(i, rc);
    return false;
  }
  HeapPush(i);
  return true;
}

void CaptureSet::Advance(size_t i) {
  File& f = files_[i];
  const int rc = f.reader->Next(&f.head);
  if (rc == 1) {
    HeapPush(i);
  } else {
    Finish(i, rc);
  }
}

int CaptureSet::Next(RawPacket* pkt) {
  if (last_ != SIZE_MAX) {
    if (heap_.empty() && next_join_ == files_.size()) {
      // The last file in the merge (one input, or the others ended): its next record is next,
      // without the heap's push and pop.
      File& f = files_[last_];
      const int rc = f.reader->Next(&f.head);
      if (rc != 1) {
        Finish(last_, rc);
        last_ = SIZE_MAX;
        return 0;
      }
      return Take(last_, pkt);
    }
    Advance(last_);
    last_ = SIZE_MAX;
  }
  // A file joins the merge once the merge has reached its first packet's time.
  while (next_join_ < files_.size() &&
         (heap_.empty() || files_[next_join_].first_ts <= files_[heap_.front()].head.ts_ns)) {
    Join(next_join_++);
  }
  if (heap_.empty()) return 0;
  return Take(HeapPop(), pkt);
}

int CaptureSet::Take(size_t i, RawPacket* pkt) {
  last_ = i;
  *pkt = files_[i].head;
  if (infos_) {
    InputProgress& in = (*infos_)[i];
    if (!in.have_times || pkt->ts_ns < in.first_ns) in.first_ns = pkt->ts_ns;
    if (!in.have_times || pkt->ts_ns > in.last_ns) in.last_ns = pkt->ts_ns;
    in.have_times = true;
    ++in.records;
  }
  return 1;
}

void CaptureSet::FinishInputs() {
  if (!infos_) return;
  for (size_t i = 0; i < files_.size(); ++i) {
    File& f = files_[i];
    if (!f.reader) continue;
    InputProgress& in = (*infos_)[i];
    in.drops = f.reader->Drops();
    if (hash_) {
      // Stopped: the digest of the bytes read (of the whole file when it came from the cache).
      in.sha256 = f.reader->FinishSha256(false, &in.sha256_bytes);
      in.sha256_complete = in.size > 0 && in.sha256_bytes == in.size;
    }
  }
}

}  // namespace nfm
