// The teacher cache's reader (train/teacher_cache_file.h), which astfill tune
// --teacher runs on a file under --out that anything may have written. Each
// input is read twice: as the whole file (its checksum must then match, so
// nearly every input is refused there), and with the right checksum
// appended, so the header and entries behind it are what is fuzzed. A file
// must be read or refused (nullopt), never crash or allocate past its size;
// what is read must hold what the reader promises, and write back to a file
// that reads the same.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#include "index/files.h"
#include "tests/fuzz/fuzz_support.h"
#include "train/teacher_cache_file.h"

using namespace astfill::train;

namespace {

// The key and k of the committed seeds (tests/fuzz/corpus/teacher_cache).
const std::string kKey = "teacher=/fuzz/teacher.gguf (1 bytes, mtime 0)\nk=4\nsamples=fuzz\n";
constexpr int32_t kTopK = 4;

void check_entries(const TeacherEntries& entries) {
  for (const auto& [key, t] : entries) {
    astfill::fuzz::check(t.k == kTopK, "an entry of another k was read");
    astfill::fuzz::check(t.rows() > 0 && t.ids.size() == t.rows() * kTopK && t.logprobs.size() == t.ids.size(),
                         "an entry's ids and log-probabilities disagree with its rows");
    for (size_t i = 0; i < t.ids.size(); ++i)
      astfill::fuzz::check(t.ids[i] >= 0 && std::isfinite(t.logprobs[i]) && t.logprobs[i] <= 0,
                           "a negative id or a log-probability that is not finite and <= 0 was read");
  }
  const auto again = read_teacher_cache(write_teacher_cache(entries, kKey), kKey, kTopK);
  astfill::fuzz::check(again.has_value() && again->size() == entries.size(), "what was read does not write back");
  for (const auto& [key, t] : entries) {
    auto it = again->find(key);
    astfill::fuzz::check(it != again->end() && it->second.ids == t.ids &&
                             std::memcmp(it->second.logprobs.data(), t.logprobs.data(),
                                         t.logprobs.size() * sizeof(float)) == 0,
                         "an entry changed on writing back");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string raw(reinterpret_cast<const char*>(data), size);
  if (auto entries = read_teacher_cache(raw, kKey, kTopK)) check_entries(*entries);
  std::string sealed = raw;
  const uint64_t checksum = astfill::index::content_hash(sealed);
  char bytes[8];
  std::memcpy(bytes, &checksum, 8);
  sealed.append(bytes, 8);
  if (auto entries = read_teacher_cache(sealed, kKey, kTopK)) check_entries(*entries);
  return 0;
}
