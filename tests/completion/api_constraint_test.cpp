// The vocabulary trie, the API constraint's member-access detection and
// allowed sets, the typed-through cache, and the model runner's slots.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "../engine/temp_dir.h"
#include "completion/api_constraint.h"
#include "completion/completion_cache.h"
#include "completion/model_runner.h"
#include "completion/token_trie.h"
#include "tests/fixtures/random_model.h"

using namespace astfill::completion;
using astfill::testing::TempDir;

namespace {

std::set<std::string> texts(const std::vector<int32_t>& ids, const std::vector<std::string>& vocab) {
  std::set<std::string> out;
  for (auto id : ids) out.insert(vocab[static_cast<size_t>(id)]);
  return out;
}

}  // namespace

TEST_CASE("the trie allows tokens that continue or finish a known name", "[api]") {
  std::vector<std::string> vocab = {"p",  "pu",  "push", "push(", "pop",  "pop()", "po", "x",    "(",
                                    ".",  "pus", "h",    "h(",   "ush", "_back", "",   "peek", "push_back",
                                    "s",  " push"};
  TokenTrie trie(vocab);
  CHECK(trie.token_count() == vocab.size() - 1);  // the empty string is left out
  std::vector<std::string> names = {"pop", "push", "push_back"};

  CHECK(texts(trie.allowed_for_identifier("", names), vocab) ==
        std::set<std::string>{"p", "pu", "push", "push(", "pop", "pop()", "po", "pus", "push_back"});
  // Only "s" continues "pu" toward a name in this vocabulary.
  CHECK(texts(trie.allowed_for_identifier("pu", names), vocab) == std::set<std::string>{"s"});
  CHECK(texts(trie.allowed_for_identifier("pus", names), vocab) == std::set<std::string>{"h", "h("});
  // After a whole name: a longer name, or anything that ends the identifier.
  CHECK(texts(trie.allowed_for_identifier("push", names), vocab) == std::set<std::string>{"(", ".", "_back", " push"});
  CHECK(trie.allowed_for_identifier("zz", names).empty());
  CHECK(trie.allowed_for_identifier("", {}).empty());
}

TEST_CASE("member accesses at the end of the text", "[api]") {
  auto at = [](std::string_view text, std::string_view lang = "python") { return member_access_at_end(text, lang); };
  auto a = at("x = util.");
  REQUIRE(a);
  CHECK(a->receiver == "util");
  CHECK(a->op == ".");
  CHECK(a->typed.empty());
  a = at("    self.items.app");
  REQUIRE(a);
  CHECK(a->receiver == "self.items");
  CHECK(a->typed == "app");
  a = at("p->na", "c");
  REQUIRE(a);
  CHECK(a->receiver == "p");
  CHECK(a->op == "->");
  a = at("geo::Ci", "cpp");
  REQUIRE(a);
  CHECK(a->receiver == "geo");
  CHECK(a->op == "::");
  CHECK_FALSE(at("x = 3."));
  CHECK_FALSE(at("f()."));
  CHECK_FALSE(at("a[0]."));
  CHECK_FALSE(at("foo"));
  CHECK_FALSE(at("# see util."));
  CHECK_FALSE(at("s = \"util."));
  CHECK_FALSE(at("// util.", "javascript"));
  CHECK_FALSE(at("p->x", "python"));
  CHECK(at("s = 'a' + util.x"));
  // Names by the language's identifier rule (parsing/identifiers.h): `$` in
  // JavaScript, non-ASCII letters decoded; an emoji is no receiver.
  a = at("const v = $el.fi", "javascript");
  REQUIRE(a);
  CHECK(a->receiver == "$el");
  CHECK(a->typed == "fi");
  a = at("m = données.moy");
  REQUIRE(a);
  CHECK(a->receiver == "données");
  CHECK(a->typed == "moy");
  a = at("x = 变量.长");
  REQUIRE(a);
  CHECK(a->receiver == "变量");
  CHECK(a->typed == "长");
  CHECK_FALSE(at("x = 😀."));
  CHECK_FALSE(at("x = \u2500\u2500."));  // box drawing
}

TEST_CASE("the constraint restricts after a known receiver and leaves others free", "[api]") {
  std::vector<std::string> vocab = {"area", "ar", "ea", "radius", "(", "foo", "r", "adius", "\n", ")"};
  TokenTrie trie(vocab);
  int asked = 0;
  ApiConstraint api(trie, "python", [&](const MemberAccess& m) -> std::optional<std::vector<std::string>> {
    ++asked;
    if (m.receiver == "circle") return std::vector<std::string>{"radius", "area", "area"};
    return std::nullopt;
  });
  CHECK_FALSE(api.allowed("x = 1\ny = "));
  CHECK_FALSE(api.allowed("x = unknown."));
  auto allowed = api.allowed("x = 1\nprint(circle.");
  REQUIRE(allowed);
  CHECK(texts(*allowed, vocab) == std::set<std::string>{"area", "ar", "radius", "r"});
  allowed = api.allowed("x = 1\nprint(circle.ar");
  REQUIRE(allowed);
  CHECK(texts(*allowed, vocab) == std::set<std::string>{"ea"});
  allowed = api.allowed("print(circle.area");
  REQUIRE(allowed);
  CHECK(texts(*allowed, vocab) == std::set<std::string>{"(", "\n", ")"});
  CHECK_FALSE(api.allowed("print(circle.area("));  // the identifier is over
  CHECK(asked == 2);  // each receiver resolved once
  CHECK(api.restricted_steps() == 3);
}

TEST_CASE("typed-through: the rest of a shown completion comes from the cache", "[cache]") {
  CompletionCache cache(4);
  std::string prefix = "def area(r):\n    return ";
  cache.put("a.py", prefix, "", "3.14159 * r * r");
  auto hit = cache.lookup("a.py", prefix, "");
  REQUIRE(hit);
  CHECK(hit->rest == "3.14159 * r * r");
  hit = cache.lookup("a.py", prefix + "3.14", "");
  REQUIRE(hit);
  CHECK(hit->rest == "159 * r * r");
  CHECK(hit->typed == 4);
  CHECK_FALSE(cache.lookup("a.py", prefix + "2.7", ""));           // typed something else
  CHECK_FALSE(cache.lookup("a.py", prefix + "3.14159 * r * r", ""));  // typed all of it
  CHECK_FALSE(cache.lookup("b.py", prefix, ""));                   // another document
  CHECK_FALSE(cache.lookup("a.py", prefix, ")"));                  // the rest of the line differs
  CHECK_FALSE(cache.lookup("a.py", "x" + prefix.substr(1), ""));   // an edit before the cursor
  CHECK(cache.hits() == 2);
  for (int i = 0; i < 5; ++i) cache.put("c.py", "p" + std::to_string(i), "", "x");
  CHECK(cache.size() == 4);
  CHECK_FALSE(cache.lookup("a.py", prefix, ""));  // evicted, least recently used first
  cache.forget("c.py");
  CHECK(cache.size() == 0);
}

TEST_CASE("the model runner hands out one slot per document, reusing its cache", "[runner]") {
  TempDir dir;
  auto spec = astfill::engine::tiny_spec("qwen2");
  astfill::engine::write_random_model(dir.file("m.gguf"), spec);
  RunnerOptions options;
  options.model_path = dir.file("m.gguf");
  options.load.threads = 1;
  options.slots = 2;
  options.context_tokens = 256;
  ModelRunner runner(options);
  CHECK(runner.trie().token_count() > 256);
  {
    auto lease = runner.acquire("a", {});
    REQUIRE(lease);
    lease->history() = {1, 2, 3};
  }
  {
    auto lease = runner.acquire("b", {});
    REQUIRE(lease);
    CHECK(lease->history().empty());
  }
  {
    auto lease = runner.acquire("a", {});
    REQUIRE(lease);
    CHECK(lease->history() == std::vector<int32_t>{1, 2, 3});
  }
  // A third document recycles the least recently used slot ("b").
  { auto lease = runner.acquire("c", {}); }
  { auto lease = runner.acquire("a", {}); CHECK(lease->history().size() == 3); }
  CHECK(runner.stats().slot_hits == 2);

  // While one request holds the model, another waits, and gives up when cancelled.
  auto held = runner.acquire("a", {});
  astfill::CancellationSource source;
  source.cancel(astfill::CancelReason::Superseded);
  CHECK_FALSE(runner.acquire("b", source.token()));
}
