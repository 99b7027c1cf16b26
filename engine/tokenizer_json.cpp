// Reads a Hugging Face tokenizer.json into TokenizerData. Only what the
// engine's tokenizer implements is accepted (byte-level BPE, NFC, Qwen's
// pre-tokenizer regex): anything else would tokenize differently from the
// model's training without a word, so it is refused with the key at fault.
#include <boost/json.hpp>


#include "engine/errors.h"
#include "engine/tokenizer.h"
#include "support/files.h"

namespace astfill::engine {
namespace {

namespace json = boost::json;

// Ids beyond this are certainly an error (the largest vocabularies have about
// 260k tokens), and would make the id -> token table needlessly huge.
constexpr int64_t kMaxId = 1 << 21;

constexpr std::string_view kQwenRegex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

class Reader {
 public:
  explicit Reader(std::string path) : path_(std::move(path)) {}

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw ModelError(path_ + ": " + key + ": " + what);
  }

  json::value parse() const {
    support::FileContent file = support::read_file(path_, support::kMaxTextFileBytes);
    if (!file.ok()) throw ModelError(path_ + ": cannot read the file: " + file.error);
    const std::string& text = file.text;
    json::stream_parser parser;
    boost::system::error_code ec;
    size_t used = parser.write_some(text.data(), text.size(), ec);
    if (!ec) parser.finish(ec);
    if (ec) throw ModelError(path_ + ": not valid JSON at byte " + std::to_string(used) + ": " + ec.message());
    return parser.release();
  }

  const json::object& object(const json::value& v, const std::string& key) const {
    if (!v.is_object()) fail(key, "expected an object");
    return v.get_object();
  }
  const json::array& array(const json::value& v, const std::string& key) const {
    if (!v.is_array()) fail(key, "expected an array");
    return v.get_array();
  }
  std::string string(const json::value& v, const std::string& key) const {
    if (!v.is_string()) fail(key, "expected a string");
    return std::string(v.get_string());
  }
  const json::value& member(const json::object& o, const std::string& parent, const char* name) const {
    const json::value* v = o.if_contains(name);
    if (!v) fail(parent.empty() ? name : parent + "." + name, "missing");
    return *v;
  }
  int32_t id(const json::value& v, const std::string& key) const {
    if (!v.is_int64() && !v.is_uint64()) fail(key, "expected an integer id, got " + json::serialize(v));
    bool in_range = v.is_int64() ? v.get_int64() >= 0 && v.get_int64() < kMaxId : v.get_uint64() < kMaxId;
    if (!in_range)
      fail(key, "id " + json::serialize(v) + " is out of range (0.." + std::to_string(kMaxId - 1) + ")");
    return static_cast<int32_t>(v.is_int64() ? v.get_int64() : static_cast<int64_t>(v.get_uint64()));
  }

 private:
  std::string path_;
};

const json::value* find(const json::value& v, const char* name) {
  return v.is_object() ? v.get_object().if_contains(name) : nullptr;
}

// A Sequence holding a Split on Qwen's regex (followed, in Qwen's files, by
// ByteLevel without a regex of its own).
bool has_qwen_split(const json::value& pre) {
  const json::value* list = find(pre, "pretokenizers");
  if (!list || !list->is_array()) return false;
  for (const json::value& p : list->get_array()) {
    const json::value* pattern = find(p, "pattern");
    const json::value* regex = pattern ? find(*pattern, "Regex") : nullptr;
    if (regex && regex->is_string() && regex->get_string() == kQwenRegex) return true;
  }
  return false;
}

// The parts of a pipeline we implement a single way: check that the file asks
// for that way.
void check_pipeline(const Reader& r, const json::object& root) {
  if (const json::value* n = root.if_contains("normalizer"); n && !n->is_null()) {
    const json::value* type = find(*n, "type");
    if (!type || !type->is_string() || type->get_string() != "NFC")
      r.fail("normalizer", "only the NFC normalizer is supported");
  }
  if (!has_qwen_split(r.member(root, "", "pre_tokenizer")))
    r.fail("pre_tokenizer", "only Qwen's pre-tokenizer (a Split on Qwen's regex, then ByteLevel) is supported");
  const json::object& model = r.object(r.member(root, "", "model"), "model");
  if (const json::value* type = model.if_contains("type"); type && (!type->is_string() || type->get_string() != "BPE"))
    r.fail("model.type", "only BPE is supported");
  if (const json::value* ignore = model.if_contains("ignore_merges"); ignore && ignore->is_bool() && ignore->get_bool())
    r.fail("model.ignore_merges", "true is not supported");
}

void read_vocab(const Reader& r, const json::object& model, std::vector<std::string>& tokens,
                std::vector<bool>& taken) {
  const json::object& vocab = r.object(r.member(model, "model", "vocab"), "model.vocab");
  for (const auto& [text, value] : vocab) {
    std::string key = "model.vocab[" + json::serialize(json::string(text)) + "]";
    int32_t id = r.id(value, key);
    if (static_cast<size_t>(id) >= tokens.size()) {
      tokens.resize(id + 1);
      taken.resize(id + 1);
    }
    if (taken[id]) r.fail(key, "id " + std::to_string(id) + " is also '" + tokens[id] + "'");
    tokens[id] = std::string(text);
    taken[id] = true;
  }
}

// "a b", or ["a", "b"] (newer files, which allow tokens with spaces: the
// byte-level vocabularies we support have none, so both fit "a b").
std::string read_merge(const Reader& r, const json::value& v, const std::string& key) {
  if (v.is_string()) {
    std::string merge(v.get_string());
    size_t space = merge.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 == merge.size() ||
        merge.find(' ', space + 1) != std::string::npos)
      r.fail(key, "expected \"left right\", got " + json::serialize(v));
    return merge;
  }
  if (v.is_array() && v.get_array().size() == 2) {
    std::string left = r.string(v.get_array()[0], key + "[0]");
    std::string right = r.string(v.get_array()[1], key + "[1]");
    if (left.empty() || right.empty() || left.find(' ') != std::string::npos ||
        right.find(' ') != std::string::npos)
      r.fail(key, "tokens must be non-empty and without spaces, got " + json::serialize(v));
    return left + " " + right;
  }
  r.fail(key, "expected \"left right\" or [\"left\", \"right\"], got " + json::serialize(v));
}

bool flag(const Reader& r, const json::object& o, const std::string& parent, const char* name) {
  const json::value* v = o.if_contains(name);
  if (!v) return false;
  if (!v->is_bool()) r.fail(parent + "." + name, "expected true or false");
  return v->get_bool();
}

// Qwen's added tokens all have lstrip, rstrip and single_word false: the
// engine splits them out of the text exactly where they stand.
void read_added_tokens(const Reader& r, const json::object& root, TokenizerData& data,
                       std::vector<bool>& taken) {
  const json::value* list = root.if_contains("added_tokens");
  if (!list || list->is_null()) return;
  std::vector<bool> added(data.tokens.size());
  const json::array& tokens = r.array(*list, "added_tokens");
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::string key = "added_tokens[" + std::to_string(i) + "]";
    const json::object& t = r.object(tokens[i], key);
    int32_t id = r.id(r.member(t, key, "id"), key + ".id");
    std::string content = r.string(r.member(t, key, "content"), key + ".content");
    if (content.empty()) r.fail(key + ".content", "is empty");
    bool special = flag(r, t, key, "special");
    // Matching is on the raw text whatever "normalized" says: the same for
    // any token whose text and surroundings NFC leaves alone.
    for (const char* unsupported : {"lstrip", "rstrip", "single_word"})
      if (flag(r, t, key, unsupported)) r.fail(key + "." + unsupported, "true is not supported");
    if (static_cast<size_t>(id) >= data.tokens.size()) {
      data.tokens.resize(id + 1);
      taken.resize(id + 1);
      added.resize(id + 1);
    }
    // An added token may repeat its vocabulary entry (same id, same text).
    if (added[id] || (taken[id] && data.tokens[id] != content))
      r.fail(key + ".id", "id " + std::to_string(id) + " is also '" + data.tokens[id] + "'");
    data.tokens[id] = content;
    taken[id] = added[id] = true;
    data.token_types.resize(data.tokens.size(), TokenType::Normal);
    data.token_types[id] = special ? TokenType::Control : TokenType::UserDefined;
  }
}

}  // namespace

TokenizerData read_tokenizer_json(const std::string& path) {
  Reader r(path);
  json::value root_value = r.parse();
  const json::object& root = r.object(root_value, "(top level)");
  check_pipeline(r, root);
  const json::object& model = root.at("model").get_object();

  TokenizerData data;
  std::vector<bool> taken;
  read_vocab(r, model, data.tokens, taken);
  const json::array& merges = r.array(r.member(model, "model", "merges"), "model.merges");
  data.merges.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i)
    data.merges.push_back(read_merge(r, merges[i], "model.merges[" + std::to_string(i) + "]"));
  read_added_tokens(r, root, data, taken);

  data.token_types.resize(data.tokens.size(), TokenType::Normal);
  for (size_t id = 0; id < data.tokens.size(); ++id)
    if (!taken[id]) data.token_types[id] = TokenType::Unused;  // a gap in the ids
  return data;
}

}  // namespace astfill::engine
