#include "trust/secrets.h"

#include <catch2/catch.hpp>

#include <stdexcept>

namespace astfill::trust {
namespace {

std::vector<std::string> kinds_in(std::string_view text) {
  std::vector<std::string> out;
  for (const Finding& f : default_scanner().scan(text)) out.push_back(f.rule->kind);
  return out;
}

TEST_CASE("every rule finds a secret in each of its examples, and none in its near misses") {
  const SecretScanner& scanner = default_scanner();
  REQUIRE(scanner.rule_count() == builtin_rules().size());
  for (const SecretRule& rule : builtin_rules()) {
    INFO("rule " << rule.id);
    CHECK(!rule.examples.empty());
    for (const std::string& example : rule.examples) {
      INFO("example: " << example);
      std::vector<Finding> found = scanner.scan(example);
      REQUIRE(!found.empty());
      CHECK(found.front().rule->kind == rule.kind);
      // The redacted example holds the placeholder and is clean.
      std::string redacted = redact(example, found);
      CHECK(redacted.find(placeholder(rule)) != std::string::npos);
      CHECK(scanner.scan(redacted).empty());
      CHECK(redact(redacted) == redacted);
    }
    for (const std::string& miss : rule.non_examples) {
      INFO("near miss: " << miss);
      CHECK(scanner.scan(miss).empty());
    }
  }
}

TEST_CASE("the secret part, not its context, is what gets replaced") {
  std::string text = "DB_PASSWORD = \"hunter2\"\nGITHUB_TOKEN = \"ghp_Zk3J9x2Lq8ZpT4vB7nW1cYh6Rt5Ms0DfGa2E\"\n";
  CHECK(redact(text) == "DB_PASSWORD = \"<secret:password>\"\nGITHUB_TOKEN = \"<secret:github-token>\"\n");
  std::vector<Finding> found = default_scanner().scan(text);
  REQUIRE(found.size() == 2);
  CHECK(text.substr(found[0].begin, found[0].end - found[0].begin) == "hunter2");
  CHECK(found[1].rule->id == "github-pat");  // the specific rule wins over the generic one
}

TEST_CASE("the character that ends one secret may begin the next") {
  // The closing quote of the first token is what precedes the second
  // assignment's name (found by tests/fuzz/secrets.cpp: the second secret was
  // found only once the first had been redacted).
  std::string text = "T = \"ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8\"api_key: \n \"AKIAIOSFODNN7ExAMPLQ\"\n";
  std::vector<Finding> found = default_scanner().scan(text);
  REQUIRE(found.size() == 2);
  CHECK(found[1].rule->id == "generic-api-key");
  CHECK(default_scanner().scan(redact(text, found)).empty());
}

TEST_CASE("a secret that only shows once another is replaced is replaced too") {
  // An unterminated key block ends inside `bbbDB` (`_` is not base64); once it
  // is a placeholder, `_PASSWORD = "..."` has the boundary before its name
  // that the password rule wants (found by tests/fuzz/secrets.cpp).
  std::string text = "-----BEGIN RSA PRIVATE KEY-----\n" + std::string(90, 'b') + "DB_PASSWORD = \"hustgn7\"\n";
  REQUIRE(default_scanner().scan(text).size() == 1);
  size_t count = 0;
  std::string redacted = redact(text, default_scanner(), &count);
  CHECK(redacted == "<secret:private-key>\n_PASSWORD = \"<secret:password>\"\n");
  CHECK(count == 2);
  CHECK(default_scanner().scan(redacted).empty());
}

TEST_CASE("a password value too long to be one while it holds a token is redacted once the token is") {
  // Found by an hour of tests/fuzz/secrets.cpp: the first scan finds only the
  // GitHub token at the end of a long quoted value; replaced, the value is
  // short enough for the password rule, and the second pass takes it too.
  std::string text = "DB_PASSWORD = \"hunter2-Xk9#pQ2z" + std::string(73, '\0') +
                     "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8\"\naapp\n";
  REQUIRE(default_scanner().scan(text).size() == 1);
  size_t count = 0;
  std::string redacted = redact(text, default_scanner(), &count);
  CHECK(count == 2);
  CHECK(redacted == "DB_PASSWORD = \"<secret:password>\"\naapp\n");
  CHECK(default_scanner().scan(redacted).empty());
}

TEST_CASE("placeholders are plain string-literal text in every language") {
  for (const SecretRule& rule : builtin_rules()) {
    std::string p = placeholder(rule);
    INFO(p);
    CHECK(p.find_first_of("\"'`\\$#{}\n\r") == std::string::npos);
    for (std::string_view quoted : {"x = \"" + p + "\"", "x = '" + p + "'", "password: \"" + p + "\""})
      CHECK(default_scanner().scan(quoted).empty());
  }
}

TEST_CASE("text without keywords is returned unchanged") {
  std::string code = "def add(a, b):\n    return a + b\n";
  size_t count = 99;
  CHECK(redact(code, default_scanner(), &count) == code);
  CHECK(count == 0);
  CHECK(default_scanner().scan("").empty());
}

TEST_CASE("generic assignments and tokens need entropy, passwords do not") {
  // A token of one repeated letter is a stand-in in documentation (gitleaks' threshold).
  CHECK(kinds_in("GITHUB_TOKEN = \"ghp_" + std::string(36, 'a') + "\"").empty());
  CHECK(kinds_in("api_key = \"aaaaaaaaaaaaaaaa1\"").empty());
  CHECK(kinds_in("api_key = \"k3J9x2Lq8ZpT4vB7nW1c\"") == std::vector<std::string>{"api-key"});
  CHECK(kinds_in("password = 'abcd'") == std::vector<std::string>{"password"});
}

TEST_CASE("CI systems' and AI services' tokens are found by their own rules, in config and code") {
  // Tokens the rules' own examples do not hold, each where it is usually written.
  const std::pair<std::string, std::string> cases[] = {
      {"  - CIRCLECI_CLI_TOKEN: CCIPAT_0GWlVucHtuxBVWOZlKTnF9_dcac0962eef53542d35a83470ac9a826b59aa9d3\n",
       "circleci-api-token"},
      {"circle_api_token = '8bb1404e95536033eab0b67257f15a7011eaea6c'\n", "circleci-token-assignment"},
      {"env:\n  TRAVIS_API_TOKEN: LJroC61DkDG3oJOOTqjACj\n", "travis-ci-token"},
      {"DRONE_TOKEN=\"pA99dRldzp0pwqmfFaWkpa5CbsQs1P4W\"\n", "drone-ci-token"},
      {"curl -H \"Authorization: Bearer bkua_cdfd412bd016bc37b4abde53060bde470945fd3c\" https://api.buildkite.com\n",
       "buildkite-user-token"},
      {"os.environ[\"HF_TOKEN\"] = \"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\"\n", "huggingface-token"},
      {"openai.api_key = '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'\n", "openai-api-key"},
      {"const key = `sk-proj-1tPG7vyK8DIA87lGjmbOZHbv-GJuMkXhEkhzkZOlZGRRC-ldIet0-0q3FYe9BSJ8hEz-Cdg0dE7Sq-I9etVjprjhRi0hmv3afLGA`;\n",
       "openai-api-key"},
  };
  for (const auto& [text, id] : cases) {
    INFO(text);
    std::vector<Finding> found = default_scanner().scan(text);
    REQUIRE(found.size() == 1);
    CHECK(found[0].rule->id == id);
    CHECK(default_scanner().scan(redact(text, found)).empty());
  }
}

TEST_CASE("a private key block is replaced whole") {
  std::string body(64, 'Q');
  std::string text = "k = '''-----BEGIN EC PRIVATE KEY-----\n" + body + "\n" + body + "\n-----END EC PRIVATE KEY-----'''\n";
  // Its line breaks stay, so that the lines below keep their numbers.
  CHECK(redact(text) == "k = '''<secret:private-key>\n\n\n'''\n");
}

TEST_CASE("a rule RE2 refuses is named") {
  std::vector<SecretRule> rules = {{"broken", "x", "(unclosed", 0, {}, 0, "", {}, {}}};
  CHECK_THROWS_WITH(SecretScanner(rules), Catch::Contains("secret rule 'broken'"));
  std::vector<SecretRule> no_group = {{"nogroup", "x", "abc", 2, {}, 0, "", {}, {}}};
  CHECK_THROWS_WITH(SecretScanner(no_group), Catch::Contains("no capture group 2"));
}

TEST_CASE("entropy") {
  CHECK(shannon_entropy("") == 0);
  CHECK(shannon_entropy("aaaa") == 0);
  CHECK(shannon_entropy("abcd") == Approx(2.0));
}

}  // namespace
}  // namespace astfill::trust
