// `astfill query PATH QUERY ARG`: asks a workspace's index the questions
// completion asks (definitions, members, imports, similar code, symbols by
// prefix) and prints the answer as JSON. The index is brought up to date
// first (incrementally), so the answer describes the files as they are.
#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <variant>

#include "support/args.h"
#include "cli/commands.h"
#include "cli/project_index.h"
#include "index/files.h"
#include "support/files.h"
#include "support/log.h"
#include "support/utf8.h"

namespace astfill::cli {
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* kSummary =
    "Asks the index of the workspace folder PATH, after bringing it up to date, and prints\n"
    "the answer as one JSON array. QUERY ARG is one of:\n"
    "  definition NAME     definitions named NAME; with --file F, those in F first, then in\n"
    "                      files F imports, then in F's folder\n"
    "  members NAME        definitions whose container is NAME (\"Stack\", \"ns::Inner\")\n"
    "  imports FILE        what FILE imports, and the workspace file each lands on\n"
    "  similar FILE:LINE   the chunks of code most like the lines around LINE (1-based) of\n"
    "                      FILE, leaving out FILE's own chunks (BM25 over identifiers)\n"
    "  prefix PREFIX       definitions whose name starts with PREFIX (case-sensitive)\n"
    "Files may be given relative to the current folder or to PATH. In answers, paths are\n"
    "relative to PATH, lines are zero-based, and a range's characters are byte offsets in\n"
    "their line (end exclusive); chunks' end_line is exclusive.";

json::object position(uint32_t line, uint32_t column) { return {{"line", line}, {"character", column}}; }

json::object range(const parsing::Span& s) {
  return {{"start", position(s.start_line, s.start_column)}, {"end", position(s.end_line, s.end_column)}};
}

// Source text may hold invalid UTF-8; JSON text may not.
json::string text(std::string s) {
  sanitize_utf8(s);
  return json::string(s);
}

json::array symbols_json(const std::vector<index::Symbol>& symbols) {
  json::array out;
  for (const auto& s : symbols)
    out.push_back(json::object{{"name", text(s.name)},
                               {"kind", parsing::to_string(s.kind)},
                               {"signature", text(s.signature)},
                               {"doc", text(s.doc)},
                               {"container", text(s.container)},
                               {"path", text(s.path)},
                               {"range", range(s.range)},
                               {"name_range", range(s.name_range)}});
  return out;
}

json::array imports_json(const std::vector<index::ResolvedImport>& imports) {
  json::array out;
  for (const auto& i : imports) {
    json::array names;
    for (const auto& n : i.names) names.push_back(text(n));
    json::value resolved = nullptr;
    if (i.resolved_path) resolved = text(*i.resolved_path);
    out.push_back(json::object{{"module", text(i.module)},
                               {"names", std::move(names)},
                               {"relative", i.relative},
                               {"resolved_path", std::move(resolved)},
                               {"resolved_is_directory", i.resolved_is_directory},
                               {"range", range(i.range)}});
  }
  return out;
}

json::array chunks_json(const std::vector<index::SimilarChunk>& chunks) {
  json::array out;
  for (const auto& c : chunks)
    out.push_back(json::object{{"path", text(c.path)},
                               {"start_line", c.start_line},
                               {"end_line", c.end_line},
                               {"score", c.score},
                               {"text", text(c.text)}});
  return out;
}

// A file named on the command line: as given when it exists from here (or is
// absolute), else relative to the workspace root.
fs::path resolve_file(const fs::path& root, const std::string& file) {
  std::error_code ec;
  fs::path given(file);
  if (given.is_absolute() || fs::exists(given, ec)) {
    fs::path full = fs::weakly_canonical(fs::absolute(given, ec), ec);
    return ec ? fs::absolute(given) : full;
  }
  return root / given;
}

// LINES lines of `text` around the zero-based `line`.
std::string window_around(const std::string& text, size_t line, size_t lines) {
  std::vector<size_t> starts{0};
  for (size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n') starts.push_back(i + 1);
  size_t count = starts.size();
  size_t first = line >= lines / 2 ? line - lines / 2 : 0;
  first = std::min(first, count - 1);
  size_t end = std::min(count, first + std::max<size_t>(lines, 1));
  size_t from = starts[first];
  size_t to = end < count ? starts[end] : text.size();
  return text.substr(from, to - from);
}

struct Request {
  std::string root, query, argument;
  std::string file;  // definition --file
  size_t k = 5;
  size_t window = 20;
  size_t limit = 50;
};

// Exit codes: 0 answered, 1 PATH or a file cannot be used, 2 bad arguments.
struct Failure {
  int code;
  std::string message;
};

std::variant<json::array, Failure> answer(index::Index& index, const Request& r) {
  fs::path root = index.root();
  auto inside = [&](const fs::path& file) -> std::optional<Failure> {
    const std::string path = file.string(), folder = root.string();
    if (index::workspace_relative(root, path)) return std::nullopt;
    return Failure{2, "'" + path + "' is not a file inside '" + folder + "'"};
  };
  if (r.query == "definition") {
    std::string current;
    if (!r.file.empty()) {
      fs::path file = resolve_file(root, r.file);
      if (auto f = inside(file)) return *f;
      current = file.string();
    }
    return symbols_json(index.definitions(r.argument, current, r.limit));
  }
  if (r.query == "members") return symbols_json(index.members(r.argument, r.limit));
  if (r.query == "prefix") return symbols_json(index.symbols_with_prefix(r.argument, r.limit));
  if (r.query == "imports") {
    fs::path file = resolve_file(root, r.argument);
    if (auto f = inside(file)) return *f;
    return imports_json(index.imports_of(file.string()));
  }
  // similar FILE:LINE
  size_t colon = r.argument.rfind(':');
  unsigned long long line = 0;
  if (colon == std::string::npos ||
      parse_uint(r.argument.substr(colon + 1), "line number", 1, UINT32_MAX, line))
    return Failure{2, "similar: expected FILE:LINE with a 1-based LINE, got '" + r.argument + "'"};
  fs::path file = resolve_file(root, r.argument.substr(0, colon));
  if (auto f = inside(file)) return *f;
  support::FileContent content = support::read_file(file, 64ull << 20);
  const std::string path = file.string();
  if (!content.error.empty()) return Failure{1, "cannot read '" + path + "': " + content.error};
  std::string window = window_around(content.text, line - 1, r.window);
  return chunks_json(index.similar_chunks(window, r.k, file.string()));
}

std::optional<std::string> set_count(const std::string& v, const char* what, size_t& out) {
  unsigned long long n = 0;
  if (auto e = parse_uint(v, what, 1, 1u << 20, n)) return e;
  out = n;
  return std::nullopt;
}

}  // namespace

int run_query(const std::vector<std::string>& args) {
  Request r;
  ProjectIndexOptions options;
  std::vector<std::string> positionals;
  ArgParser p("astfill query PATH QUERY ARG", kSummary);
  p.option("--file", "F", "definition: the file being edited, which ranks the answers",
           [&](const std::string& v) -> std::optional<std::string> {
             r.file = v;
             return std::nullopt;
           });
  p.option("--k", "N", "similar: how many chunks (default 5)",
           [&](const std::string& v) { return set_count(v, "chunk count", r.k); });
  p.option("--window", "LINES", "similar: lines around LINE to search with (default 20)",
           [&](const std::string& v) { return set_count(v, "line count", r.window); });
  p.option("--limit", "N", "definition, members, prefix: at most N answers (default 50)",
           [&](const std::string& v) { return set_count(v, "answer count", r.limit); });
  options.add_to(p);
  p.positional("PATH QUERY ARG", [&](const std::string& v) { positionals.push_back(v); });
  auto usage_error = [&](const std::string& message) {
    std::fprintf(stderr, "astfill query: %s\n\n%s", message.c_str(), p.help().c_str());
    return 2;
  };
  if (auto err = p.parse(args)) return usage_error(*err);
  if (p.help_requested()) {
    std::fputs(p.help().c_str(), stdout);
    return 0;
  }
  if (positionals.size() != 3) return usage_error("expected PATH QUERY ARG");
  r.root = positionals[0];
  r.query = positionals[1];
  r.argument = positionals[2];
  static const char* const kQueries[] = {"definition", "members", "imports", "similar", "prefix"};
  if (std::find_if(std::begin(kQueries), std::end(kQueries), [&](const char* q) { return r.query == q; }) ==
      std::end(kQueries))
    return usage_error("unknown query '" + r.query + "'");
  log::set_level(log::Level::Warn);

  OpenedIndex opened = open_index(r.root, options);
  if (!opened.index) {
    std::fprintf(stderr, "astfill query: %s\n", opened.error.c_str());
    return 1;
  }
  opened.index->sync_with_disk();
  opened.index->wait_until_idle();
  auto result = answer(*opened.index, r);
  if (auto* failure = std::get_if<Failure>(&result)) {
    if (failure->code == 2) return usage_error(failure->message);
    std::fprintf(stderr, "astfill query: %s\n", failure->message.c_str());
    return failure->code;
  }
  std::printf("%s\n", json::serialize(std::get<json::array>(result)).c_str());
  return 0;
}

}  // namespace astfill::cli
