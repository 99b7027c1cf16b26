// The completion service end to end on tiny random-weight models: with
// constraints every completion leaves the file free of new syntax errors in
// every language; single-line mode writes one line; the API constraint only
// ever yields members the index knows; cross-file context reaches the
// prompt; a warm request prefills only what changed; typed-through hits;
// fills replace a placeholder body; suggestions are ranked; cancellation.
#include <catch2/catch.hpp>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>

#include "../engine/temp_dir.h"
#include "../parsing/cpython.h"
#include "code_samples.h"
#include "completion/model_prompt.h"
#include "completion/service.h"
#include "completion/syntax_guard.h"
#include "index/parsed.h"
#include "parsing/document.h"
#include "tests/fixtures/random_model.h"

using namespace astfill::completion;
using astfill::testing::TempDir;

namespace {

std::string extension_of(std::string_view language) {
  if (language == "python") return ".py";
  if (language == "javascript") return ".js";
  if (language == "typescript") return ".ts";
  if (language == "typescriptreact") return ".tsx";
  if (language == "c") return ".c";
  if (language == "cpp") return ".cpp";
  if (language == "go") return ".go";
  if (language == "rust") return ".rs";
  return ".java";
}

size_t errors_in(std::string_view language, std::string text) {
  astfill::parsing::Document doc(language, std::move(text));
  return count_syntax_errors(doc);
}

std::string write_model(const TempDir& dir, uint32_t seed, const std::string& arch = "qwen2") {
  auto spec = astfill::engine::tiny_spec(arch);
  spec.seed = seed;
  spec.weight_scale = 0.2f;  // sharper logits: a random model that prefers some tokens strongly
  std::string path = dir.file(arch + "-" + std::to_string(seed) + ".gguf");
  astfill::engine::write_random_model(path, spec);
  return path;
}

InlineCompletionRequest request_for(std::string_view language, std::string text, size_t cursor,
                                    const std::string& path = "") {
  InlineCompletionRequest r;
  std::string p = path.empty() ? "sample" + extension_of(language) : path;
  r.document = {"file:///project/" + p, std::string(language), 1, std::make_shared<const std::string>(std::move(text))};
  r.offset = cursor;
  r.trigger = Trigger::Invoked;
  r.options.max_tokens = 24;
  r.options.timeout_ms = 60000;
  r.project.path = p;
  r.project.name = "project";
  return r;
}

void write(const std::filesystem::path& root, const std::string& rel, const std::string& text) {
  std::filesystem::create_directories((root / rel).parent_path());
  std::ofstream(root / rel, std::ios::binary) << text;
}

}  // namespace

TEST_CASE("with constraints, random models never leave new syntax errors, in every language", "[service]") {
  TempDir dir;
  astfill::NoProgress progress;
  size_t completions = 0, nonempty = 0;
  for (uint32_t seed : {1u, 2u, 3u}) {
    ServiceOptions so;
    so.load.threads = 1;
    so.context_tokens = 1024;
    so.cache_entries = 0;
    CompletionService service(so);
    service.load_model(write_model(dir, seed));
    for (const auto& sample : samples::all()) {
      std::string text = std::string(sample.prefix) + std::string(sample.suffix);
      size_t before = errors_in(sample.language, text);
      // At the sample's cursor (a block), and inside its first line (one line).
      for (size_t cursor : {sample.prefix.size(), sample.prefix.size() - 2}) {
        auto r = request_for(sample.language, text, cursor);
        auto result = service.complete_inline(r, {}, progress);
        ++completions;
        std::string completion = result.items.empty() ? "" : result.items.front().insert_text;
        if (!completion.empty()) ++nonempty;
        INFO(sample.language << " seed " << seed << " cursor " << cursor << ": " << completion << " (raw "
                             << result.details.raw << ", " << result.details.end << ")");
        CHECK(errors_in(sample.language, text.substr(0, cursor) + completion + text.substr(cursor)) <= before);
        if (result.details.mode == "single-line") CHECK(completion.find('\n') == std::string::npos);
      }
    }
  }
  WARN(nonempty << " of " << completions << " completions were non-empty");
  CHECK(nonempty > 0);
}

TEST_CASE("cross-file context, the API constraint, suggestions and fills over a real index", "[service]") {
  TempDir dir;
  auto root = dir.path() / "proj";
  write(root, "pkg/__init__.py", "");
  write(root, "pkg/shapes.py",
        "class Circle:\n    \"\"\"A circle.\"\"\"\n    def __init__(self, r):\n        self.r = r\n"
        "    def area(self):\n        return 3.14 * self.r ** 2\n    def perimeter(self):\n        return 6.28 * self.r\n\n"
        "def make_circle(r):\n    \"\"\"A circle of radius r.\"\"\"\n    return Circle(r)\n");
  std::string main_text = "from . import shapes\n\n\ndef report(r):\n    c = shapes.make_circle(r)\n    return c.\n";
  write(root, "pkg/main.py", main_text);
  astfill::index::IndexOptions io;
  io.root = root;
  io.database = dir.path() / "index.db";
  io.background_nice = 0;
  std::shared_ptr<astfill::index::Index> index = astfill::index::open_project_index(io);
  index->sync_with_disk();
  index->wait_until_idle();

  ServiceOptions so;
  so.load.threads = 1;
  so.context_tokens = 2048;
  CompletionService service(so);
  service.load_model(write_model(dir, 7));
  astfill::NoProgress progress;
  auto with_project = [&](InlineCompletionRequest r) {
    r.project.index = index;
    r.project.root = root.string();
    return r;
  };

  // After `c.` (c made by shapes.make_circle: unknown type) the model is free;
  // after `shapes.` only the module's names may be written.
  std::string text = "from . import shapes\n\n\ndef report(r):\n    c = shapes.\n";
  size_t cursor = text.find("shapes.\n") + 7;
  auto r = with_project(request_for("python", text, cursor, "pkg/main.py"));
  auto result = service.complete_inline(r, {}, progress);
  INFO("raw: " << result.details.raw);
  CHECK(result.details.restricted >= 1);
  std::string written = result.details.raw;
  size_t end = 0;
  while (end < written.size() && (std::isalnum(static_cast<unsigned char>(written[end])) || written[end] == '_')) ++end;
  std::string name = written.substr(0, end);
  bool known = name == "Circle" || name == "make_circle" ||
               (end == written.size() && (std::string("Circle").starts_with(name) || std::string("make_circle").starts_with(name)));
  CHECK(known);
  // The definitions of names used near the cursor came from the other file.
  CHECK(result.details.context.imports.items + result.details.context.definitions.items >= 1);
  {
    // With the document's tree given, resolving the receiver parses nothing
    // either (a second service: the first would answer from its cache).
    CompletionService cold(so);
    cold.load_model(write_model(dir, 7));
    auto given = r;
    given.document.parsed = std::make_shared<const astfill::parsing::Document>("python", text);
    auto again = cold.complete_inline(given, {}, progress);
    CHECK_FALSE(again.details.from_cache);
    CHECK(again.details.restricted >= 1);
    CHECK(again.details.document_parses == 0);
    CHECK(again.details.raw == result.details.raw);
  }

  // Suggestions after `shapes.`: the module's names, ranked by the model.
  ApiSuggestionRequest s{r.document, cursor, r.options, r.project};
  auto suggestions = service.suggest_api(s, {}, progress);
  std::set<std::string> labels;
  for (const auto& item : suggestions.items) labels.insert(item.label);
  CHECK(labels == std::set<std::string>{"Circle", "make_circle"});
  CHECK(suggestions.ranked);
  CHECK(suggestions.items.front().score >= suggestions.items.back().score);
  CHECK(suggestions.items.front().score < 0);
  // A typed prefix narrows them, and the replace range covers it.
  std::string typed = text.substr(0, cursor) + "ma" + text.substr(cursor);
  ApiSuggestionRequest s2{{r.document.uri, "python", 2, std::make_shared<const std::string>(typed)}, cursor + 2, r.options,
                          r.project};
  auto narrowed = service.suggest_api(s2, {}, progress);
  REQUIRE(narrowed.items.size() == 1);
  CHECK(narrowed.items[0].label == "make_circle");
  CHECK(narrowed.items[0].replace_begin == cursor);
  CHECK(narrowed.items[0].replace_end == cursor + 2);

  // A fill replaces the placeholder body and keeps the file valid.
  std::string with_pass = "from . import shapes\n\n\ndef total_area(circles):\n    pass\n\n\nprint(total_area([]))\n";
  size_t at = with_pass.find("pass");
  FillRequest f{{"file:///project/pkg/util.py", "python", 1, std::make_shared<const std::string>(with_pass)}, at, r.options,
                r.project};
  f.project.path = "pkg/util.py";
  auto filled = service.fill(f, {}, progress);
  CHECK(filled.replace_begin == at);
  CHECK(filled.replace_end == at + 4);
  std::string after = with_pass.substr(0, filled.replace_begin) + filled.text + with_pass.substr(filled.replace_end);
  INFO("filled: " << filled.text);
  CHECK(errors_in("python", after) <= errors_in("python", with_pass.substr(0, at) + with_pass.substr(at + 4)));
}

TEST_CASE("a warm request prefills only what changed, typed-through, cancellation", "[service]") {
  TempDir dir;
  ServiceOptions so;
  so.load.threads = 1;
  so.context_tokens = 1024;
  CompletionService service(so);
  service.load_model(write_model(dir, 11));
  astfill::NoProgress progress;
  std::string text = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return \n\n\nprint(mul(2, 3))\n";
  size_t cursor = text.find("return \n") + 7;
  auto first = service.complete_inline(request_for("python", text, cursor), {}, progress);
  CHECK_FALSE(first.details.from_cache);
  CHECK(first.details.reused_tokens == 0);
  REQUIRE(first.details.prompt_tokens > 20);

  // One more character typed (not the suggestion's): most of the prompt is reused.
  std::string typed = text.substr(0, cursor) + "(" + text.substr(cursor);
  auto second = service.complete_inline(request_for("python", typed, cursor + 1), {}, progress);
  CHECK_FALSE(second.details.from_cache);
  // FIM puts the suffix after the prefix: what follows the changed token is
  // prefilled again, nothing before it.
  CHECK(second.details.reused_tokens + 8 >= second.details.prompt_tokens / 2);
  CHECK(second.details.prompt_tokens - second.details.reused_tokens <= second.details.context.suffix.tokens + 8);

  // Typing the first characters of a shown completion serves the rest from the cache.
  if (!second.items.empty() && second.items[0].insert_text.size() >= 2) {
    const std::string& shown = second.items[0].insert_text;
    std::string through = typed.substr(0, cursor + 1) + shown.substr(0, 1) + typed.substr(cursor + 1);
    auto hit = service.complete_inline(request_for("python", through, cursor + 2), {}, progress);
    CHECK(hit.details.from_cache);
    REQUIRE(hit.items.size() == 1);
    CHECK(hit.items[0].insert_text == shown.substr(1));
    CHECK(service.cache_hits() == 1);
  }

  // A request cancelled before it starts answers nothing, without the model.
  astfill::CancellationSource source;
  source.cancel(astfill::CancelReason::Superseded);
  std::string other = "x = 1\ny = \n";
  auto cancelled = service.complete_inline(request_for("python", other, other.size() - 1), source.token(), progress);
  CHECK(cancelled.items.empty());
  CHECK(cancelled.details.generated_tokens == 0);

  // Disabled languages and no model.
  auto r = request_for("python", other, other.size() - 1);
  r.options.languages["python"] = false;
  CHECK(service.complete_inline(r, {}, progress).empty_reason == EmptyReason::Disabled);
  CompletionService empty;
  CHECK(empty.complete_inline(request_for("python", other, 4), {}, progress).empty_reason == EmptyReason::NoModel);
  CHECK_THROWS(empty.load_model(dir.file("missing.gguf")));
  CHECK_FALSE(empty.has_model());
}

TEST_CASE("a request that brings the document's tree makes no full parse, and answers the same", "[service][parses]") {
  TempDir dir;
  std::string model = write_model(dir, 5);
  astfill::NoProgress progress;
  // Two services on one model file, both cold, so that the KV cache plays no part in the comparison.
  ServiceOptions so;
  so.load.threads = 1;
  so.context_tokens = 1024;
  so.cache_entries = 0;
  CompletionService parsing_itself(so), given_tree(so);
  parsing_itself.load_model(model);
  given_tree.load_model(model);
  size_t compared = 0;
  for (const auto& sample : samples::all()) {
    std::string text = std::string(sample.prefix) + std::string(sample.suffix);
    for (size_t cursor : {sample.prefix.size(), sample.prefix.size() - 2}) {
      INFO(sample.language << " cursor " << cursor);
      auto without = parsing_itself.complete_inline(request_for(sample.language, text, cursor), {}, progress);
      auto r = request_for(sample.language, text, cursor);
      r.document.parsed = std::make_shared<const astfill::parsing::Document>(sample.language, text);
      const uint64_t full_before = astfill::parsing::full_parses_on_this_thread();
      const uint64_t all_before = astfill::parsing::parses_on_this_thread();
      auto with = given_tree.complete_inline(r, {}, progress);
      CHECK(astfill::parsing::full_parses_on_this_thread() == full_before);
      // The syntax checks ran here, on copies of the tree reparsed incrementally.
      CHECK(astfill::parsing::parses_on_this_thread() > all_before);
      CHECK(with.details.document_parses == 0);
      CHECK(without.details.document_parses == 1);  // once, where it used to be about five
      CHECK(with.details.raw == without.details.raw);
      CHECK(with.details.mode == without.details.mode);
      CHECK(with.details.end == without.details.end);
      CHECK(with.details.rejected == without.details.rejected);
      REQUIRE(with.items.size() == without.items.size());
      if (!with.items.empty()) CHECK(with.items[0].insert_text == without.items[0].insert_text);
      ++compared;
    }
  }
  CHECK(compared == 2 * samples::all().size());

  // A tree of another text (a stale snapshot) is not trusted: the service parses the text it was given.
  std::string text = "def f(a):\n    return \n";
  auto r = request_for("python", text, text.find("return ") + 7);
  r.document.parsed = std::make_shared<const astfill::parsing::Document>("python", "x = 1\n");
  CHECK(given_tree.complete_inline(r, {}, progress).details.document_parses == 1);

  // A fill (the placeholder is cut out of a copy of the tree) makes none either.
  std::string body = "def double(a):\n    pass\n\n\nprint(double(2))\n";
  FillRequest fill{{"file:///project/f.py", "python", 1, std::make_shared<const std::string>(body)},
                   body.find("pass") + 2, {}, {}};
  fill.options.max_tokens = 16;
  fill.options.timeout_ms = 60000;
  auto filled_itself = parsing_itself.fill(fill, {}, progress);
  fill.document.parsed = std::make_shared<const astfill::parsing::Document>("python", body);
  auto filled_given = given_tree.fill(fill, {}, progress);
  CHECK(filled_itself.details.document_parses == 1);
  CHECK(filled_given.details.document_parses == 0);
  CHECK(filled_given.text == filled_itself.text);
  CHECK(filled_given.replace_begin == filled_itself.replace_begin);
}

TEST_CASE("budgets: a small context keeps a suffix and caps cross-file context at a quarter", "[prompt]") {
  using astfill::completion::budgets_for;
  astfill::completion::Options o;  // prefix 1024, suffix 256, cross-file 1024
  // A large context: the settings as they are.
  auto big = budgets_for(o, 32768, 64);
  CHECK(big.prefix == 1024);
  CHECK(big.suffix == 256);
  CHECK(big.imports + big.definitions + big.similar + big.recent == 1024);
  CHECK(big.total == 2304);
  // The demo model's 512 tokens: 384 of room for 64 generated.
  auto small = budgets_for(o, 512, 64);
  CHECK(small.total == 384);
  size_t cross = small.imports + small.definitions + small.similar + small.recent;
  CHECK(cross == 96);
  CHECK(small.prefix + small.suffix + cross == 384);
  CHECK(small.suffix >= 50);
  CHECK(small.prefix > 3 * small.suffix);
  // No cross-file context: the prefix and suffix share all the room.
  o.cross_file_tokens = 0;
  auto alone = budgets_for(o, 512, 64);
  CHECK(alone.prefix + alone.suffix == 384);
  CHECK(alone.imports + alone.definitions + alone.similar + alone.recent == 0);
  // Settings that fit are left alone.
  o.prefix_tokens = 200;
  o.suffix_tokens = 50;
  o.cross_file_tokens = 100;
  auto fits = budgets_for(o, 512, 64);
  CHECK(fits.prefix == 200);
  CHECK(fits.suffix == 50);
  CHECK(fits.total == 350);
}

// Issue 14: with constraints, what a random model's completion leaves is
// judged by CPython, not tree-sitter: in the middle of a real file (the
// standard library's bisect.py), a line's code taken away and completed, and
// the file must parse again (or the answer is empty).
TEST_CASE("with constraints, Python completions leave a file CPython parses", "[service][cpython]") {
  FILE* p = popen("/usr/bin/python3 -c \"import sysconfig; print(sysconfig.get_paths()['stdlib'])\"", "r");
  REQUIRE(p != nullptr);
  char buf[512] = {};
  std::string stdlib = fgets(buf, sizeof buf, p) ? buf : "";
  pclose(p);
  while (!stdlib.empty() && stdlib.back() == '\n') stdlib.pop_back();
  std::ifstream in(stdlib + "/bisect.py", std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(astfill::testing::cpython_parses(text));
  // Holes: the code of every 4th indented code line.
  std::vector<std::pair<size_t, size_t>> holes;
  size_t seen = 0;
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) break;
    std::string_view line(text.data() + at, end - at);
    size_t first = line.find_first_not_of(' ');
    if (first != std::string_view::npos && first >= 4 && line[first] != '#' && line[first] != '"' &&
        seen++ % 4 == 0)
      holes.emplace_back(at + first, end);
    at = end + 1;
  }
  REQUIRE(holes.size() > 5);
  TempDir dir;
  astfill::NoProgress progress;
  size_t nonempty = 0, whole = 0;
  for (uint32_t seed : {1u, 2u}) {
    ServiceOptions so;
    so.load.threads = 1;
    so.context_tokens = 1024;
    so.cache_entries = 0;
    CompletionService service(so);
    service.load_model(write_model(dir, seed));
    for (auto [begin, end] : holes) {
      std::string holed = text.substr(0, begin) + text.substr(end);
      auto r = request_for("python", holed, begin);
      auto result = service.complete_inline(r, {}, progress);
      std::string completion = result.items.empty() ? "" : result.items.front().insert_text;
      if (completion.empty()) continue;
      ++nonempty;
      std::string filled = holed.substr(0, begin) + completion + holed.substr(begin);
      INFO("seed " << seed << " at " << begin << ": " << completion << " (raw " << result.details.raw << ", "
                   << result.details.end << ")");
      bool parses = astfill::testing::cpython_parses(filled);
      CHECK(parses);
      whole += parses;
    }
  }
  WARN(nonempty << " non-empty completions, " << whole << " parsed by CPython");
}

TEST_CASE("the time cap covers the prefill: a cut prefill is reported and the next request resumes it",
          "[service][deadline]") {
  TempDir dir;
  ServiceOptions so;
  so.load.threads = 1;
  so.context_tokens = 4096;
  so.cache_entries = 0;
  CompletionService service(so);
  service.load_model(write_model(dir, 17));
  astfill::NoProgress progress;
  std::string text;
  for (int i = 0; i < 60; ++i)
    text += "def f" + std::to_string(i) + "(a, b):\n    return a * " + std::to_string(i) + " + b\n\n";
  text += "def g(x):\n    return \n";
  const size_t cursor = text.size() - 1;
  auto request = request_for("python", text, cursor);

  // The document's slot runs alone and every forward pass of it sleeps
  // 100 ms first (a slow machine, deterministically): the prompt's prefill
  // takes many passes, far more than the 300 ms cap.
  constexpr auto kPass = std::chrono::milliseconds(100);
  auto runner = service.runner();
  {
    auto lease = runner->acquire(request.document.uri, {});
    REQUIRE(lease);
    lease->session().set_tensor_hook([&](const astfill::engine::TensorDump& t) {
      if (t.name == "inp_embd") std::this_thread::sleep_for(kPass);
    });
  }
  request.options.timeout_ms = 300;
  auto cut = service.complete_inline(request, {}, progress);
  CHECK(cut.items.empty());
  CHECK(cut.empty_reason == EmptyReason::TimedOut);
  CHECK(cut.details.timed_out);
  CHECK(cut.details.end == "time cap");
  CHECK(cut.details.generated_tokens == 0);
  REQUIRE(cut.details.prompt_tokens > 1000);
  CHECK(cut.details.prefilled_tokens > 0);
  CHECK(cut.details.prefilled_tokens < cut.details.prompt_tokens);
  // Within the cap and the pass that was running (and slack for a loaded
  // machine), where the whole prefill would take over a second.
  CHECK(cut.details.elapsed_ms < 300 + 100 + 250);

  // The next request at the same position reuses what was prefilled.
  {
    auto lease = runner->acquire(request.document.uri, {});
    REQUIRE(lease);
    lease->session().set_tensor_hook({});
  }
  request.options.timeout_ms = 60000;
  auto resumed = service.complete_inline(request, {}, progress);
  CHECK_FALSE(resumed.details.timed_out);
  CHECK(resumed.details.prompt_tokens == cut.details.prompt_tokens);
  CHECK(resumed.details.reused_tokens >= cut.details.prefilled_tokens);
  CHECK(resumed.details.prefilled_tokens == resumed.details.prompt_tokens - resumed.details.reused_tokens);
  CHECK(resumed.details.prefilled_tokens < cut.details.prompt_tokens);
  CHECK(resumed.details.generated_tokens > 0);
}

TEST_CASE("accepted completions feed speculation's drafts, and the output stays the same", "[service][speculate]") {
  TempDir dir;
  const std::string model = write_model(dir, 23);
  ServiceOptions so;
  so.load.threads = 1;
  so.context_tokens = 1024;
  so.cache_entries = 0;
  astfill::NoProgress progress;
  // A fill (multi-line, a long token cap): the random model writes on.
  std::string body = "def scale(values, factor):\n    pass\n\n\nprint(scale([1, 2], 3))\n";
  FillRequest request{{"file:///project/s.py", "python", 1, std::make_shared<const std::string>(body)},
                      body.find("pass") + 2, {}, {}};
  request.project.path = "s.py";
  request.options.constrain = false;
  request.options.speculate = true;
  request.options.max_tokens = 8;  // a fill's cap: 256
  request.options.timeout_ms = 60000;

  CompletionService plain(so);
  plain.load_model(model);
  auto first = plain.fill(request, {}, progress);
  REQUIRE(first.details.generated_tokens >= 8);

  // The same request in a fresh service, with what the model wrote the first
  // time as an accepted completion: its drafts come from it and are taken.
  CompletionService with_accepted(so);
  with_accepted.load_model(model);
  request.project.accepted = {first.details.raw, "unrelated = 1\n"};
  auto second = with_accepted.fill(request, {}, progress);
  CHECK(second.details.raw == first.details.raw);
  CHECK(second.text == first.text);
  CHECK(second.details.generated_tokens == first.details.generated_tokens);
  CHECK(second.details.accepted_draft_tokens > first.details.accepted_draft_tokens);
  CHECK(second.details.forward_passes < first.details.forward_passes);

  // Speculation off: the accepted completions are not used, the text is the same.
  request.options.speculate = false;
  CompletionService off(so);
  off.load_model(model);
  auto third = off.fill(request, {}, progress);
  CHECK(third.details.raw == first.details.raw);
  CHECK(third.details.accepted_draft_tokens == 0);
}

// An answer cut to nothing although the model wrote code is asked for again
// with its opening refused, at most twice (service.cpp); only under the
// constraints, and what a retry answers is whole like any answer.
TEST_CASE("an answer cut to nothing is retried with its opening refused, at most twice", "[service][cpython]") {
  const std::string text =
      "import os\n\n\ndef read(path):\n    if not os.path.exists(path):\n        return None\n"
      "    with open(path) as f:\n        data = f.read()\n    lines = data.split(\"\\n\")\n"
      "    for i, line in enumerate(lines):\n        if line.startswith(\"#\"):\n            lines[i] = \"\"\n"
      "    return [x for x in lines if x]\n";
  REQUIRE(astfill::testing::cpython_parses(text));
  std::vector<std::pair<size_t, size_t>> holes;  // the code of every indented line
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    std::string_view line(text.data() + at, end - at);
    size_t first = line.find_first_not_of(' ');
    if (first != std::string_view::npos && first >= 4) holes.emplace_back(at + first, end);
    at = end + 1;
  }
  TempDir dir;
  astfill::NoProgress progress;
  size_t retried = 0, retried_nonempty = 0, answers = 0;
  for (uint32_t seed : {1u, 2u, 3u}) {
    ServiceOptions so;
    so.load.threads = 1;
    so.context_tokens = 1024;
    so.cache_entries = 0;
    CompletionService service(so);
    service.load_model(write_model(dir, seed));
    for (auto [begin, end] : holes) {
      std::string holed = text.substr(0, begin) + text.substr(end);
      for (bool constrain : {true, false}) {
        auto r = request_for("python", holed, begin);
        r.options.constrain = constrain;
        auto result = service.complete_inline(r, {}, progress);
        ++answers;
        INFO("seed " << seed << " at " << begin << (constrain ? " constrained" : " unconstrained") << ", raw "
                     << result.details.raw << " (" << result.details.end << ", " << result.details.retries
                     << " retries)");
        CHECK(result.details.retries <= 2);
        if (!constrain) {
          CHECK(result.details.retries == 0);
          continue;
        }
        const std::string completion = result.items.empty() ? "" : result.items.front().insert_text;
        if (result.details.retries == 0) continue;
        ++retried;
        // A retry is made only after an empty answer, and stops at a non-empty one.
        if (!completion.empty()) {
          ++retried_nonempty;
          INFO("answer: " << completion);
          CHECK(astfill::testing::cpython_parses(holed.substr(0, begin) + completion + holed.substr(begin)));
        } else {
          CHECK((result.details.retries == 2 ||
                 result.details.raw.find_first_not_of(" \t\r\n") == std::string::npos));
        }
      }
    }
  }
  // Random models write code that cannot be finished often enough for the
  // retry to be taken here.
  CHECK(retried > 0);
  WARN(answers << " answers, " << retried << " retried, " << retried_nonempty << " of them non-empty at last");
}

TEST_CASE("a cursor inside a word is healed: the word leaves the prompt and the answer follows it", "[service][healing]") {
  TempDir dir;
  astfill::NoProgress progress;
  ServiceOptions so;
  so.load.threads = 1;
  so.context_tokens = 1024;
  so.cache_entries = 0;
  CompletionService service(so);
  service.load_model(write_model(dir, 1));
  const std::string text = "def total(xs):\n    s = 0\n    for x in xs:\n        s += x\n    ret\n";
  const size_t cursor = text.find("ret") + 3;
  auto healed_request = request_for("python", text, cursor);
  auto plain_request = healed_request;
  plain_request.options.heal = false;
  auto healed = service.complete_inline(healed_request, {}, progress);
  auto plain = service.complete_inline(plain_request, {}, progress);
  CHECK(healed.details.healed == "ret");
  CHECK(plain.details.healed.empty());
  // The prompt ends before the word: fewer tokens than the one that ends at the cursor.
  CHECK(healed.details.prompt_tokens < plain.details.prompt_tokens);
  // The answer continues the word; with the constraints the file stays as whole as it was.
  const std::string answer = healed.items.empty() ? "" : healed.items.front().insert_text;
  INFO("answer [" << answer << "], raw [" << healed.details.raw << "]");
  CHECK(errors_in("python", text.substr(0, cursor) + answer + text.substr(cursor)) <= errors_in("python", text));
  // Not healed: a cursor after a space.
  auto after_space = request_for("python", text, text.find("s = 0") + 2);
  CHECK(service.complete_inline(after_space, {}, progress).details.healed.empty());
}
