// The constrained decoding loop on a tiny random-weight model: prefix reuse
// across calls, the lazy syntax check, the API constraint, stop rules,
// special tokens, caps and cancellation.
#include <catch2/catch.hpp>

#include <algorithm>

#include "../engine/temp_dir.h"
#include "../parsing/cpython.h"
#include "completion/decoder.h"
#include "completion/guard_hooks.h"
#include "completion/stopping.h"
#include "tests/fixtures/random_model.h"
#include "tiny_runner.h"

using namespace astfill::completion;
using astfill::testing::TempDir;
using astfill::testing::cpython_parses;

namespace {

using Fixture = astfill::testing::TinyRunner;

// Refuses any piece holding a byte from `banned`; stops after `stop_after`
// accepted pieces (0: never).
class FakeSyntax final : public SyntaxHooks {
 public:
  FakeSyntax(std::string banned, size_t stop_after) : banned_(std::move(banned)), stop_after_(stop_after) {}
  bool viable(std::string_view piece) override {
    ++asked;
    return piece.find_first_of(banned_) == std::string_view::npos;
  }
  void accept(std::string_view piece) override {
    accepted.emplace_back(piece);
  }
  bool should_stop() override { return stop_after_ && accepted.size() >= stop_after_; }
  size_t asked = 0;
  std::vector<std::string> accepted;

 private:
  std::string banned_;
  size_t stop_after_;
};

}  // namespace

TEST_CASE("decoding reuses the prefix the slot's cache shares with the prompt", "[decoder]") {
  Fixture f;
  DecodeOptions options;
  options.max_tokens = 8;
  options.time_budget = std::chrono::seconds(60);
  auto prompt = f.encode("def add(a, b):\n    return a + b\n\ndef mul(a, b):\n");
  auto lease = f.runner->acquire("doc", {});
  REQUIRE(lease);
  auto first = decode(*lease, f.runner->tokenizer(), prompt, "", nullptr, nullptr, options, {});
  CHECK(first.stats.reused_tokens == 0);
  CHECK(first.stats.prompt_tokens == prompt.size());
  CHECK(first.tokens.size() == 8);
  CHECK(first.end == DecodeEnd::MaxTokens);
  CHECK(first.text == f.runner->tokenizer().decode(first.tokens));

  // The user types: the new prompt extends the old one.
  auto longer = f.encode("def add(a, b):\n    return a + b\n\ndef mul(a, b):\n    return");
  size_t shared = 0;
  while (shared < prompt.size() && shared < longer.size() && prompt[shared] == longer[shared]) ++shared;
  auto second = decode(*lease, f.runner->tokenizer(), longer, "", nullptr, nullptr, options, {});
  CHECK(second.stats.reused_tokens >= shared);
  CHECK(second.stats.reused_tokens >= prompt.size() - 1);
  // Deterministic: the same prompt again gives the same text.
  auto again = decode(*lease, f.runner->tokenizer(), longer, "", nullptr, nullptr, options, {});
  CHECK(again.text == second.text);
  CHECK(again.stats.reused_tokens == longer.size() - 1);
}

TEST_CASE("the syntax check refuses candidates lazily and the stop rule ends decoding", "[decoder]") {
  Fixture f;
  DecodeOptions options;
  options.max_tokens = 24;
  options.time_budget = std::chrono::seconds(60);
  auto prompt = f.encode("x = 1\ny = 2\n");
  auto lease = f.runner->acquire("doc", {});
  FakeSyntax syntax("0123456789 \n", 0);
  auto r = decode(*lease, f.runner->tokenizer(), prompt, "", &syntax, nullptr, options, {});
  CHECK(r.text.find_first_of("0123456789 \n") == std::string::npos);
  CHECK(syntax.accepted.size() == r.tokens.size());
  // Lazy: far fewer checks than vocabulary entries per step.
  CHECK(syntax.asked <= r.tokens.size() * options.max_candidates + options.max_candidates);
  CHECK(syntax.asked >= r.tokens.size());

  FakeSyntax stopper("", 3);
  auto s = decode(*lease, f.runner->tokenizer(), prompt, "", &stopper, nullptr, options, {});
  CHECK(s.end == DecodeEnd::Complete);
  CHECK(s.tokens.size() == 3);

  // A check that refuses everything: nothing is generated.
  class Never final : public SyntaxHooks {
   public:
    bool viable(std::string_view) override { return false; }
    void accept(std::string_view) override {}
    bool should_stop() override { return false; }
  } never;
  auto n = decode(*lease, f.runner->tokenizer(), prompt, "", &never, nullptr, options, {});
  CHECK(n.text.empty());
  CHECK(n.end == DecodeEnd::NoViableToken);
  CHECK(n.rejected == options.max_candidates);
}

TEST_CASE("after a resolvable receiver only its members are written", "[decoder]") {
  Fixture f;
  DecodeOptions options;
  options.max_tokens = 6;
  options.time_budget = std::chrono::seconds(60);
  std::vector<std::string> members = {"append", "extend", "pop"};
  ApiConstraint api(f.runner->trie(), "python", [&](const MemberAccess& m) -> std::optional<std::vector<std::string>> {
    if (m.receiver == "items") return members;
    return std::nullopt;
  });
  auto lease = f.runner->acquire("doc", {});
  for (std::string before : {"items.", "x = items.", "items.ap"}) {
    auto prompt = f.encode(before);
    auto r = decode(*lease, f.runner->tokenizer(), prompt, before, nullptr, &api, options, {});
    INFO(before << " -> " << r.text);
    REQUIRE(r.restricted >= 1);
    // The member name, as completed from what was typed, is one of the members.
    size_t dot = before.rfind('.');
    std::string written = before.substr(dot + 1) + r.text;
    size_t end = 0;
    while (end < written.size() && is_identifier_byte(static_cast<unsigned char>(written[end]))) ++end;
    std::string name = written.substr(0, end);
    bool ok = std::find(members.begin(), members.end(), name) != members.end() ||
              (end == written.size() && std::any_of(members.begin(), members.end(),
                                                    [&](const std::string& m) { return m.starts_with(name); }));
    CHECK(ok);
  }
}

TEST_CASE("special tokens never appear, stop tokens end, cancellation stops", "[decoder]") {
  Fixture f;
  const auto& tok = f.runner->tokenizer();
  auto prompt = f.encode("a");
  auto lease = f.runner->acquire("doc", {});
  DecodeOptions options;
  options.max_tokens = 40;
  options.time_budget = std::chrono::seconds(60);
  auto r = decode(*lease, tok, prompt, "", nullptr, nullptr, options, {});
  for (auto t : r.tokens) CHECK_FALSE(tok.is_special(t));

  // Every normal token is a stop token: the first one ends decoding, unwritten.
  for (size_t id = 0; id < tok.vocab_size(); ++id)
    if (!tok.is_special(static_cast<int32_t>(id))) options.stop_tokens.push_back(static_cast<int32_t>(id));
  auto s = decode(*lease, tok, prompt, "", nullptr, nullptr, options, {});
  CHECK(s.end == DecodeEnd::StopToken);
  CHECK(s.text.empty());

  astfill::CancellationSource source;
  source.cancel(astfill::CancelReason::Superseded);
  options.stop_tokens.clear();
  auto c = decode(*lease, tok, f.encode("something new entirely"), "", nullptr, nullptr, options, source.token());
  CHECK(c.end == DecodeEnd::Cancelled);
  CHECK(c.tokens.empty());

  options.time_budget = std::chrono::milliseconds(0);
  auto t = decode(*lease, tok, prompt, "", nullptr, nullptr, options, {});
  CHECK(t.end == DecodeEnd::Timeout);
  CHECK(t.tokens.size() == 1);
}

TEST_CASE("a request cancelled while decoding stops within one token", "[decoder]") {
  Fixture f;
  DecodeOptions options;
  options.max_tokens = 40;
  options.time_budget = std::chrono::seconds(60);
  astfill::CancellationSource source;
  // Cancels from the loop itself after the third token, as a newer keystroke
  // would from another thread.
  class CancelAfter final : public SyntaxHooks {
   public:
    explicit CancelAfter(astfill::CancellationSource& s) : source_(s) {}
    bool viable(std::string_view) override { return true; }
    void accept(std::string_view) override {
      if (++accepted == 3) source_.cancel(astfill::CancelReason::Superseded);
    }
    bool should_stop() override { return false; }
    size_t accepted = 0;

   private:
    astfill::CancellationSource& source_;
  } hooks(source);
  auto lease = f.runner->acquire("doc", {});
  auto r = decode(*lease, f.runner->tokenizer(), f.encode("def f(x):\n    return"), "", &hooks, nullptr, options,
                  source.token());
  CHECK(r.end == DecodeEnd::Cancelled);
  CHECK(hooks.accepted <= 4);
  // The slot stays usable, and its cache consistent with what it holds.
  CHECK(lease->session().length() == lease->history().size());
}

// The model's first choice ends the completion and is refused there: among
// its next choices the first that would let it end next is taken, after at
// most six such checks, else the first viable one. A first choice that does
// not end asks nothing of the kind.
TEST_CASE("a refused end prefers a next choice that lets the completion end", "[decoder]") {
  Fixture f;
  DecodeOptions options;
  options.max_tokens = 4;
  options.time_budget = std::chrono::seconds(60);
  auto prompt = f.encode("def f(x):\n    return g(x\n");
  auto lease = f.runner->acquire("doc", {});

  // First step only: every piece ends the completion; the first asked is
  // refused; whole_after says yes to the `closes_at`-th piece it is asked
  // about (0: never). Stops after one accepted piece.
  class Closing final : public SyntaxHooks {
   public:
    Closing(bool first_ends, size_t closes_at) : first_ends_(first_ends), closes_at_(closes_at) {}
    bool viable(std::string_view piece) override {
      asked.emplace_back(piece);
      return asked.size() > 1;
    }
    bool ends_with(std::string_view) override { return first_ends_; }
    bool whole_after(std::string_view piece) override {
      whole_asked.emplace_back(piece);
      return whole_asked.size() == closes_at_;
    }
    void accept(std::string_view piece) override { accepted.emplace_back(piece); }
    bool should_stop() override { return !accepted.empty(); }
    std::vector<std::string> asked, whole_asked, accepted;

   private:
    bool first_ends_;
    size_t closes_at_;
  };

  Closing third(true, 3);
  auto r = decode(*lease, f.runner->tokenizer(), prompt, "", &third, nullptr, options, {});
  REQUIRE(third.accepted.size() == 1);
  REQUIRE(third.whole_asked.size() == 3);
  // The third viable choice (the model's fourth) closes: it is written.
  CHECK(third.accepted[0] == third.whole_asked[2]);
  CHECK(third.asked[1] == third.whole_asked[0]);
  CHECK(r.closing_choices == 1);

  Closing none(true, 0);
  r = decode(*lease, f.runner->tokenizer(), prompt, "", &none, nullptr, options, {});
  REQUIRE(none.accepted.size() == 1);
  CHECK(none.whole_asked.size() == 6);
  // Nothing closes: the first viable choice, as without the preference.
  CHECK(none.accepted[0] == none.asked[1]);
  CHECK(r.closing_choices == 0);

  Closing plain(false, 1);
  r = decode(*lease, f.runner->tokenizer(), prompt, "", &plain, nullptr, options, {});
  REQUIRE(plain.accepted.size() == 1);
  CHECK(plain.whole_asked.empty());
  CHECK(plain.accepted[0] == plain.asked[1]);
  CHECK(r.closing_choices == 0);
  // The same choices were in front of each run.
  CHECK(third.asked[0] == plain.asked[0]);
  CHECK(none.asked[1] == plain.asked[1]);
}

// What decode's closing choice asks of the guard (decoder.h): in a
// single-line completion a line break ends it (and is refused while the file
// is not whole there); whole_after says whether a piece would let it end.
TEST_CASE("the guard's hooks say which pieces end a line and which would let it end whole", "[guard][whole]") {
  const std::string prefix = "def f(x):\n    return g(x";
  const std::string suffix = "\n\ndef h():\n    pass\n";
  SyntaxGuard guard("python", prefix, suffix);
  StopRule single(guard, CompletionMode::SingleLine);
  GuardHooks hooks(guard, single, true, nullptr);
  CHECK(hooks.ends_with("\n"));
  CHECK(hooks.ends_with(")\n"));
  CHECK_FALSE(hooks.ends_with(")"));
  CHECK_FALSE(hooks.viable("\n"));  // `return g(x` then a line break: not whole
  CHECK(hooks.whole_after(")"));
  CHECK(hooks.whole_after(")\n"));
  CHECK_FALSE(hooks.whole_after(", y"));
  CHECK_FALSE(hooks.whole_after("))"));
  CHECK(cpython_parses(prefix + ")" + suffix));
  CHECK_FALSE(cpython_parses(prefix + ", y" + suffix));
  // A multi-line completion is not ended by a line break.
  StopRule multi(guard, CompletionMode::MultiLine);
  GuardHooks block(guard, multi, true, nullptr);
  CHECK_FALSE(block.ends_with("\n"));
  // Unconstrained hooks prefer nothing.
  GuardHooks loose(guard, single, false, nullptr);
  CHECK_FALSE(loose.whole_after(")"));
}

// A retry's banned openings (service.cpp): refused while the completion
// holds nothing but blanks, allowed once it holds more.
TEST_CASE("banned openers are refused only while the completion is blank", "[decoder]") {
  Fixture f;
  DecodeOptions options;
  options.max_tokens = 12;
  options.time_budget = std::chrono::seconds(60);
  auto prompt = f.encode("def f(x):\n    return x\n\ndef g(y):\n");
  auto lease = f.runner->acquire("doc", {});
  const auto& tok = f.runner->tokenizer();
  auto opener = [&](const DecodeResult& r) -> int32_t {
    for (int32_t t : r.tokens)
      if (tok.token_bytes(t).find_first_not_of(" \t\r\n") != std::string::npos) return t;
    return -1;
  };
  // No line breaks: the tiny random model would write only those here.
  FakeSyntax no_breaks("\r\n", 0), no_breaks2("\r\n", 0), no_breaks3("\r\n", 0);
  auto first = decode(*lease, tok, prompt, "", &no_breaks, nullptr, options, {});
  const int32_t a = opener(first);
  REQUIRE(a >= 0);
  options.banned_openers = {a};
  auto second = decode(*lease, tok, prompt, "", &no_breaks2, nullptr, options, {});
  const int32_t b = opener(second);
  REQUIRE(b >= 0);
  CHECK(b != a);
  // The blanks before the opening are the model's as before the ban.
  size_t blanks = 0;
  while (blanks < first.tokens.size() && first.tokens[blanks] != a) ++blanks;
  REQUIRE(second.tokens.size() > blanks);
  CHECK(std::equal(first.tokens.begin(), first.tokens.begin() + static_cast<std::ptrdiff_t>(blanks),
                   second.tokens.begin()));
  options.banned_openers = {a, b};
  auto third = decode(*lease, tok, prompt, "", &no_breaks3, nullptr, options, {});
  CHECK(opener(third) != a);
  CHECK(opener(third) != b);
}
