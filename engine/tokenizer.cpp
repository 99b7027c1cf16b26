// Byte-level BPE as Hugging Face's tokenizers run Qwen's tokenizer.json.
// The pipeline, per call to encode:
//   1. special-token text is cut out of the raw text (leftmost, longest first),
//      before anything else can change it: Qwen's added tokens are
//      "normalized": false, so they match the text as given;
//   2. each span between them is NFC-normalised;
//   3. the Qwen regex splits a span into words;
//   4. each word's bytes become byte tokens, merged pairwise by merge rank.
// Words are cached (word -> ids), since code repeats its identifiers.
#include "engine/tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include "engine/errors.h"
#include "support/utf8.h"

namespace astfill::engine {
namespace {

// ---- GPT-2's byte <-> code point table ------------------------------------------

// Printable Latin-1 bytes stand for themselves; the others (controls, space,
// DEL, NBSP, soft hyphen) move to U+0100 onwards, in byte order, so every byte
// has a visible stand-in and a word never contains a real space.
std::array<char32_t, 256> make_byte_code_points() {
  std::array<char32_t, 256> table{};
  char32_t next = 256;
  for (int b = 0; b < 256; ++b) {
    bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
    table[b] = printable ? static_cast<char32_t>(b) : next++;
  }
  return table;
}

const std::array<char32_t, 256>& byte_code_points() {
  static const auto table = make_byte_code_points();
  return table;
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

// The bytes a byte-level token stands for. Like Hugging Face's ByteLevel
// decoder, a token holding a character outside the table (possible only in
// hand-edited vocabularies) decodes to its own UTF-8 text.
std::string from_byte_level(std::string_view text) {
  static const auto inverse = [] {
    std::array<int16_t, 512> table;
    table.fill(-1);
    for (int b = 0; b < 256; ++b) table[byte_code_points()[b]] = static_cast<int16_t>(b);
    return table;
  }();
  std::string out;
  for (size_t i = 0; i < text.size();) {
    size_t len = utf8_sequence_length(text, i);
    if (len == 0) return std::string(text);
    utf8proc_int32_t c = 0;
    utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(text.data() + i),
                     static_cast<utf8proc_ssize_t>(len), &c);
    if (c < 0 || c >= 512 || inverse[c] < 0) return std::string(text);
    out += static_cast<char>(inverse[c]);
    i += len;
  }
  return out;
}

// ---- NFC ------------------------------------------------------------------------

void nfc_valid_utf8(std::string_view text, std::string& out) {
  utf8proc_uint8_t* result = nullptr;
  utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                    static_cast<utf8proc_ssize_t>(text.size()), &result,
                                    static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0) {
    out.append(text);  // not reachable for valid UTF-8; keep the text rather than lose it
  } else {
    out.append(reinterpret_cast<const char*>(result), static_cast<size_t>(n));
  }
  std::free(result);
}

// Valid runs are normalised; each invalid byte is kept as it is.
void nfc_chunk(std::string_view chunk, std::string& out) {
  size_t i = 0;
  while (i < chunk.size()) {
    size_t valid_end = i;
    while (valid_end < chunk.size()) {
      size_t len = utf8_sequence_length(chunk, valid_end);
      if (len == 0) break;
      valid_end += len;
    }
    if (valid_end > i) nfc_valid_utf8(chunk.substr(i, valid_end - i), out);
    if (valid_end < chunk.size()) out += chunk[valid_end++];
    i = valid_end;
  }
}

bool is_ascii(char c) { return static_cast<unsigned char>(c) < 0x80; }

// ---- Merges: (left id, right id) -> (rank, merged id) ----------------------------

// Open addressing: BPE looks pairs up in its inner loop, and a flat table
// avoids the pointer chasing of std::unordered_map.
class MergeTable {
 public:
  struct Merge {
    int32_t rank, result;
  };

  void reserve(size_t n) {
    size_t capacity = 16;
    while (capacity < 2 * n) capacity *= 2;
    slots_.assign(capacity, Slot{kEmpty, {}});
  }
  // Keeps the first (lowest-rank) merge of a pair, as the rank order intends.
  void insert(int32_t left, int32_t right, Merge merge) {
    uint64_t key = make_key(left, right);
    for (size_t i = slot_of(key);; i = (i + 1) & (slots_.size() - 1)) {
      if (slots_[i].key == key) return;
      if (slots_[i].key == kEmpty) {
        slots_[i] = Slot{key, merge};
        return;
      }
    }
  }
  const Merge* find(int32_t left, int32_t right) const {
    uint64_t key = make_key(left, right);
    for (size_t i = slot_of(key);; i = (i + 1) & (slots_.size() - 1)) {
      if (slots_[i].key == key) return &slots_[i].merge;
      if (slots_[i].key == kEmpty) return nullptr;
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};  // ids are non-negative: never a real key
  struct Slot {
    uint64_t key;
    Merge merge;
  };
  static uint64_t make_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }
  size_t slot_of(uint64_t key) const {
    return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 20) & (slots_.size() - 1);
  }
  std::vector<Slot> slots_;
};

// ---- Word cache -----------------------------------------------------------------

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <class V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

// Recently seen words -> ids, in two generations: a hit in the old one is
// copied to the young one; when the young one is full it becomes the old one.
// Memory stays bounded and words in use survive. Shared by threads calling
// encode, hence the lock (held for a lookup or an insert only).
class WordCache {
 public:
  static constexpr size_t kGeneration = 16384;  // words per generation
  static constexpr size_t kMaxWordBytes = 64;   // longer words are rare and not worth keeping

  bool find(std::string_view word, std::vector<int32_t>& out) {
    std::lock_guard lock(mutex_);
    ++stats_.lookups;
    if (auto it = young_.find(word); it != young_.end()) {
      ++stats_.hits;
      out.insert(out.end(), it->second.begin(), it->second.end());
      return true;
    }
    auto it = old_.find(word);
    if (it == old_.end()) return false;
    ++stats_.hits;
    out.insert(out.end(), it->second.begin(), it->second.end());
    put(std::string(word), it->second);
    return true;
  }
  void insert(std::string_view word, std::span<const int32_t> ids) {
    std::lock_guard lock(mutex_);
    put(std::string(word), std::vector<int32_t>(ids.begin(), ids.end()));
  }
  Tokenizer::CacheStats stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
  }

 private:
  void put(std::string word, std::vector<int32_t> ids) {
    if (young_.size() >= kGeneration) {
      old_ = std::move(young_);
      young_ = {};
    }
    young_.emplace(std::move(word), std::move(ids));
  }
  mutable std::mutex mutex_;
  StringMap<std::vector<int32_t>> young_, old_;
  Tokenizer::CacheStats stats_;
};

// ---- Pre-tokenizer --------------------------------------------------------------

// Qwen's regex, with \s spelled out as the Oniguruma \s that Hugging Face's
// tokenizers use (tab..CR, U+0085, Unicode separators). PCRE2's UCP \s would
// also take U+180E, which Oniguruma does not. (?i:'s) matches U+017F (long s)
// under Unicode case folding in both.
std::string qwen_pattern() {
  const std::string ws = R"(\t\n\x{0B}\f\r\x{85}\p{Z})";
  return R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N})"
         "| ?[^" + ws + R"(\p{L}\p{N}]+[\r\n]*)"
         "|[" + ws + R"(]*[\r\n]+)"
         "|[" + ws + "]+(?![^" + ws + "])"
         "|[" + ws + "]+";
}

class PreTokenizer {
 public:
  PreTokenizer() {
    std::string pattern = qwen_pattern();
    int error = 0;
    PCRE2_SIZE offset = 0;
    // MATCH_INVALID_UTF: invalid bytes match nothing, so they fall between
    // matches and become words of their own instead of failing the match.
    code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                          PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error, &offset, nullptr);
    if (!code_) throw std::logic_error("tokenizer: the pre-tokenizer regex does not compile");
    pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE);  // without JIT the interpreter is used
  }
  ~PreTokenizer() { pcre2_code_free(code_); }
  PreTokenizer(const PreTokenizer&) = delete;
  PreTokenizer& operator=(const PreTokenizer&) = delete;

  // Calls on_word for each match and for each stretch between matches.
  template <class F>
  void split(std::string_view text, F&& on_word) const {
    std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> data(
        pcre2_match_data_create_from_pattern(code_, nullptr), &pcre2_match_data_free);
    if (!data) throw std::bad_alloc();
    auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    size_t at = 0;
    while (at < text.size()) {
      int rc = pcre2_match(code_, subject, text.size(), at, 0, data.get(), nullptr);
      if (rc == PCRE2_ERROR_NOMATCH) break;
      if (rc < 0) throw std::runtime_error("tokenizer: pre-tokenizer regex failed (" + std::to_string(rc) + ")");
      const PCRE2_SIZE* span = pcre2_get_ovector_pointer(data.get());
      size_t begin = span[0], end = std::max<size_t>(span[1], begin + 1);  // never loop on empty
      if (begin > at) on_word(text.substr(at, begin - at));
      on_word(text.substr(begin, end - begin));
      at = end;
    }
    if (at < text.size()) on_word(text.substr(at));
  }

 private:
  pcre2_code* code_ = nullptr;
};

struct Special {
  std::string text;
  int32_t id;
};

}  // namespace

// ---- Public helpers ---------------------------------------------------------------

std::string to_byte_level(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) append_utf8(out, byte_code_points()[b]);
  return out;
}

// ASCII characters never change under NFC and never combine with what comes
// before them, so the text is cut before each one: ASCII runs are copied and
// only the stretches around non-ASCII text (with the ASCII character before,
// which a combining mark may join) go through utf8proc.
std::string normalize_nfc(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    size_t first_non_ascii = i;
    while (first_non_ascii < text.size() && is_ascii(text[first_non_ascii])) ++first_non_ascii;
    if (first_non_ascii == text.size()) {
      out.append(text.substr(i));
      break;
    }
    size_t chunk_begin = first_non_ascii > i ? first_non_ascii - 1 : first_non_ascii;
    size_t chunk_end = first_non_ascii;
    while (chunk_end < text.size() && !is_ascii(text[chunk_end])) ++chunk_end;
    out.append(text.substr(i, chunk_begin - i));
    nfc_chunk(text.substr(chunk_begin, chunk_end - chunk_begin), out);
    i = chunk_end;
  }
  return out;
}

// ---- Tokenizer ------------------------------------------------------------------

namespace {

// Everything a tokenizer is made of, built once; encode only reads it (and
// the word cache, which locks).
struct Model {
  std::vector<std::string> texts;      // id -> text as stored
  std::vector<TokenType> types;        // id -> type
  std::vector<std::string> bytes;      // id -> what it decodes to
  StringMap<int32_t> ids;              // text as stored -> id
  std::array<int32_t, 256> byte_ids{};  // byte -> its single-byte token
  MergeTable merges;
  std::vector<Special> specials;       // longest first
  std::array<bool, 256> special_starts{};
  PreTokenizer pre_tokenizer;
  mutable WordCache cache;

  explicit Model(const TokenizerData& data);
  void add_tokens(const TokenizerData& data);
  void add_merges(const TokenizerData& data);
  const Special* special_at(std::string_view text, size_t at) const;
};

Model::Model(const TokenizerData& data) {
  if (data.model != "gpt2")
    throw ModelError("tokenizer: model '" + data.model + "' is not supported (only byte-level BPE, 'gpt2')");
  if (data.pre != "qwen2")
    throw ModelError("tokenizer: pre-tokenizer '" + data.pre + "' is not supported (only 'qwen2')");
  if (!data.token_types.empty() && data.token_types.size() != data.tokens.size())
    throw ModelError("tokenizer: " + std::to_string(data.tokens.size()) + " tokens but " +
                     std::to_string(data.token_types.size()) + " token types");
  if (data.tokens.size() > static_cast<size_t>(INT32_MAX))
    throw ModelError("tokenizer: too many tokens");
  add_tokens(data);
  add_merges(data);
}

void Model::add_tokens(const TokenizerData& data) {
  texts = data.tokens;
  types = data.token_types.empty() ? std::vector<TokenType>(texts.size(), TokenType::Normal)
                                   : data.token_types;
  bytes.resize(texts.size());
  for (size_t id = 0; id < texts.size(); ++id) {
    auto id32 = static_cast<int32_t>(id);
    TokenType type = types[id];
    bool special = type == TokenType::Control || type == TokenType::UserDefined;
    // Padding entries decode to nothing: no text stands for them.
    if (type != TokenType::Unused) bytes[id] = special ? texts[id] : from_byte_level(texts[id]);
    if (type == TokenType::Unused || texts[id].empty()) continue;
    auto [it, inserted] = ids.emplace(texts[id], id32);
    if (!inserted)
      throw ModelError("tokenizer: token '" + texts[id] + "' appears twice (ids " +
                       std::to_string(it->second) + " and " + std::to_string(id) + ")");
    if (special) specials.push_back(Special{texts[id], id32});
  }
  std::stable_sort(specials.begin(), specials.end(),
                   [](const Special& a, const Special& b) { return a.text.size() > b.text.size(); });
  for (const auto& s : specials) special_starts[static_cast<unsigned char>(s.text[0])] = true;
  for (int b = 0; b < 256; ++b) {
    std::string text;
    append_utf8(text, byte_code_points()[b]);
    auto it = ids.find(text);
    if (it == ids.end() || types[it->second] != TokenType::Normal)
      throw ModelError("tokenizer: the vocabulary has no token for byte " + std::to_string(b) + " ('" +
                       text + "'), which byte-level BPE needs");
    byte_ids[b] = it->second;
  }
}

void Model::add_merges(const TokenizerData& data) {
  merges.reserve(data.merges.size());
  auto lookup = [&](std::string_view text, size_t rank) {
    auto it = ids.find(text);
    if (it == ids.end())
      throw ModelError("tokenizer: merges[" + std::to_string(rank) + "]: '" + std::string(text) +
                       "' is not in the vocabulary");
    return it->second;
  };
  for (size_t rank = 0; rank < data.merges.size(); ++rank) {
    const std::string& merge = data.merges[rank];
    size_t space = merge.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 == merge.size() ||
        merge.find(' ', space + 1) != std::string::npos)
      throw ModelError("tokenizer: merges[" + std::to_string(rank) + "]: expected 'left right', got '" +
                       merge + "'");
    std::string_view left(merge.data(), space), right(merge.data() + space + 1, merge.size() - space - 1);
    int32_t left_id = lookup(left, rank), right_id = lookup(right, rank);
    int32_t result = lookup(std::string(left) + std::string(right), rank);
    merges.insert(left_id, right_id, {static_cast<int32_t>(rank), result});
  }
}

// The longest special token whose text starts at `at`.
const Special* Model::special_at(std::string_view text, size_t at) const {
  for (const auto& s : specials)
    if (text.compare(at, s.text.size(), s.text) == 0) return &s;
  return nullptr;
}

// The state of one encode call: the output and buffers reused across words.
class Encoder {
 public:
  Encoder(const Model& tokenizer, std::vector<int32_t>& out) : t_(tokenizer), out_(out) {}

  void text(std::string_view span) {
    std::string normalized = normalize_nfc(span);
    t_.pre_tokenizer.split(normalized, [this](std::string_view word) { this->word(word); });
  }

 private:
  struct Symbol {
    int32_t id, prev, next;  // id -1: merged into its left neighbour
  };
  struct Candidate {
    int32_t rank, left, left_id, right_id, result;
    // std heap functions keep the largest on top: the lowest rank, then the
    // leftmost pair, must compare largest.
    bool operator<(const Candidate& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
  };

  void word(std::string_view word) {
    if (word.size() == 1) {
      out_.push_back(t_.byte_ids[static_cast<unsigned char>(word[0])]);
      return;
    }
    bool cacheable = word.size() <= WordCache::kMaxWordBytes;
    if (cacheable && t_.cache.find(word, out_)) return;
    size_t first = out_.size();
    merge(word);
    if (cacheable) t_.cache.insert(word, std::span(out_).subspan(first));
  }

  void consider(int32_t left) {
    int32_t right = symbols_[left].next;
    if (right < 0) return;
    const auto* m = t_.merges.find(symbols_[left].id, symbols_[right].id);
    if (!m) return;
    heap_.push_back({m->rank, left, symbols_[left].id, symbols_[right].id, m->result});
    std::push_heap(heap_.begin(), heap_.end());
  }

  // Merges the lowest-ranked adjacent pair (leftmost on ties) until none is
  // left. Stale candidates (a side already merged away) are skipped on pop.
  void merge(std::string_view word) {
    auto n = static_cast<int32_t>(word.size());
    symbols_.clear();
    for (int32_t i = 0; i < n; ++i)
      symbols_.push_back({t_.byte_ids[static_cast<unsigned char>(word[i])], i - 1, i + 1 < n ? i + 1 : -1});
    heap_.clear();
    for (int32_t i = 0; i + 1 < n; ++i) consider(i);
    while (!heap_.empty()) {
      std::pop_heap(heap_.begin(), heap_.end());
      Candidate c = heap_.back();
      heap_.pop_back();
      Symbol& left = symbols_[c.left];
      if (left.id != c.left_id || left.next < 0 || symbols_[left.next].id != c.right_id) continue;
      Symbol& right = symbols_[left.next];
      left.id = c.result;
      left.next = right.next;
      if (right.next >= 0) symbols_[right.next].prev = c.left;
      right.id = -1;
      if (left.prev >= 0) consider(left.prev);
      consider(c.left);
    }
    for (int32_t i = 0; i >= 0; i = symbols_[i].next) out_.push_back(symbols_[i].id);
  }

  const Model& t_;
  std::vector<int32_t>& out_;
  std::vector<Symbol> symbols_;
  std::vector<Candidate> heap_;
};

}  // namespace

struct Tokenizer::Impl : Model {
  using Model::Model;
};

Tokenizer::Tokenizer(const TokenizerData& data) : impl_(std::make_unique<Impl>(data)) {}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool parse_special) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  Encoder encoder(*impl_, out);
  if (!parse_special || impl_->specials.empty()) {
    encoder.text(text);
    return out;
  }
  size_t start = 0;
  for (size_t i = 0; i < text.size();) {
    const Special* s =
        impl_->special_starts[static_cast<unsigned char>(text[i])] ? impl_->special_at(text, i) : nullptr;
    if (!s) {
      ++i;
      continue;
    }
    if (i > start) encoder.text(text.substr(start, i - start));
    out.push_back(s->id);
    i += s->text.size();
    start = i;
  }
  if (start < text.size()) encoder.text(text.substr(start));
  return out;
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
  std::string out;
  for (int32_t id : ids) out += token_bytes(id);
  return out;
}

std::string Tokenizer::token_bytes(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= impl_->bytes.size())
    throw std::out_of_range("tokenizer: no token with id " + std::to_string(id));
  return impl_->bytes[id];
}

const std::string& Tokenizer::token_text(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= impl_->texts.size())
    throw std::out_of_range("tokenizer: no token with id " + std::to_string(id));
  return impl_->texts[id];
}

std::optional<int32_t> Tokenizer::find_token(std::string_view text) const {
  auto it = impl_->ids.find(text);
  if (it == impl_->ids.end()) return std::nullopt;
  return it->second;
}

bool Tokenizer::is_special(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= impl_->types.size()) return false;
  TokenType type = impl_->types[id];
  return type == TokenType::Control || type == TokenType::UserDefined;
}

size_t Tokenizer::vocab_size() const { return impl_->texts.size(); }

Tokenizer::CacheStats Tokenizer::cache_stats() const { return impl_->cache.stats(); }

// ---- StreamDecoder --------------------------------------------------------------

namespace {

// A UTF-8 sequence starting at `at`: how many bytes its lead byte announces
// (0: not a lead byte) and how many of them are there and valid so far.
struct SequenceStart {
  size_t need = 0, have = 0;
};

SequenceStart sequence_start(std::string_view text, size_t at) {
  auto lead = static_cast<unsigned char>(text[at]);
  SequenceStart s;
  s.need = lead >= 0xC2 && lead <= 0xDF ? 2 : lead >= 0xE0 && lead <= 0xEF ? 3
         : lead >= 0xF0 && lead <= 0xF4 ? 4 : 0;
  if (s.need == 0) return s;
  s.have = 1;
  while (s.have < s.need && at + s.have < text.size()) {
    auto b = static_cast<unsigned char>(text[at + s.have]);
    unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range depends on the lead
    if (s.have == 1 && lead == 0xE0) lo = 0xA0;  // overlong
    if (s.have == 1 && lead == 0xED) hi = 0x9F;  // surrogates
    if (s.have == 1 && lead == 0xF0) lo = 0x90;  // overlong
    if (s.have == 1 && lead == 0xF4) hi = 0x8F;  // past U+10FFFF
    if (b < lo || b > hi) break;
    ++s.have;
  }
  return s;
}

// Valid UTF-8: each maximal stretch that began a character but broke off
// becomes one U+FFFD, any other invalid byte one U+FFFD each.
void append_repaired(std::string& out, std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    if (size_t len = utf8_sequence_length(text, i)) {
      out.append(text.substr(i, len));
      i += len;
      continue;
    }
    out += "\xEF\xBF\xBD";
    i += std::max<size_t>(sequence_start(text, i).have, 1);
  }
}

}  // namespace

std::string StreamDecoder::push(int32_t id) {
  pending_ += tokenizer_.token_bytes(id);
  // Hold back a character whose first bytes have arrived but not its last.
  size_t hold = 0;
  for (size_t back = 1; back <= 3 && back <= pending_.size(); ++back) {
    size_t at = pending_.size() - back;
    if ((static_cast<unsigned char>(pending_[at]) & 0xC0) == 0x80) continue;  // continuation byte
    SequenceStart s = sequence_start(pending_, at);
    if (s.have < s.need && at + s.have == pending_.size()) hold = s.have;
    break;
  }
  std::string out;
  append_repaired(out, std::string_view(pending_).substr(0, pending_.size() - hold));
  pending_.erase(0, pending_.size() - hold);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out;
  append_repaired(out, pending_);
  pending_.clear();
  return out;
}

}  // namespace astfill::engine
