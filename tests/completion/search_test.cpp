// decode()'s search for a whole completion when the greedy one is not
// (completion/decoder.h): on a tiny random-weight model with scripted hooks
// that say where the file is whole, and the guard's hooks' part in it
// (kept_whole, adopt).
#include <catch2/catch.hpp>

#include "../engine/temp_dir.h"
#include "completion/decoder.h"
#include "completion/guard_hooks.h"
#include "completion/stopping.h"
#include "tests/fixtures/random_model.h"
#include "tiny_runner.h"

using namespace astfill::completion;
using astfill::testing::TempDir;

namespace {

using Fixture = astfill::testing::TinyRunner;

// Every piece is viable, nothing stops the completion; the file is whole
// only where `whole` says so of the completion. Forks copy the text, adopt
// takes a fork's text over.
// With `stop_at`, a stop rule ends the completion once it holds that many
// bytes and keeps all of it.
class Scripted final : public SyntaxHooks {
 public:
  using Whole = std::function<bool(const std::string&)>;
  static constexpr size_t kNever = static_cast<size_t>(-1);
  explicit Scripted(Whole whole, bool single_line = false, size_t stop_at = kNever)
      : whole_(std::move(whole)), single_line_(single_line), stop_at_(stop_at) {}
  // A single-line completion: a line break would end it.
  bool ends_with(std::string_view piece) override { return single_line_ && piece.find('\n') != std::string_view::npos; }
  bool viable(std::string_view) override { return true; }
  void accept(std::string_view piece) override { text.append(piece); }
  bool should_stop() override { return text.size() >= stop_at_; }
  bool can_adopt() const override { return true; }
  bool may_end() override {
    ++whole_checks;
    return whole_(text);
  }
  // What the stop rule keeps is all of it (blanks too: the random model
  // writes mostly blanks; the guard's hooks' own rule about them is tested
  // below).
  bool kept_whole() override { return whole_(text); }
  bool kept_lacks_whole_part() override { return stop_at_ != kNever && !whole_(text); }
  std::unique_ptr<SyntaxHooks> fork() const override {
    auto copy = std::make_unique<Scripted>(whole_, single_line_, stop_at_);
    copy->text = text;
    return copy;
  }
  bool adopt(SyntaxHooks& other) override {
    auto* from = dynamic_cast<Scripted*>(&other);
    if (!from) return false;
    text = from->text;
    ++adopted;
    return true;
  }
  std::string text;
  size_t whole_checks = 0, adopted = 0;

 private:
  Whole whole_;
  bool single_line_;
  size_t stop_at_;
};

bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

// Decoding as these tests want it: `max_tokens`, one token a pass, no time
// pressure (a slow sanitizer build must not end greedy decoding or the
// search early: time_budget and search_time), and every choice a branch
// point (the random model puts nearly all its mass on one token; its next
// choices are 20-25 nats behind).
DecodeOptions search_options(int max_tokens) {
  DecodeOptions options;
  options.max_tokens = max_tokens;
  options.time_budget = std::chrono::seconds(60);
  options.search_time = std::chrono::seconds(60);
  options.speculate.enable = false;
  options.search_margin = 100;
  return options;
}

}  // namespace

TEST_CASE("the search finds a whole completion where greedy decoding finds none", "[decoder][search]") {
  Fixture f;
  const auto& tok = f.runner->tokenizer();
  auto prompt = f.encode("def f(x):\n    return g(x\n\ndef h(y):\n");
  auto lease = f.runner->acquire("doc", {});
  DecodeOptions options = search_options(8);

  // The greedy path, with the file whole nowhere: the model's own choices.
  options.search_branches = 0;
  Scripted never([](const std::string&) { return false; });
  auto greedy = decode(*lease, tok, prompt, "", &never, nullptr, options, {});
  REQUIRE(greedy.end == DecodeEnd::MaxTokens);
  REQUIRE(greedy.tokens.size() == 8);
  CHECK(greedy.search.branches == 0);
  const std::string path = greedy.text;

  // Whole only where the completion has left the greedy path (it holds
  // something that is not a prefix of it): greedy can never get there, and
  // greedy decoding alone ends at the cap as above.
  auto off_path = [&](const std::string& text) { return !text.empty() && !starts_with(path, text); };
  Scripted alone(off_path);
  auto r0 = decode(*lease, tok, prompt, "", &alone, nullptr, options, {});
  CHECK(r0.text == path);
  CHECK(r0.end == DecodeEnd::MaxTokens);
  CHECK_FALSE(r0.search.found);
  CHECK(alone.adopted == 0);

  options.search_branches = 8;
  options.search_tokens = 64;
  Scripted hooks(off_path);
  auto r = decode(*lease, tok, prompt, "", &hooks, nullptr, options, {});
  REQUIRE(r.search.found);
  CHECK(r.search.branches >= 1);
  CHECK(r.search.branches <= options.search_branches);
  CHECK(r.search.seconds > 0);
  // The answer leaves the file whole, is the hooks' state, and is what its
  // tokens say.
  CHECK(off_path(r.text));
  CHECK(hooks.adopted == 1);
  CHECK(hooks.text == r.text);
  CHECK(tok.decode(r.tokens) == r.text);
  CHECK(r.stats.generated_tokens == r.tokens.size());
  CHECK(r.tokens.size() <= static_cast<size_t>(options.max_tokens));
  // It branched off greedy's path at one of greedy's steps: the tokens
  // before that are greedy's.
  size_t same = 0;
  while (same < r.tokens.size() && same < greedy.tokens.size() && r.tokens[same] == greedy.tokens[same]) ++same;
  CHECK(same < r.tokens.size());
  CHECK(r.tokens[same] != greedy.tokens[same]);
  // Deterministic: the same request finds the same answer.
  Scripted again(off_path);
  auto r2 = decode(*lease, tok, prompt, "", &again, nullptr, options, {});
  CHECK(r2.text == r.text);
  CHECK(r2.search.branches == r.search.branches);

  // A single-line completion is searched only when asked to (the default).
  CHECK(DecodeOptions{}.search_single_line);
  options.search_single_line = false;
  Scripted line(off_path, /*single_line=*/true);
  auto l = decode(*lease, tok, prompt, "", &line, nullptr, options, {});
  CHECK(l.search.branches == 0);
  CHECK_FALSE(l.search.found);
  CHECK(line.adopted == 0);
  options.search_single_line = true;
  Scripted line2(off_path, /*single_line=*/true);
  auto l2 = decode(*lease, tok, prompt, "", &line2, nullptr, options, {});
  CHECK(l2.search.found);
  CHECK(off_path(line2.text));
}

TEST_CASE("the search runs when the stop rule keeps text of which no part is whole", "[decoder][search]") {
  Fixture f;
  const auto& tok = f.runner->tokenizer();
  auto prompt = f.encode("def f(x):\n    return g(x\n\ndef h(y):\n");
  auto lease = f.runner->acquire("doc", {});
  DecodeOptions options = search_options(16);

  options.search_branches = 0;
  Scripted never([](const std::string&) { return false; }, false, 6);
  auto greedy = decode(*lease, tok, prompt, "", &never, nullptr, options, {});
  REQUIRE(greedy.end == DecodeEnd::Complete);
  REQUIRE(greedy.text.size() >= 6);
  const std::string path = greedy.text;
  auto off_path = [&](const std::string& text) { return !text.empty() && !starts_with(path, text); };

  // Greedy's kept text is not whole: searched, and a branch off its path is the answer.
  options.search_branches = 8;
  options.search_tokens = 64;
  Scripted hooks(off_path, false, 6);
  auto r = decode(*lease, tok, prompt, "", &hooks, nullptr, options, {});
  INFO("path [" << path << "] answer [" << r.text << "] end " << static_cast<int>(r.end));
  CHECK(r.search.branches >= 1);
  REQUIRE(r.search.found);
  CHECK(r.end == DecodeEnd::Complete);
  CHECK(off_path(r.text));
  CHECK(hooks.adopted == 1);
  CHECK(hooks.text == r.text);

  // Greedy's kept text is whole: no search, greedy's answer stands.
  Scripted fine([](const std::string&) { return true; }, false, 6);
  auto w = decode(*lease, tok, prompt, "", &fine, nullptr, options, {});
  CHECK(w.search.branches == 0);
  CHECK_FALSE(w.search.found);
  CHECK(w.text == path);
}

TEST_CASE("the search never answers with blanks", "[decoder][search]") {
  Fixture f;
  const auto& tok = f.runner->tokenizer();
  auto prompt = f.encode("def f(x):\n    return g(x\n\ndef h(y):\n");
  auto lease = f.runner->acquire("doc", {});
  DecodeOptions options = search_options(8);
  options.search_branches = 0;
  Scripted never([](const std::string&) { return false; });
  auto greedy = decode(*lease, tok, prompt, "", &never, nullptr, options, {});
  REQUIRE(!greedy.tokens.empty());
  // The model's second choice at the first step (its first refused).
  class RefuseFirst final : public SyntaxHooks {
   public:
    explicit RefuseFirst(std::string first) : first_(std::move(first)) {}
    bool viable(std::string_view piece) override { return piece != first_; }
    void accept(std::string_view) override { ++accepted; }
    bool should_stop() override { return accepted > 0; }
    size_t accepted = 0;

   private:
    std::string first_;
  } refuse(tok.token_bytes(greedy.tokens[0]));
  auto second = decode(*lease, tok, prompt, "", &refuse, nullptr, options, {});
  REQUIRE(second.tokens.size() == 1);
  // That token now ends the completion, and the file is whole only with
  // nothing written: the stop token is a branch point at the first step,
  // where ending would answer with nothing. No answer, then.
  options.stop_tokens = {second.tokens[0]};
  options.search_branches = 8;
  Scripted hooks([](const std::string& text) { return text.empty(); });
  auto r = decode(*lease, tok, prompt, "", &hooks, nullptr, options, {});
  CHECK(r.end != DecodeEnd::StopToken);
  CHECK(r.search.branches > 0);
  CHECK_FALSE(r.search.found);
  CHECK(hooks.adopted == 0);
  CHECK_FALSE(r.text.empty());
}

TEST_CASE("the search is bounded and leaves greedy's answer when it finds nothing", "[decoder][search]") {
  Fixture f;
  const auto& tok = f.runner->tokenizer();
  auto prompt = f.encode("int main() {\n    return f(1,\n}\n");
  auto lease = f.runner->acquire("doc", {});
  DecodeOptions options = search_options(6);
  options.search_branches = 0;
  Scripted plain([](const std::string&) { return false; });
  auto greedy = decode(*lease, tok, prompt, "", &plain, nullptr, options, {});

  options.search_branches = 5;
  options.search_tokens = 1000;
  Scripted never([](const std::string&) { return false; });
  auto r = decode(*lease, tok, prompt, "", &never, nullptr, options, {});
  CHECK_FALSE(r.search.found);
  CHECK(r.search.branches == 5);
  CHECK(never.adopted == 0);
  CHECK(never.text == greedy.text);  // the real hooks hold greedy's completion
  CHECK(r.text == greedy.text);
  CHECK(r.tokens == greedy.tokens);
  CHECK(r.end == DecodeEnd::MaxTokens);
  CHECK(r.search.tokens <= 5u * 6u);

  // A token budget ends it first.
  options.search_tokens = 4;
  Scripted few([](const std::string&) { return false; });
  auto s = decode(*lease, tok, prompt, "", &few, nullptr, options, {});
  CHECK_FALSE(s.search.found);
  CHECK(s.search.tokens >= 4);
  CHECK(s.search.tokens < 4 + 6);
  CHECK(s.search.branches < 5);
  CHECK(s.text == greedy.text);
}

// The guard's side of the search: a fork's state adopted, and whether what
// the stop rule keeps is whole.
TEST_CASE("the guard's hooks adopt a fork's completion and judge what the stop rule keeps", "[guard][search]") {
  const std::string prefix = "def f(x):\n    return g(x";
  const std::string suffix = "\n\ndef h():\n    pass\n";
  SyntaxGuard guard("python", prefix, suffix);
  StopRule single(guard, CompletionMode::SingleLine);
  GuardHooks hooks(guard, single, true, nullptr);
  std::unique_ptr<SyntaxHooks> fork = hooks.fork();
  REQUIRE(fork);
  fork->accept(", 1");
  REQUIRE(fork->viable(")"));
  fork->accept(")");
  CHECK(fork->may_end());
  CHECK(guard.completion().empty());  // the fork's state is its own
  REQUIRE(hooks.adopt(*fork));
  CHECK(guard.completion() == ", 1)");
  CHECK(hooks.may_end());
  // The stop rule over the adopted text: a line break ends a single line,
  // and what it keeps (the line) is whole.
  hooks.accept("\n)");
  REQUIRE(hooks.should_stop());
  CHECK(single.keep() == 4);
  CHECK(hooks.kept_whole());
  CHECK_FALSE(hooks.kept_lacks_whole_part());
  CHECK_FALSE(hooks.may_end());  // `, 1)\n)` itself is not
  // What the stop rule keeps holds text but no whole part (`, 1, ` closes
  // to `, 1, )`, which CPython takes, so `+ ` instead): searched on. Blanks
  // kept are the model ending, not searched on.
  SyntaxGuard g2("python", prefix, suffix);
  StopRule s2(g2, CompletionMode::SingleLine);
  GuardHooks broken(g2, s2, true, nullptr);
  broken.accept(" + ");
  broken.accept("\n");
  REQUIRE(broken.should_stop());
  CHECK_FALSE(broken.kept_whole());
  CHECK(broken.kept_lacks_whole_part());
  SyntaxGuard g3("python", prefix, suffix);
  StopRule s3(g3, CompletionMode::SingleLine);
  GuardHooks blank(g3, s3, true, nullptr);
  blank.accept("  \n");
  REQUIRE(blank.should_stop());
  CHECK_FALSE(blank.kept_lacks_whole_part());
  // A copy of something else is not adopted.
  Scripted other([](const std::string&) { return true; });
  CHECK_FALSE(hooks.adopt(other));
  CHECK(hooks.can_adopt());
  // Unconstrained hooks are not searched on: every end would do.
  GuardHooks loose(guard, single, false, nullptr);
  CHECK_FALSE(loose.can_adopt());
}
