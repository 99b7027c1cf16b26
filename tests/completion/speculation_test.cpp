// Speculation under the constraints (completion/decoder.h): drafts from the
// prompt are screened on copies of the checks' state and verified row by row
// through the same mask, so the completion is exactly the one decoded a token
// at a time, with the syntax hooks and the API constraint in the loop.
#include <catch2/catch.hpp>

#include "../engine/temp_dir.h"
#include "completion/decoder.h"
#include "tests/fixtures/random_model.h"

using namespace astfill::completion;
using astfill::testing::TempDir;

namespace {

// Refuses pieces holding a byte of `banned`; forks when asked to.
class BanningSyntax final : public SyntaxHooks {
 public:
  BanningSyntax(std::string banned, bool forks) : banned_(std::move(banned)), forks_(forks) {}
  bool viable(std::string_view piece) override {
    ++asked;
    return piece.find_first_of(banned_) == std::string_view::npos;
  }
  void accept(std::string_view piece) override { accepted += piece; }
  bool should_stop() override { return false; }
  std::unique_ptr<SyntaxHooks> fork() const override {
    if (!forks_) return nullptr;
    ++forked;
    return std::make_unique<BanningSyntax>(*this);
  }
  size_t asked = 0;
  mutable size_t forked = 0;
  std::string accepted;

 private:
  std::string banned_;
  bool forks_;
};

}  // namespace

TEST_CASE("speculative decoding writes what one-token decoding writes, constraints included", "[decoder][speculate]") {
  TempDir dir;
  auto spec = astfill::engine::tiny_spec("qwen2");
  astfill::engine::write_random_model(dir.file("m.gguf"), spec);
  RunnerOptions ro;
  ro.model_path = dir.file("m.gguf");
  ro.load.threads = 1;
  ro.context_tokens = 1024;
  ModelRunner runner(ro);
  const auto& tok = runner.tokenizer();
  std::string text;
  for (int i = 0; i < 8; ++i) text += "    total = total + values[" + std::to_string(i % 3) + "] * weight\n";
  auto prompt = tok.encode(text, false);

  for (std::string banned : {"", "\n", "te"}) {
    for (bool forks : {false, true}) {
      INFO("banned '" << banned << "' forks " << forks);
      DecodeResult results[2];
      std::string accepted[2];
      for (int on = 0; on < 2; ++on) {
        auto lease = runner.acquire(on ? "b" : "a", {});
        REQUIRE(lease);
        DecodeOptions o;
        o.max_tokens = 40;
        o.time_budget = std::chrono::seconds(60);
        o.speculate.enable = on == 1;
        BanningSyntax syntax(banned, forks);
        // The API constraint restricts nothing here (no member access), but is consulted on every row.
        ApiConstraint api(runner.trie(), "python", [](const MemberAccess&) { return std::nullopt; });
        results[on] = decode(*lease, tok, prompt, text, &syntax, &api, o, {});
        accepted[on] = syntax.accepted;
        if (on && forks) CHECK(syntax.forked > 0);
      }
      CHECK(results[1].tokens == results[0].tokens);
      CHECK(results[1].text == results[0].text);
      CHECK(accepted[1] == accepted[0]);
      CHECK(results[1].end == results[0].end);
      CHECK(results[0].stats.drafted_tokens == 0);
      if (!banned.empty()) CHECK(results[1].text.find_first_of(banned) == std::string::npos);
      if (banned.empty()) {
        CHECK(results[1].stats.accepted_draft_tokens > 0);
        CHECK(results[1].stats.forward_passes < results[0].stats.forward_passes);
      }
    }
  }
}
