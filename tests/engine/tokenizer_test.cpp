// The byte-level BPE tokenizer: behaviour on a tiny hand-made vocabulary, the
// tokenizer.json reader's errors, and (tagged [reference]) exact agreement
// with the reference tokenizer on a corpus written by
// tests/clients/tokenizer_reference.mjs.
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <unistd.h>

#include "engine/errors.h"
#include "engine/tokenizer.h"
#include "support/files.h"

using namespace astfill::engine;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

const char* const kQwenRegex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// A vocabulary of the 256 byte tokens (id = byte value), merged tokens after
// them in the order merges are added, and special tokens last.
struct Tiny {
  TokenizerData data;

  Tiny() {
    for (int b = 0; b < 256; ++b) data.tokens.push_back(to_byte_level(std::string(1, static_cast<char>(b))));
  }
  // `left` and `right` are raw bytes; the merge is stored in byte-level form.
  Tiny& merge(const std::string& left, const std::string& right) {
    std::string l = to_byte_level(left), r = to_byte_level(right);
    data.merges.push_back(l + " " + r);
    if (std::find(data.tokens.begin(), data.tokens.end(), l + r) == data.tokens.end())
      data.tokens.push_back(l + r);
    return *this;
  }
  Tiny& special(const std::string& text, TokenType type = TokenType::Control) {
    data.token_types.resize(data.tokens.size(), TokenType::Normal);
    data.tokens.push_back(text);
    data.token_types.push_back(type);
    return *this;
  }
  Tokenizer build() const { return Tokenizer(data); }
};

// The id of a normal token, from its raw bytes.
int32_t id_of(const Tokenizer& t, const std::string& bytes) {
  auto id = t.find_token(to_byte_level(bytes));
  if (!id) FAIL("no token for '" << bytes << "'");
  return *id;
}

std::vector<int32_t> bytes_of(const std::string& text) {
  std::vector<int32_t> ids;
  for (unsigned char c : text) ids.push_back(c);
  return ids;
}

}  // namespace

TEST_CASE("byte-level form maps space, newline and high bytes to printable code points", "[tokenizer]") {
  CHECK(to_byte_level("a b\n") == "a\xC4\xA0" "b\xC4\x8A");  // "aĠbĊ"
  CHECK(to_byte_level("\xC3\xA9") == "\xC3\x83\xC2\xA9");      // é -> "Ã©"
}

TEST_CASE("merges apply by rank, leftmost first among equals", "[tokenizer]") {
  SECTION("rank order decides between overlapping pairs") {
    auto t = Tiny().merge("a", "b").merge("b", "c").build();
    CHECK(t.encode("abc") == std::vector<int32_t>{id_of(t, "ab"), 'c'});
    auto u = Tiny().merge("b", "c").merge("a", "b").build();
    CHECK(u.encode("abc") == std::vector<int32_t>{'a', id_of(u, "bc")});
  }
  SECTION("the same pair merges leftmost first") {
    auto t = Tiny().merge("a", "a").merge("aa", "aa").build();
    CHECK(t.encode("aaa") == std::vector<int32_t>{id_of(t, "aa"), 'a'});
    CHECK(t.encode("aaaa") == std::vector<int32_t>{id_of(t, "aaaa")});
    CHECK(t.encode("aaaaa") == std::vector<int32_t>{id_of(t, "aaaa"), 'a'});
  }
  SECTION("merges build on merged tokens") {
    auto t = Tiny().merge("h", "e").merge("l", "l").merge("he", "ll").merge("hell", "o").build();
    CHECK(t.encode("hello") == std::vector<int32_t>{id_of(t, "hello")});
    CHECK(t.encode("helo") == std::vector<int32_t>{id_of(t, "he"), 'l', 'o'});
  }
}

TEST_CASE("bytes without merges fall back to byte tokens", "[tokenizer]") {
  auto t = Tiny().merge("a", "b").build();
  CHECK(t.encode("\xC3\xA9") == bytes_of("\xC3\xA9"));
  CHECK(t.encode("\xF0\x9F\x98\x80") == bytes_of("\xF0\x9F\x98\x80"));
  CHECK(t.encode(std::string("\0\x01\x7f", 3)) == bytes_of(std::string("\0\x01\x7f", 3)));
  CHECK(t.encode("").empty());
}

TEST_CASE("the pre-tokenizer keeps merges inside words", "[tokenizer]") {
  SECTION("contractions are words of their own, in any case") {
    auto t = Tiny().merge("S", "x").merge("'", "S").build();
    CHECK(t.encode("'Sx") == std::vector<int32_t>{id_of(t, "'S"), 'x'});
    CHECK(t.encode("a'S") == std::vector<int32_t>{'a', id_of(t, "'S")});
  }
  SECTION("the last space of a run goes with the next word") {
    auto t = Tiny().merge(" ", " ").merge(" ", "b").build();
    CHECK(t.encode("a  b") == std::vector<int32_t>{'a', ' ', id_of(t, " b")});
    CHECK(t.encode("a  ") == std::vector<int32_t>{'a', id_of(t, "  ")});
  }
  SECTION("digits are single words") {
    auto t = Tiny().merge("1", "2").build();
    CHECK(t.encode("12") == std::vector<int32_t>{'1', '2'});
  }
  SECTION("U+0085 is whitespace, as in Oniguruma (not in JavaScript)") {
    auto t = Tiny().merge("\xC2", "\x85").merge("\xC2\x85", "\xC2\x85").build();
    int32_t nel = id_of(t, "\xC2\x85");
    CHECK(t.encode("\xC2\x85\xC2\x85y") == std::vector<int32_t>{nel, nel, 'y'});
  }
}

TEST_CASE("text is NFC-normalised before tokenizing", "[tokenizer]") {
  auto t = Tiny().merge("\xC3", "\xA9").special("<think>", TokenType::UserDefined).build();
  int32_t e_acute = id_of(t, "\xC3\xA9");
  CHECK(t.encode("e\xCC\x81") == std::vector<int32_t>{e_acute});
  CHECK(t.encode("caf" "e\xCC\x81") == std::vector<int32_t>{'c', 'a', 'f', e_acute});
  CHECK(normalize_nfc("A\xCC\x8A") == "\xC3\x85");                // A + ring -> Å
  CHECK(normalize_nfc("\xE2\x84\xAB") == "\xC3\x85");             // Angstrom sign -> Å
  CHECK(normalize_nfc("\xE1\x84\x80\xE1\x85\xA1") == "\xEA\xB0\x80");  // jamo -> 가
  SECTION("special tokens are cut out first: a mark after one does not combine with '>'") {
    auto think = *t.find_token("<think>");
    CHECK(t.encode("<think>\xCC\xB8") == std::vector<int32_t>{think, 0xCC, 0xB8});
    CHECK(t.encode(">\xCC\xB8") == bytes_of("\xE2\x89\xAF"));  // > + U+0338 -> ≯
  }
}

TEST_CASE("special tokens are split out, longest first", "[tokenizer]") {
  auto t = Tiny()
               .merge("x", "y")
               .special("<|fim_prefix|>")
               .special("<|x|>", TokenType::UserDefined)
               .special("<|x|>y", TokenType::UserDefined)
               .build();
  int32_t fim = *t.find_token("<|fim_prefix|>"), x = *t.find_token("<|x|>"), xy = *t.find_token("<|x|>y");
  CHECK(t.is_special(fim));
  CHECK(t.is_special(xy));
  CHECK_FALSE(t.is_special('a'));
  CHECK(t.encode("a<|fim_prefix|>b") == std::vector<int32_t>{'a', fim, 'b'});
  CHECK(t.encode("<|fim_prefix|><|fim_prefix|>") == std::vector<int32_t>{fim, fim});
  CHECK(t.encode("<|x|>yz") == std::vector<int32_t>{xy, 'z'});
  CHECK(t.encode("<|x|>z") == std::vector<int32_t>{x, 'z'});
  CHECK(t.encode("<|fim_prefix|") == bytes_of("<|fim_prefix|"));
  SECTION("text on both sides is tokenized separately") {
    CHECK(t.encode("x<|x|>zy") == std::vector<int32_t>{'x', x, 'z', 'y'});
    CHECK(t.encode("xy") == std::vector<int32_t>{id_of(t, "xy")});
  }
  SECTION("without parse_special the text is ordinary text") {
    CHECK(t.encode("a<|fim_prefix|>b", false) == bytes_of("a<|fim_prefix|>b"));
  }
}

TEST_CASE("invalid UTF-8 is tokenized byte for byte and decodes back exactly", "[tokenizer]") {
  auto t = Tiny().merge("a", "b").special("<think>").build();
  for (std::string text : {std::string("ab\xFF" "ab"), std::string("\xE2\x82"), std::string("e\xCC"),
                           std::string("\xC0\xAF"), std::string("\xED\xA0\x80x"), std::string("\xFF<think>\xFE"),
                           std::string("\x80\x80\x80"), std::string("e\xFF\xCC\x81")}) {
    INFO(text);
    std::vector<int32_t> ids;
    REQUIRE_NOTHROW(ids = t.encode(text));
    CHECK(t.decode(ids) == text);
  }
  CHECK(t.encode("ab\xFF" "ab") == std::vector<int32_t>{id_of(t, "ab"), 0xFF, id_of(t, "ab")});
  CHECK(normalize_nfc("e\xFF\xCC\x81") == "e\xFF\xCC\x81");  // the invalid byte keeps the mark apart
}

TEST_CASE("decode gives back the exact bytes", "[tokenizer]") {
  auto t = Tiny().merge(" ", "w").merge(" w", "o").special("<|endoftext|>").build();
  t.encode("warm the cache");
  for (std::string text : std::vector<std::string>{"hello world", "  \n\t\r\n x", "caf\xC3\xA9 \xF0\x9F\x98\x80",
                                                  "<|endoftext|> wo", std::string(5000, ' ')}) {
    CHECK(t.decode(t.encode(text)) == text);
    CHECK(t.decode(t.encode(text)) == t.decode(t.encode(text)));  // the cached path agrees
  }
  int32_t eot = *t.find_token("<|endoftext|>");
  CHECK(t.token_bytes(eot) == "<|endoftext|>");
  CHECK(t.token_text(id_of(t, " wo")) == "\xC4\xA0wo");
  CHECK(t.token_bytes(id_of(t, " wo")) == " wo");
  std::vector<int32_t> bad{7, -1};
  CHECK_THROWS_AS(t.decode(bad), std::out_of_range);
  CHECK_THROWS_AS(t.token_bytes(static_cast<int32_t>(t.vocab_size())), std::out_of_range);
  CHECK_FALSE(t.find_token("nope"));
}

TEST_CASE("long inputs: whitespace runs, one long word", "[tokenizer]") {
  auto t = Tiny().merge(" ", " ").merge("  ", "  ").merge("a", "a").build();
  std::string spaces(1 << 20, ' ');
  auto ids = t.encode(spaces + "x");
  // 2^20 - 1 spaces make 2^18 - 1 four-space tokens, "  " and " "; the last
  // space goes with "x" (two byte tokens: no " x" merge).
  CHECK(ids.size() == (1 << 18) + 3);
  CHECK(t.decode(ids) == spaces + "x");
  std::string word(100000, 'a');
  CHECK(t.encode(word).size() == 50000);
}

TEST_CASE("the word cache gives the same ids as merging", "[tokenizer]") {
  auto t = Tiny().merge("i", "d").merge("id", "x").build();
  auto first = t.encode("idx idx idx");
  auto again = t.encode("idx idx idx");
  CHECK(first == again);
  auto stats = t.cache_stats();
  CHECK(stats.hits > 0);
  CHECK(stats.hits <= stats.lookups);
}

TEST_CASE("threads may encode with one tokenizer at once", "[tokenizer]") {
  auto t = Tiny().merge("i", "d").merge("id", "x").merge(" ", "id").build();
  std::string text;
  for (int i = 0; i < 2000; ++i) text += " id" + std::to_string(i % 300) + " idx";
  auto expected = t.encode(text);
  std::vector<std::vector<int32_t>> got(4);
  std::vector<std::thread> threads;
  for (auto& g : got) threads.emplace_back([&t, &text, &g] { g = t.encode(text); });
  for (auto& th : threads) th.join();
  for (const auto& g : got) CHECK(g == expected);
}

TEST_CASE("StreamDecoder holds back partial characters", "[tokenizer]") {
  auto t = Tiny().merge("\xF0", "\x9F").build();  // 😀 = F0 9F 98 80 -> [F09F, 98, 80]
  auto ids = t.encode("a\xF0\x9F\x98\x80" "b");
  REQUIRE(ids.size() == 5);
  StreamDecoder d(t);
  CHECK(d.push(ids[0]) == "a");
  CHECK(d.push(ids[1]) == "");
  CHECK(d.push(ids[2]) == "");
  CHECK(d.push(ids[3]) == "\xF0\x9F\x98\x80");
  CHECK(d.push(ids[4]) == "b");
  CHECK(d.flush() == "");
  SECTION("an unfinished character at the end becomes one U+FFFD") {
    StreamDecoder e(t);
    CHECK(e.push(0xE2) == "");
    CHECK(e.push(0x82) == "");
    CHECK(e.flush() == "\xEF\xBF\xBD");
    CHECK(e.flush() == "");
  }
  SECTION("bytes that cannot become a character are replaced at once") {
    StreamDecoder e(t);
    CHECK(e.push(0xE2) == "");
    CHECK(e.push('x') == "\xEF\xBF\xBDx");
    CHECK(e.push(0xFF) == "\xEF\xBF\xBD");
    CHECK(e.push(0x80) == "\xEF\xBF\xBD");
  }
  SECTION("special tokens come out as their text") {
    auto s = Tiny().special("<|im_end|>").build();
    StreamDecoder e(s);
    CHECK(e.push(*s.find_token("<|im_end|>")) == "<|im_end|>");
  }
}

TEST_CASE("inconsistent tokenizer data is a ModelError", "[tokenizer]") {
  auto error_of = [](const TokenizerData& data) -> std::string {
    try {
      Tokenizer t(data);
    } catch (const ModelError& e) {
      return e.what();
    }
    return "(no error)";
  };
  Tiny ok;
  {
    TokenizerData d = ok.data;
    d.merges.push_back("q zz");
    CHECK_THAT(error_of(d), Catch::Contains("merges[0]") && Catch::Contains("'zz'"));
  }
  {
    TokenizerData d = ok.data;
    d.merges.push_back("qz");
    CHECK_THAT(error_of(d), Catch::Contains("merges[0]"));
  }
  {
    TokenizerData d = ok.data;
    d.model = "llama";
    CHECK_THAT(error_of(d), Catch::Contains("'llama'"));
  }
  {
    TokenizerData d = ok.data;
    d.pre = "llama3";
    CHECK_THAT(error_of(d), Catch::Contains("'llama3'"));
  }
  {
    TokenizerData d = ok.data;
    d.tokens[' '] = "unused-space";
    CHECK_THAT(error_of(d), Catch::Contains("byte 32"));
  }
  {
    TokenizerData d = ok.data;
    d.tokens.push_back("a");
    CHECK_THAT(error_of(d), Catch::Contains("appears twice"));
  }
  {
    TokenizerData d = ok.data;
    d.token_types = {TokenType::Normal};
    CHECK_THAT(error_of(d), Catch::Contains("token types"));
  }
  {
    TokenizerData d = ok.data;  // unused padding entries may repeat and decode to nothing
    d.tokens.push_back("[PAD]");
    d.tokens.push_back("[PAD]");
    d.token_types.assign(d.tokens.size(), TokenType::Normal);
    d.token_types[256] = d.token_types[257] = TokenType::Unused;
    Tokenizer t(d);
    CHECK(t.token_bytes(256).empty());
  }
}

// ---- tokenizer.json -------------------------------------------------------------

namespace {

class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("astfill-tokenizer-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name, std::ios::binary) << text;
    return (path_ / name).string();
  }

 private:
  fs::path path_;
};

// A small valid tokenizer.json: the byte tokens, "a b" and "ab c" merged, two
// added tokens.
json::object tiny_json() {
  json::object vocab;
  for (int b = 0; b < 256; ++b) vocab[to_byte_level(std::string(1, static_cast<char>(b)))] = b;
  vocab["ab"] = 256;
  vocab["abc"] = 257;
  json::object root{
      {"normalizer", {{"type", "NFC"}}},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         json::array{json::object{{"type", "Split"}, {"pattern", {{"Regex", kQwenRegex}}}, {"behavior", "Isolated"}},
                     json::object{{"type", "ByteLevel"}, {"use_regex", false}}}}}},
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", json::array{"a b", json::array{"ab", "c"}}}}},
      {"added_tokens",
       json::array{json::object{{"id", 258}, {"content", "<|endoftext|>"}, {"special", true}},
                   json::object{{"id", 259}, {"content", "<think>"}, {"special", false}}}},
  };
  return root;
}

std::string error_of(const std::string& path) {
  try {
    read_tokenizer_json(path);
  } catch (const ModelError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("read_tokenizer_json reads vocab, both merge forms and added tokens", "[tokenizer]") {
  TempDir dir;
  auto data = read_tokenizer_json(dir.write("tokenizer.json", json::serialize(tiny_json())));
  REQUIRE(data.tokens.size() == 260);
  CHECK(data.tokens[256] == "ab");
  CHECK(data.merges == std::vector<std::string>{"a b", "ab c"});
  CHECK(data.tokens[258] == "<|endoftext|>");
  REQUIRE(data.token_types.size() == 260);
  CHECK(data.token_types[0] == TokenType::Normal);
  CHECK(data.token_types[258] == TokenType::Control);
  CHECK(data.token_types[259] == TokenType::UserDefined);
  Tokenizer t(data);
  CHECK(t.encode("abc<think>") == std::vector<int32_t>{257, 259});
}

TEST_CASE("gaps in the ids become unused tokens", "[tokenizer]") {
  TempDir dir;
  json::object root = tiny_json();
  root["added_tokens"].as_array()[1].as_object()["id"] = 300;
  auto data = read_tokenizer_json(dir.write("tokenizer.json", json::serialize(root)));
  REQUIRE(data.tokens.size() == 301);
  CHECK(data.token_types[280] == TokenType::Unused);
  CHECK(Tokenizer(data).encode("<think>") == std::vector<int32_t>{300});
}

TEST_CASE("malformed tokenizer.json files name the file and key", "[tokenizer]") {
  TempDir dir;
  auto with = [&](auto edit) {
    json::object root = tiny_json();
    edit(root);
    return dir.write("tokenizer.json", json::serialize(root));
  };
  auto merges = [](json::object& r) -> json::array& { return r["model"].as_object()["merges"].as_array(); };
  auto vocab = [](json::object& r) -> json::object& { return r["model"].as_object()["vocab"].as_object(); };
  auto added = [](json::object& r, size_t i) -> json::object& { return r["added_tokens"].as_array()[i].as_object(); };

  CHECK_THAT(error_of(dir.write("broken.json", "{\"model\": [1, 2")),
             Catch::Contains("broken.json") && Catch::Contains("not valid JSON"));
  CHECK_THAT(error_of((fs::temp_directory_path() / "astfill-no-such-file.json").string()),
             Catch::Contains("astfill-no-such-file.json") && Catch::Contains("cannot read"));
  CHECK_THAT(error_of(with([&](json::object& r) { merges(r).push_back(5); })),
             Catch::Contains("tokenizer.json: model.merges[2]"));
  CHECK_THAT(error_of(with([&](json::object& r) { merges(r)[0] = "abc"; })), Catch::Contains("model.merges[0]"));
  CHECK_THAT(error_of(with([&](json::object& r) { merges(r)[1] = json::array{"a b", "c"}; })),
             Catch::Contains("model.merges[1]"));
  CHECK_THAT(error_of(with([&](json::object& r) { r["model"].as_object().erase("vocab"); })),
             Catch::Contains("model.vocab: missing"));
  CHECK_THAT(error_of(with([&](json::object& r) { vocab(r)["xyz"] = 5; })),
             Catch::Contains("model.vocab[\"xyz\"]") && Catch::Contains("id 5"));
  CHECK_THAT(error_of(with([&](json::object& r) { vocab(r)["xyz"] = -3; })), Catch::Contains("out of range"));
  CHECK_THAT(error_of(with([&](json::object& r) { vocab(r)["xyz"] = "7"; })),
             Catch::Contains("model.vocab[\"xyz\"]: expected an integer id"));
  CHECK_THAT(error_of(with([&](json::object& r) { added(r, 0).erase("content"); })),
             Catch::Contains("added_tokens[0].content: missing"));
  CHECK_THAT(error_of(with([&](json::object& r) { added(r, 1)["id"] = 258; })),
             Catch::Contains("added_tokens[1].id"));
  CHECK_THAT(error_of(with([&](json::object& r) { added(r, 1)["id"] = 3; })), Catch::Contains("added_tokens[1].id"));
  CHECK_THAT(error_of(with([&](json::object& r) { added(r, 1)["rstrip"] = true; })),
             Catch::Contains("added_tokens[1].rstrip"));
  CHECK_THAT(error_of(with([&](json::object& r) { added(r, 0)["special"] = "yes"; })),
             Catch::Contains("added_tokens[0].special"));
  CHECK_THAT(error_of(with([&](json::object& r) { r["normalizer"] = json::object{{"type", "NFKC"}}; })),
             Catch::Contains("normalizer"));
  CHECK_THAT(error_of(with([&](json::object& r) { r["pre_tokenizer"] = json::object{{"type", "Whitespace"}}; })),
             Catch::Contains("pre_tokenizer"));
  CHECK_THAT(error_of(with([&](json::object& r) { r["model"].as_object()["type"] = "WordPiece"; })),
             Catch::Contains("model.type"));
  CHECK_THAT(error_of(dir.write("list.json", "[]")), Catch::Contains("list.json"));
}

// ---- Agreement with the reference ------------------------------------------------

namespace {

std::string ids_text(const std::vector<int32_t>& ids) {
  json::array a;
  for (int32_t id : ids) a.push_back(id);
  return json::serialize(a);
}

}  // namespace

TEST_CASE("encode agrees with the reference tokenizer on every corpus case", "[reference]") {
  const char* corpus_path = std::getenv("ASTFILL_TOKENIZER_REFERENCE");
  if (!corpus_path) {
    WARN("ASTFILL_TOKENIZER_REFERENCE is not set: skipped (ctest -R engine.tokenizer.reference runs it)");
    return;
  }
  std::string corpus_text;
  if (auto error = astfill::support::read_text(corpus_path, corpus_text)) FAIL(*error);
  json::value corpus = json::parse(corpus_text);
  Tokenizer tokenizer(read_tokenizer_json(std::string(corpus.at("tokenizer_json").as_string())));
  const json::array& cases = corpus.at("cases").as_array();
  REQUIRE(cases.size() >= 2000);

  // Cases with letters newer than PCRE2's Unicode 14 split differently from
  // Node's (see tokenizer_reference.mjs): only their round trip is checked.
  size_t mismatches = 0, round_trip_failures = 0, newer_unicode = 0;
  for (const json::value& c : cases) {
    std::string text(c.at("text").as_string());
    std::vector<int32_t> expected;
    for (const json::value& id : c.at("ids").as_array()) expected.push_back(static_cast<int32_t>(id.as_int64()));
    std::vector<int32_t> got = tokenizer.encode(text);
    bool compare = !c.as_object().if_contains("unicode_after_14");
    newer_unicode += !compare;
    if (compare && got != expected && ++mismatches <= 10)
      UNSCOPED_INFO("text " << json::serialize(json::string(text)) << "\n  expected " << ids_text(expected)
                            << "\n  got      " << ids_text(got));
    const json::value* normalized = c.as_object().if_contains("normalized");
    std::string decoded = tokenizer.decode(got);
    if (decoded != (normalized ? std::string(normalized->as_string()) : text) && ++round_trip_failures <= 10)
      UNSCOPED_INFO("round trip of " << json::serialize(json::string(text)) << " gave "
                                     << json::serialize(json::string(decoded)));
  }
  INFO(cases.size() << " cases, " << newer_unicode << " with letters newer than Unicode 14 (round trip only)");
  CHECK(mismatches == 0);
  CHECK(round_trip_failures == 0);
}
