// The scanner: keyword prefilter (one RE2::Set pass), then each candidate
// rule's pattern, then entropy and allow checks, then overlap resolution.
#include "trust/secrets.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>

#include <re2/re2.h>
#include <re2/set.h>

namespace astfill::trust {

struct SecretScanner::Compiled {
  struct Rule {
    const SecretRule* rule;
    size_t order;
    std::unique_ptr<RE2> pattern;
    std::unique_ptr<RE2> allow;
  };
  std::vector<SecretRule> rules;  // owned copies: Finding::rule points here
  std::vector<Rule> compiled;
  std::unique_ptr<RE2::Set> keywords;
  std::vector<std::vector<size_t>> rules_of_keyword;  // keyword index -> rule indexes
  std::vector<size_t> always;                         // rules with no keyword
};

namespace {

RE2::Options rule_options() {
  RE2::Options o;
  o.set_log_errors(false);
  o.set_max_mem(64 << 20);
  return o;
}

}  // namespace

double shannon_entropy(std::string_view s) {
  if (s.empty()) return 0;
  std::array<size_t, 256> counts{};
  for (unsigned char c : s) ++counts[c];
  double h = 0, n = static_cast<double>(s.size());
  for (size_t c : counts)
    if (c) {
      double p = static_cast<double>(c) / n;
      h -= p * std::log2(p);
    }
  return h;
}

std::string placeholder(const SecretRule& rule) { return "<secret:" + rule.kind + ">"; }

SecretScanner::SecretScanner(const std::vector<SecretRule>& rules) : compiled_(std::make_unique<Compiled>()) {
  Compiled& c = *compiled_;
  c.rules = rules;
  RE2::Options keyword_options = rule_options();
  keyword_options.set_case_sensitive(false);
  c.keywords = std::make_unique<RE2::Set>(keyword_options, RE2::UNANCHORED);
  std::vector<std::string> keyword_list;
  for (size_t i = 0; i < c.rules.size(); ++i) {
    const SecretRule& rule = c.rules[i];
    Compiled::Rule r{&rule, i, std::make_unique<RE2>(rule.regex, rule_options()), nullptr};
    if (!r.pattern->ok())
      throw std::invalid_argument("secret rule '" + rule.id + "': bad pattern: " + r.pattern->error());
    if (rule.secret_group < 0 || rule.secret_group > r.pattern->NumberOfCapturingGroups())
      throw std::invalid_argument("secret rule '" + rule.id + "': no capture group " +
                                  std::to_string(rule.secret_group));
    if (!rule.allow.empty()) {
      r.allow = std::make_unique<RE2>(rule.allow, rule_options());
      if (!r.allow->ok())
        throw std::invalid_argument("secret rule '" + rule.id + "': bad allow pattern: " + r.allow->error());
    }
    if (rule.keywords.empty()) c.always.push_back(i);
    for (const std::string& keyword : rule.keywords) {
      auto it = std::find(keyword_list.begin(), keyword_list.end(), keyword);
      size_t k = static_cast<size_t>(it - keyword_list.begin());
      if (it == keyword_list.end()) {
        keyword_list.push_back(keyword);
        c.rules_of_keyword.emplace_back();
        std::string error;
        if (c.keywords->Add(RE2::QuoteMeta(keyword), &error) < 0)
          throw std::invalid_argument("secret rule '" + rule.id + "': bad keyword '" + keyword + "': " + error);
      }
      c.rules_of_keyword[k].push_back(i);
    }
    c.compiled.push_back(std::move(r));
  }
  if (!keyword_list.empty() && !c.keywords->Compile())
    throw std::invalid_argument("secret rules: the keyword set does not compile");
}

SecretScanner::~SecretScanner() = default;

size_t SecretScanner::rule_count() const { return compiled_->rules.size(); }

std::vector<Finding> SecretScanner::scan(std::string_view text) const {
  const Compiled& c = *compiled_;
  std::vector<char> wanted(c.compiled.size(), 0);
  for (size_t i : c.always) wanted[i] = 1;
  if (!c.rules_of_keyword.empty()) {
    std::vector<int> hits;
    if (c.keywords->Match(re2::StringPiece(text.data(), text.size()), &hits))
      for (int k : hits)
        for (size_t i : c.rules_of_keyword[static_cast<size_t>(k)]) wanted[i] = 1;
  }

  struct Candidate {
    Finding finding;
    size_t order;
  };
  std::vector<Candidate> found;
  re2::StringPiece input(text.data(), text.size());
  for (size_t i = 0; i < c.compiled.size(); ++i) {
    if (!wanted[i]) continue;
    const Compiled::Rule& r = c.compiled[i];
    int n = r.pattern->NumberOfCapturingGroups() + 1;
    std::vector<re2::StringPiece> groups(static_cast<size_t>(n));
    size_t pos = 0;
    while (pos <= text.size() &&
           r.pattern->Match(input, pos, text.size(), RE2::UNANCHORED, groups.data(), n)) {
      const re2::StringPiece& whole = groups[0];
      size_t whole_begin = static_cast<size_t>(whole.data() - text.data());
      const re2::StringPiece& secret = groups[static_cast<size_t>(r.rule->secret_group)];
      if (secret.data() == nullptr || secret.empty()) {
        pos = whole_begin + 1;
        continue;
      }
      // The next search starts right after the secret (accepted) or its
      // first byte (refused), never after the whole match: what follows a
      // secret (a closing quote) may be what precedes the next one, and a
      // refused candidate may hold a real secret further on.
      size_t begin = static_cast<size_t>(secret.data() - text.data());
      std::string_view s(secret.data(), secret.size());
      bool refused = (r.rule->min_entropy > 0 && shannon_entropy(s) < r.rule->min_entropy) ||
                     s.starts_with("<secret:") || (r.allow && RE2::FullMatch(secret, *r.allow));
      pos = std::max(whole_begin, refused ? begin : begin + secret.size() - 1) + 1;
      if (refused) continue;
      found.push_back({{r.rule, begin, begin + secret.size()}, r.order});
    }
  }
  // Leftmost first; at the same start, the earlier (more specific) rule.
  std::sort(found.begin(), found.end(), [](const Candidate& a, const Candidate& b) {
    if (a.finding.begin != b.finding.begin) return a.finding.begin < b.finding.begin;
    return a.order < b.order;
  });
  std::vector<Finding> out;
  for (const Candidate& cand : found) {
    if (!out.empty() && cand.finding.begin < out.back().end) {
      // Overlap: keep the more specific rule's finding, widened to cover both.
      Finding& last = out.back();
      last.end = std::max(last.end, cand.finding.end);
      continue;
    }
    out.push_back(cand.finding);
  }
  return out;
}

const SecretScanner& default_scanner() {
  static const SecretScanner scanner;
  return scanner;
}

std::string redact(std::string_view text, const std::vector<Finding>& findings) {
  return redact(text, findings, nullptr);
}

std::string redact(std::string_view text, const std::vector<Finding>& findings, size_t* position) {
  std::string out;
  out.reserve(text.size());
  size_t p = position ? std::min(*position, text.size()) : 0;
  bool placed = position == nullptr;
  size_t at = 0;  // out holds text[0, at), redacted
  for (const Finding& f : findings) {
    if (f.begin < at || f.end > text.size()) continue;
    if (!placed && p <= f.begin) {
      *position = out.size() + (p - at);
      placed = true;
    }
    out.append(text.substr(at, f.begin - at));
    out += placeholder(*f.rule);
    // Line breaks stay, so that line numbers (excerpts, chunks, symbol
    // ranges) mean the same in the redacted text.
    out.append(static_cast<size_t>(std::count(text.begin() + static_cast<long>(f.begin),
                                              text.begin() + static_cast<long>(f.end), '\n')),
               '\n');
    if (!placed && p < f.end) {
      *position = out.size();
      placed = true;
    }
    at = f.end;
  }
  if (!placed) *position = out.size() + (p - at);
  out.append(text.substr(at));
  return out;
}

std::string redact(std::string_view text, const SecretScanner& scanner, size_t* count, size_t* position) {
  constexpr int max_passes = 4;
  size_t total = 0;
  std::string out(text);
  for (int pass = 0; pass < max_passes; ++pass) {
    std::vector<Finding> findings = scanner.scan(out);
    if (findings.empty()) break;
    total += findings.size();
    out = redact(out, findings, position);
  }
  if (count) *count = total;
  return out;
}

}  // namespace astfill::trust
