#include "trust/secret_stream.h"

#include <catch2/catch.hpp>

namespace astfill::trust {
namespace {

const std::string token = "ghp_" + std::string("Zk3J9x2Lq8ZpT4vB7nW1cYh6Rt5Ms0DfGa2E");

// Feeds `completion` one byte at a time, as a decoder would, and returns the
// first cut and at which length it was found.
std::pair<std::optional<size_t>, size_t> stream(SecretStreamCheck& check, std::string_view completion) {
  for (size_t n = 1; n <= completion.size(); ++n)
    if (auto cut = check.check(completion.substr(0, n))) return {cut, n};
  return {std::nullopt, completion.size()};
}

TEST_CASE("a token written by the completion is cut before it starts, as soon as it is whole") {
  REQUIRE(token.size() == 40);
  SecretStreamCheck check("def connect():\n    ", "\n");
  std::string completion = "client = Github(\"" + token + "\")\n    return client";
  auto [cut, at] = stream(check, completion);
  REQUIRE(cut);
  CHECK(*cut == completion.find("ghp_"));
  CHECK(at == completion.find("ghp_") + token.size());
  CHECK(check.cuts() == 1);
  // Asked again, the same cut, still counted once.
  CHECK(check.check(completion) == cut);
  CHECK(check.cuts() == 1);
}

TEST_CASE("a secret the prefix began cuts the whole completion") {
  SecretStreamCheck check("TOKEN = \"" + token.substr(0, 20), "");
  auto [cut, at] = stream(check, token.substr(20) + "\"\n");
  REQUIRE(cut);
  CHECK(*cut == 0);
}

TEST_CASE("secrets in the prefix alone are not the completion's") {
  SecretStreamCheck check("TOKEN = \"" + token + "\"\n", "");
  auto [cut, at] = stream(check, "print(TOKEN)\n");
  CHECK(!cut);
  CHECK(check.cuts() == 0);
}

TEST_CASE("a password closed by the suffix is found at finish") {
  uint64_t before = secret_cuts_total();
  SecretStreamCheck check("DB_PASSWORD = \"", "\"\nDB_USER = \"app\"\n");
  CHECK(!stream(check, "hunter2").first);
  auto cut = check.finish("hunter2");
  REQUIRE(cut);
  CHECK(*cut == 0);
  CHECK(secret_cuts_total() == before + 1);
  // Ordinary code passes.
  check.reset("def f(x):\n    ", "\n");
  CHECK(!check.finish("return x * 2"));
  CHECK(check.cuts() == 1);
}

}  // namespace
}  // namespace astfill::trust
