// Hot prompt prefixes persisted across restarts: the keys and values of a
// prompt's leading tokens, written to disk once a prefix has been used twice,
// and mapped back into a session on the next start so that only the rest of
// the prompt is prefilled.
//
// Blocks. A prompt is cut into blocks of block_tokens tokens (a multiple of
// 16). Block i is keyed by a chained hash: H(key of block i-1, its tokens),
// the chain starting from a seed that hashes everything the keys and values
// depend on besides the tokens: the model file's identity (path, size,
// modification time, a hash of its first MiB), the architecture and shapes,
// the weight mode, the KV type, the rope settings, the LoRA adapters (the
// session's, Session::adapter_key, and PrefixStoreOptions::adapter) and this
// file format's version. So a block's key
// names its whole prefix, and two prompts that share a prefix share its
// blocks' files.
//
// Files. `<dir>/<key as 16 hex digits>.kv`, mode 0600, written to a temporary
// name and renamed: a header (magic, format version, seed, key, parent key,
// block index, block size, KV type and shapes), the block's tokens, the KV
// bytes (KvCache::copy_out) and a CRC-32 of everything before it. A file is
// used only if every field matches what this store would have written and the
// checksum holds; anything else (another model, version or KV type, a cut or
// corrupt file) is removed, never trusted. The directory is capped at
// max_bytes: the least recently used files (by modification time, which a
// restore refreshes) are removed first.
//
// When to write. record() counts, per block key, how many prompts began with
// it (in memory, this run); blocks of a prefix that reached two uses and is at
// least min_tokens long are written. A restart therefore starts writing after
// the second request, and reads from the first.
//
// Thread-safe (one mutex): sessions of several slots may share a store.
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace astfill::engine {

class Model;
class Session;

struct PrefixStoreOptions {
  std::filesystem::path dir;        // empty: default_dir()
  uint64_t max_bytes = 2ull << 30;  // the directory's cap
  size_t block_tokens = 64;         // a multiple of 16
  size_t min_tokens = 256;          // shorter prefixes are not worth a file
  std::string adapter;              // more identity of what the KV depends on ("" = none); a
                                    // session's own adapters are keyed too (Session::adapter_key)
};

struct PrefixStoreStats {
  uint64_t restored_tokens = 0;
  uint64_t restores = 0;        // prompts that restored at least one block
  uint64_t written_blocks = 0;
  uint64_t written_bytes = 0;
  uint64_t rejected_files = 0;  // removed: another model or version, corrupt
  uint64_t evicted_files = 0;
  std::string last_error;       // the last IO problem (the store then just does not persist)
};

class PrefixStore {
 public:
  // `model_path`: the file the model was loaded from (its identity seeds the
  // keys). Creates the directory (0700) if needed; never throws for IO: a
  // store that cannot write just does not persist (stats().last_error says why).
  PrefixStore(const Model& model, const std::string& model_path, PrefixStoreOptions options = {});

  // $XDG_CACHE_HOME/astfill/kv, else $HOME/.cache/astfill/kv.
  static std::filesystem::path default_dir();
  // What identifies a model file's contents cheaply: canonical path, size,
  // modification time and a hash of its first MiB (empty when unreadable).
  static std::string file_identity(const std::string& path);

  const std::filesystem::path& dir() const { return options_.dir; }
  size_t block_tokens() const { return options_.block_tokens; }

  // Brings `session` (which holds `history`'s tokens) as far into `prompt` as
  // stored blocks reach, at most `limit` tokens, when that is beyond `shared`
  // (the tokens the session already has in common with the prompt). Returns
  // how many leading tokens of `prompt` the session then holds (== shared when
  // nothing was restored); `history` follows.
  size_t restore(Session& session, std::vector<int32_t>& history, std::span<const int32_t> prompt, size_t shared,
                 size_t limit);
  // `session` holds `prompt` (at least its full blocks): counts the use of its
  // blocks and writes those of a prefix used twice that are not stored yet.
  void record(const Session& session, std::span<const int32_t> prompt);

  PrefixStoreStats stats() const;

 private:
  // The chain's start for `session`: the store's seed and the session's adapters.
  uint64_t seed_for(const Session& session) const;
  std::vector<uint64_t> chain(uint64_t seed, std::span<const int32_t> prompt, size_t blocks) const;
  std::filesystem::path file_of(uint64_t key) const;
  // The block's KV bytes if its file is valid for `key`, `parent` and
  // `tokens`; removes an invalid file.
  bool read_block(uint64_t seed, uint64_t key, uint64_t parent, size_t index, std::span<const int32_t> tokens,
                  std::vector<uint8_t>& kv);
  bool write_block(uint64_t seed, uint64_t key, uint64_t parent, size_t index, std::span<const int32_t> tokens,
                   std::span<const uint8_t> kv);
  void evict();
  std::vector<uint8_t> header(uint64_t seed, uint64_t key, uint64_t parent, size_t index) const;

  PrefixStoreOptions options_;
  uint64_t seed_ = 0;
  uint32_t kv_type_ = 0, layers_ = 0, kv_heads_ = 0, head_dim_ = 0;
  uint64_t slot_bytes_ = 0;
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, uint32_t> uses_;  // block key -> prompts that began with it (this run)
  PrefixStoreStats stats_;
  uint64_t written_since_evict_ = 0;
  bool usable_ = true;
};

}  // namespace astfill::engine
