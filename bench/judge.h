// Each language's own front end as the judge of a completed file: does
// prefix + completion + suffix parse the way the language's compiler parses
// it? (Not tree-sitter: the guard uses tree-sitter's grammars, and a judge
// that shares the guard's leniencies cannot see them.)
//
//   python                       CPython's ast.parse            bench/judges/python_judge.py (long-lived)
//   javascript, typescript,      the TypeScript compiler's      bench/judges/ts_judge.js (long-lived;
//   typescriptreact              parseDiagnostics; JavaScript   npm typescript pinned there)
//                                also node's V8 (node --check)
//   go                           gofmt -e                       one process per file (Debian golang-go)
//   c, cpp                       gcc / g++ -fsyntax-only        one process per file; syntax errors only
//   rust                         rustfmt (its parser)           one process per file (Debian rustfmt)
//   java                         javac's parser (JavacTask)     bench/judges/JavaJudge.java (long-lived)
//
// A judge whose tool is missing is an error that names the tool
// (JudgeUnavailable), never a judge that passes everything.
#pragma once

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace astfill::bench {

struct Verdict {
  bool ok = false;
  std::string message;  // the front end's first error ("" when ok)
};

class JudgeUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct JudgeOptions {
  // Where tools are looked up, in order (default: /usr/bin, /usr/local/bin,
  // then $PATH: Debian's tools before a user's own builds).
  std::vector<std::filesystem::path> tool_dirs = default_tool_dirs();
  // bench/judges (the helper scripts and their node_modules).
  std::filesystem::path scripts_dir = default_scripts_dir();

  static std::vector<std::filesystem::path> default_tool_dirs();
  static std::filesystem::path default_scripts_dir();
};

class Judge {
 public:
  virtual ~Judge() = default;
  // `directory` is where the file lives (C and C++ look for its quoted
  // includes there); empty for none.
  virtual Verdict judge(std::string_view source, const std::filesystem::path& directory = {}) = 0;
  // The front end, with its version where it says one ("CPython 3.11.2 ast.parse").
  virtual const std::string& description() const = 0;
};

// The languages with a judge: python, javascript, typescript,
// typescriptreact, go, c, cpp, rust, java.
const std::vector<std::string>& judged_languages();

// Starts (or finds) the judge of `language` (an LSP languageId).
// Throws JudgeUnavailable naming the tool and how to install it when it is
// missing or does not start, and for a language without a judge.
std::unique_ptr<Judge> make_judge(std::string_view language, const JudgeOptions& options = {});

// gcc's error lines that are about syntax (an expected token, a stray
// character, an unterminated literal or comment, a directive out of place),
// not about meaning (an undeclared name, a type mismatch): the parser's verdict
// when gcc -fsyntax-only also runs its semantic checks. Exposed for tests.
bool is_gcc_syntax_error(std::string_view error_line);

}  // namespace astfill::bench
