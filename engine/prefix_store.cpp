#include "engine/prefix_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "engine/model.h"

namespace astfill::engine {
namespace {

constexpr char kMagic[8] = {'A', 'S', 'T', 'F', 'K', 'V', '\r', '\n'};
constexpr uint32_t kFormatVersion = 1;

uint64_t fnv(uint64_t h, const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}
uint64_t fnv(uint64_t h, std::string_view s) { return fnv(fnv(h, s.data(), s.size()), "\0", 1); }

uint64_t mix(uint64_t x) {  // splitmix64's finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

template <typename T>
void put(std::vector<uint8_t>& out, T v) {
  uint8_t b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.insert(out.end(), b, b + sizeof(T));
}

uint32_t crc(std::span<const uint8_t> bytes) {
  uLong c = crc32(0L, Z_NULL, 0);
  size_t at = 0;
  while (at < bytes.size()) {  // crc32 takes a uInt length
    const size_t n = std::min<size_t>(bytes.size() - at, 1u << 30);
    c = crc32(c, bytes.data() + at, static_cast<uInt>(n));
    at += n;
  }
  return static_cast<uint32_t>(c);
}

std::string hex(uint64_t v) {
  char b[17];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
  return b;
}

}  // namespace

std::filesystem::path PrefixStore::default_dir() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg && *xdg) return std::filesystem::path(xdg) / "astfill" / "kv";
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home && *home ? home : ".") / ".cache" / "astfill" / "kv";
}

std::string PrefixStore::file_identity(const std::string& path) {
  std::error_code ec;
  auto canonical = std::filesystem::weakly_canonical(path, ec);
  struct stat st {};
  if (ec || ::stat(canonical.c_str(), &st) != 0) return {};
  std::string id = canonical.string() + "|" + std::to_string(st.st_size) + "|" + std::to_string(st.st_mtim.tv_sec) +
                   "." + std::to_string(st.st_mtim.tv_nsec);
  if (S_ISREG(st.st_mode)) {
    std::ifstream in(canonical, std::ios::binary);
    std::vector<char> head(1 << 20);
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    id += "|" + hex(fnv(1469598103934665603ull, head.data(), static_cast<size_t>(std::max<std::streamsize>(in.gcount(), 0))));
  }
  return id;  // a checkpoint directory: its path and modification time
}

PrefixStore::PrefixStore(const Model& model, const std::string& model_path, PrefixStoreOptions options)
    : options_(std::move(options)) {
  if (options_.dir.empty()) options_.dir = default_dir();
  options_.block_tokens = std::max<size_t>(16, options_.block_tokens / 16 * 16);
  const HyperParams& hp = model.hparams();
  kv_type_ = static_cast<uint32_t>(model.kv_type());
  layers_ = hp.block_count;
  kv_heads_ = hp.head_count_kv;
  head_dim_ = hp.head_dim;
  KvCache probe(model.kv_type(), layers_, kv_heads_, head_dim_);
  slot_bytes_ = probe.bytes_per_slot();
  uint64_t h = 1469598103934665603ull;
  h = fnv(h, "astfill prefix kv " + std::to_string(kFormatVersion));
  h = fnv(h, file_identity(model_path));
  h = fnv(h, hp.arch);
  for (uint64_t v : {uint64_t{hp.embedding_length}, uint64_t{hp.block_count}, uint64_t{hp.head_count},
                     uint64_t{hp.head_count_kv}, uint64_t{hp.head_dim}, uint64_t{hp.vocab_size},
                     uint64_t{static_cast<uint32_t>(model.weight_mode())}, uint64_t{kv_type_}})
    h = fnv(h, &v, sizeof v);
  h = fnv(h, &hp.rope_freq_base, sizeof hp.rope_freq_base);
  h = fnv(h, hp.rope_scaling.type);
  for (double v : {hp.rope_scaling.factor, hp.rope_scaling.yarn_beta_fast, hp.rope_scaling.yarn_beta_slow})
    h = fnv(h, &v, sizeof v);
  h = fnv(h, &hp.rope_scaling.original_context_length, sizeof hp.rope_scaling.original_context_length);
  h = fnv(h, "adapter:" + options_.adapter);
  seed_ = mix(h);
  std::error_code ec;
  std::filesystem::create_directories(options_.dir, ec);
  if (!ec) std::filesystem::permissions(options_.dir, std::filesystem::perms::owner_all, ec);
  if (ec) {
    usable_ = false;
    stats_.last_error = "cannot create " + options_.dir.string() + ": " + ec.message();
  }
}

uint64_t PrefixStore::seed_for(const Session& session) const {
  // A LoRA adapter changes every layer above the first it touches: the
  // session's adapters are part of the key (FACTS.md: LoRA and prefix caches).
  const std::string& adapter = session.adapter_key();
  return adapter.empty() ? seed_ : mix(fnv(seed_, "session adapter:" + adapter));
}

std::vector<uint64_t> PrefixStore::chain(uint64_t seed, std::span<const int32_t> prompt, size_t blocks) const {
  std::vector<uint64_t> keys;
  keys.reserve(blocks);
  uint64_t h = seed;
  const size_t b = options_.block_tokens;
  for (size_t i = 0; i < blocks; ++i) {
    h = mix(fnv(h ^ 0x9e3779b97f4a7c15ull, prompt.data() + i * b, b * sizeof(int32_t)));
    keys.push_back(h);
  }
  return keys;
}

std::filesystem::path PrefixStore::file_of(uint64_t key) const { return options_.dir / (hex(key) + ".kv"); }

std::vector<uint8_t> PrefixStore::header(uint64_t seed, uint64_t key, uint64_t parent, size_t index) const {
  std::vector<uint8_t> h(kMagic, kMagic + sizeof kMagic);
  put(h, kFormatVersion);
  put(h, seed);
  put(h, key);
  put(h, parent);
  put(h, static_cast<uint64_t>(index));
  put(h, static_cast<uint32_t>(options_.block_tokens));
  for (uint32_t v : {kv_type_, layers_, kv_heads_, head_dim_}) put(h, v);
  put(h, slot_bytes_ * options_.block_tokens);
  return h;
}

bool PrefixStore::read_block(uint64_t seed, uint64_t key, uint64_t parent, size_t index,
                             std::span<const int32_t> tokens, std::vector<uint8_t>& kv) {
  const auto path = file_of(key);
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  const std::vector<uint8_t> want = header(seed, key, parent, index);
  const size_t token_bytes = tokens.size() * sizeof(int32_t), kv_bytes = slot_bytes_ * tokens.size();
  const size_t total = want.size() + token_bytes + kv_bytes + sizeof(uint32_t);
  std::vector<uint8_t> file(total + 1);
  in.read(reinterpret_cast<char*>(file.data()), static_cast<std::streamsize>(file.size()));
  const auto got = static_cast<size_t>(std::max<std::streamsize>(in.gcount(), 0));
  bool ok = got == total && std::equal(want.begin(), want.end(), file.begin()) &&
            std::memcmp(file.data() + want.size(), tokens.data(), token_bytes) == 0;
  if (ok) {
    uint32_t stored;
    std::memcpy(&stored, file.data() + total - sizeof stored, sizeof stored);
    ok = stored == crc(std::span<const uint8_t>(file.data(), total - sizeof stored));
  }
  std::error_code ec;
  if (!ok) {  // another model, format, block or a damaged file: never trusted
    std::filesystem::remove(path, ec);
    ++stats_.rejected_files;
    return false;
  }
  kv.assign(file.begin() + static_cast<std::ptrdiff_t>(want.size() + token_bytes),
            file.begin() + static_cast<std::ptrdiff_t>(want.size() + token_bytes + kv_bytes));
  std::filesystem::last_write_time(path, std::filesystem::file_time_type::clock::now(), ec);  // LRU
  return true;
}

bool PrefixStore::write_block(uint64_t seed, uint64_t key, uint64_t parent, size_t index,
                              std::span<const int32_t> tokens, std::span<const uint8_t> kv) {
  std::vector<uint8_t> file = header(seed, key, parent, index);
  const auto* tb = reinterpret_cast<const uint8_t*>(tokens.data());
  file.insert(file.end(), tb, tb + tokens.size() * sizeof(int32_t));
  file.insert(file.end(), kv.begin(), kv.end());
  put(file, crc(file));
  const auto path = file_of(key);
  const auto tmp = options_.dir / (hex(key) + ".tmp." + std::to_string(::getpid()));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    stats_.last_error = "cannot write " + tmp.string() + ": " + std::strerror(errno);
    return false;
  }
  size_t at = 0;
  while (at < file.size()) {
    ssize_t n = ::write(fd, file.data() + at, file.size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    at += static_cast<size_t>(n);
  }
  const bool written = at == file.size();
  if (!written) stats_.last_error = "cannot write " + tmp.string() + ": " + std::strerror(errno);
  ::close(fd);
  std::error_code ec;
  if (written) std::filesystem::rename(tmp, path, ec);
  if (!written || ec) {
    if (ec) stats_.last_error = "cannot rename " + tmp.string() + ": " + ec.message();
    std::filesystem::remove(tmp, ec);
    return false;
  }
  ++stats_.written_blocks;
  stats_.written_bytes += file.size();
  written_since_evict_ += file.size();
  return true;
}

void PrefixStore::evict() {
  struct Entry {
    std::filesystem::path path;
    std::filesystem::file_time_type time;
    uint64_t size;
  };
  std::vector<Entry> entries;
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(options_.dir, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    if (it->path().extension() != ".kv") continue;
    std::error_code e2;
    auto size = it->file_size(e2);
    auto time = it->last_write_time(e2);
    if (e2) continue;
    entries.push_back({it->path(), time, size});
    total += size;
  }
  if (total <= options_.max_bytes) return;
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.time < b.time; });
  for (const Entry& e : entries) {
    if (total <= options_.max_bytes) break;
    if (std::filesystem::remove(e.path, ec)) ++stats_.evicted_files;
    total -= e.size;
  }
}

size_t PrefixStore::restore(Session& session, std::vector<int32_t>& history, std::span<const int32_t> prompt,
                            size_t shared, size_t limit) {
  std::lock_guard lock(mu_);
  const size_t b = options_.block_tokens;
  limit = std::min({limit, prompt.size(), session.capacity()});
  if (!usable_ || static_cast<uint32_t>(session.kv_type()) != kv_type_ || limit < b || limit / b * b <= shared)
    return shared;
  const size_t blocks = limit / b;
  const uint64_t seed = seed_for(session);
  const std::vector<uint64_t> keys = chain(seed, prompt, blocks);
  // Blocks the session already holds need no file; start at the first block
  // it lacks (its files must then chain from the start of that block).
  const size_t first = shared / b;
  size_t at = first;
  std::vector<std::vector<uint8_t>> kv;  // read all first: the session is touched only if it gains
  while (at < blocks) {
    kv.emplace_back();
    if (!read_block(seed, keys[at], at ? keys[at - 1] : seed, at, prompt.subspan(at * b, b), kv.back())) break;
    ++at;
  }
  if (at * b <= shared) return shared;
  for (size_t i = first; i < at; ++i) session.load_kv(i * b, b, kv[i - first]);
  history.assign(prompt.begin(), prompt.begin() + static_cast<std::ptrdiff_t>(at * b));
  stats_.restored_tokens += (at - first) * b;
  ++stats_.restores;
  return at * b;
}

void PrefixStore::record(const Session& session, std::span<const int32_t> prompt) {
  std::lock_guard lock(mu_);
  const size_t b = options_.block_tokens;
  const size_t blocks = std::min(prompt.size(), session.length()) / b;
  if (!usable_ || static_cast<uint32_t>(session.kv_type()) != kv_type_ || blocks == 0) return;
  const uint64_t seed = seed_for(session);
  const std::vector<uint64_t> keys = chain(seed, prompt, blocks);
  // The prefix used at least twice: blocks from the start whose counts reach 2.
  size_t hot = 0;
  if (uses_.size() > (1u << 20)) uses_.clear();  // counts are a hint: bound their memory
  for (size_t i = 0; i < blocks; ++i) {
    uint32_t& uses = uses_[keys[i]];
    if (uses < UINT32_MAX) ++uses;
    if (uses >= 2 && hot == i) hot = i + 1;
  }
  if (hot * b < options_.min_tokens) return;
  std::vector<uint8_t> kv;
  std::error_code ec;
  for (size_t i = 0; i < hot; ++i) {
    if (std::filesystem::exists(file_of(keys[i]), ec)) continue;
    kv.clear();
    session.save_kv(i * b, b, kv);
    if (!write_block(seed, keys[i], i ? keys[i - 1] : seed, i, prompt.subspan(i * b, b), kv)) return;
  }
  if (written_since_evict_ > 0) {
    evict();
    written_since_evict_ = 0;
  }
}

PrefixStoreStats PrefixStore::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace astfill::engine
