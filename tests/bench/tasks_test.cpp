#include "bench/tasks.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <unistd.h>

#include "parsing/document.h"
#include "support/files.h"

using namespace astfill;
using namespace astfill::bench;
namespace fs = std::filesystem;

namespace {

// A small project of Python files over 2 KB: functions with short bodies,
// calls with arguments, a docstring-only body, one file with a syntax error
// and one too small to be used.
struct Project {
  fs::path root;
  Project() {
    root = fs::temp_directory_path() / ("astfill-bench-tasks-" + std::to_string(::getpid()));
    fs::remove_all(root);
    fs::create_directories(root / "pkg");
    for (int f = 0; f < 6; ++f) {
      std::string text = "import os\nimport math\n\n";
      for (int i = 0; i < 14; ++i) {
        text += "def function_" + std::to_string(f) + "_" + std::to_string(i) + "(values, scale=2):\n";
        if (i % 5 == 0) text += "    \"\"\"Only a docstring here, for the cutter to skip.\"\"\"\n\n";
        else
          text += "    total = sum(math.sqrt(v) for v in values)\n"
                  "    if total > scale:\n"
                  "        total = total / scale\n"
                  "        print(os.path.join('a', str(total)))\n"
                  "    return round(total, 3)\n\n";
      }
      write(root / "pkg" / ("module_" + std::to_string(f) + ".py"), text);
    }
    write(root / "pkg" / "broken.py", std::string(3000, '#') + "\ndef broken(:\n    pass\n");
    write(root / "pkg" / "small.py", "def f():\n    return 1\n");
  }
  ~Project() { fs::remove_all(root); }
  static void write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }
};

}  // namespace

TEST_CASE("tasks cut from a project put the file back together, and are the same for the same seed") {
  Project project;
  for (TaskKind kind : {TaskKind::Line, TaskKind::Block, TaskKind::CallArgs}) {
    CAPTURE(to_string(kind));
    auto tasks = cut_tasks(project.root, kind, 10, 7);
    // Six usable files, one task each; never the broken or the small file.
    REQUIRE(tasks.size() == 6);
    std::set<std::string> paths;
    for (const auto& t : tasks) {
      CAPTURE(t.path, t.middle);
      paths.insert(t.path);
      CHECK(t.path.starts_with("pkg/module_"));
      CHECK(t.prefix + t.middle + t.suffix == support::read_file(project.root / t.path, 1 << 20).text);
      CHECK(!t.middle.empty());
      switch (kind) {
        case TaskKind::Line:
          CHECK(t.middle.find('\n') == std::string::npos);
          CHECK(t.suffix.starts_with("\n"));
          CHECK(t.middle.find('"') == std::string::npos);
          break;
        case TaskKind::Block:
          // A whole body from its first statement: more than one line, at the
          // start of a line after its indentation, never the docstring.
          CHECK(t.middle.find('\n') != std::string::npos);
          CHECK(t.prefix.ends_with("    "));
          CHECK(t.middle.find("\"\"\"") == std::string::npos);
          CHECK((t.suffix.empty() || t.suffix.starts_with("\n")));
          break;
        case TaskKind::CallArgs:
          CHECK(t.prefix.ends_with("("));
          CHECK(t.suffix.starts_with(")"));
          CHECK(t.middle.size() >= 3);
          CHECK(t.middle.find('\n') == std::string::npos);
          break;
      }
      // The file without the middle is what the model sees; the whole file parses.
      parsing::Document whole("python", t.prefix + t.middle + t.suffix);
      CHECK(!whole.has_syntax_errors());
    }
    CHECK(paths.size() == tasks.size());
    auto again = cut_tasks(project.root, kind, 10, 7);
    REQUIRE(again.size() == tasks.size());
    for (size_t i = 0; i < tasks.size(); ++i) {
      CHECK(again[i].path == tasks[i].path);
      CHECK(again[i].prefix.size() == tasks[i].prefix.size());
    }
    CHECK(cut_tasks(project.root, kind, 2, 7).size() == 2);
  }
  // Another seed draws the files in another order.
  auto a = cut_tasks(project.root, TaskKind::Line, 6, 1), b = cut_tasks(project.root, TaskKind::Line, 6, 2);
  bool same = true;
  for (size_t i = 0; i < a.size(); ++i) same = same && a[i].path == b[i].path && a[i].prefix == b[i].prefix;
  CHECK_FALSE(same);
}

TEST_CASE("a missing root gives no tasks") {
  CHECK(cut_tasks("/nonexistent/astfill-bench", TaskKind::Line, 5, 1).empty());
}

TEST_CASE("scores: normalisation, edit similarity, percentiles") {
  CHECK(normalize(TaskKind::Line, "x = 1  \ny = 2") == "x = 1");
  CHECK(normalize(TaskKind::CallArgs, "a, b \t") == "a, b");
  CHECK(normalize(TaskKind::Block, "x = 1  \n    y = 2\t\n\n\n") == "x = 1\n    y = 2");
  CHECK(normalize(TaskKind::Block, "") == "");
  CHECK(edit_similarity("", "") == 1.0);
  CHECK(edit_similarity("abc", "") == 0.0);
  CHECK(edit_similarity("kitten", "sitting") == Approx(1.0 - 3.0 / 7.0));
  CHECK(edit_similarity("same", "same") == 1.0);
  CHECK(percentile({}, 0.5) == 0);
  CHECK(percentile({5, 1, 3, 2, 4}, 0.5) == 3);
  CHECK(percentile({5, 1, 3, 2, 4}, 0.95) == 5);
  CHECK(percentile({5, 1, 3, 2, 4}, 0.0) == 1);
}

namespace {

// One file over 2 KB in `language`: functions of a few statements, each with a
// call with arguments, repeated; the files' own text is the check.
std::string brace_file(std::string_view language, int n) {
  std::string head, fn;
  if (language == "javascript" || language == "typescript") {
    fn = "function compute_N(values, scale) {\n  let total = Math.max(values.length, scale);\n"
         "  if (total > scale) {\n    total = total / scale;\n    console.log(total, scale);\n  }\n"
         "  return Math.round(total);\n}\n\n";
  } else if (language == "go") {
    head = "package sample\n\nimport \"math\"\n\n";
    fn = "func computeN(values []float64, scale float64) float64 {\n\ttotal := math.Max(float64(len(values)), scale)\n"
         "\tif total > scale {\n\t\ttotal = total / scale\n\t\ttotal = math.Floor(total)\n\t}\n"
         "\treturn math.Round(total)\n}\n\n";
  } else if (language == "rust") {
    fn = "fn compute_N(values: &[f64], scale: f64) -> f64 {\n    let mut total = f64::max(values.len() as f64, scale);\n"
         "    if total > scale {\n        total = total / scale;\n        total = f64::floor(total);\n    }\n"
         "    f64::round(total)\n}\n\n";
  } else if (language == "c" || language == "cpp") {
    head = "#include <math.h>\n\n";
    fn = "static double compute_N(const double *values, int count, double scale) {\n"
         "  double total = fmax((double)count, scale);\n  if (total > scale) {\n    total = total / scale;\n"
         "    total = floor(total + values[0]);\n  }\n  return round(total);\n}\n\n";
  } else if (language == "java") {
    head = "class Sample {\n";
    fn = "  static double computeN(double[] values, double scale) {\n"
         "    double total = Math.max(values.length, scale);\n    if (total > scale) {\n"
         "      total = total / scale;\n      total = Math.floor(total);\n    }\n    return Math.round(total);\n  }\n\n";
  }
  std::string text = head;
  for (int i = 0; text.size() < 2600; ++i) {
    std::string f = fn;
    for (size_t at; (at = f.find("N(")) != std::string::npos;) f.replace(at, 1, std::to_string(n) + "_" + std::to_string(i));
    text += f;
  }
  if (language == "java") text += "}\n";
  return text;
}

}  // namespace

TEST_CASE("tasks are cut from every language's files, and put the file back together") {
  const std::pair<const char*, const char*> languages[] = {
      {"javascript", ".js"}, {"typescript", ".ts"}, {"go", ".go"}, {"c", ".c"},
      {"cpp", ".cc"},         {"rust", ".rs"},       {"java", ".java"}};
  for (auto [language, ext] : languages) {
    CAPTURE(language);
    fs::path root = fs::temp_directory_path() / ("astfill-bench-tasks-" + std::string(language) + "-" +
                                                std::to_string(::getpid()));
    fs::remove_all(root);
    fs::create_directories(root / "src");
    for (int f = 0; f < 4; ++f)
      std::ofstream(root / "src" / ("file" + std::to_string(f) + ext), std::ios::binary) << brace_file(language, f);
    // Not a file of the language: a declaration file, a file of another language.
    std::ofstream(root / "src" / "types.d.ts") << std::string(3000, ' ') << "declare const x: number;\n";
    std::ofstream(root / "src" / "other.py") << std::string(3000, '#') << "\nx = 1\n";
    CHECK(candidate_files(root, 1, language).size() == 4);
    for (TaskKind kind : {TaskKind::Line, TaskKind::Block, TaskKind::CallArgs}) {
      CAPTURE(to_string(kind));
      auto tasks = cut_tasks(root, kind, 10, 3, language);
      REQUIRE(tasks.size() == 4);
      for (const auto& t : tasks) {
        CAPTURE(t.path, t.middle);
        CHECK(t.language == language);
        CHECK(t.path.ends_with(ext));
        CHECK(t.prefix + t.middle + t.suffix == support::read_file(root / t.path, 1 << 20).text);
        CHECK(!t.middle.empty());
        switch (kind) {
          case TaskKind::Line: CHECK(t.middle.find('\n') == std::string::npos); break;
          case TaskKind::Block:
            // The statements between the braces, from the first, at a line's start, to the end of a line.
            CHECK(t.middle.find('\n') != std::string::npos);
            CHECK(t.prefix.substr(t.prefix.rfind('\n') + 1).find_first_not_of(" \t") == std::string::npos);
            CHECK(t.suffix.starts_with("\n"));
            break;
          case TaskKind::CallArgs:
            CHECK(t.prefix.ends_with("("));
            CHECK(t.suffix.starts_with(")"));
            CHECK(t.middle.size() >= 3);
            break;
        }
      }
    }
    fs::remove_all(root);
  }
  CHECK(cut_tasks("/tmp", TaskKind::Line, 5, 1, "cobol").empty());
  CHECK(task_extensions("typescript") == std::vector<std::string>{".ts", ".mts", ".cts"});
}
