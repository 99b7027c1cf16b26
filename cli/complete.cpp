// `astfill complete`: one completion at a position of a file, as the editor
// would get it (with the workspace's index for cross-file context).
#include <cstdio>

#include "cli/commands.h"
#include "cli/completion_setup.h"
#include "support/files.h"
#include "workspace/positions.h"
#include "support/log.h"

namespace astfill::cli {
namespace json = boost::json;

int run_complete(const std::vector<std::string>& args) {
  CompletionSetupOptions options;
  std::string file;
  std::optional<unsigned long long> line, character;
  bool as_json = false;
  ArgParser p("astfill complete",
              "Prints the completion at a position of a file: zero-based LINE and CHARACTER (in\n"
              "Unicode characters). The workspace (--root) is indexed first, incrementally.");
  options.add_to(p);
  p.option("--file", "F", "the file (relative to --root, or absolute)",
           [&](const std::string& v) -> std::optional<std::string> {
             file = v;
             return std::nullopt;
           });
  p.option("--line", "L", "zero-based line", [&](const std::string& v) -> std::optional<std::string> {
    unsigned long long n = 0;
    if (auto e = parse_uint(v, "line", 0, 1u << 30, n)) return e;
    line = n;
    return std::nullopt;
  });
  p.option("--character", "C", "zero-based character in the line", [&](const std::string& v) -> std::optional<std::string> {
    unsigned long long n = 0;
    if (auto e = parse_uint(v, "character", 0, 1u << 30, n)) return e;
    character = n;
    return std::nullopt;
  });
  p.flag("--json", "print a JSON object with the completion and how it was made", [&] { as_json = true; });
  if (auto err = p.parse(args)) {
    std::fprintf(stderr, "astfill complete: %s\n", err->c_str());
    return 2;
  }
  if (p.help_requested()) {
    std::fputs(p.help().c_str(), stdout);
    return 0;
  }
  if (file.empty() || !line || !character) {
    std::fprintf(stderr, "astfill complete: --file, --line and --character are required\n");
    return 2;
  }
  log::set_level(log::Level::Warn);
  CompletionSetup setup = set_up_completion(options);
  if (!setup.error.empty()) {
    std::fprintf(stderr, "astfill complete: %s\n", setup.error.c_str());
    return 1;
  }
  std::string rel = workspace_path(setup, file);
  std::string absolute = std::filesystem::path(rel).is_absolute() ? rel : (setup.root / rel).string();
  std::string text;
  if (auto err = support::read_text(absolute, text)) {
    std::fprintf(stderr, "astfill complete: %s\n", err->c_str());
    return 1;
  }
  std::string language = language_for(rel);
  if (language.empty()) {
    std::fprintf(stderr, "astfill complete: '%s' is not in a language astfill completes\n", rel.c_str());
    return 1;
  }
  auto offset = workspace::offset_at(
      text, workspace::Position{static_cast<uint32_t>(*line), static_cast<uint32_t>(*character)},
      workspace::PositionEncoding::Utf32);
  if (!offset) {
    std::fprintf(stderr, "astfill complete: line %llu is past the end of '%s' (%zu lines)\n", *line, rel.c_str(),
                 workspace::line_count(text));
    return 1;
  }
  // The file as an editor would have it open: the index is fed its text.
  std::string uri = document_uri(setup, rel);
  if (auto warning = setup.workspace->open(uri, language, 1, std::move(text)))
    std::fprintf(stderr, "astfill complete: %s\n", warning->c_str());
  wait_for_index(setup);
  auto doc = setup.workspace->document(uri);
  NoProgress progress;
  auto result = setup.workspace->inline_completion(*doc, *offset, completion::Trigger::Invoked)({}, progress);
  std::string completion = result.items.empty() ? std::string() : result.items.front().insert_text;
  if (as_json) {
    json::object o = details_json(result.details);
    o["completion"] = json_text(completion);
    o["file"] = json_text(rel);
    o["line"] = *line;
    o["character"] = *character;
    if (result.items.empty()) o["empty_reason"] = completion::to_string(result.empty_reason);
    std::printf("%s\n", json::serialize(o).c_str());
  } else {
    std::fwrite(completion.data(), 1, completion.size(), stdout);
    std::fputc('\n', stdout);
  }
  return 0;
}

}  // namespace astfill::cli
