// Qwen's byte-level BPE tokenizer (GPT-2 style), exactly as the reference
// Hugging Face tokenizer.json behaves.
//
// encode: NFC-normalise (utf8proc); split out added/special tokens
// (<|fim_prefix|>, <|file_sep|>, ...) first; pre-tokenize the rest with the
// Qwen regex (PCRE2 with UCP); map each piece's bytes through the GPT-2
// byte<->unicode table; apply BPE merges by rank; look up ids.
// decode: ids -> the exact original bytes (special tokens decode to their
// text). StreamDecoder never emits half a UTF-8 character.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace astfill::engine {

// Token types as GGUF stores them (tokenizer.ggml.token_type).
enum class TokenType : int32_t {
  Undefined = 0,
  Normal = 1,
  Unknown = 2,
  Control = 3,      // special tokens: <|endoftext|>, <|fim_prefix|>, ...
  UserDefined = 4,  // added tokens that are not special
  Unused = 5,       // padding entries ([PAD151643] ...)
  Byte = 6,
};

// What a tokenizer is made of, as read from GGUF metadata or tokenizer.json.
struct TokenizerData {
  std::string model = "gpt2";  // tokenizer.ggml.model; only byte-level BPE is supported
  std::string pre = "qwen2";   // tokenizer.ggml.pre: the pre-tokenizer regex family
  std::vector<std::string> tokens;      // id -> token text in byte-level form ("Ġhello")
  std::vector<TokenType> token_types;   // id -> type; empty means all Normal
  std::vector<std::string> merges;      // "a b"; rank = index
  std::optional<int32_t> bos_id, eos_id, pad_id;
  bool add_bos = false;
};

// Reads a Hugging Face tokenizer.json (model.vocab, model.merges in either the
// "a b" or ["a","b"] form, added_tokens). Throws ModelError naming the file
// and key on anything malformed.
TokenizerData read_tokenizer_json(const std::string& path);

// Bytes in the GPT-2 byte-level form vocabularies store ("a b" -> "aĠb"):
// each byte becomes one printable code point.
std::string to_byte_level(std::string_view bytes);

// Unicode NFC of the valid UTF-8 in `text`; invalid bytes are kept as they are
// (the tokenizer encodes them through the byte map like any other byte).
std::string normalize_nfc(std::string_view text);

class Tokenizer {
 public:
  // Throws ModelError when the data is inconsistent (a merge naming an unknown
  // token, an unsupported model or pre-tokenizer, duplicate tokens, ...).
  explicit Tokenizer(const TokenizerData& data);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // With parse_special, the text of added/special tokens becomes their ids;
  // without, it is tokenized as ordinary text.
  std::vector<int32_t> encode(std::string_view text, bool parse_special = true) const;
  // The exact bytes the ids stand for. Unknown ids throw std::out_of_range.
  std::string decode(std::span<const int32_t> ids) const;
  // The bytes of one token (special tokens: their text).
  std::string token_bytes(int32_t id) const;
  // The token's text as stored (byte-level form for normal tokens).
  const std::string& token_text(int32_t id) const;
  std::optional<int32_t> find_token(std::string_view text) const;
  bool is_special(int32_t id) const;  // Control or UserDefined
  size_t vocab_size() const;

  // How often encode found a pre-tokenized word in its word -> ids cache.
  struct CacheStats {
    uint64_t lookups = 0, hits = 0;
  };
  CacheStats cache_stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Turns a stream of ids into text that is always whole UTF-8 characters:
// bytes of a character split across tokens are held back until complete.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {}
  // Text that is now complete (possibly empty).
  std::string push(int32_t id);
  // Whatever is held back, with incomplete sequences replaced by U+FFFD.
  std::string flush();

 private:
  const Tokenizer& tokenizer_;
  std::string pending_;
};

}  // namespace astfill::engine
