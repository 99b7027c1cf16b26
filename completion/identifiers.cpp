// Identifiers near the cursor: a per-line lexer (words, punctuation; strings
// and line comments skipped), the keyword tables, and the rules for "this
// window defines that name".
#include "completion/identifiers.h"

#include <algorithm>
#include <set>
#include <unordered_set>

#include "parsing/identifiers.h"
#include "support/utf8.h"

namespace astfill::completion {
namespace {

using Words = std::unordered_set<std::string_view>;

const Words& python_keywords() {
  static const Words w = {"False", "None", "True", "and", "as", "assert", "async", "await", "break", "class",
                          "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global",
                          "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise",
                          "return", "try", "while", "with", "yield", "self", "cls", "match", "case"};
  return w;
}

const Words& javascript_keywords() {
  static const Words w = {
      "abstract", "any", "as", "async", "await", "boolean", "break", "case", "catch", "class", "const",
      "constructor", "continue", "debugger", "declare", "default", "delete", "do", "else", "enum", "export",
      "extends", "false", "finally", "for", "from", "function", "get", "if", "implements", "import", "in",
      "instanceof", "interface", "keyof", "let", "module", "namespace", "never", "new", "null", "number", "of",
      "private", "protected", "public", "readonly", "require", "return", "set", "static", "string", "super",
      "switch", "symbol", "this", "throw", "true", "try", "type", "typeof", "undefined", "unknown", "var",
      "void", "while", "with", "yield"};
  return w;
}

const Words& c_keywords() {
  static const Words w = {
      "alignas", "alignof", "auto", "bool", "break", "case", "catch", "char", "class", "const", "constexpr",
      "consteval", "const_cast", "continue", "decltype", "default", "define", "delete", "do", "double",
      "dynamic_cast", "else", "endif", "enum", "explicit", "extern", "false", "float", "for", "friend", "goto",
      "if", "ifdef", "ifndef", "include", "inline", "int", "long", "mutable", "namespace", "new", "noexcept",
      "nullptr", "operator", "override", "private", "protected", "public", "register", "reinterpret_cast",
      "restrict", "return", "short", "signed", "sizeof", "static", "static_assert", "static_cast", "struct",
      "switch", "template", "this", "throw", "true", "try", "typedef", "typename", "union", "unsigned", "using",
      "virtual", "void", "volatile", "while", "NULL", "size_t", "uint8_t", "uint16_t", "uint32_t", "uint64_t",
      "int8_t", "int16_t", "int32_t", "int64_t", "std"};
  return w;
}

const Words& go_keywords() {
  static const Words w = {"break", "case", "chan", "const", "continue", "default", "defer", "else",
                          "fallthrough", "for", "func", "go", "goto", "if", "import", "interface", "map",
                          "package", "range", "return", "select", "struct", "switch", "type", "var", "nil",
                          "true", "false", "bool", "byte", "error", "float32", "float64", "int", "int8",
                          "int16", "int32", "int64", "rune", "string", "uint", "uint8", "uint16", "uint32",
                          "uint64", "uintptr", "any", "make", "len", "cap", "append", "new", "panic"};
  return w;
}

const Words& rust_keywords() {
  static const Words w = {"as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
                          "extern", "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod",
                          "move", "mut", "pub", "ref", "return", "self", "Self", "static", "struct", "super",
                          "trait", "true", "type", "unsafe", "use", "where", "while", "bool", "char", "str",
                          "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128",
                          "usize", "f32", "f64", "Some", "None", "Ok", "Err", "String", "Vec", "Option",
                          "Result", "Box"};
  return w;
}

const Words& java_keywords() {
  static const Words w = {
      "abstract", "assert", "boolean", "break", "byte", "case", "catch", "char", "class", "const", "continue",
      "default", "do", "double", "else", "enum", "extends", "final", "finally", "float", "for", "if",
      "implements", "import", "instanceof", "int", "interface", "long", "native", "new", "package", "private",
      "protected", "public", "return", "short", "static", "super", "switch", "synchronized", "this", "throw",
      "throws", "transient", "try", "var", "void", "volatile", "while", "true", "false", "null", "record",
      "String", "Object", "Override"};
  return w;
}

const std::vector<const Words*>& keyword_tables(std::string_view language_id) {
  static const std::vector<const Words*> python = {&python_keywords()};
  static const std::vector<const Words*> js = {&javascript_keywords()};
  static const std::vector<const Words*> c = {&c_keywords()};
  static const std::vector<const Words*> go = {&go_keywords()};
  static const std::vector<const Words*> rust = {&rust_keywords()};
  static const std::vector<const Words*> java = {&java_keywords()};
  static const std::vector<const Words*> all = {&python_keywords(), &javascript_keywords(),
                                                          &c_keywords(),      &go_keywords(),
                                                          &rust_keywords(),   &java_keywords()};
  if (language_id == "python") return python;
  if (language_id == "javascript" || language_id == "javascriptreact" || language_id == "typescript" ||
      language_id == "typescriptreact")
    return js;
  if (language_id == "c" || language_id == "cpp") return c;
  if (language_id == "go") return go;
  if (language_id == "rust") return rust;
  if (language_id == "java") return java;
  return all;
}

// Words after which the next word is a name being defined.
const Words defining_keywords = {"def",    "class",     "function", "let",  "const", "var",   "fn",
                                 "func",   "struct",    "enum",     "interface", "type", "trait", "mod",
                                 "namespace", "typedef", "as",      "for",  "foreach", "lambda", "record"};
// Words that make a line a function definition (for its parameters).
const Words function_keywords = {"def", "function", "fn", "func", "lambda"};

bool name_first_language(std::string_view language_id) {
  return language_id == "python" || language_id == "go" || language_id == "rust" ||
         language_id == "javascript" || language_id == "javascriptreact" || language_id == "typescript" ||
         language_id == "typescriptreact";
}

// A word or one punctuation character of a line.
struct Token {
  std::string_view text;
  size_t column = 0;
  bool word = false;
};

std::vector<Token> lex_line(std::string_view line, std::string_view language_id) {
  bool python = language_id == "python";
  bool rust = language_id == "rust";
  std::vector<Token> out;
  size_t i = 0;
  while (i < line.size()) {
    unsigned char c = line[i];
    if (python ? c == '#' : line.substr(i).starts_with("//")) break;
    if (c == '"' || c == '`' || (c == '\'' && !rust)) {
      size_t j = i + 1;
      while (j < line.size() && line[j] != c) j += line[j] == '\\' ? 2 : 1;
      i = j + 1;
      continue;
    }
    if (parsing::IdentifierSpan word = parsing::identifier_at(language_id, line.substr(i), 0); word.end > 0) {
      out.push_back({line.substr(i, word.end), i, true});
      i += word.end;
      continue;
    }
    // Anything else is one character of punctuation (all of its UTF-8 bytes).
    size_t n = std::max<size_t>(1, utf8_sequence_length(line, i));
    if (c != ' ' && c != '\t' && c != '\r') out.push_back({line.substr(i, n), i, false});
    i += n;
  }
  return out;
}

// The words of a line that it defines.
void collect_defined(const std::vector<Token>& tokens, std::string_view language_id, std::set<std::string>& out) {
  bool function_line = false;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const Token& t = tokens[i];
    if (!t.word) {
      // `x => ...`: the arrow function's parameter.
      if (t.text == "=" && i + 1 < tokens.size() && tokens[i + 1].text == ">" && i > 0 && tokens[i - 1].word)
        out.insert(std::string(tokens[i - 1].text));
      continue;
    }
    if (function_keywords.contains(t.text)) function_line = true;
    if (i > 0 && tokens[i - 1].word && defining_keywords.contains(tokens[i - 1].text))
      out.insert(std::string(t.text));
    if (i + 1 < tokens.size()) {
      std::string_view next = tokens[i + 1].text;
      std::string_view after = i + 2 < tokens.size() ? tokens[i + 2].text : "";
      bool assigns = next == "=" && after != "=" && after != ">";
      bool go_define = next == ":" && after == "=";
      if (assigns || go_define) out.insert(std::string(t.text));
    }
  }
  if (!function_line || !name_first_language(language_id)) return;
  // Parameters: the first word after '(' or ',' at parenthesis depth 1,
  // past '*', '&', "mut" and "...".
  int depth = 0;
  bool expect_name = false;
  for (const Token& t : tokens) {
    if (!t.word) {
      if (t.text == "(") {
        ++depth;
        expect_name = depth == 1;
      } else if (t.text == ")") {
        --depth;
        expect_name = false;
      } else if (t.text == "," && depth == 1) {
        expect_name = true;
      } else if (t.text != "*" && t.text != "&" && t.text != ".") {
        expect_name = false;
      }
      continue;
    }
    if (!expect_name) continue;
    if (t.text == "mut") continue;
    out.insert(std::string(t.text));
    expect_name = false;
  }
}

}  // namespace

bool is_keyword(std::string_view language_id, std::string_view word) {
  for (const Words* table : keyword_tables(language_id))
    if (table->contains(word)) return true;
  return false;
}

std::vector<std::string> identifiers_near(std::string_view text, size_t cursor, std::string_view language_id,
                                          IdentifierWindow window) {
  cursor = std::min(cursor, text.size());
  // Line starts around the cursor.
  size_t cursor_line_start = text.rfind('\n', cursor == 0 ? std::string_view::npos : cursor - 1);
  cursor_line_start = cursor_line_start == std::string_view::npos ? 0 : cursor_line_start + 1;
  std::vector<std::string_view> above, below;  // nearest first
  for (size_t end = cursor_line_start; end > 0 && above.size() < window.lines_before;) {
    size_t newline = end - 1;  // ends the line above
    size_t previous = newline == 0 ? std::string_view::npos : text.rfind('\n', newline - 1);
    size_t start = previous == std::string_view::npos ? 0 : previous + 1;
    above.push_back(text.substr(start, newline - start));
    end = start;
  }
  size_t cursor_line_end = text.find('\n', cursor);
  if (cursor_line_end == std::string_view::npos) cursor_line_end = text.size();
  for (size_t start = cursor_line_end + 1; start <= text.size() && below.size() < window.lines_after;) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    below.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  std::string_view cursor_line = text.substr(cursor_line_start, cursor_line_end - cursor_line_start);
  size_t cursor_column = cursor - cursor_line_start;

  std::set<std::string> defined;
  std::vector<std::string_view> ordered;
  auto take = [&](const std::vector<Token>& tokens, bool reversed, auto keep) {
    collect_defined(tokens, language_id, defined);
    auto add = [&](const Token& t) {
      if (t.word && keep(t)) ordered.push_back(t.text);
    };
    if (reversed)
      std::for_each(tokens.rbegin(), tokens.rend(), add);
    else
      std::for_each(tokens.begin(), tokens.end(), add);
  };
  auto cursor_tokens = lex_line(cursor_line, language_id);
  take(cursor_tokens, true, [&](const Token& t) { return t.column + t.text.size() <= cursor_column; });
  for (std::string_view line : above) take(lex_line(line, language_id), true, [](const Token&) { return true; });
  // The cursor line's definitions were collected already; only its words after the cursor remain.
  for (const Token& t : cursor_tokens)
    if (t.word && t.column + t.text.size() > cursor_column) ordered.push_back(t.text);
  for (std::string_view line : below) take(lex_line(line, language_id), false, [](const Token&) { return true; });

  std::vector<std::string> out;
  std::set<std::string_view> seen;
  for (std::string_view word : ordered) {
    if (word.size() < 2 || (word[0] >= '0' && word[0] <= '9')) continue;
    if (!seen.insert(word).second) continue;
    if (is_keyword(language_id, word) || defined.contains(std::string(word))) continue;
    out.emplace_back(word);
  }
  return out;
}

}  // namespace astfill::completion
