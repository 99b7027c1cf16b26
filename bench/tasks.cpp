#include "bench/tasks.h"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <random>

#include "parsing/document.h"
#include "parsing/nodes.h"
#include "support/files.h"

namespace astfill::bench {
namespace fs = std::filesystem;

namespace {

// What the cutter looks for in each language's tree.
struct Shapes {
  std::vector<std::string> extensions;
  std::vector<std::string_view> blocks;  // statement blocks (their parent decides nothing but in Python)
  std::vector<std::string_view> calls;   // calls whose "arguments" field is the parenthesised list
  bool braces = true;                    // a block is `{ statements }`; Python's is indented
};

const Shapes* shapes_of(std::string_view language) {
  static const Shapes python{{".py"}, {"block"}, {"call"}, false};
  static const Shapes js{{".js", ".mjs", ".cjs"}, {"statement_block"}, {"call_expression"}};
  static const Shapes ts{{".ts", ".mts", ".cts"}, {"statement_block"}, {"call_expression"}};
  static const Shapes tsx{{".tsx"}, {"statement_block"}, {"call_expression"}};
  static const Shapes go{{".go"}, {"block"}, {"call_expression"}};
  static const Shapes c{{".c"}, {"compound_statement"}, {"call_expression"}};
  static const Shapes cpp{{".cc", ".cpp", ".cxx"}, {"compound_statement"}, {"call_expression"}};
  static const Shapes rust{{".rs"}, {"block"}, {"call_expression"}};
  static const Shapes java{{".java"}, {"block", "constructor_body"}, {"method_invocation", "object_creation_expression"}};
  if (language == "python") return &python;
  if (language == "javascript") return &js;
  if (language == "typescript") return &ts;
  if (language == "typescriptreact") return &tsx;
  if (language == "go") return &go;
  if (language == "c") return &c;
  if (language == "cpp") return &cpp;
  if (language == "rust") return &rust;
  if (language == "java") return &java;
  return nullptr;
}

bool has_extension(const fs::path& p, const Shapes& shapes) {
  std::string name = p.filename().string();
  // Declarations and minified bundles are not code anyone types.
  if (name.ends_with(".d.ts") || name.ends_with(".d.mts") || name.ends_with(".d.cts") || name.ends_with(".min.js"))
    return false;
  std::string ext = p.extension().string();
  return std::find(shapes.extensions.begin(), shapes.extensions.end(), ext) != shapes.extensions.end();
}

std::vector<fs::path> shuffled_files(const fs::path& root, const Shapes& shapes, std::mt19937& rng) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const auto& e = *it;
    std::error_code fe;
    if (!e.is_regular_file(fe) || !has_extension(e.path(), shapes)) continue;
    auto size = e.file_size(fe);
    if (!fe && size > 2000 && size < 60000) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::shuffle(files.begin(), files.end(), rng);
  return files;
}

bool in_string_or_comment(const parsing::Document& doc, uint32_t byte) {
  auto node = doc.node_at(byte);
  if (!node) return true;
  std::string_view type = ts_node_type(*node);
  return type.find("string") != std::string_view::npos || type.find("comment") != std::string_view::npos;
}

FimTask make_task(TaskKind kind, const fs::path& root, const fs::path& file, const std::string& text, size_t cut,
                  size_t end) {
  FimTask t;
  t.kind = kind;
  t.path = fs::relative(file, root).generic_string();
  t.prefix = text.substr(0, cut);
  t.middle = text.substr(cut, end - cut);
  t.suffix = text.substr(end);
  return t;
}

// The cursor after the indentation and a few characters of a code line.
std::optional<FimTask> line_task(const fs::path& root, const fs::path& file, const std::string& text,
                                 const parsing::Document& doc, const Shapes& shapes, std::mt19937& rng) {
  std::vector<size_t> starts{0};
  for (size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n') starts.push_back(i + 1);
  if (starts.size() < 10) return std::nullopt;
  for (int attempt = 0; attempt < 20; ++attempt) {
    size_t l = std::uniform_int_distribution<size_t>(starts.size() / 5, starts.size() - 2)(rng);
    size_t begin = starts[l], end = starts[l + 1] - 1;
    std::string_view line(text.data() + begin, end - begin);
    size_t indent = line.find_first_not_of(" \t");
    if (indent == std::string_view::npos || line.size() - indent < 12 || line[indent] == '#' ||
        line.substr(indent).starts_with("\"\"\"") || line.find('"') != std::string_view::npos)
      continue;
    // Brace languages: no character or template literals, no comment lines
    // (`#` above is also C's preprocessor).
    std::string_view code = line.substr(indent);
    if (shapes.braces && (code.find_first_of("'`") != std::string_view::npos || code.starts_with("//") ||
                          code.starts_with("/*") || code.starts_with("*")))
      continue;
    // Code, not the prose of a docstring or a comment.
    if (in_string_or_comment(doc, static_cast<uint32_t>(begin + indent + 1))) continue;
    size_t cut = begin + indent +
                 std::uniform_int_distribution<size_t>(1, std::min<size_t>(8, line.size() - indent - 4))(rng);
    return make_task(TaskKind::Line, root, file, text, cut, end);
  }
  return std::nullopt;
}

// Every node of `type` in the tree, in pre-order, that `keep` accepts.
template <typename Keep>
std::vector<TSNode> nodes_of_type(const parsing::Document& doc, std::string_view type, Keep keep) {
  std::vector<TSNode> out;
  TSTreeCursor cursor = ts_tree_cursor_new(doc.root());
  while (parsing::advance_preorder(&cursor, true)) {
    TSNode n = ts_tree_cursor_current_node(&cursor);
    if (std::string_view(ts_node_type(n)) == type && keep(n)) out.push_back(n);
  }
  ts_tree_cursor_delete(&cursor);
  return out;
}

bool is_compound_body(std::string_view parent) {
  static const std::string_view kinds[] = {"function_definition", "if_statement",  "elif_clause",
                                           "else_clause",         "for_statement", "while_statement",
                                           "with_statement",      "try_statement", "except_clause",
                                           "finally_clause"};
  return std::find(std::begin(kinds), std::end(kinds), parent) != std::end(kinds);
}

// The whole body of a short block, from its first statement.
std::optional<FimTask> block_task(const fs::path& root, const fs::path& file, const std::string& text,
                                  const parsing::Document& doc, const Shapes& shapes, std::mt19937& rng) {
  auto starts_line = [&](uint32_t start) {
    size_t line_begin = text.rfind('\n', start == 0 ? 0 : start - 1);
    line_begin = line_begin == std::string::npos ? 0 : line_begin + 1;
    return text.find_first_not_of(" \t", line_begin) == start;
  };
  auto ends_line = [&](uint32_t end) { return end < text.size() && text[end] == '\n'; };
  std::vector<std::pair<uint32_t, uint32_t>> spans;
  for (std::string_view type : shapes.blocks) {
    for (TSNode n : nodes_of_type(doc, type, [](TSNode) { return true; })) {
      uint32_t count = ts_node_named_child_count(n);
      if (count == 0) continue;
      TSNode first = ts_node_named_child(n, 0), last = ts_node_named_child(n, count - 1);
      std::string_view first_type = ts_node_type(first);
      if (!shapes.braces) {
        TSNode parent = ts_node_parent(n);
        if (ts_node_is_null(parent) || !is_compound_body(ts_node_type(parent))) continue;
        // Not a docstring first: the model would be asked to write prose.
        if (first_type == "expression_statement" && ts_node_named_child_count(first) > 0 &&
            std::string_view(ts_node_type(ts_node_named_child(first, 0))) == "string")
          continue;
        first = last = n;
      } else if (first_type.find("comment") != std::string_view::npos) {
        continue;
      }
      TSPoint a = ts_node_start_point(first), b = ts_node_end_point(last);
      if (b.row < a.row + 1 || b.row > a.row + 5) continue;
      uint32_t start = ts_node_start_byte(first), end = ts_node_end_byte(last);
      // The block starts a line of its own (not `if x: return`) and ends one.
      if (starts_line(start) && ends_line(end)) spans.emplace_back(start, end);
    }
  }
  if (spans.empty()) return std::nullopt;
  auto [start, end] = spans[std::uniform_int_distribution<size_t>(0, spans.size() - 1)(rng)];
  return make_task(TaskKind::Block, root, file, text, start, end);
}

// The arguments of a one-line call, from just after its `(`.
std::optional<FimTask> call_args_task(const fs::path& root, const fs::path& file, const std::string& text,
                                      const parsing::Document& doc, const Shapes& shapes, std::mt19937& rng) {
  std::vector<TSNode> args;
  std::vector<TSNode> calls;
  for (std::string_view type : shapes.calls)
    for (TSNode n : nodes_of_type(doc, type, [](TSNode) { return true; })) calls.push_back(n);
  std::stable_sort(calls.begin(), calls.end(),
            [](TSNode a, TSNode b) { return ts_node_start_byte(a) < ts_node_start_byte(b); });
  for (TSNode call : calls) {
    TSNode list = parsing::field(call, "arguments");
    if (ts_node_is_null(list)) continue;
    if (!shapes.braces) {
      // Python: a named function or method, not a call of a call's result.
      std::string_view callee = ts_node_type(parsing::field(call, "function"));
      if ((callee != "identifier" && callee != "attribute") || std::string_view(ts_node_type(list)) != "argument_list")
        continue;
    }
    if (ts_node_start_point(list).row != ts_node_end_point(list).row) continue;
    uint32_t open = ts_node_start_byte(list), close = ts_node_end_byte(list);
    if (close < open + 2 || text[open] != '(' || text[close - 1] != ')') continue;
    size_t length = close - 1 - (open + 1);
    if (length < 3 || length > 60) continue;
    args.push_back(list);
  }
  if (args.empty()) return std::nullopt;
  TSNode list = args[std::uniform_int_distribution<size_t>(0, args.size() - 1)(rng)];
  return make_task(TaskKind::CallArgs, root, file, text, ts_node_start_byte(list) + 1, ts_node_end_byte(list) - 1);
}

}  // namespace

const char* to_string(TaskKind kind) {
  switch (kind) {
    case TaskKind::Line: return "line";
    case TaskKind::Block: return "block";
    case TaskKind::CallArgs: return "call_args";
  }
  return "?";
}

std::map<std::string, std::string> default_task_roots(const std::filesystem::path& source_dir) {
  return {
      {"python", "/usr/lib/python3/dist-packages/numpy"},                     // python3-numpy
      {"javascript", (source_dir / "tests/clients/node_modules").string()},  // vscode-jsonrpc & co
      {"typescript", (source_dir / "editors/vscode/node_modules").string()},  // packages that ship their .ts
      {"go", "/usr/lib/go/src/net"},  // golang-src: net/ only, held out of the demo model's training corpus
      {"c", "/usr/share/doc"},         // the -dev packages' examples (zlib, nettle, liblzma, expat, ...)
      {"cpp", "/usr/src/googletest"},  // googletest
      {"rust", "/usr/share/cargo/registry"},  // librust-serde-json-dev, librust-regex-syntax-dev and their deps
      {"java", "jdk:java.base/java/util"},  // the JDK's src.zip, unpacked on first use
  };
}

std::string resolve_task_root(const std::string& root) {
  if (!root.starts_with("jdk:")) return root;
  const std::string prefix = root.substr(4);
  std::filesystem::path zip;
  for (const char* jdk : {"/usr/lib/jvm/default-java", "/usr/lib/jvm/java-17-openjdk-amd64"})
    if (std::filesystem::exists(std::filesystem::path(jdk) / "lib/src.zip")) {
      zip = std::filesystem::path(jdk) / "lib/src.zip";
      break;
    }
  if (zip.empty()) return "";
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "astfill-bench" / "java-src";
  if (!std::filesystem::exists(dir / prefix)) {
    std::filesystem::create_directories(dir);
    std::string cmd = "unzip -q -o '" + zip.string() + "' '" + prefix + "/*' -d '" + dir.string() + "'";
    if (std::system(cmd.c_str()) != 0) return "";
  }
  return (dir / prefix).string();
}

std::vector<std::string> task_extensions(std::string_view language) {
  const Shapes* shapes = shapes_of(language);
  return shapes ? shapes->extensions : std::vector<std::string>{};
}

std::vector<fs::path> candidate_files(const fs::path& root, uint32_t seed, std::string_view language) {
  const Shapes* shapes = shapes_of(language);
  if (!shapes) return {};
  std::mt19937 rng(seed);
  return shuffled_files(root, *shapes, rng);
}

std::vector<FimTask> cut_tasks(const fs::path& root, TaskKind kind, size_t count, uint32_t seed,
                               std::string_view language) {
  const Shapes* shapes = shapes_of(language);
  if (!shapes) return {};
  std::mt19937 rng(seed);
  std::vector<FimTask> tasks;
  for (const auto& f : shuffled_files(root, *shapes, rng)) {
    if (tasks.size() >= count) break;
    // A file that went away since the listing has no task to give.
    std::string text = support::read_file(f, support::kMaxTextFileBytes).text;
    parsing::Document doc(language, text);
    if (doc.status() != parsing::ParseStatus::Parsed || doc.has_syntax_errors()) continue;
    std::optional<FimTask> t;
    switch (kind) {
      case TaskKind::Line: t = line_task(root, f, text, doc, *shapes, rng); break;
      case TaskKind::Block: t = block_task(root, f, text, doc, *shapes, rng); break;
      case TaskKind::CallArgs: t = call_args_task(root, f, text, doc, *shapes, rng); break;
    }
    if (t) {
      t->language = std::string(language);
      tasks.push_back(std::move(*t));
    }
  }
  return tasks;
}

std::string normalize(TaskKind kind, std::string_view text) {
  std::string out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) line.remove_suffix(1);
    out += line;
    if (nl == std::string_view::npos || kind != TaskKind::Block) break;
    out += '\n';
    pos = nl + 1;
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

double edit_similarity(std::string_view a, std::string_view b) {
  if (a.empty() && b.empty()) return 1;
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return 1.0 - static_cast<double>(prev[b.size()]) / static_cast<double>(std::max(a.size(), b.size()));
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5))];
}

std::string break_above(const std::string& prefix, std::string_view language, size_t above) {
  size_t pos = prefix.size();
  for (size_t i = 0; i < above; ++i) {
    if (pos == 0) return {};
    pos = prefix.rfind('\n', pos - 1);
    if (pos == std::string::npos) return {};
  }
  for (size_t q = pos; q > 0; --q) {
    const char c = prefix[q - 1];
    if (c == ')' || c == ']' || (language == "python" && c == ':')) {
      std::string broken = prefix;
      broken.erase(q - 1, 1);
      return broken;
    }
  }
  return {};
}

std::vector<size_t> middle_cuts(std::string_view middle) {
  std::vector<size_t> cuts;
  for (size_t i = 1; i <= 10; ++i) cuts.push_back(middle.size() * i / 10);
  for (size_t i = 0; i < middle.size(); ++i)
    if (middle[i] == '\n') cuts.insert(cuts.end(), {i, i + 1});
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  // Not empty, and not inside a character: the next byte no continuation byte.
  std::erase_if(cuts, [&](size_t cut) {
    return cut == 0 || (cut < middle.size() && (static_cast<unsigned char>(middle[cut]) & 0xC0) == 0x80);
  });
  return cuts;
}

}  // namespace astfill::bench
