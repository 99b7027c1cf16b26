// Fill-in-the-middle tasks cut from a real project in one of the judged
// languages (bench/judge.h; by default Python from the sources of Debian's
// python3-numpy, which the demo model never saw), and the measures that score
// a completion against the code that was cut out. Shared by bench_completion
// and bench_quality; deterministic given a seed.
//
// Each task removes `middle` from a file that parses without errors, so
// prefix + middle + suffix is the file again:
//  - Line: the cursor after the indentation and 1-8 characters of a code
//    line (no strings, comments, docstrings or preprocessor lines); the
//    middle is the rest of the line.
//  - Block: the cursor at the first statement of a block whose statements
//    take 2-6 lines (Python: the body of a def, if, for, while, with, try,
//    ...; not one that starts with a docstring. Brace languages: the
//    statements between `{` and `}`, not one that starts with a comment);
//    the middle is the statements, the first line's indentation excluded.
//  - CallArgs: the cursor just after the `(` of a one-line call with
//    arguments (3-60 characters); the middle is the arguments, the suffix
//    starts with the `)`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace astfill::bench {

enum class TaskKind { Line, Block, CallArgs };

const char* to_string(TaskKind kind);

struct FimTask {
  TaskKind kind = TaskKind::Line;
  std::string language = "python";  // an LSP languageId
  std::string path;  // relative to the root, '/'-separated
  std::string prefix, middle, suffix;
};

// Where each language's tasks come from by default: code that ships on a
// Debian machine set up by scripts/setup (or in the npm trees under
// `source_dir`, the source tree), none of it written here. Rust has none.
// A value is a directory, or "jdk:PREFIX" for the JDK's own sources
// (resolve_task_root unpacks them).
std::map<std::string, std::string> default_task_roots(const std::filesystem::path& source_dir);

// The directory a default_task_roots value names: itself, or for
// "jdk:PREFIX" that part of the JDK's lib/src.zip (openjdk-17-source),
// unpacked once into $TMPDIR/astfill-bench/java-src. Empty when the JDK's
// sources are not installed or cannot be unpacked.
std::string resolve_task_root(const std::string& root);

// The file extensions tasks of `language` are cut from (".py"; ".ts" but
// not ".d.ts"); empty for a language the cutter does not know.
std::vector<std::string> task_extensions(std::string_view language);

// Files of `language` of 2-60 KB under `root`, sorted, then shuffled with `seed`.
std::vector<std::filesystem::path> candidate_files(const std::filesystem::path& root, uint32_t seed,
                                                   std::string_view language = "python");

// Up to `count` tasks of `kind`, at most one per file, in the shuffled file
// order, from files tree-sitter parses without errors. The same root, kind,
// count, seed and language give the same tasks.
std::vector<FimTask> cut_tasks(const std::filesystem::path& root, TaskKind kind, size_t count, uint32_t seed,
                               std::string_view language = "python");

// The text a completion is compared with: trailing whitespace of each line
// and blank lines at the end dropped; a Line task keeps its first line only.
std::string normalize(TaskKind kind, std::string_view text);

// 1 - Levenshtein distance / the longer length, over bytes (1 for two empty strings).
double edit_similarity(std::string_view a, std::string_view b);

// A file broken elsewhere, for the benchmarks and tests that ask whether
// such a break blocks correct code at the hole: `prefix` with its last `)`
// or `]` (in Python also `:`) at least `above` lines before its last line
// dropped, or "" when it has none there. Dropping a closer leaves a bracket
// unclosed, the commonest state of a line being edited.
std::string break_above(const std::string& prefix, std::string_view language, size_t above);

// Where a completion of `middle` might stop short: the lengths of its
// prefixes cut at each tenth of it and before and after each line break,
// ascending, none empty, none ending inside a UTF-8 character; the whole
// middle's length last.
std::vector<size_t> middle_cuts(std::string_view middle);

// The p-quantile (0..1) by nearest rank; 0 for no values.
double percentile(std::vector<double> values, double p);

}  // namespace astfill::bench
