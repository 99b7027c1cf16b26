// Token healing (completion/healing.h): the word before the cursor, the
// vocabulary's tokens that agree with it, the hooks that pass its bytes by,
// and decoding on a tiny random-weight model that must write it first.
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "completion/decoder.h"
#include "completion/healing.h"
#include "completion/token_trie.h"
#include "tiny_runner.h"

using namespace astfill::completion;

namespace {

std::set<std::string> texts(const std::vector<int32_t>& ids, const std::vector<std::string>& vocab) {
  std::set<std::string> out;
  for (auto id : ids) out.insert(vocab[static_cast<size_t>(id)]);
  return out;
}

// Records what it is asked; refuses any piece holding `banned`'s bytes.
class Recorder final : public SyntaxHooks {
 public:
  explicit Recorder(std::string banned = {}) : banned_(std::move(banned)) {}
  bool viable(std::string_view piece) override {
    asked.emplace_back(piece);
    return banned_.empty() || piece.find_first_of(banned_) == std::string_view::npos;
  }
  void accept(std::string_view piece) override { accepted += piece; }
  bool should_stop() override { return accepted.find('\n') != std::string::npos; }
  bool may_end() override { return true; }
  std::unique_ptr<SyntaxHooks> fork() const override { return std::make_unique<Recorder>(*this); }
  bool can_adopt() const override { return true; }
  bool adopt(SyntaxHooks& other) override {
    accepted = dynamic_cast<Recorder&>(other).accepted;
    return true;
  }
  std::vector<std::string> asked;
  std::string accepted;

 private:
  std::string banned_;
};

}  // namespace

TEST_CASE("the word to heal is the ASCII word that ends the prefix", "[healing]") {
  CHECK(word_to_heal("def f(x):\n    ret") == "ret");
  CHECK(word_to_heal("x = obj.my_na") == "my_na");
  CHECK(word_to_heal("let $el") == "$el");
  CHECK(word_to_heal("x = 12") == "12");
  CHECK(word_to_heal("x = f(") == "");
  CHECK(word_to_heal("x = ") == "");
  CHECK(word_to_heal("") == "");
  // Part of a word that is not ASCII: left alone.
  CHECK(word_to_heal("caf\xc3\xa9x") == "");
  // A long name is left whole.
  CHECK(word_to_heal("x = " + std::string(30, 'a')) == "");
  CHECK(word_to_heal("x = " + std::string(30, 'a'), 64) == std::string(30, 'a'));
}

TEST_CASE("the trie finds the tokens that agree with the bytes to write again", "[healing]") {
  const std::vector<std::string> vocab = {"r", "re", "ret", "return", "return;", "rex", "e", "tu", "turn", " ret", "x"};
  TokenTrie trie(vocab);
  // A prefix of "ret", or a token that begins with all of it.
  CHECK(texts(trie.consistent_with("ret"), vocab) == std::set<std::string>{"r", "re", "ret", "return", "return;"});
  CHECK(texts(trie.consistent_with("tu"), vocab) == std::set<std::string>{"tu", "turn"});
  CHECK(trie.consistent_with("zz").empty());
  CHECK(trie.consistent_with("").empty());
}

TEST_CASE("healing hooks pass the word's bytes by and hand on what follows", "[healing]") {
  Recorder inner;
  HealingHooks hooks(inner, "ret");
  CHECK_FALSE(hooks.healed());
  CHECK_FALSE(hooks.may_end());  // nothing may end before the word is written again
  CHECK_FALSE(hooks.viable("x"));  // disagrees with it
  CHECK_FALSE(hooks.viable("rex"));
  CHECK(hooks.viable("re"));
  CHECK(inner.asked.empty());  // all of it the word's: not the inner hooks' to judge
  hooks.accept("re");
  CHECK(inner.accepted.empty());
  CHECK(hooks.viable("turn x"));
  REQUIRE(inner.asked.size() == 1);
  CHECK(inner.asked[0] == "urn x");
  hooks.accept("turn x");
  CHECK(hooks.healed());
  CHECK(inner.accepted == "urn x");
  hooks.accept("\n");
  CHECK(inner.accepted == "urn x\n");
  CHECK(hooks.should_stop());

  // A fork carries how much of the word is written; adopting it takes that over.
  Recorder base;
  HealingHooks original(base, "ret");
  original.accept("r");
  auto fork = original.fork();
  REQUIRE(fork);
  CHECK_FALSE(fork->viable("x"));
  fork->accept("eturn 1");
  CHECK(original.adopt(*fork));
  CHECK(original.healed());
  CHECK(base.accepted == "urn 1");
}

TEST_CASE("decoding with a word to heal writes it first, and the hooks see what follows", "[healing]") {
  astfill::testing::TinyRunner f;
  auto lease = f.runner->acquire("doc", {});
  REQUIRE(lease);
  const auto prompt = f.encode("def add(a, b):\n    ");
  for (const std::string word : {"ret", "a", "xq"}) {
    INFO(word);
    DecodeOptions options;
    options.max_tokens = 8;
    options.time_budget = std::chrono::seconds(60);
    options.search_branches = 0;
    options.heal = word;
    options.heal_trie = &f.runner->trie();
    Recorder inner;
    HealingHooks hooks(inner, word);
    DecodeResult r = decode(*lease, f.runner->tokenizer(), prompt, "def add(a, b):\n    ", &hooks, nullptr, options, {});
    REQUIRE(r.text.size() >= word.size());
    CHECK(r.text.substr(0, word.size()) == word);
    CHECK(hooks.healed());
    // The inner hooks saw the completion after the word and nothing of it.
    CHECK(inner.accepted == r.text.substr(word.size()));
  }
  // Without the trie there is no healing: the model's first token is its own.
  DecodeOptions plain;
  plain.max_tokens = 4;
  plain.time_budget = std::chrono::seconds(60);
  plain.heal = "xq";
  DecodeResult r = decode(*lease, f.runner->tokenizer(), prompt, "", nullptr, nullptr, plain, {});
  CHECK(r.text.substr(0, 2) != "xq");
}
