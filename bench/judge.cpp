#include "bench/judge.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

#include "support/files.h"

extern char** environ;

namespace astfill::bench {
namespace fs = std::filesystem;

namespace {

std::string read_all(const fs::path& p) { return support::read_file(p, 1 << 20).text; }

// The sources and error files of this process's judges; removed at exit.
struct ScratchDir {
  fs::path path = fs::temp_directory_path() / ("astfill-judge-" + std::to_string(::getpid()));
  ScratchDir() { fs::create_directories(path); }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

const fs::path& scratch_dir() {
  static const ScratchDir dir;
  return dir.path;
}

fs::path scratch_file(std::string_view stem) {
  static std::atomic<unsigned> counter{0};
  return scratch_dir() / (std::string(stem) + "-" + std::to_string(counter++));
}

fs::path find_tool(const std::string& name, const JudgeOptions& options, const std::string& install_hint) {
  for (const auto& dir : options.tool_dirs) {
    fs::path p = dir / name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  throw JudgeUnavailable("no '" + name + "' found (" + install_hint + ")");
}

// Runs argv[0] (a path) with the file actions given. Returns the pid.
pid_t spawn(const std::vector<std::string>& argv, posix_spawn_file_actions_t* actions) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], actions, nullptr, args.data(), environ);
  if (rc != 0) throw JudgeUnavailable("cannot start " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

std::string first_line(std::string_view text) {
  size_t nl = text.find('\n');
  return std::string(text.substr(0, nl));
}

// A helper that stays up and judges many sources: "<n>\n<bytes>" in, one
// line out ("ok" or "error <message>"), after a "ready <what>" greeting.
class HelperJudge : public Judge {
 public:
  HelperJudge(std::vector<std::string> argv, std::string tool_name) : tool_(std::move(tool_name)) {
    ::signal(SIGPIPE, SIG_IGN);  // a helper that dies is an error on write, not the end of the bench
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0)
      throw JudgeUnavailable("cannot start " + tool_ + ": " + std::strerror(errno));
    stderr_path_ = scratch_file("helper-stderr");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addopen(&actions, 2, stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    try {
      pid_ = spawn(argv, &actions);
    } catch (...) {
      posix_spawn_file_actions_destroy(&actions);
      ::close(in[0]), ::close(in[1]), ::close(out[0]), ::close(out[1]);
      throw;
    }
    posix_spawn_file_actions_destroy(&actions);
    ::close(in[0]);
    ::close(out[1]);
    to_ = in[1];
    from_ = out[0];
    std::string greeting;
    if (!read_line(greeting) || !greeting.starts_with("ready ")) fail("did not start");
    description_ = greeting.substr(6);
  }
  ~HelperJudge() override {
    if (to_ >= 0) ::close(to_);
    if (from_ >= 0) ::close(from_);
    if (pid_ > 0) wait_for(pid_);
    std::error_code ec;
    fs::remove(stderr_path_, ec);
  }

  Verdict judge(std::string_view source, const fs::path&) override {
    std::string frame = std::to_string(source.size()) + "\n";
    frame.append(source);
    if (!write_all(frame)) fail("stopped");
    std::string line;
    if (!read_line(line)) fail("stopped");
    if (line == "ok") return {true, ""};
    if (line.starts_with("error ")) return {false, line.substr(6)};
    fail("answered '" + line + "'");
  }
  const std::string& description() const override { return description_; }

 private:
  [[noreturn]] void fail(const std::string& what) {
    if (to_ >= 0) ::close(to_), to_ = -1;
    if (pid_ > 0) wait_for(pid_), pid_ = -1;
    std::string err = read_all(stderr_path_);
    throw JudgeUnavailable(tool_ + " " + what + (err.empty() ? "" : ": " + first_line(err)));
  }
  bool write_all(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::write(to_, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  bool read_line(std::string& line) {
    for (;;) {
      size_t nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return true;
      }
      char chunk[4096];
      ssize_t n = ::read(from_, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  std::string tool_, description_, buffer_;
  fs::path stderr_path_;
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
};

// What a tool run once on a source said: its exit status and its stderr.
struct ToolRun {
  int status = 0;
  std::string errors;
};

// Runs `argv` with `source` on stdin; with `include_dirs`, a C/C++ compiler
// is also told where the file's own folder's includes are.
ToolRun run_tool(std::vector<std::string> argv, std::string_view source, const fs::path& directory,
                 bool include_dirs) {
  fs::path in = scratch_file("source"), err = scratch_file("stderr");
  {
    std::ofstream f(in, std::ios::binary);
    f.write(source.data(), static_cast<std::streamsize>(source.size()));
    if (!f) throw JudgeUnavailable("cannot write " + in.string());
  }
  if (include_dirs && !directory.empty()) {
    // The file's own folder, its parent and a sibling include/: where a
    // project's quoted includes are found.
    std::vector<std::string> dirs{"-iquote", directory.string(), "-I", directory.string(),
                                  "-I", directory.parent_path().string(),
                                  "-I", (directory.parent_path() / "include").string()};
    argv.insert(argv.end() - 1, dirs.begin(), dirs.end());
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid;
  try {
    pid = spawn(argv, &actions);
  } catch (...) {
    posix_spawn_file_actions_destroy(&actions);
    throw;
  }
  posix_spawn_file_actions_destroy(&actions);
  ToolRun run;
  run.status = wait_for(pid);
  run.errors = read_all(err);
  std::error_code ec;
  fs::remove(in, ec);
  fs::remove(err, ec);
  if (run.status >= 126) throw JudgeUnavailable(argv[0] + " did not run (status " + std::to_string(run.status) + ")");
  return run;
}

// A tool run once per source: the source on stdin, its verdict in the exit
// status and its errors on stderr.
class CommandJudge : public Judge {
 public:
  using Classify = Verdict (*)(int exit_status, const std::string& errors);
  CommandJudge(std::vector<std::string> argv, std::string description, Classify classify,
               bool include_dirs = false)
      : argv_(std::move(argv)), description_(std::move(description)), classify_(classify),
        include_dirs_(include_dirs) {}

  Verdict judge(std::string_view source, const fs::path& directory) override {
    ToolRun run = run_tool(argv_, source, directory, include_dirs_);
    return classify_(run.status, run.errors);
  }
  const std::string& description() const override { return description_; }

 private:
  std::vector<std::string> argv_;
  std::string description_;
  Classify classify_;
  bool include_dirs_;
};

std::string tool_version(const fs::path& tool, const std::string& flag) {
  fs::path out = scratch_file("version");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::string version;
  try {
    wait_for(spawn({tool.string(), flag}, &actions));
    version = first_line(read_all(out));
  } catch (const JudgeUnavailable&) {
  }
  posix_spawn_file_actions_destroy(&actions);
  std::error_code ec;
  fs::remove(out, ec);
  return version;
}

// gofmt -e and rustfmt: any error is a syntax error (they only parse).
Verdict status_and_first_line(int status, const std::string& errors) {
  if (status == 0) return {true, ""};
  std::string line = first_line(errors);
  return {false, line.empty() ? "exit status " + std::to_string(status) : line};
}

Verdict gcc_verdict(int status, const std::string& errors) {
  std::istringstream lines(errors);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("fatal error:") != std::string::npos) return {false, line};  // nothing after it was read
    if (is_gcc_syntax_error(line)) return {false, line};
  }
  (void)status;  // errors about meaning alone leave the parse whole
  return {true, ""};
}

// g++ parses by name lookup: a name it cannot find where a statement or a
// member begins (`Prie the following;`, `e, and the;`) is an error of
// meaning, "'Prie' was not declared in this scope", after which it skips the
// rest of the statement, and the syntax errors in it are never reported.
// So while g++ reports names it cannot find and no syntax error, the source
// is judged again with those names declared (UndeclaredName::declaration)
// ahead of it (a #line keeps the positions): then g++ parses what follows
// them and says whether that is C++. A few rounds, as each may uncover more.
struct UndeclaredName {
  enum class Kind { Type, Value, Namespace };
  std::string name;
  std::string scope;  // `N` of "'X' is not a member of 'N'"; "" when unqualified
  Kind kind = Kind::Value;

  std::string declaration() const {
    std::string d = kind == Kind::Type        ? "struct " + name + " {};"
                    : kind == Kind::Namespace ? "namespace " + name + " {}"
                                              : "extern int " + name + ";";
    return scope.empty() ? d : "namespace " + scope + " { " + d + " }";
  }
  bool operator<(const UndeclaredName& o) const { return std::tie(scope, name) < std::tie(o.scope, o.name); }
};

bool identifier_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// The quoted names of a gcc message, in order: ‘X’ (UTF-8 locales) or 'X'.
std::vector<std::string> quoted(std::string_view message) {
  std::vector<std::string> out;
  for (size_t at = 0; at < message.size();) {
    size_t open = message.find("\xE2\x80\x98", at), ascii = message.find('\'', at);
    size_t close;
    if (open != std::string_view::npos && (ascii == std::string_view::npos || open < ascii)) {
      close = message.find("\xE2\x80\x99", open + 3);
      if (close == std::string_view::npos) break;
      out.emplace_back(message.substr(open + 3, close - open - 3));
      at = close + 3;
    } else if (ascii != std::string_view::npos) {
      close = message.find('\'', ascii + 1);
      if (close == std::string_view::npos) break;
      out.emplace_back(message.substr(ascii + 1, close - ascii - 1));
      at = close + 1;
    } else {
      break;
    }
  }
  return out;
}

bool plain_name(std::string_view s) {
  return !s.empty() && !std::isdigit(static_cast<unsigned char>(s[0])) && std::all_of(s.begin(), s.end(), identifier_char);
}

// g++'s "expected type-specifier before 'X'" where X is a plain name and no
// keyword: a name it does not know where a type goes (`new Error(1)`), an
// error of meaning like "'X' does not name a type", not of syntax.
bool unknown_type_expected(std::string_view message) {
  constexpr std::string_view kExpected = "expected type-specifier before ";
  const size_t at = message.find(kExpected);
  if (at == std::string_view::npos) return false;
  std::vector<std::string> names = quoted(message.substr(at + kExpected.size()));
  static const std::set<std::string_view> keywords{
      "alignas",   "alignof",  "asm",       "auto",      "bool",      "break",     "case",         "catch",
      "char",      "class",    "const",     "constexpr", "const_cast", "continue", "decltype",     "default",
      "delete",    "do",       "double",    "dynamic_cast", "else",  "enum",      "explicit",     "export",
      "extern",    "false",    "float",     "for",       "friend",    "goto",      "if",           "inline",
      "int",       "long",     "mutable",   "namespace", "new",       "noexcept",  "nullptr",      "operator",
      "private",   "protected", "public",   "register",  "reinterpret_cast", "return", "short",    "signed",
      "sizeof",    "static",   "static_assert", "static_cast", "struct", "switch", "template",     "this",
      "throw",     "true",     "try",       "typedef",   "typeid",    "typename",  "union",        "unsigned",
      "using",     "virtual",  "void",      "volatile",  "while",     "char16_t",  "char32_t",     "wchar_t",
      "and",       "or",       "not",       "xor",       "bitand",    "bitor",     "compl",        "and_eq",
      "or_eq",     "xor_eq",   "not_eq",    "thread_local", "concept", "requires", "co_await",   "co_return",
      "co_yield",  "char8_t",  "consteval", "constinit"};
  return names.size() == 1 && plain_name(names[0]) && !keywords.contains(names[0]);
}

// A namespace path as gcc names it (`testing::internal`).
bool scope_path(std::string_view s) {
  for (size_t at = 0;;) {
    size_t sep = s.find("::", at);
    if (!plain_name(s.substr(at, sep == std::string_view::npos ? std::string_view::npos : sep - at))) return false;
    if (sep == std::string_view::npos) return true;
    at = sep + 2;
  }
}

// What the source says `name` is where g++ reported it (line and column,
// 1-based bytes): a scope before `::`, a type before another name (a
// declaration: `Prie the`), else a value (`f(x)`, `x.y`, `a + b`).
UndeclaredName::Kind kind_from_use(std::string_view source, size_t line, size_t column, const std::string& name) {
  size_t at = 0;
  for (size_t l = 1; l < line && at != std::string_view::npos; ++l) {
    at = source.find('\n', at);
    if (at != std::string_view::npos) ++at;
  }
  if (at == std::string_view::npos) return UndeclaredName::Kind::Value;
  size_t end_of_line = source.find('\n', at);
  std::string_view text = source.substr(at, end_of_line == std::string_view::npos ? std::string_view::npos : end_of_line - at);
  size_t use = column >= 1 && column <= text.size() && text.substr(column - 1).starts_with(name) ? column - 1
                                                                                             : std::string_view::npos;
  for (size_t i = text.find(name); use == std::string_view::npos && i != std::string_view::npos; i = text.find(name, i + 1))
    if ((i == 0 || !identifier_char(text[i - 1])) &&
        (i + name.size() == text.size() || !identifier_char(text[i + name.size()])))
      use = i;
  if (use == std::string_view::npos) return UndeclaredName::Kind::Value;
  size_t next = at + use + name.size();
  while (next < source.size() && std::isspace(static_cast<unsigned char>(source[next]))) ++next;
  std::string_view rest = source.substr(std::min(next, source.size()));
  if (rest.starts_with("::")) return UndeclaredName::Kind::Namespace;
  if (rest.empty() || !(std::isalpha(static_cast<unsigned char>(rest[0])) || rest[0] == '_'))
    return UndeclaredName::Kind::Value;
  size_t word_end = 0;
  while (word_end < rest.size() && identifier_char(rest[word_end])) ++word_end;
  static const std::set<std::string_view> operators{"and",   "and_eq", "bitand", "bitor", "compl", "not",
                                                    "not_eq", "or",    "or_eq",  "xor",   "xor_eq"};
  return operators.contains(rest.substr(0, word_end)) ? UndeclaredName::Kind::Value : UndeclaredName::Kind::Type;
}

// The name a gcc error line says it could not find, with what the source
// makes of it; nothing for other lines (and for names in headers).
std::optional<UndeclaredName> undeclared_name(std::string_view line, std::string_view source) {
  constexpr std::string_view kStdin = "<stdin>:";
  size_t at = line.find(" error: ");
  if (!line.starts_with(kStdin) || at == std::string_view::npos) return std::nullopt;
  std::string_view message = line.substr(at + 8);
  std::vector<std::string> names = quoted(message);
  if (names.empty() || !plain_name(names[0])) return std::nullopt;
  auto says = [&](std::string_view what) { return message.find(what) != std::string_view::npos; };
  UndeclaredName u;
  u.name = names[0];
  if (says("is not a member of") || says("in namespace")) {
    if (names.size() < 2 || !scope_path(names[1])) return std::nullopt;
    u.scope = names[1];
  } else if (!says("was not declared in this scope") && !says("does not name a type") &&
             !says("has not been declared") && !unknown_type_expected(message)) {
    return std::nullopt;
  }
  // "<stdin>:LINE:COLUMN: error: ..."
  size_t line_no = 0, column = 0;
  std::string_view pos = line.substr(kStdin.size(), at - kStdin.size());
  size_t colon = pos.find(':');
  std::from_chars(pos.data(), pos.data() + pos.size(), line_no);
  if (colon != std::string_view::npos) std::from_chars(pos.data() + colon + 1, pos.data() + pos.size(), column);
  u.kind = kind_from_use(source, line_no, column, u.name);
  // Where g++ wanted a type, the name is one.
  if ((says("does not name a type") || unknown_type_expected(message)) && u.kind != UndeclaredName::Kind::Namespace)
    u.kind = UndeclaredName::Kind::Type;
  return u;
}

class CxxJudge : public Judge {
 public:
  CxxJudge(std::vector<std::string> argv, std::string description)
      : argv_(std::move(argv)), description_(std::move(description)) {}

  Verdict judge(std::string_view source, const fs::path& directory) override {
    constexpr int kRounds = 4;
    std::set<UndeclaredName> declared;
    std::string declarations;
    for (int round = 0;; ++round) {
      std::string text = declarations.empty() ? std::string(source) : declarations + "#line 1\n" + std::string(source);
      ToolRun run = run_tool(argv_, text, directory, true);
      Verdict v = gcc_verdict(run.status, run.errors);
      if (round + 1 == kRounds) return v;
      // With a syntax error, only an unknown type where a type goes is
      // judged again: g++ reports the syntax errors that follow from it
      // (`new Error(1)`: "expected ';' before 'Error'").
      bool more = false;
      std::istringstream lines(run.errors);
      for (std::string line; std::getline(lines, line);) {
        std::optional<UndeclaredName> u = undeclared_name(line, source);
        if (!u || (!v.ok && !unknown_type_expected(line))) continue;
        // A type's place still refused with the name declared a type: the
        // name is the file's own variable or namespace (`new x(1)`).
        if (declared.contains(*u) && unknown_type_expected(line)) return {false, line};
        if (declared.contains(*u)) continue;
        declarations += u->declaration() + "\n";
        declared.insert(*u);
        more = true;
      }
      if (!more) return v;
    }
  }
  const std::string& description() const override { return description_; }

 private:
  std::vector<std::string> argv_;
  std::string description_;
};

}  // namespace

std::vector<fs::path> JudgeOptions::default_tool_dirs() {
  std::vector<fs::path> dirs{"/usr/bin", "/usr/local/bin"};
  if (const char* path = std::getenv("PATH")) {
    std::stringstream ss(path);
    for (std::string d; std::getline(ss, d, ':');)
      if (!d.empty()) dirs.emplace_back(d);
  }
  return dirs;
}

fs::path JudgeOptions::default_scripts_dir() {
  if (const char* dir = std::getenv("ASTFILL_BENCH_JUDGES")) return dir;
  return ASTFILL_BENCH_JUDGES_DIR;
}

const std::vector<std::string>& judged_languages() {
  static const std::vector<std::string> languages{"python", "javascript", "typescript", "typescriptreact",
                                                  "go",     "c",          "cpp",        "rust",
                                                  "java"};
  return languages;
}

bool is_gcc_syntax_error(std::string_view line) {
  size_t at = line.find(" error: ");
  if (at == std::string_view::npos) return false;
  std::string_view message = line.substr(at + 8);
  if (message.starts_with("too few") || message.starts_with("too many")) return false;  // "...; expected 2, have 1"
  if (unknown_type_expected(line)) return false;  // a name it does not know, where a type goes
  static const std::string_view syntax[] = {
      "expected",         "stray ",                "missing terminating", "unterminated",
      "at end of input",  "preprocessing directive", "without #if",       "#else after",
      "#elif after",      "empty character constant", "invalid suffix",   "before numeric constant",
      "unbalanced",       "missing '(' ",          "missing ')'",         "without a previous"};
  return std::any_of(std::begin(syntax), std::end(syntax),
                     [&](std::string_view s) { return message.find(s) != std::string_view::npos; });
}

std::unique_ptr<Judge> make_judge(std::string_view language, const JudgeOptions& options) {
  const fs::path& scripts = options.scripts_dir;
  if (language == "python") {
    fs::path python = find_tool("python3", options, "Debian: apt install python3");
    fs::path script = scripts / "python_judge.py";
    if (!fs::exists(script)) throw JudgeUnavailable("no " + script.string());
    auto judge = std::make_unique<HelperJudge>(std::vector<std::string>{python.string(), script.string()}, "python3");
    return judge;
  }
  if (language == "javascript" || language == "typescript" || language == "typescriptreact") {
    fs::path node = find_tool("node", options, "Debian: apt install nodejs");
    fs::path script = scripts / "ts_judge.js";
    if (!fs::exists(scripts / "node_modules" / "typescript" / "package.json"))
      throw JudgeUnavailable("npm typescript is not installed in " + scripts.string() +
                             "/node_modules (run scripts/setup, or npm ci there)");
    // vm.SourceTextModule (V8's verdict on an ES module) is behind a flag in node 20.
    return std::make_unique<HelperJudge>(std::vector<std::string>{node.string(), "--experimental-vm-modules",
                                                                  "--no-warnings", script.string(),
                                                                  std::string(language)},
                                         "node ts_judge.js");
  }
  if (language == "java") {
    fs::path java = find_tool("java", options, "Debian: apt install default-jdk-headless");
    find_tool("javac", options, "a JDK, not a JRE: Debian: apt install default-jdk-headless");
    fs::path script = scripts / "JavaJudge.java";
    if (!fs::exists(script)) throw JudgeUnavailable("no " + script.string());
    return std::make_unique<HelperJudge>(std::vector<std::string>{java.string(), script.string()}, "java JavaJudge.java");
  }
  if (language == "go") {
    fs::path gofmt = find_tool("gofmt", options, "Debian: apt install golang-go");
    return std::make_unique<CommandJudge>(std::vector<std::string>{gofmt.string(), "-e"},
                                          "gofmt -e (" + gofmt.string() + ")", status_and_first_line);
  }
  if (language == "rust") {
    fs::path rustfmt = find_tool("rustfmt", options, "Debian: apt install rustfmt");
    // stdin, not a file: `mod x;` would send rustfmt looking for x.rs.
    return std::make_unique<CommandJudge>(
        std::vector<std::string>{rustfmt.string(), "--edition", "2021", "--emit", "stdout"},
        tool_version(rustfmt, "--version") + " parse (" + rustfmt.string() + ")", status_and_first_line);
  }
  if (language == "c" || language == "cpp") {
    bool cpp = language == "cpp";
    fs::path cc = find_tool(cpp ? "g++" : "gcc", options, "Debian: apt install build-essential");
    std::vector<std::string> argv{cc.string(), "-fsyntax-only", "-w", "-fmax-errors=50",
                                  "-fdiagnostics-column-unit=byte", "-x", cpp ? "c++" : "c"};
    if (cpp) argv.push_back("-std=gnu++17");
    argv.push_back("-");
    // C++ is judged again with the names g++ could not find declared
    // (CxxJudge); gcc's C parser reads past an unknown name by itself.
    if (cpp)
      return std::make_unique<CxxJudge>(std::move(argv), tool_version(cc, "--version") +
                                                             " -fsyntax-only, syntax errors (undeclared names declared)");
    return std::make_unique<CommandJudge>(std::move(argv),
                                          tool_version(cc, "--version") + " -fsyntax-only, syntax errors",
                                          gcc_verdict, true);
  }
  throw JudgeUnavailable("no judge for language '" + std::string(language) + "'");
}

}  // namespace astfill::bench
