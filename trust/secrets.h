// Secrets in text: a scanner over a table of rules (rules.cpp; most are taken
// from gitleaks, see NOTICE), and redaction that replaces each secret with a
// typed placeholder before text reaches a prompt or the index.
//
// A rule is an RE2 pattern whose secret part is one capture group, plus
// keywords: the scanner first finds every keyword in one pass over the text
// (an RE2::Set of the keywords, case-insensitive) and runs only the rules
// whose keywords occur, so text without any keyword costs one DFA pass.
// A candidate is then kept if its secret has at least the rule's entropy and
// does not match the rule's allow pattern (placeholders such as `${PASSWORD}`
// or `<password>`, and our own `<secret:...>`, so redaction is idempotent).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace astfill::trust {

struct SecretRule {
  std::string id;        // gitleaks' rule id where the rule is taken from it
  std::string kind;      // what the placeholder names: <secret:KIND>
  std::string regex;     // RE2 syntax
  int secret_group = 0;  // the capture group holding the secret (0: the whole match)
  std::vector<std::string> keywords;  // lower case; the rule runs only where one occurs
  double min_entropy = 0;             // Shannon entropy of the secret, bits per byte; 0: any
  std::string allow;                  // RE2; a secret it matches in full is not one ("" none)
  std::vector<std::string> examples;      // texts in which the rule must find a secret
  std::vector<std::string> non_examples;  // texts in which it must find none
};

// The built-in rules, most specific first (when two rules find overlapping
// secrets, the earlier rule's finding wins).
const std::vector<SecretRule>& builtin_rules();

struct Finding {
  const SecretRule* rule = nullptr;
  size_t begin = 0, end = 0;  // byte range of the secret part
  bool operator<(const Finding& o) const { return begin < o.begin; }
};

// `<secret:KIND>`: valid inside a string literal of every language astfill
// serves (no quote, backslash, `$`, `{`, `#` or newline), and never itself a
// secret to any rule.
std::string placeholder(const SecretRule& rule);

// Shannon entropy of the bytes of `s`, in bits per byte.
double shannon_entropy(std::string_view s);

class SecretScanner {
 public:
  // Compiles `rules`; throws std::invalid_argument naming the rule whose
  // pattern RE2 refuses.
  explicit SecretScanner(const std::vector<SecretRule>& rules = builtin_rules());
  ~SecretScanner();
  SecretScanner(const SecretScanner&) = delete;
  SecretScanner& operator=(const SecretScanner&) = delete;

  // The secrets in `text`, by position, none overlapping. Thread-safe.
  std::vector<Finding> scan(std::string_view text) const;

  size_t rule_count() const;

 private:
  struct Compiled;
  std::unique_ptr<Compiled> compiled_;
};

// The scanner over the built-in rules, compiled once.
const SecretScanner& default_scanner();

// `text` with every finding replaced by its placeholder, followed by as many
// line breaks as the secret held (a private key block), so that every line
// keeps its number. `findings` must come from scanning `text`.
std::string redact(std::string_view text, const std::vector<Finding>& findings);
// As above, and moves `*position` (a byte offset in `text`) to the same place
// in the result; a position inside a secret moves to the end of its
// placeholder (and line breaks).
std::string redact(std::string_view text, const std::vector<Finding>& findings, size_t* position);
// Scans and redacts until the scanner finds nothing more: a placeholder can
// give the text around it a boundary it lacked (`...bbbDB_PASSWORD = "x"`
// after a key block that ends in `bbbDB`), so the result is scanned again,
// a few times at most. `count`, when given, receives how many secrets were
// replaced in all; `position` is moved as above.
std::string redact(std::string_view text, const SecretScanner& scanner = default_scanner(), size_t* count = nullptr,
                   size_t* position = nullptr);

}  // namespace astfill::trust
