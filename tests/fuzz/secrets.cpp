// The secret scanner (trust/) on arbitrary text, split at NUL bytes into the
// text before a hole, a completion and the text after it. Checks: findings
// lie in the text, in order, without overlaps; redacted text holds no secret
// the scanner finds again; the streaming check, fed the completion as it
// grows, never cuts past what it was given; stripping invisible and bidi
// characters leaves none to strip.
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_support.h"
#include "trust/invisible.h"
#include "trust/secret_stream.h"
#include "trust/secrets.h"

using namespace astfill::trust;
using astfill::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const SecretScanner& scanner = default_scanner();

  auto findings = scanner.scan(input);
  size_t last_end = 0;
  for (const auto& f : findings) {
    check(f.rule != nullptr, "a finding without a rule");
    check(f.begin < f.end && f.end <= input.size(), "a finding outside the text");
    check(f.begin >= last_end, "findings overlap or are out of order");
    last_end = f.end;
  }
  size_t count = 0;
  std::string redacted = redact(input, scanner, &count);
  // redact() scans again after replacing: a secret may show only once another
  // is a placeholder (a password value that was too long to be one while it
  // held a token), so it counts at least what the first scan found.
  check(count >= findings.size(), "redact counted fewer secrets than scan found");
  // With nothing more found after the first replacement, it is exactly the
  // one-pass redaction of what scan found.
  if (count == findings.size()) check(redacted == redact(input, findings), "redact differs from one pass over scan's findings");
  if (auto left = scanner.scan(redacted); !left.empty())
    astfill::fuzz::fail("redacted text still holds a secret (rule " + left[0].rule->id + ": '" +
                        redacted.substr(left[0].begin, left[0].end - left[0].begin) + "'): " + redacted);

  size_t removed = 0;
  std::string clean = strip_invisible(input, &removed);
  size_t again = 0;
  (void)strip_invisible(clean, &again);
  check(again == 0, "strip_invisible left invisible characters");

  // prefix \0 completion \0 suffix
  size_t a = input.find('\0');
  std::string_view prefix = input.substr(0, a);
  std::string_view rest = a == std::string_view::npos ? std::string_view() : input.substr(a + 1);
  size_t b = rest.find('\0');
  std::string_view completion = rest.substr(0, b);
  std::string_view suffix = b == std::string_view::npos ? std::string_view() : rest.substr(b + 1);
  SecretStreamCheck stream(prefix, suffix, scanner);
  for (size_t n = 1; n <= completion.size(); n += 1 + n / 8) {
    if (auto cut = stream.check(completion.substr(0, n))) {
      check(*cut <= n, "the stream check cut past the completion it was given");
      break;
    }
  }
  if (auto cut = stream.finish(completion)) check(*cut <= completion.size(), "finish cut past the completion");
  check(stream.cuts() <= 1, "one completion cut more than once");
  return 0;
}
