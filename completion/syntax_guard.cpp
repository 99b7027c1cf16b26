// SyntaxGuard: candidate checks on a copy of the document, bracket pairing
// over the tree's tokens, the frontier, hypotheses about open strings (the
// probes), unfinished words, and the search for the longest valid prefix.
// The rules are in syntax_guard.h.
#include "completion/syntax_guard.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <utility>

#include "completion/guard_errors.h"
#include "completion/guard_window.h"
#include "completion/lines.h"
#include "parsing/identifiers.h"
#include "parsing/nodes.h"

namespace astfill::completion {

namespace {

using namespace guard_errors;
using parsing::for_each_preorder;
using parsing::Walk;
using parsing::Document;
using parsing::ParseStatus;

// Whether `text` ends inside a UTF-8 sequence (a token may carry half a character).
bool ends_mid_character(std::string_view text) {
  for (size_t back = 1; back <= 4 && back <= text.size(); ++back) {
    auto c = static_cast<unsigned char>(text[text.size() - back]);
    if ((c & 0xC0) == 0x80) continue;  // a continuation byte: look further back
    size_t length = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    return length > back;
  }
  return false;
}


// A bracket token: the closing byte it expects (opener) or is (closer), and
// how many brackets it stands for (`[[` and `]]` are C++ attribute tokens).
struct BracketToken {
  bool opens = false;
  char closer = 0;
  int count = 0;
};

BracketToken bracket_of(TSNode leaf) {
  std::string_view type = ts_node_type(leaf);
  if (!ts_node_is_named(leaf) || type == "{" || type == "}") {
    if (type == "(") return {true, ')', 1};
    if (type == "[") return {true, ']', 1};
    if (type == "{" || type == "${" || type == "#{") return {true, '}', 1};
    if (type == "[[") return {true, ']', 2};
    if (type == ")") return {false, ')', 1};
    if (type == "]") return {false, ']', 1};
    if (type == "}") return {false, '}', 1};
    if (type == "]]") return {false, ']', 2};
  }
  return {};
}

// The brackets open at `cursor`: every bracket token before it that no later
// token before it closes.
std::vector<OpenBracket> enclosing_brackets(const Document& doc, uint32_t cursor) {
  std::vector<OpenBracket> stack;
  for_each_token(doc.root(), 0, cursor, [&](TSNode leaf) {
    BracketToken b = bracket_of(leaf);
    for (int i = 0; i < b.count; ++i) {
      if (b.opens) {
        stack.push_back({ts_node_start_byte(leaf), b.closer});
        continue;
      }
      // Broken code: a closer that does not match the top closes the nearest
      // bracket it does match, if any.
      auto it = std::find_if(stack.rbegin(), stack.rend(), [&](const OpenBracket& o) { return o.closer == b.closer; });
      if (it != stack.rend()) stack.erase(std::next(it).base(), stack.end());
    }
  });
  return stack;
}

// Pairs the completion's bracket tokens ([cursor, end) of doc) with each
// other and with the brackets open at the cursor. `strict`: a closer of an
// enclosing bracket must match the innermost one; otherwise (the file is
// broken already, so the enclosing stack may hold strays) any one it matches.
CompletionBrackets pair_brackets(const Document& doc, uint32_t cursor, uint32_t end,
                                 const std::vector<OpenBracket>& enclosing, bool strict) {
  CompletionBrackets out;
  size_t outer = enclosing.size();
  for_each_token(doc.root(), cursor, end, [&](TSNode leaf) {
    BracketToken b = bracket_of(leaf);
    for (int i = 0; i < b.count && !out.unmatched; ++i) {
      if (b.opens) {
        out.open.push_back({ts_node_start_byte(leaf), b.closer});
      } else if (!out.open.empty()) {
        if (out.open.back().closer != b.closer) out.unmatched = true;
        else out.open.pop_back();
      } else {
        size_t match = outer;
        while (match > 0 && enclosing[match - 1].closer != b.closer && !strict) --match;
        if (match == 0 || enclosing[match - 1].closer != b.closer) {
          out.unmatched = true;
        } else {
          outer = match - 1;
          if (!out.closes_enclosing) out.closes_enclosing = ts_node_start_byte(leaf) - cursor;
        }
      }
    }
  });
  out.enclosing_open = outer;
  return out;
}

// The frontier for errors_introduced: the end of the last token. Trailing
// blanks are not tokens; newlines are not either, except a Python newline
// outside brackets, not escaped and not after a decorator, which ends a
// statement.
uint32_t frontier_of(std::string_view text, uint32_t cursor, bool python, bool in_brackets) {
  size_t end = text.size();
  while (end > cursor && is_blank_char(text[end - 1])) --end;
  size_t newlines = end;
  while (newlines > cursor && (text[newlines - 1] == '\n' || is_blank_char(text[newlines - 1]))) --newlines;
  // A decorator's line is followed by what it decorates.
  const bool decorator = trim(last_line(text.substr(0, newlines))).starts_with('@');
  const bool escaped = newlines > 0 && text[newlines - 1] == '\\';
  const bool significant = python && !in_brackets && newlines < end && !decorator && !escaped;
  if (!significant) end = newlines;
  return static_cast<uint32_t>(std::max<size_t>(end, cursor));
}

// Whether errors_introduced would count an outermost error before `frontier`
// regardless of where it came from: an ERROR ending before the frontier, or
// a MISSING node before it. When there is none (the usual case), there is
// nothing to compare, and the second parse is saved. Subtrees without
// errors are skipped.
bool has_finished_error(TSNode root, uint32_t frontier) {
  if (ts_node_is_null(root) || !ts_node_has_error(root)) return false;
  return for_each_preorder(root, [&](TSNode node) {
    if (ts_node_start_byte(node) >= frontier) return Walk::Skip;
    if (ts_node_symbol(node) == kErrorSymbol) return ts_node_end_byte(node) < frontier ? Walk::Stop : Walk::Skip;
    if (ts_node_is_missing(node)) return Walk::Stop;
    return ts_node_has_error(node) ? Walk::Enter : Walk::Skip;
  });
}

// The first error at any depth that lies inside (from, frontier): an ERROR
// ending before the frontier or a MISSING node. errors_introduced looks at
// outermost errors only, and a text with something appended after the
// frontier (a probe, closers) may be wrapped whole in one ERROR that hides
// the candidate's own inside it; bytes inside the candidate had no error
// before it, so any error there is the candidate's.
std::optional<uint32_t> inner_error(TSNode root, uint32_t from, uint32_t frontier) {
  if (ts_node_is_null(root) || !ts_node_has_error(root)) return std::nullopt;
  std::optional<uint32_t> found;
  for_each_preorder(root, [&](TSNode node) {
    const uint32_t start = ts_node_start_byte(node), end = ts_node_end_byte(node);
    if (start >= frontier) return Walk::Stop;
    if (end <= from) return Walk::Skip;
    bool error = ts_node_symbol(node) == kErrorSymbol;
    if (start > from && ((error && end < frontier) || ts_node_is_missing(node))) {
      found = start;
      return Walk::Stop;
    }
    return ts_node_has_error(node) ? Walk::Enter : Walk::Skip;
  });
  return found;
}

// Text inserted at the frontier to close a string or comment left open
// there, the opener that must occur before the frontier for the probe to be
// worth a parse, and whether what it closes may span lines (then the opener
// is looked for anywhere before the frontier, else only on the lines from
// the first error or the cursor, whichever is earlier).
struct Probe {
  std::string_view closing, opener;
  bool multiline;
};
constexpr std::array<Probe, 10> kProbes{{
    // Longer closers first: the first probe that works is remembered for the
    // next token, and `"""` still works when the string grows, where `"` may
    // only seem to (it leaves `"""abc"` open after the frontier, pending).
    {"\"\"\"", "\"\"\"", true},
    {"'''", "'''", true},
    {"\"#", "#\"", true},
    {")\"", "R\"", true},
    {"}\"", "{", false},  // a Python f-string's replacement field
    {"}`", "${", true},
    {"*/", "/*", true},
    {"\"", "\"", true},  // Rust strings span lines
    {"'", "'", false},
    {"`", "`", true},
}};
// Whether the text just before `frontier` lies in a string or comment that
// runs past it (into a probe's closer): the probe's hypothesis, "a string is
// open here", holds only then. Otherwise its closer is garbage after the
// frontier that may merge with a real error before it.
bool open_at(const Document& doc, uint32_t frontier) {
  if (frontier == 0) return false;
  TSNode node = ts_node_descendant_for_byte_range(doc.root(), frontier - 1, frontier);
  for (; !ts_node_is_null(node); node = ts_node_parent(node)) {
    if (ts_node_end_byte(node) <= frontier) continue;
    std::string_view type = ts_node_type(node);
    if (doc.language()->comments.contains(node) || type.find("string") != std::string_view::npos ||
        type.find("char") != std::string_view::npos)
      return true;
    if (ts_node_start_byte(node) + 1 < frontier && ts_node_child_count(node) > 1) break;
  }
  return false;
}

// Where the word the text ends with begins, when that word may still grow
// into another token: a keyword (`f` of `for`, `els` of `else`) or a number
// (`1.5e` of `1.5e3`, `0x`); or where a last, unpaired backslash is (`'\` of
// `'\n'`, a line continuation); nullopt otherwise.
std::optional<uint32_t> unfinished_word(std::string_view text, uint32_t from, const parsing::Language& language) {
  // A backslash escapes (or, outside strings, continues the line at) what
  // comes next: judged with it.
  size_t backslashes = 0;
  while (backslashes < text.size() - from && text[text.size() - 1 - backslashes] == '\\') ++backslashes;
  if (backslashes % 2 == 1) return static_cast<uint32_t>(text.size() - 1);
  // An exponent's sign (`1.5e+`, `0x1p-`): the number is still being written.
  if (text.size() > from && (text.back() == '+' || text.back() == '-')) {
    const size_t sign = text.size() - 1;
    const size_t begin = std::max<size_t>(from, parsing::identifier_run_begin(language.id, text, sign));
    if (begin < sign && std::isdigit(static_cast<unsigned char>(text[begin])) &&
        std::string_view("eEpP").find(text[sign - 1]) != std::string_view::npos)
      return static_cast<uint32_t>(begin);
  }
  size_t start = std::max<size_t>(from, parsing::identifier_run_begin(language.id, text, text.size()));
  if (start == text.size()) return std::nullopt;
  std::string_view word = text.substr(start);
  if (std::isdigit(static_cast<unsigned char>(word[0]))) {
    // A number with a letter may be half an exponent or a radix prefix.
    bool letter = std::any_of(word.begin(), word.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
    return letter ? std::optional<uint32_t>(static_cast<uint32_t>(start)) : std::nullopt;
  }
  for (const std::string& keyword : language.keywords)
    if (keyword.starts_with(word)) return static_cast<uint32_t>(start);
  // Keywords a grammar keeps as named tokens, not among its anonymous ones
  // (tree-sitter-rust's `mut` is a mutable_specifier: `*mu` of `*mut`).
  if (language.id == "rust")
    for (std::string_view keyword : {"mut", "self", "super", "crate"})
      if (keyword.starts_with(word)) return static_cast<uint32_t>(start);
  return std::nullopt;
}


}  // namespace

size_t count_syntax_errors(const Document& doc) {
  size_t layout = 0;
  if (doc.language() && doc.language()->id == "python") layout = parsing::python_layout_errors(doc.text()).size();
  return error_marks(doc.root()).size() +
         doc.reserved_words_as_names(0, static_cast<uint32_t>(doc.text().size()) + 1) +
         doc.constructs_refused(0, static_cast<uint32_t>(doc.text().size()) + 1, /*finished=*/true) + layout;
}

namespace {

// `given` when it is prefix + suffix in `language_id`, else a parse of that.
std::shared_ptr<const Document> whole_text(std::string_view language_id, const std::string& prefix,
                                           const std::string& suffix, std::shared_ptr<const Document> given,
                                           const parsing::ParseLimits& limits) {
  if (given && given->language() == parsing::find_language(language_id) &&
      given->text().size() == prefix.size() + suffix.size() && given->text().starts_with(prefix) &&
      given->text().ends_with(suffix))
    return given;
  return std::make_shared<const Document>(language_id, prefix + suffix, limits);
}

// The line of `suffix` (as bytes of prefix + suffix) that continues the
// compound statement the prefix's last line is in: the first line after
// it, past blank, comment and deeper lines, when it is at that line's
// indentation and begins with a clause keyword that only continues one
// (`elif`, `else`, `except`, `finally`); else {0, 0}.
std::pair<uint32_t, uint32_t> next_python_clause(std::string_view prefix, std::string_view suffix) {
  const size_t line = prefix.rfind('\n') == std::string_view::npos ? 0 : prefix.rfind('\n') + 1;
  auto indent_of = [](std::string_view text, size_t from) {
    size_t i = from;
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    return i - from;
  };
  const size_t own = indent_of(prefix, line);
  size_t at = suffix.find('\n');
  while (at != std::string_view::npos) {
    const size_t begin = at + 1, end = std::min(suffix.find('\n', begin), suffix.size());
    const size_t indent = indent_of(suffix, begin);
    const size_t first = begin + indent;
    at = end < suffix.size() ? end : std::string_view::npos;
    if (first >= end || suffix[first] == '#' || suffix[first] == '\r' || indent > own) continue;
    if (indent < own) break;
    const std::string_view word = suffix.substr(first, end - first);
    for (std::string_view kw : {"elif", "else", "except", "finally"})
      if (word.starts_with(kw) && (word.size() == kw.size() || !(std::isalnum(static_cast<unsigned char>(word[kw.size()])) ||
                                                                   word[kw.size()] == '_')))
        return {static_cast<uint32_t>(prefix.size() + first), static_cast<uint32_t>(prefix.size() + end)};
    break;
  }
  return {0, 0};
}

// The prefix alone, parsed: `whole` with the suffix taken away.
Document prefix_of(const Document& whole, uint32_t cursor, const parsing::ParseLimits& limits) {
  Document doc = whole;
  doc.edit(cursor, static_cast<uint32_t>(doc.text().size()), "", limits);
  return doc;
}

}  // namespace

SyntaxGuard::SyntaxGuard(std::string_view language_id, std::string prefix, std::string suffix,
                         const CancellationToken& cancel, std::shared_ptr<const parsing::Document> whole)
    : prefix_(std::move(prefix)),
      suffix_(std::move(suffix)),
      whole_(whole_text(language_id, prefix_, suffix_, std::move(whole), parsing::ParseLimits{cancel})),
      document_(prefix_of(*whole_, static_cast<uint32_t>(prefix_.size()), parsing::ParseLimits{cancel})),
      cancel_(cancel) {
  if (!supported()) return;
  if (document_.language()->id == "python") {
    layout_.emplace();
    layout_->feed(prefix_);
    prefix_layout_ = layout_;
    parsing::PythonLayout both = *layout_;
    both.feed(suffix_);
    both.finish();
    for (const parsing::LayoutIssue& issue : both.issues())
      if (issue.byte >= prefix_.size()) suffix_issues_.push_back(issue);
  }
  const auto cursor = static_cast<uint32_t>(prefix_.size());
  enclosing_ = enclosing_brackets(document_, cursor);
  strict_enclosing_ = whole_->status() == ParseStatus::Parsed && !whole_->has_syntax_errors();
  brackets_.enclosing_open = enclosing_.size();
  prefix_line_start_ = prefix_.rfind('\n') == std::string::npos ? 0 : prefix_.rfind('\n') + 1;
  python_ = document_.language()->id == "python";
  if (python_) open_trys(prefix_trys_, std::string_view(prefix_).substr(0, prefix_line_start_), false);
  bracket_tail_ = bracket_tail(brackets_, std::string_view(prefix_).substr(prefix_line_start_));
  if (!bracket_tail_.empty()) document_.edit(cursor, cursor, bracket_tail_, limits());
  // A cursor inside a string or comment: parse under that hypothesis.
  if (std::optional<size_t> probe = probe_open_at_cursor()) {
    CompletionBrackets brackets;
    std::string tail;
    if (append(document_, "", probe, &brackets, &tail)) {
      open_probe_ = needed_probe_ = probe_open_at_cursor_ = probe;
      brackets_ = brackets;
      bracket_tail_ = tail;
    }
  }
  std::vector<ErrorMark> marks = error_marks(document_.root());
  prefix_broken_ = std::any_of(marks.begin(), marks.end(), [&](const ErrorMark& m) { return m.byte < cursor; });
  for (const ErrorMark& m : marks) prefix_first_error_ = std::min(prefix_first_error_, m.byte);
}

std::optional<size_t> SyntaxGuard::probe_open_at_cursor() const {
  // A string or comment open at the cursor makes errors before it (its
  // opener, the text after it read as code) that closing it removes.
  const auto cursor = static_cast<uint32_t>(prefix_.size());
  auto errors_before_cursor = [&](const Document& doc) {
    std::vector<ErrorMark> marks = error_marks(doc.root());
    return std::count_if(marks.begin(), marks.end(), [&](const ErrorMark& m) { return m.byte < cursor; });
  };
  const auto errors = errors_before_cursor(document_);
  if (errors == 0) return std::nullopt;
  std::string_view before = prefix_;
  std::string_view on_line = last_line(before);
  for (size_t i = 0; i < kProbes.size(); ++i) {
    if ((kProbes[i].multiline ? before : on_line).find(kProbes[i].opener) == std::string_view::npos) continue;
    Document closed = document_;
    if (closed.edit(cursor, cursor, kProbes[i].closing, limits()) != ParseStatus::Parsed) break;
    if (errors_before_cursor(closed) < errors) return i;
  }
  return std::nullopt;
}

parsing::ParseLimits SyntaxGuard::limits() const { return parsing::ParseLimits{cancel_}; }

bool SyntaxGuard::supported() const { return document_.tree() != nullptr; }

uint32_t SyntaxGuard::completion_end() const {
  return static_cast<uint32_t>(document_.text().size() - closer_of(open_probe_).size() - bracket_tail_.size());
}

std::string_view SyntaxGuard::closer_of(std::optional<size_t> probe) {
  return probe ? kProbes[*probe].closing : std::string_view();
}

std::string SyntaxGuard::bracket_tail(const CompletionBrackets& brackets, std::string_view written) const {
  std::string closing;
  for (auto it = brackets.open.rbegin(); it != brackets.open.rend(); ++it) closing += it->closer;
  for (size_t i = brackets.enclosing_open; i > 0; --i) closing += enclosing_[i - 1].closer;
  // On a line of its own, so that a line comment does not swallow it.
  if (!closing.empty()) closing.insert(0, "\n");
  if (!python_) return closing;
  // Python: a try whose handlers are still to come gets `finally: pass`
  // (tree-sitter makes a try without handlers an ERROR that ends before the
  // frontier), innermost first.
  std::vector<uint32_t> trys = prefix_trys_;
  open_trys(trys, written, true);
  for (auto it = trys.rbegin(); it != trys.rend(); ++it) {
    const std::string indent(*it, ' ');
    closing += "\n" + indent + "finally:\n" + indent + "    pass";
  }
  return closing;
}

void SyntaxGuard::open_trys(std::vector<uint32_t>& trys, std::string_view text, bool last_is_open) {
  for (size_t at = 0; at <= text.size();) {
    size_t end = text.find('\n', at);
    const bool partial = end == std::string_view::npos;
    if (partial) end = text.size();
    std::string_view line = text.substr(at, end - at);
    size_t first = line.find_first_not_of(" \t");
    if (first != std::string_view::npos && line[first] != '#' && line[first] != '\r') {
      const auto col = static_cast<uint32_t>(first);  // tabs count as one column here
      std::string_view code = line.substr(first);
      auto keyword = [&](std::string_view word) {
        return code.starts_with(word) && (code.size() == word.size() || !std::isalnum(static_cast<unsigned char>(code[word.size()])));
      };
      // A handler word still being written keeps its try open.
      const bool growing = partial && last_is_open &&
                           (std::string_view("except").starts_with(code) || std::string_view("finally").starts_with(code));
      if (!growing) {
        while (!trys.empty() && trys.back() > col) trys.pop_back();
        if (!trys.empty() && trys.back() == col && !(keyword("else") || keyword("elif"))) trys.pop_back();
        if (keyword("try") && code.find(':') != std::string_view::npos) trys.push_back(col);
      }
    }
    if (partial) break;
    at = end + 1;
  }
}

bool SyntaxGuard::append(Document& doc, std::string_view piece, std::optional<size_t> probe,
                         CompletionBrackets* brackets, std::string* tail) const {
  const auto cursor = static_cast<uint32_t>(prefix_.size());
  const uint32_t at = completion_end();
  const auto old_end = static_cast<uint32_t>(doc.text().size());
  std::string inserted = std::string(piece) + std::string(closer_of(probe)) + bracket_tail_;
  if (doc.edit(at, old_end, inserted, limits()) != ParseStatus::Parsed) return false;
  const auto end = static_cast<uint32_t>(at + piece.size());
  *brackets = pair_brackets(doc, cursor, end, enclosing_, strict_enclosing_);
  *tail = bracket_tail(*brackets, std::string_view(doc.text()).substr(prefix_line_start_, end - prefix_line_start_));
  if (!brackets->unmatched && *tail != bracket_tail_) {
    const auto brackets_at = static_cast<uint32_t>(end + closer_of(probe).size());
    if (doc.edit(brackets_at, static_cast<uint32_t>(doc.text().size()), *tail, limits()) != ParseStatus::Parsed)
      return false;
  } else {
    *tail = bracket_tail_;
  }
  return true;
}

bool SyntaxGuard::breaks_layout(std::string_view piece) const {
  if (!layout_) return false;
  parsing::PythonLayout trial = *layout_;
  trial.feed(piece);
  return trial.issues().size() > layout_->issues().size();
}

namespace {

// A lexical scan of `text` from a point in code (or inside a string opened
// with `open`, when not 0): line and block comments, Python's triple-quoted
// strings, JavaScript's template literals and Go's raw strings are skipped
// whole; `'` after a letter, digit or `_` is no literal outside Python (a C++
// digit separator, a prefix such as `L'x'` is let through). `on_code(i)` is
// called for each byte outside strings and comments, `on_break(i)` for a line
// break that ends a string that may not span lines (`continuation`: unless a
// backslash comes before it); the scan stops when either returns true, and
// says whether one did. `closer_at_end`, when given, is set to what would
// close the string or comment the text ends in ("" when it ends in code; a
// line comment's is "\n").
template <typename OnCode, typename OnBreak>
bool scan_code(std::string_view text, std::string_view id, char open, bool continuation, OnCode on_code,
               OnBreak on_break, std::string* closer_at_end = nullptr) {
  const bool python = id == "python", go = id == "go";
  const bool ecmascript = id == "javascript" || id == "typescript" || id == "typescriptreact";
  char quote = open;
  if (closer_at_end) closer_at_end->clear();
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote) {
      if (c == '\\' && i + 1 < text.size() && (continuation || text[i + 1] != '\n')) {
        ++i;  // an escape, or a continued line
        continue;
      }
      if (c == quote) {
        quote = 0;
      } else if (c == '\n') {
        if (on_break(i)) return true;
        quote = 0;
      }
      continue;
    }
    auto skip_to = [&](std::string_view end) {
      size_t at = text.find(end, i);
      if (at == std::string_view::npos && closer_at_end) *closer_at_end = end;
      i = at == std::string_view::npos ? text.size() : at + end.size() - 1;
    };
    const std::string_view rest = text.substr(i);
    if (python && c == '#') {
      skip_to("\n");
    } else if (!python && rest.starts_with("//")) {
      skip_to("\n");
    } else if (!python && rest.starts_with("/*")) {
      i += 2;
      skip_to("*/");
    } else if (python && (rest.starts_with(R"(""")") || rest.starts_with(R"(''')"))) {
      const std::string closer(rest.substr(0, 3));
      i += 3;
      skip_to(closer);
    } else if ((ecmascript || go) && c == '`') {
      ++i;
      skip_to("`");
    } else if (c == '"' || c == '\'') {
      const bool after_word = i > 0 && (std::isalnum(static_cast<unsigned char>(text[i - 1])) || text[i - 1] == '_');
      if (c == '\'' && after_word && !python) continue;
      quote = c;
    } else if (on_code(i)) {
      return true;
    }
  }
  if (quote && closer_at_end) *closer_at_end = std::string(1, quote);
  return false;
}

// Whether `text`, read as scan_code reads it, puts a line break at or after
// byte `from` into a string literal that may not span lines (one broken
// before `from` already is not this piece's doing).
bool line_break_in_string(std::string_view text, size_t from, std::string_view id, char open, bool continuation) {
  return scan_code(
      text, id, open, continuation, [](size_t) { return false; }, [&](size_t i) { return i >= from; });
}

}  // namespace

bool SyntaxGuard::breaks_string_line(std::string_view piece) const {
  if (piece.find('\n') == std::string_view::npos || !supported()) return false;
  const std::string_view id = document_.language()->id;
  const bool continuation = id == "python" || id == "javascript" || id == "typescript" ||
                            id == "typescriptreact" || id == "c" || id == "cpp";
  if (!continuation && id != "java" && id != "go") return false;  // Rust's strings span lines
  // The cursor inside a string, comment or literal: only a plain quote's
  // string is followed; inside anything else whole_with judges at the end.
  char open = 0;
  if (probe_open_at_cursor_) {
    const std::string_view closer = kProbes[*probe_open_at_cursor_].closing;
    if (closer != "\"" && closer != "'") return false;
    open = closer[0];
  }
  return line_break_in_string(completion_ + std::string(piece), completion_.size(), id, open, continuation);
}

bool SyntaxGuard::stray_python_byte(std::string_view piece, std::string_view before) const {
  if (!layout_ || piece.find_first_of("`$?") == std::string_view::npos) return false;
  // The cursor inside a string, comment or literal: only a plain quote's
  // string is followed (as breaks_string_line does).
  char open = 0;
  if (probe_open_at_cursor_) {
    const std::string_view closer = kProbes[*probe_open_at_cursor_].closing;
    if (closer != "\"" && closer != "'") return false;
    open = closer[0];
  }
  const std::string text = std::string(before) + std::string(piece);
  const size_t from = before.size();
  return scan_code(
      text, "python", open, true,
      [&](size_t i) { return i >= from && (text[i] == '`' || text[i] == '$' || text[i] == '?'); },
      [](size_t) { return false; }, nullptr);
}

bool SyntaxGuard::viable(std::string_view piece) {
  if (!supported() || piece.empty() || cancel_.cancelled()) return true;
  auto start = std::chrono::steady_clock::now();
  if (breaks_layout(piece)) {
    ++stats_.checks;
    ++stats_.rejections;
    ++stats_.layout_rejections;
    stats_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return false;
  }
  if (breaks_string_line(piece) || stray_python_byte(piece, completion_)) {
    ++stats_.checks;
    ++stats_.rejections;
    stats_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return false;
  }
  std::string tail = pending_ + std::string(piece);
  if (ends_mid_character(tail)) return true;
  bool ok = check(tail, &checked_probe_);
  checked_ = tail;
  ++stats_.checks;
  if (!ok) ++stats_.rejections;
  stats_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return ok;
}

std::vector<std::optional<size_t>> SyntaxGuard::hypotheses(std::string_view piece) const {
  // The one the accepted text is parsed under first, unless the piece may
  // close its string (holds a byte of its closer): then none first.
  std::vector<std::optional<size_t>> order;
  auto add = [&](std::optional<size_t> h) {
    if (std::find(order.begin(), order.end(), h) == order.end()) order.push_back(h);
  };
  const bool may_close = open_probe_ && piece.find_first_of(closer_of(open_probe_)) != std::string_view::npos;
  if (!may_close) add(open_probe_);
  add(std::nullopt);
  add(open_probe_);
  add(needed_probe_);
  // Then strings and comments the completion opens: their openers are in it.
  std::string written = completion_.substr(0, completion_.size() - pending_.size()) + std::string(piece);
  std::string_view line = last_line(written);
  for (size_t i = 0; i < kProbes.size(); ++i)
    if ((kProbes[i].multiline ? std::string_view(written) : line).find(kProbes[i].opener) != std::string_view::npos)
      add(i);
  return order;
}

bool SyntaxGuard::check(std::string_view tail, std::optional<size_t>* chosen) {
  *chosen = open_probe_;
  viable_trial_.reset();
  for (std::optional<size_t> probe : hypotheses(tail)) {
    if (probe != open_probe_) ++stats_.probes;
    Document trial = document_;
    CompletionBrackets brackets;
    std::string bracket_tail;
    if (!append(trial, tail, probe, &brackets, &bracket_tail)) return true;  // cancelled or timed out
    if (brackets.unmatched) continue;
    if (clean_under(trial, tail, brackets, probe.has_value())) {
      *chosen = probe;
      // What accept() would parse for this tail: kept, so that accepting it
      // costs no second parse.
      viable_trial_ = ViableTrial{std::string(tail), std::move(trial), brackets, std::move(bracket_tail)};
      return true;
    }
  }
  return false;
}

bool SyntaxGuard::clean_under(const Document& trial, std::string_view tail, const CompletionBrackets& brackets,
                              bool probed) {
  const auto cursor = static_cast<uint32_t>(prefix_.size());
  const auto end = static_cast<uint32_t>(completion_end() + tail.size());
  const bool python = trial.language()->id == "python";
  const bool in_brackets = brackets.enclosing_open > 0 || !brackets.open.empty();
  std::string_view text = std::string_view(trial.text()).substr(0, end);
  // Under a probe, the frontier must be inside the string it closes (the
  // text up to the end, not the trimmed frontier: `"abc ` is open at the space).
  if (probed && !open_at(trial, end)) return false;
  if (clean(trial, frontier_of(text, cursor, python, in_brackets), end)) return true;

  // A word at the frontier may be the start of a keyword or a number, which
  // the closing tail makes a token in the wrong place (`[x for` is fine,
  // `[x f\n]` is not; `1.5e` lexes as `1.5` `e`): judge the text without it,
  // and the word once it is finished.
  std::optional<uint32_t> word = unfinished_word(text, cursor, *trial.language());
  if (!word) return false;
  ++stats_.keyword_parses;
  Document shorter = trial;
  if (shorter.edit(*word, end, "", limits()) != ParseStatus::Parsed) return true;
  text = std::string_view(shorter.text()).substr(0, *word);
  return clean(shorter, frontier_of(text, cursor, python, in_brackets), *word);
}

bool SyntaxGuard::clean(const Document& doc, uint32_t frontier, uint32_t end) {
  const auto cursor = static_cast<uint32_t>(prefix_.size());
  if (has_finished_error(doc.root(), frontier)) {
    ++stats_.base_parses;
    parsing::SyntaxCheck found = doc.errors_introduced(cursor, frontier);
    // In a prefix broken already, recovery may reshape its errors as the
    // text after them grows (a MISSING name becomes an ERROR a byte later):
    // only errors in the completion's bytes count then (inner_error).
    if (found.introduced && !(prefix_broken_ && found.first_error < cursor)) return false;
  }
  if (inner_error(doc.root(), cursor, frontier)) return false;
  // A line break written inside a string that may not span lines.
  if (doc.line_breaks_in_strings(cursor, end) > 0) return false;
  if (doc.unknown_directives(cursor, end) > 0) return false;
  if (doc.constructs_refused(cursor, end, /*finished=*/false) > 0) return false;
  // A keyword the grammar took for a name (`return return`), once finished.
  return doc.reserved_words_as_names(cursor, end) == 0;
}

void SyntaxGuard::accept(std::string_view piece) {
  if (layout_) layout_->feed(piece);
  completion_ += piece;
  boundaries_.push_back(completion_.size());
  pending_ += piece;
  if (!supported() || ends_mid_character(pending_)) return;
  // Which string or comment the text leaves open: known from viable() when
  // it was asked about this piece, else found out now.
  std::optional<size_t> probe = open_probe_;
  if (pending_ == checked_) probe = checked_probe_;
  else if (!cancel_.cancelled()) check(pending_, &probe);
  checked_.clear();
  CompletionBrackets brackets;
  std::string tail;
  const std::string piece_text = std::exchange(pending_, std::string());
  if (viable_trial_ && viable_trial_->tail == piece_text) {
    // The text viable() (or the check above) parsed and found clean under
    // `probe`: append() would parse the same again.
    document_ = std::move(viable_trial_->document);
    brackets_ = viable_trial_->brackets;
    bracket_tail_ = std::move(viable_trial_->bracket_tail);
    viable_trial_.reset();
    open_probe_ = probe;
    if (probe) needed_probe_ = probe;
    return;
  }
  viable_trial_.reset();
  // An unmatched closer accepted anyway keeps the old tail (append does not
  // re-parse for it), and the pairing is reported as it is.
  if (!append(document_, piece_text, probe, &brackets, &tail)) tail = bracket_tail_;
  brackets_ = brackets;
  bracket_tail_ = tail;
  open_probe_ = probe;
  if (probe) needed_probe_ = probe;
}

namespace {
// Whether a bracket token that starts in [begin, end) is left unclosed in
// `root`'s text (brackets inside strings and comments are not tokens; a
// MISSING closer that tree-sitter made up closes nothing).
bool unclosed_bracket_from(TSNode root, uint32_t begin, uint32_t end) {
  std::vector<std::pair<char, uint32_t>> open;
  parsing::for_each_preorder(root, [&](TSNode node) {
    if (ts_node_child_count(node) > 0) return parsing::Walk::Enter;
    if (ts_node_is_missing(node)) return parsing::Walk::Skip;
    std::string_view type = ts_node_type(node);
    if (type.size() != 1) return parsing::Walk::Skip;
    char c = type[0];
    if (c == '(' || c == '[' || c == '{') {
      open.emplace_back(c, ts_node_start_byte(node));
    } else if (c == ')' || c == ']' || c == '}') {
      char want = c == ')' ? '(' : c == ']' ? '[' : '{';
      // A stray closer leaves the stack alone; a closer pops up to its opener.
      for (size_t i = open.size(); i-- > 0;)
        if (open[i].first == want) {
          open.resize(i);
          break;
        }
    }
    return parsing::Walk::Skip;
  });
  return std::any_of(open.begin(), open.end(), [&](const auto& o) { return o.second >= begin && o.second < end; });
}

// The brackets of a tree, in order, as bracket_of reads its leaves (`[[` is
// two); a MISSING closer tree-sitter made up closes nothing.
struct Bracket {
  uint32_t at;
  char c;  // `(` `[` `{` or the closer
};

// The brackets in text[a, b) as scan_code reads the text from the start of
// a's line.
void lex_brackets(std::string_view text, uint32_t a, uint32_t b, std::string_view id, std::vector<Bracket>& out) {
  const size_t line = a == 0 ? 0 : text.rfind('\n', a - 1) + 1;
  const bool continuation = id != "java" && id != "go";
  scan_code(
      text.substr(line, b - line), id, 0, continuation,
      [&](size_t i) {
        const char c = text[line + i];
        if (line + i >= a && std::string_view("([{)]}").find(c) != std::string_view::npos)
          out.push_back({static_cast<uint32_t>(line + i), c});
        return false;
      },
      [](size_t) { return false; });
}

std::vector<Bracket> brackets_in(const Document& doc) {
  std::vector<Bracket> out;
  // Single-line strings that span lines: error recovery read a quote in the
  // wrong state and took code for a string; what it hid is read as code.
  const auto misread = doc.strings_across_lines();
  const std::string_view id = doc.language() ? std::string_view(doc.language()->id) : std::string_view();
  size_t next_misread = 0;
  parsing::for_each_preorder(doc.root(), [&](TSNode node) {
    const uint32_t start = ts_node_start_byte(node);
    while (next_misread < misread.size() && misread[next_misread].second <= start) ++next_misread;
    if (next_misread < misread.size() && misread[next_misread].first == start &&
        misread[next_misread].second == ts_node_end_byte(node)) {
      lex_brackets(doc.text(), start, ts_node_end_byte(node), id, out);
      return parsing::Walk::Skip;
    }
    if (ts_node_child_count(node) > 0) return parsing::Walk::Enter;
    if (ts_node_is_missing(node)) return parsing::Walk::Skip;
    BracketToken b = bracket_of(node);
    const char c = !b.opens ? b.closer : b.closer == ')' ? '(' : b.closer == ']' ? '[' : '{';
    for (int i = 0; i < b.count; ++i) out.push_back({ts_node_start_byte(node), c});
    return parsing::Walk::Skip;
  });
  return out;
}

// How the brackets open at `point` are closed after it. Before `point` a
// closer pops up to its opener (a stray one is skipped); `extra` is more
// brackets at `point`, before the text after it. After `point`,
// brackets opened there pair among themselves; the first closer that reaches
// below `point`'s level must close the innermost bracket still open at
// `point`, the next the one outside it, and so on, and the text's end must
// find none of them open.
struct ClosingFailure {
  bool failed = false;
  bool at_end = false; // the text ended with brackets of `point` still open
  uint32_t after = 0;  // bytes after `point` of the closer that fails, or of the text's end
  size_t level = 0;    // brackets open at `point` closed before it (0: the innermost failed)
};

constexpr char closer_for(char c) { return c == '(' ? ')' : c == '[' ? ']' : c == '{' ? '}' : 0; }

ClosingFailure closing_failure(const std::vector<Bracket>& tokens, uint32_t point, uint32_t text_size,
                               std::string_view extra = {}) {
  std::vector<char> enclosing, local;  // the closers the open brackets want
  auto pop_to = [](std::vector<char>& stack, char closer) {
    auto found = std::find(stack.rbegin(), stack.rend(), closer);
    if (found == stack.rend()) return false;
    stack.resize(static_cast<size_t>(stack.rend() - found) - 1);
    return true;
  };
  size_t level = 0;
  bool extra_done = extra.empty();
  for (size_t i = 0; i <= tokens.size(); ++i) {
    if (!extra_done && (i == tokens.size() || tokens[i].at >= point)) {
      extra_done = true;
      for (char c : extra) {
        if (char want = closer_for(c)) enclosing.push_back(want);
        else pop_to(enclosing, c);
      }
    }
    if (i == tokens.size()) break;
    const Bracket& t = tokens[i];
    std::vector<char>& stack = t.at < point ? enclosing : local;
    if (char want = closer_for(t.c)) {
      stack.push_back(want);
      continue;
    }
    if (pop_to(stack, t.c) || t.at < point) continue;  // paired, or stray before `point`
    // Below `point`'s level: it must close the innermost bracket still open there.
    if (!enclosing.empty() && enclosing.back() == t.c) {
      enclosing.pop_back();
      ++level;
      continue;
    }
    return {true, false, t.at - point, level};
  }
  if (!enclosing.empty()) return {true, true, text_size - point, level};
  return {};
}

// Python: a bracket still open where a line before `limit` begins with a
// keyword that only starts a statement (`def`, `return`, `import`, ...) was
// never closed: CPython stops there ("'(' was never closed"), and the
// statements after it are not inside it. Such brackets are dropped from
// `tokens` (closers after them that were meant for them are then stray), so
// a file broken above the hole's line (`limit`) is not taken for a hole that
// left a bracket open. Brackets open at a keyword line after `limit` stay:
// the hole may be what closes them (`f(a,` + hole, then `return x`).
void drop_abandoned_python_brackets(std::vector<Bracket>& tokens, const Document& doc, uint32_t limit) {
  const std::string_view text = doc.text();
  std::vector<uint32_t> keyword_lines;
  for (size_t line = 0; line < limit && line < text.size();) {
    size_t b = line;
    while (b < text.size() && (text[b] == ' ' || text[b] == '\t')) ++b;
    size_t e = b;
    while (e < text.size() && (std::isalnum(static_cast<unsigned char>(text[e])) || text[e] == '_')) ++e;
    const std::string_view word = text.substr(b, e - b);
    if (b < limit && python_statement_word(word)) {
      // A word token, not one in a string or comment (in an error,
      // tree-sitter-python may lex the keyword as an identifier).
      TSNode leaf = ts_node_descendant_for_byte_range(doc.root(), static_cast<uint32_t>(b), static_cast<uint32_t>(e));
      if (!ts_node_is_null(leaf) && ts_node_child_count(leaf) == 0 && ts_node_start_byte(leaf) == b &&
          ts_node_end_byte(leaf) == e &&
          (ts_node_type(leaf) == word || std::string_view(ts_node_type(leaf)) == "identifier"))
        keyword_lines.push_back(static_cast<uint32_t>(b));
    }
    const size_t next = text.find('\n', line);
    if (next == std::string_view::npos) break;
    line = next + 1;
  }
  if (keyword_lines.empty()) return;
  std::vector<size_t> open;  // indices in `tokens` of the openers still open
  std::vector<bool> dropped(tokens.size(), false);
  size_t k = 0;
  for (size_t i = 0; i <= tokens.size(); ++i) {
    const uint32_t at = i < tokens.size() ? tokens[i].at : UINT32_MAX;
    for (; k < keyword_lines.size() && keyword_lines[k] <= at; ++k) {
      for (size_t o : open) dropped[o] = true;
      open.clear();
    }
    if (i == tokens.size() || at >= limit) break;
    if (closer_for(tokens[i].c)) {
      open.push_back(i);
      continue;
    }
    for (size_t j = open.size(); j-- > 0;)
      if (closer_for(tokens[open[j]].c) == tokens[i].c) {
        open.resize(j);
        break;
      }
  }
  size_t w = 0;
  for (size_t i = 0; i < tokens.size(); ++i)
    if (!dropped[i]) tokens[w++] = tokens[i];
  tokens.resize(w);
}

// Where the innermost bracket still open at `point` was opened (npos: none).
uint32_t innermost_open_at(const std::vector<Bracket>& tokens, uint32_t point) {
  std::vector<Bracket> open;
  for (const Bracket& t : tokens) {
    if (t.at >= point) break;
    if (closer_for(t.c)) {
      open.push_back(t);
      continue;
    }
    auto found = std::find_if(open.rbegin(), open.rend(), [&](const Bracket& o) { return closer_for(o.c) == t.c; });
    if (found != open.rend()) open.resize(static_cast<size_t>(open.rend() - found) - 1);
  }
  return open.empty() ? UINT32_MAX : open.back().at;
}

// Java: whether a class, enum or record whose name lies in [from, to) (the
// answer wrote it) has a constructor the language refuses, however far below
// the hole: `pu` + `blic class Underlying extends IBuffer {` renames the
// class, and each constructor below, still of the old name, is to javac a
// method without a return type. The walk goes down only through nodes that
// overlap the range.
bool renamed_class_constructors_refused(const Document& doc, uint32_t from, uint32_t to) {
  if (!doc.language() || std::string_view(doc.language()->id) != "java" || !doc.tree()) return false;
  std::vector<TSNode> stack{doc.root()};
  while (!stack.empty()) {
    const TSNode node = stack.back();
    stack.pop_back();
    const std::string_view type = ts_node_type(node);
    if (type == "class_declaration" || type == "enum_declaration" || type == "record_declaration") {
      const TSNode name = ts_node_child_by_field_name(node, "name", 4);
      const TSNode body = ts_node_child_by_field_name(node, "body", 4);
      if (!ts_node_is_null(name) && !ts_node_is_null(body) && ts_node_start_byte(name) < to &&
          ts_node_end_byte(name) > from) {
        std::vector<TSNode> members{body};
        for (uint32_t i = 0, n = ts_node_named_child_count(body); i < n; ++i) {
          const TSNode child = ts_node_named_child(body, i);
          if (std::string_view(ts_node_type(child)) == "enum_body_declarations") members.push_back(child);
        }
        for (const TSNode& holder : members)
          for (uint32_t i = 0, n = ts_node_named_child_count(holder); i < n; ++i) {
            const TSNode member = ts_node_named_child(holder, i);
            if (std::string_view(ts_node_type(member)) != "constructor_declaration") continue;
            const TSNode member_name = ts_node_child_by_field_name(member, "name", 4);
            if (!ts_node_is_null(member_name) &&
                doc.constructs_refused(ts_node_start_byte(member_name), ts_node_end_byte(member_name),
                                       /*finished=*/true) > 0)
              return true;
          }
      }
    }
    for (uint32_t i = 0, n = ts_node_child_count(node); i < n; ++i) {
      const TSNode child = ts_node_child(node, i);
      if (ts_node_start_byte(child) < to && ts_node_end_byte(child) > from) stack.push_back(child);
    }
  }
  return false;
}

// Whether the code before `end` in `doc` ends with the body of a `do`
// (`do { ... }`: its `while` still to come, perhaps begun on the hole's line)
// or of a `try` (its `catch` or `finally` to come), in the languages that
// have one.
bool ends_with_do_body(const Document& doc, uint32_t end) {
  const std::string_view id = doc.language() ? std::string_view(doc.language()->id) : std::string_view();
  if (id != "c" && id != "cpp" && id != "java" && id != "javascript" && id != "typescript" && id != "typescriptreact")
    return false;
  const std::string_view text = doc.text();
  if (end > text.size()) return false;
  // A word the hole finishes (`} whil` before `e (n > 0);`), then space.
  while (end > 0 && (std::isalnum(static_cast<unsigned char>(text[end - 1])) || text[end - 1] == '_')) --end;
  while (end > 0 && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  if (end == 0 || text[end - 1] != '}') return false;
  std::vector<uint32_t> open;  // where each `{` still open was opened
  std::optional<uint32_t> opener;
  for (const Bracket& t : brackets_in(doc)) {
    if (t.at >= end) break;
    if (t.c == '{') open.push_back(t.at);
    else if (t.c == '}' && !open.empty()) {
      if (t.at == end - 1) opener = open.back();
      open.pop_back();
    }
  }
  if (!opener) return false;
  std::string_view before = text.substr(0, *opener);
  while (!before.empty() && std::isspace(static_cast<unsigned char>(before.back()))) before.remove_suffix(1);
  // A `try`'s body too: the hole held its `catch` or `finally`, and without
  // them the grammars wrap the statement in an error that starts at `try`.
  const size_t keyword = before.ends_with("do") ? 2 : before.ends_with("try") ? 3 : 0;
  if (keyword == 0) return false;
  before.remove_suffix(keyword);
  return before.empty() || !(std::isalnum(static_cast<unsigned char>(before.back())) || before.back() == '_' ||
                             before.back() == '$');
}

}  // namespace
const SyntaxGuard* SyntaxGuard::window() const {
  if (window_) return window_->get();
  window_.emplace();
  if (in_window_ || !supported() || whole_->status() != ParseStatus::Parsed) return nullptr;
  // Where the file is broken: its errors' and layout issues' starts.
  std::vector<uint32_t> breaks;
  for (const ErrorMark& m : error_marks(whole_->root())) breaks.push_back(m.byte);
  if (prefix_layout_)
    for (const parsing::LayoutIssue& issue : prefix_layout_->issues()) breaks.push_back(issue.byte);
  if (breaks.empty()) return nullptr;
  const uint32_t first_break = *std::min_element(breaks.begin(), breaks.end());
  const size_t line_begin = prefix_line_start_;
  // A few windows at most: each is a parse of its text.
  constexpr size_t kWindows = 4;
  std::optional<std::vector<Bracket>> brackets;
  for (GuardWindow w : enclosing_windows(document_.language()->id, prefix_, kWindows)) {
    // It must leave a break out: one that starts before it, or at its first
    // byte (tree-sitter-go ends an `import (` left open at the next `func`
    // and begins its error there), which the window's own parse then judges.
    if (first_break > w.from) continue;
    if (!prefix_layout_) {
      // Braces: the blocks open where the window starts (a namespace's, an
      // `extern "C"`'s) open it too, each as its own line up to its brace.
      // A `(` or `[` still open at a line that starts at column 0 is the
      // break the window leaves out (with the code after it, a call or list
      // that would hold a top-level declaration is unclosed).
      if (!brackets) brackets = brackets_in(*whole_);
      std::vector<uint32_t> open;
      for (const Bracket& b : *brackets) {
        if (b.at >= w.from) break;
        if (closer_for(b.c)) open.push_back(b.at);
        else
          for (size_t i = open.size(); i-- > 0;)
            if (closer_for(prefix_[open[i]]) == b.c) {
              open.resize(i);
              break;
            }
      }
      for (uint32_t at : open) {
        if (prefix_[at] != '{') continue;
        const size_t line = prefix_.rfind('\n', at);
        w.preamble += prefix_.substr(line == std::string::npos ? 0 : line + 1, at + 1 - (line == std::string::npos ? 0 : line + 1));
        w.preamble += '\n';
      }
    }
    auto guard = std::make_shared<SyntaxGuard>(document_.language()->id, w.preamble + prefix_.substr(w.from),
                                               suffix_, cancel_);
    guard->in_window_ = true;
    // Whole above the cursor's line: no error or layout issue starts there
    // (an error that does is the window's own break, or the hole's error
    // reaching up, which the whole file judges better).
    const size_t window_line = w.preamble.size() + (line_begin - w.from);
    bool whole_above = guard->whole_->status() == ParseStatus::Parsed;
    for (const ErrorMark& m : error_marks(guard->whole_->root())) whole_above = whole_above && m.byte >= window_line;
    if (guard->prefix_layout_)
      for (const parsing::LayoutIssue& issue : guard->prefix_layout_->issues())
        whole_above = whole_above && issue.byte >= window_line;
    if (!whole_above) continue;
    *window_ = std::move(guard);
    break;
  }
  return window_->get();
}

bool SyntaxGuard::fits(std::string_view text, bool whole) const {
  if (const SyntaxGuard* w = window()) return w->fits(text, whole);
  const auto cursor = static_cast<uint32_t>(prefix_.size());
  const auto inserted = static_cast<uint32_t>(text.size());
  const Document& base = *whole_;
  // The hole: from after the prefix's last to before the suffix's first
  // non-whitespace byte.
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f'; };
  uint32_t hole_begin = cursor, hole_end = cursor;
  while (hole_begin > 0 && space(prefix_[hole_begin - 1])) --hole_begin;
  while (hole_end - cursor < suffix_.size() && space(suffix_[hole_end - cursor])) ++hole_end;
  // Python's layout is judged at a line's first statement: comment lines
  // after the hole do not part it from the suffix's code (`if m:` above a
  // hole that held its body, then `    # Finished` and `    return x`: the
  // missing block is reported at `return`).
  uint32_t layout_hole_end = hole_end;  // for a layout issue: at_hole
  if (prefix_layout_) {
    while (layout_hole_end - cursor < suffix_.size() && suffix_[layout_hole_end - cursor] == '#') {
      const size_t line_end = suffix_.find('\n', layout_hole_end - cursor);
      if (line_end == std::string::npos) break;
      layout_hole_end = static_cast<uint32_t>(line_end + cursor);
      while (layout_hole_end - cursor < suffix_.size() && space(suffix_[layout_hole_end - cursor])) ++layout_hole_end;
    }
  }
  auto at_hole = [&](uint32_t byte) { return byte >= hole_begin && byte <= layout_hole_end; };
  // A tree-sitter error is at the hole when it reaches into it and starts no
  // earlier than the line the prefix's code ends on (`y = ` before the hole,
  // `def f(x):` above an empty body), not when it runs through it from far
  // above (a file broken elsewhere).
  const size_t line_begin = hole_begin == 0 ? 0 : prefix_.rfind('\n', hole_begin - 1) + 1;
  // Where the code before the hole's line ends: a token tree-sitter found
  // missing there (a `;` after `void f(S s)` when the hole held the line
  // `throws IOException {`) is the hole's too.
  size_t code_before_line = line_begin;
  while (code_before_line > 0 && space(prefix_[code_before_line - 1])) --code_before_line;
  // An error that starts on that line and ends before the hole is the
  // hole's too: `export i` before a hole that was `nterface I {` is an
  // `export` with nothing to export (tree-sitter ends its ERROR at `export`
  // and reads `i` as an expression).
  // So is an error on the suffix's first line: with the hole's code missing,
  // that line joins the one before it (`p` then `private long max`: a field
  // of type `p` named `private`; `type C` then `func Test(...)`: a function
  // type), and it is the hole's answer that must part them.
  // Comments between the hole and that line do not part them: `int red`
  // before a doc comment, with `uce(int identity, ...);` the hole's, is a
  // constant with no `= value`, and tree-sitter-java puts its MISSING `;`
  // at the comment's end.
  if (!suffix_code_line_end_) {
    uint32_t code = hole_end;
    const std::string& all = base.text();
    while (code < all.size()) {
      TSNode node = ts_node_descendant_for_byte_range(base.root(), code, code + 1);
      while (!ts_node_is_null(node) && !base.language()->comments.contains(node)) node = ts_node_parent(node);
      if (ts_node_is_null(node) || ts_node_start_byte(node) > code) break;
      code = ts_node_end_byte(node);
      while (code < all.size() && space(all[code])) ++code;
    }
    suffix_code_line_end_ = std::min(suffix_.find('\n', std::max(code, hole_end) - cursor), suffix_.size()) + cursor;
  }
  const size_t next_line_end = *suffix_code_line_end_;
  // And so is an error that runs through the hole from a `do` whose body
  // the prefix ends with: the hole held its `while (...);`, and without it
  // tree-sitter-c wraps the whole function in one error, which would pass
  // for a file broken elsewhere.
  if (!do_body_before_hole_) do_body_before_hole_ = ends_with_do_body(base, hole_begin);
  if (!statement_errors_) statement_errors_ = statement_errors(base, cursor, static_cast<uint32_t>(line_begin),
                                                                     static_cast<uint32_t>(hole_end), 10);
  // Python: an error at the next clause of the hole's compound statement is
  // the hole's (`el` + `se:` where an `elif` chain goes on below: the hole
  // held `if b:`, and without it the `elif` under the body is orphaned, with
  // the answer or without).
  if (!next_clause_) next_clause_ = prefix_layout_ ? next_python_clause(prefix_, suffix_) : std::pair<uint32_t, uint32_t>{};
  auto error_at_hole = [&](const ErrorMark& m) {
    if (m.byte >= next_clause_->first && m.byte < next_clause_->second) return true;
    if (*do_body_before_hole_ && m.byte < hole_begin && m.end >= hole_begin) return true;
    // An error from the line above that ends on the hole's line: the hole's
    // code was what would have ended it (`enumerate(args)` above `i` where
    // `if hasattr(x, ...))` was: tree-sitter-python wraps both lines).
    if (m.byte < line_begin && m.end > line_begin && m.end <= hole_begin) return true;
    // Likewise one that ends on the suffix's first code line where the
    // prefix alone is whole above the hole's line: tree-sitter began it
    // above only to recover (`def ` + `__str__(self):` in a class with a
    // docstring: without the name, tree-sitter-python wraps the class from
    // its docstring to the body's first line; the prefix alone has its one
    // error at `def`).
    if (m.byte < line_begin && m.end > line_begin && m.end <= next_line_end && prefix_first_error_ >= line_begin)
      return true;
    if (m.symbol != 0 && m.byte >= code_before_line && m.byte < line_begin) return true;  // a MISSING token
    if (std::binary_search(statement_errors_->begin(), statement_errors_->end(), m.byte)) return true;
    return m.byte >= line_begin && m.byte <= next_line_end;
  };
  // The brackets open at the hole must be closed by the suffix: where
  // prefix + suffix fails to close the innermost of them (a `(` the prefix
  // opened whose `)` was in the hole, a `}` in the suffix whose `{` was), the
  // hole made the file invalid; a failure further out (a file broken
  // elsewhere, braces in both branches of an `#if`) is the file's own and
  // only must not move.
  // So is a closer in the suffix that one bracket at the hole would have
  // paired (`if d%8 != 0 {` was the hole: its `}` closes the function's
  // brace, and the function's closes nothing).
  if (whole && !base_closing_) {
    std::vector<Bracket> tokens = brackets_in(base);
    if (prefix_layout_) drop_abandoned_python_brackets(tokens, base, static_cast<uint32_t>(line_begin));
    const auto size = static_cast<uint32_t>(base.text().size());
    ClosingFailure f = closing_failure(tokens, cursor, size);
    bool hole = f.failed && f.level == 0;
    // A failure at the text's end is the file's own (a file still being
    // written, with its braces to come) unless the innermost bracket open at
    // the hole was opened on the hole's own line: `[1` before a hole that was
    // `403443605, 441919183],` leaves the list's `[` to the suffix's `]` two
    // levels out, and the outer list open at the end.
    const uint32_t innermost = innermost_open_at(tokens, cursor);
    const bool own_line = innermost != UINT32_MAX && innermost >= line_begin;
    // One to three brackets at the hole (`.forEach(function (m) {` was the
    // hole: its `});` below closes the brackets one level out instead).
    if (f.failed && (!f.at_end || own_line) && !hole) {
      static constexpr std::string_view kBrackets = "([{)]}";
      for (size_t i = 0; i < kBrackets.size() && !hole; ++i)
        hole = !closing_failure(tokens, cursor, size, kBrackets.substr(i, 1)).failed;
      // Two: both openers or both closers (an opener and a closer would pair).
      for (size_t i = 0; i < kBrackets.size() && !hole; ++i)
        for (size_t j = i / 3 * 3; j < i / 3 * 3 + 3 && !hole; ++j)
          hole = !closing_failure(tokens, cursor, size, std::string{kBrackets[i], kBrackets[j]}).failed;
      // Three openers: a call that takes a callback (`cst := ` before a hole
      // that was `newClientServerTest(t, h2, HandlerFunc(func(w
      // ResponseWriter, r *Request) {`, whose `}))` is two lines below).
      for (size_t i = 0; i < 3 && !hole; ++i)
        for (size_t j = 0; j < 3 && !hole; ++j)
          for (size_t k = 0; k < 3 && !hole; ++k)
            hole = !closing_failure(tokens, cursor, size, std::string{kBrackets[i], kBrackets[j], kBrackets[k]}).failed;
    }
    base_closing_ = BaseClosing{f.failed, hole, f.after};
  }
  const bool hole_unclosed = whole && base_closing_->hole;
  if (stray_python_byte(text, "")) return false;
  // Names and constructs the language refuses, from the hole's line through
  // the suffix's first line (`fwrit` then `if (x) {`: tree-sitter-c reads a
  // function `if` returning `fwrit`).
  const auto refused_near_hole = [&](const Document& doc, uint32_t added) {
    const auto from = static_cast<uint32_t>(line_begin), to = static_cast<uint32_t>(next_line_end + added + 1);
    return doc.reserved_words_as_names(from, to, /*finished=*/true) > 0 ||
           doc.constructs_refused(from, to, /*finished=*/true) > 0;
  };
  // Whether prefix + suffix has a syntax error at the hole (an outer one, or
  // one nested in an error that runs through it): the hole left the file
  // broken, and an answer must repair it. The same for every candidate.
  const auto base_hole_error = [&] {
    if (!base_hole_error_) {
      const std::vector<ErrorMark> marks = error_marks(base.root());
      base_hole_error_ = std::any_of(marks.begin(), marks.end(), error_at_hole) ||
                         nested_error_between(base.root(), static_cast<uint32_t>(code_before_line),
                                              static_cast<uint32_t>(next_line_end));
    }
    return *base_hole_error_;
  };
  if (whole && text.empty()) {
    // Nothing repairs the hole, and nothing else changes.
    if (hole_unclosed) return false;
    if (refused_near_hole(base, 0)) return false;
    if (unclosed_bracket_from(base.root(), static_cast<uint32_t>(line_begin), cursor)) return false;
    return !base_hole_error() && std::none_of(suffix_issues_.begin(), suffix_issues_.end(),
                                              [&](const parsing::LayoutIssue& i) { return at_hole(i.byte); });
  }

  // Python's layout: the scanner after the prefix reads the text and the suffix.
  if (prefix_layout_) {
    parsing::PythonLayout trial = *prefix_layout_;
    trial.feed(text);
    trial.feed(suffix_);
    trial.finish();
    for (const parsing::LayoutIssue& issue : trial.issues()) {
      if (issue.byte < cursor) continue;  // the prefix's own, unchanged
      if (issue.byte < cursor + inserted) return false;
      parsing::LayoutIssue old{issue.byte - inserted, issue.kind};
      bool had = std::find(suffix_issues_.begin(), suffix_issues_.end(), old) != suffix_issues_.end();
      if (!had || (whole && at_hole(old.byte))) return false;
    }
  }

  Document trial = base;
  if (trial.edit(cursor, cursor, text, limits()) != ParseStatus::Parsed) return false;
  // The suffix follows the text: a word ending there is finished.
  if (trial.reserved_words_as_names(cursor, cursor + inserted + 1, /*finished=*/whole) > 0) return false;
  if (trial.constructs_refused(cursor, cursor + inserted + 1, /*finished=*/whole) > 0) return false;
  if (whole && refused_near_hole(trial, inserted)) return false;
  if (whole && renamed_class_constructors_refused(trial, cursor, cursor + inserted)) return false;
  // A line break in a string that may not span lines (the grammars accept it).
  if (trial.line_breaks_in_strings(cursor, cursor + inserted) > 0) return false;
  // A preprocessing directive the preprocessor does not know (the grammar reads any `#word`).
  if (trial.unknown_directives(cursor, cursor + inserted + 1) > 0) return false;
  std::vector<ErrorMark> before = error_marks(base.root());
  if (!whole) {
    std::sort(before.begin(), before.end());
    return !has_new_errors(trial, before, cursor, inserted);
  }
  // An error of the completion's own, even one nested in an error that
  // runs through the hole from above.
  if (error_inside(trial.root(), cursor, cursor + inserted)) return false;
  // And, where the hole left the file broken, an error from above the hole's
  // line that ends inside the answer: the answer's own text is part of what
  // tree-sitter could not parse (`def __e` + `t:` in a class: an error from
  // the class's docstring to `__et:`). Not where the hole was whole without
  // an answer: then such an error is the file's own, broken above (`c =
  // shapes.` two lines above `return ` + `x + 1`, which tree-sitter-python
  // wraps from the file's start to the answer's end).
  const std::vector<ErrorMark> now = error_marks(trial.root());
  if (base_hole_error())
    for (const ErrorMark& mark : now)
      if (mark.symbol == 0 && mark.byte < line_begin && mark.end > cursor && mark.end <= cursor + inserted)
        return false;
  // And one at the hole nested in an error that begins above it: the outer
  // error is the only one error_marks() lists, and it may be the hole's own
  // (`...too` + `eed` above `parsed_arguments: x,` in an object literal:
  // tree-sitter-javascript wraps the object in an error from its `{` and
  // nests one at the next line's pair; `def test` + `tion:` in a class: an
  // error wraps the class and nests one at `testtion`).
  // Where the hole left the file broken, that includes one that ends where
  // the code before the hole's line ends: the hole's `throws IOException {`
  // left `void writeObject(S s)` without its `;` or body, and an answer
  // that does not give it one (`thro` + `nt = a &&`) turns the missing `;`
  // into an error from `writeObject` to `)`.
  if (nested_error_between(trial.root(), static_cast<uint32_t>(code_before_line),
                           static_cast<uint32_t>(next_line_end + inserted), base_hole_error()))
    return false;
  // Whole: errors at the hole must go; before the hole, a broken prefix's
  // errors count by number.
  std::vector<ErrorMark> kept;
  size_t before_hole = 0;
  for (const ErrorMark& mark : before) {
    if (error_at_hole(mark)) continue;
    if (mark.byte < hole_begin) ++before_hole;
    kept.push_back(mark);
  }
  std::sort(kept.begin(), kept.end());
  size_t now_before_hole = 0;
  for (const ErrorMark& mark : now) {
    uint32_t byte = mark.byte;
    // An error before the hole counts by number only where it is not the
    // hole's (on the hole's line, or from a `do` body the prefix ends with):
    // `retu` + `  0` in a file broken further up is one error from `retu` on.
    if (byte < hole_begin && before_hole > 0 && !error_at_hole(mark)) {
      ++now_before_hole;
      continue;
    }
    if (byte > cursor && byte < cursor + inserted) return false;
    if (byte >= cursor + inserted) byte -= inserted;
    else if (byte >= cursor) byte = cursor;
    if (!std::binary_search(kept.begin(), kept.end(), ErrorMark{byte, mark.symbol})) return false;
  }
  if (now_before_hole > before_hole) return false;
  if (!prefix_layout_ && error_in_opened_block(trial, cursor, cursor + inserted)) return false;
  // The bracket checks walk every token of the file: last, once the checks
  // above (walks pruned to errors and to the hole) all hold; most cuts that
  // whole_answer tries fail one of those.
  // A bracket the prefix opened on the hole's own line that nothing closes
  // (`print(` with the call's end still to write): the hole made the file
  // invalid, and the answer must repair it. Tree-sitter may wrap such a call
  // in an error that begins far above the hole (at the enclosing `def`), which
  // the error rules above would take for a file broken elsewhere.
  if (unclosed_bracket_from(trial.root(), static_cast<uint32_t>(line_begin), cursor)) return false;
  std::vector<Bracket> tokens = brackets_in(trial);
  if (prefix_layout_) drop_abandoned_python_brackets(tokens, trial, static_cast<uint32_t>(line_begin));
  ClosingFailure f = closing_failure(tokens, cursor + inserted, static_cast<uint32_t>(trial.text().size()));
  return !(f.failed && (hole_unclosed || !base_closing_->failed || f.after != base_closing_->after));
}

std::vector<size_t> SyntaxGuard::cuts_of(std::string_view text, bool whole) const {
  // Cut points, longest first: the end, every line end (after the '\n'; for
  // `whole` also before it), and where accept() ended while `text` is the
  // completion's start.
  std::vector<size_t> cuts{text.size()};
  if (std::string_view(completion_).starts_with(text))
    for (size_t b : boundaries_)
      if (b <= text.size()) cuts.push_back(b);
  for (size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n') {
      if (whole) cuts.push_back(i);  // before the newline too: no trailing line break
      cuts.push_back(i + 1);
    }
  std::sort(cuts.begin(), cuts.end(), std::greater<>());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  return cuts;
}

size_t SyntaxGuard::longest_fitting(std::string_view text, bool whole) const {
  if (!supported()) return text.size();
  if (whole_->status() != ParseStatus::Parsed) return text.size();
  for (size_t cut : cuts_of(text, whole)) {
    if (cut == 0) break;
    std::string_view kept = text.substr(0, cut);
    if (ends_mid_character(kept)) continue;
    if (cancel_.cancelled()) return 0;
    if (fits(kept, whole)) return cut;
  }
  return 0;
}

size_t SyntaxGuard::longest_valid_prefix() const {
  if (!supported() || completion_.empty()) return completion_.size();
  return longest_fitting(completion_, false);
}

bool SyntaxGuard::whole_with(std::string_view text) const {
  if (!supported() || whole_->status() != ParseStatus::Parsed) return true;
  return fits(text, true);
}

size_t SyntaxGuard::longest_whole_prefix(std::string_view text) const {
  if (text.empty()) return 0;
  return longest_fitting(text, true);
}

std::optional<std::string> SyntaxGuard::closing_of(std::string_view text) const {
  if (!supported()) return std::nullopt;
  const std::string_view id = document_.language()->id;
  // The cursor inside a string: only a plain quote's is followed (as
  // breaks_string_line does); a closer after a backslash would be escaped.
  char open = 0;
  if (probe_open_at_cursor_) {
    const std::string_view closer = kProbes[*probe_open_at_cursor_].closing;
    if (closer != "\"" && closer != "'") return std::nullopt;
    open = closer[0];
  }
  if (text.ends_with('\\')) return std::nullopt;
  std::vector<char> wanted;  // the closers the completion's open brackets want
  bool mismatched = false;
  std::string string_closer;
  scan_code(
      text, id, open, id != "java" && id != "go",
      [&](size_t i) {
        const char c = text[i];
        if (char want = closer_for(c)) {
          wanted.push_back(want);
        } else if (c == ')' || c == ']' || c == '}') {
          // With nothing of its own open it closes a bracket opened before
          // the cursor (whole_with judges that); else it must close the
          // innermost.
          if (!wanted.empty() && wanted.back() != c) mismatched = true;
          if (!wanted.empty()) wanted.pop_back();
        }
        return mismatched;
      },
      [](size_t) { return false; }, &string_closer);
  if (mismatched) return std::nullopt;
  std::string closing = string_closer == "\n" && wanted.empty() ? std::string() : string_closer;
  for (auto it = wanted.rbegin(); it != wanted.rend(); ++it) closing += *it;
  return closing;
}

std::string SyntaxGuard::whole_answer(std::string_view text) const {
  if (text.empty()) return {};
  if (!supported() || whole_->status() != ParseStatus::Parsed) return std::string(text);
  const std::string_view id = document_.language()->id;
  const bool semicolons = id == "c" || id == "cpp" || id == "java" || id == "javascript" || id == "typescript" ||
                          id == "typescriptreact" || id == "rust";
  // Closed variants parse the whole text each: a few, for the longest cuts.
  constexpr size_t kClosedTries = 8;
  size_t closed_tries = 0;
  for (size_t cut : cuts_of(text, true)) {
    if (cut == 0) break;
    std::string kept(text.substr(0, cut));
    if (ends_mid_character(kept)) continue;
    if (cancel_.cancelled()) return {};
    if (fits(kept, true)) return kept;
    // Closers after some of the model's code, never alone, and at the end
    // of a line's code rather than at the start of the next line.
    if (closed_tries >= kClosedTries || kept.back() == '\n' || kept.find_first_not_of(" \t\r\n") == std::string::npos)
      continue;
    const std::optional<std::string> closing = closing_of(kept);
    if (!closing) continue;
    std::vector<std::string> variants;
    if (!closing->empty()) variants.push_back(kept + *closing);
    if (semicolons) variants.push_back(kept + *closing + ";");
    for (const std::string& closed : variants) {
      ++closed_tries;
      if (fits(closed, true)) return closed;
    }
  }
  return {};
}

}  // namespace astfill::completion
