// Randomised decoding: a random "model" proposes code fragments, the loop
// keeps the first viable one; trimmed to its longest valid prefix, the
// completion must never leave the file with a syntax error it did not have.
#include <catch2/catch.hpp>

#include <string>

#include "code_samples.h"
#include "completion/syntax_guard.h"
#include "parsing/document.h"
#include "random_decoding.h"

using namespace astfill::completion;
using astfill::parsing::Document;

TEST_CASE("random decoding never leaves new syntax errors", "[guard][random]") {
  constexpr uint32_t kSeeds = 40;
  constexpr size_t kTokens = 48;
  for (const samples::Sample& s : samples::all()) {
    const std::string prefix(s.prefix), suffix(s.suffix);
    const Document base(s.language, prefix + suffix);
    const size_t base_errors = count_syntax_errors(base);
    size_t proposals = 0, rejected = 0, stuck = 0, kept = 0, written = 0;
    for (uint32_t seed = 1; seed <= kSeeds; ++seed) {
      SyntaxGuard guard(s.language, prefix, suffix);
      testing::DecodeResult run = testing::random_decode(guard, s.fragments, seed, kTokens);
      proposals += run.proposals;
      rejected += run.rejected;
      stuck += run.stuck;
      const std::string result = guard.completion().substr(0, guard.longest_valid_prefix());
      written += guard.completion().size();
      kept += result.size();
      INFO(s.language << " seed " << seed << ": [" << result << "] of [" << guard.completion() << "]");
      Document after(s.language, prefix + result + suffix);
      CHECK(count_syntax_errors(after) <= base_errors);
      if (base_errors == 0) CHECK_FALSE(after.has_syntax_errors());
    }
    WARN(s.language << ": rejected " << rejected << " of " << proposals << " proposals ("
                    << 100.0 * rejected / proposals << "%), stuck in " << stuck << " of " << kSeeds
                    << " runs, kept " << kept << " of " << written << " bytes");
  }
}
