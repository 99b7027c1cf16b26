#include "train/teacher_cache_file.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "index/files.h"

namespace astfill::train {
namespace {

constexpr char kMagic[4] = {'A', 'T', 'K', 'C'};
constexpr uint32_t kVersion = 1;

template <class V>
void put(std::string& out, V v) {
  char buf[sizeof(V)];
  std::memcpy(buf, &v, sizeof(V));
  out.append(buf, sizeof(V));
}

// Reads from a byte string with bounds checks; good turns false past the end.
struct Reader {
  std::string_view bytes;
  size_t at = 0;
  bool good = true;
  template <class V>
  V get() {
    V v{};
    if (!good || bytes.size() - at < sizeof(V)) {
      good = false;
      return v;
    }
    std::memcpy(&v, bytes.data() + at, sizeof(V));
    at += sizeof(V);
    return v;
  }
  bool take(void* dst, size_t n) {
    if (!good || bytes.size() - at < n) return good = false;
    if (n) std::memcpy(dst, bytes.data() + at, n);
    at += n;
    return true;
  }
};

}  // namespace

std::string write_teacher_cache(const TeacherEntries& entries, const std::string& key) {
  std::string bytes(kMagic, sizeof kMagic);
  put<uint32_t>(bytes, kVersion);
  put<uint32_t>(bytes, static_cast<uint32_t>(key.size()));
  bytes += key;
  put<uint64_t>(bytes, entries.size());
  std::vector<uint64_t> keys;
  for (const auto& [k, t] : entries) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  for (uint64_t k : keys) {
    const TeacherTopK& t = entries.at(k);
    put<uint64_t>(bytes, k);
    put<uint32_t>(bytes, static_cast<uint32_t>(t.rows()));
    put<int32_t>(bytes, t.k);
    bytes.append(reinterpret_cast<const char*>(t.ids.data()), t.ids.size() * sizeof(int32_t));
    bytes.append(reinterpret_cast<const char*>(t.logprobs.data()), t.logprobs.size() * sizeof(float));
  }
  put<uint64_t>(bytes, index::content_hash(bytes));
  return bytes;
}

std::optional<TeacherEntries> read_teacher_cache(std::string_view bytes, const std::string& key, int32_t top_k) {
  if (bytes.size() < sizeof kMagic + 8 + 8 || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) return std::nullopt;
  uint64_t checksum = 0;
  std::memcpy(&checksum, bytes.data() + bytes.size() - 8, 8);
  if (index::content_hash(bytes.substr(0, bytes.size() - 8)) != checksum) return std::nullopt;
  Reader r{bytes, sizeof kMagic};
  if (r.get<uint32_t>() != kVersion) return std::nullopt;
  const uint32_t key_len = r.get<uint32_t>();
  if (!r.good || key_len != key.size() || bytes.size() - r.at < key_len || bytes.compare(r.at, key_len, key) != 0)
    return std::nullopt;
  r.at += key_len;
  const uint64_t count = r.get<uint64_t>();
  const size_t end = bytes.size() - 8;
  TeacherEntries entries;
  for (uint64_t e = 0; e < count && r.good; ++e) {
    const uint64_t sample = r.get<uint64_t>();
    const uint32_t rows = r.get<uint32_t>();
    const int32_t k = r.get<int32_t>();
    // The sizes are checked against what is left before anything is allocated.
    if (!r.good || r.at > end || k != top_k || k <= 0 || rows == 0 ||
        static_cast<uint64_t>(rows) * static_cast<uint64_t>(k) * 8 > end - r.at)
      return std::nullopt;
    TeacherTopK t;
    t.k = k;
    t.ids.resize(static_cast<size_t>(rows) * static_cast<size_t>(k));
    t.logprobs.resize(t.ids.size());
    r.take(t.ids.data(), t.ids.size() * sizeof(int32_t));
    r.take(t.logprobs.data(), t.logprobs.size() * sizeof(float));
    for (size_t i = 0; i < t.ids.size(); ++i)
      if (t.ids[i] < 0 || !std::isfinite(t.logprobs[i]) || t.logprobs[i] > 0) return std::nullopt;
    entries.emplace(sample, std::move(t));  // a repeated key: the first stays
  }
  if (!r.good || r.at != end) return std::nullopt;
  return entries;
}

}  // namespace astfill::train
