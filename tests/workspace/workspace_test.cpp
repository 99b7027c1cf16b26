// The workspace core without any protocol: documents and their trees, which
// settings are a session's and which the daemon's, and the model's state as
// every session sees it.
#include "workspace/workspace.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>

#include "../engine/temp_dir.h"
#include "tests/fixtures/random_model.h"

using namespace astfill;
using namespace astfill::workspace;

namespace {

ContentChange edit(uint32_t l1, uint32_t c1, uint32_t l2, uint32_t c2, std::string text) {
  return ContentChange{Range{{l1, c1}, {l2, c2}}, std::move(text)};
}

struct Session {
  std::vector<std::pair<MessageLevel, std::string>> messages;
  std::unique_ptr<Workspace> ws;
  explicit Session(std::shared_ptr<ModelHost> model) {
    WorkspaceEvents events;
    events.message = [this](MessageLevel level, const std::string& m) { messages.emplace_back(level, m); };
    ws = std::make_unique<Workspace>(WorkspaceOptions{nullptr, std::move(model), "test"},
                                     Executor::inline_executor(), std::move(events));
  }
};

}  // namespace

TEST_CASE("a document's tree follows its edits: one full parse, then one incremental parse per edit",
          "[workspace][documents]") {
  Session s(nullptr);
  const std::string uri = "file:///w/a.py";
  REQUIRE_FALSE(s.ws->open(uri, "python", 1, "def f():\n    return 1\n"));
  auto doc = s.ws->document(uri);
  REQUIRE(doc);
  CHECK(doc->tree->counts().full == 0);  // nothing parsed before a question needs it

  auto tree = doc->tree->at(doc->sequence);
  REQUIRE(tree);
  CHECK(tree->text() == *doc->text);
  CHECK_FALSE(tree->has_syntax_errors());
  CHECK(doc->tree->counts().full == 1);

  // A question on the unchanged document parses nothing.
  CHECK(doc->tree->at(doc->sequence) == tree);
  CHECK(doc->tree->counts().full == 1);
  CHECK(doc->tree->counts().incremental == 0);

  // Two edits in one change, one in another: three incremental parses, and
  // the tree's text is the document's.
  REQUIRE(s.ws->change(uri, 2, {edit(1, 11, 1, 12, "42"), edit(0, 4, 0, 5, "g")}, PositionEncoding::Utf16).ok);
  REQUIRE(s.ws->change(uri, 3, {edit(2, 0, 2, 0, "x = g(\n")}, PositionEncoding::Utf16).ok);
  doc = s.ws->document(uri);
  auto edited = doc->tree->at(doc->sequence);
  REQUIRE(edited);
  CHECK(edited->text() == "def g():\n    return 42\nx = g(\n");
  CHECK(*doc->text == edited->text());
  CHECK(edited->has_syntax_errors());  // the open call
  CHECK(doc->tree->counts().full == 1);
  CHECK(doc->tree->counts().incremental == 3);
  // The tree handed out before the edits is untouched (a question may still use it).
  CHECK(tree->text() == "def f():\n    return 1\n");

  // The status shows the counts.
  auto status = s.ws->status();
  REQUIRE(status.documents.size() == 1);
  CHECK(status.documents[0].parses.full == 1);
  CHECK(status.documents[0].parses.incremental == 3);
}

TEST_CASE("a snapshot older than the tree gets no tree, a whole-text change parses afresh", "[workspace][documents]") {
  Session s(nullptr);
  const std::string uri = "file:///w/b.py";
  s.ws->open(uri, "python", 1, "a = 1\n");
  auto old = s.ws->document(uri);
  REQUIRE(s.ws->change(uri, 2, {edit(0, 4, 0, 5, "2")}, PositionEncoding::Utf16).ok);
  auto now = s.ws->document(uri);
  // Before any tree exists only the newest text can be parsed.
  CHECK_FALSE(old->tree->at(old->sequence));
  REQUIRE(now->tree->at(now->sequence));
  CHECK(now->tree->at(now->sequence)->text() == "a = 2\n");

  REQUIRE(s.ws->change(uri, 3, {ContentChange{std::nullopt, "b = [\n"}}, PositionEncoding::Utf16).ok);
  auto replaced = s.ws->document(uri);
  auto tree = replaced->tree->at(replaced->sequence);
  REQUIRE(tree);
  CHECK(tree->text() == "b = [\n");
  CHECK(replaced->tree->counts().full == 2);
  // The snapshot from before is now behind the tree.
  CHECK_FALSE(now->tree->at(now->sequence));
}

TEST_CASE("a language without a grammar has no tree, and its text still follows the edits", "[workspace][documents]") {
  Session s(nullptr);
  s.ws->open("file:///w/notes.txt", "plaintext", 1, "hello");
  REQUIRE(s.ws->change("file:///w/notes.txt", 2, {edit(0, 5, 0, 5, " world")}, PositionEncoding::Utf16).ok);
  auto doc = s.ws->document("file:///w/notes.txt");
  CHECK(*doc->text == "hello world");
  CHECK_FALSE(doc->tree->at(doc->sequence));
}

TEST_CASE("completion settings are a session's own, the model and its state are the daemon's",
          "[workspace][settings]") {
  auto host = std::make_shared<ModelHost>(ModelHost::Options{});
  Session a(host), b(host);
  CHECK(a.ws->status().model_state == "none");

  Settings sa = a.ws->settings();
  sa.completion.max_tokens = 7;
  sa.completion.languages["python"] = false;
  sa.completion.model = "/nonexistent/model.gguf";
  a.ws->set_settings(sa);

  // A's completion settings are A's.
  CHECK(a.ws->settings().completion.max_tokens == 7);
  CHECK(b.ws->settings().completion.max_tokens == 64);
  CHECK(b.ws->settings().completion.enabled_for("python"));
  CHECK(b.ws->settings().completion.model.empty());

  // The model is the daemon's: both sessions see the failed load, and only
  // the session that asked is told.
  CHECK(a.ws->status().model_state.rfind("failed: ", 0) == 0);
  CHECK(b.ws->status().model_state == a.ws->status().model_state);
  CHECK(a.ws->status().model.empty());
  REQUIRE(a.messages.size() == 1);
  CHECK(a.messages[0].first == MessageLevel::Error);
  CHECK(a.messages[0].second.find("/nonexistent/model.gguf") != std::string::npos);
  CHECK(b.messages.empty());

  // Asking again for the same missing file tries again (it may exist now).
  a.ws->set_settings(a.ws->settings());  // unchanged: nothing happens
  CHECK(a.messages.size() == 1);
}

TEST_CASE("a question prepared before an edit answers for the text it was asked about", "[workspace][questions]") {
  Session s(nullptr);
  const std::string uri = "file:///w/c.py";
  s.ws->open(uri, "python", 1, "import os\nos.\n");
  auto doc = s.ws->document(uri);
  auto task = s.ws->inline_completion(*doc, doc->text->size() - 1, completion::Trigger::Invoked);
  REQUIRE(s.ws->change(uri, 2, {edit(1, 3, 1, 3, "path")}, PositionEncoding::Utf16).ok);
  NoProgress progress;
  auto result = task({}, progress);
  // No model: the answer says so rather than failing.
  CHECK(result.items.empty());
  CHECK(result.empty_reason == completion::EmptyReason::NoModel);
}

TEST_CASE("accepted completions reach later questions' context, the newest first, a few", "[workspace][questions]") {
  Session s(nullptr);
  const std::string a = "file:///w/a.py", b = "file:///w/b.py";
  s.ws->open(a, "python", 1, "x = 1\n");
  CHECK(s.ws->project_context(a).accepted.empty());
  s.ws->note_accepted("total += price * count\n");
  s.ws->note_accepted("");  // nothing taken: nothing kept
  s.ws->note_accepted("return total\n");
  // The workspace's, whichever document asks.
  CHECK(s.ws->project_context(b).accepted == std::vector<std::string>{"return total\n", "total += price * count\n"});
  s.ws->note_accepted("total += price * count\n");  // again: moves to the front, once
  CHECK(s.ws->project_context(a).accepted == std::vector<std::string>{"total += price * count\n", "return total\n"});
  for (int i = 0; i < 20; ++i) s.ws->note_accepted("v" + std::to_string(i) + " = 0\n");
  auto kept = s.ws->project_context(a).accepted;
  CHECK(kept.size() == 8);
  CHECK(kept.front() == "v19 = 0\n");
  s.ws->note_accepted(std::string(10000, 'x'));
  CHECK(s.ws->project_context(a).accepted.front().size() == 4096);
}

TEST_CASE("a completion's time cap runs from its arrival: time queued behind other work counts",
          "[workspace][questions][deadline]") {
  astfill::testing::TempDir dir;
  auto spec = astfill::engine::tiny_spec("qwen2");
  const std::string model = dir.file("m.gguf");
  astfill::engine::write_random_model(model, spec);
  completion::ServiceOptions so;
  so.load.threads = 1;
  so.cache_entries = 0;
  auto service = std::make_shared<completion::CompletionService>(so);
  service->load_model(model);
  Session s(std::make_shared<ModelHost>(ModelHost::Options{service, model, nullptr}));
  Settings settings = s.ws->settings();
  settings.completion.timeout_ms = 2000;
  settings.completion.max_tokens = 8;
  s.ws->set_settings(settings);
  const std::string uri = "file:///w/q.py";
  s.ws->open(uri, "python", 1, "def total(items):\n    return \n");
  auto doc = s.ws->document(uri);
  const size_t cursor = doc->text->size() - 1;
  NoProgress progress;

  // Arrived 5 s ago (it waited for a worker behind other model work): the
  // 2 s cap is spent before the model starts, so it ends at once, timed out,
  // and says how long the editor has waited.
  using Clock = std::chrono::steady_clock;
  auto late = s.ws->inline_completion(*doc, cursor, completion::Trigger::Invoked, Clock::now() - std::chrono::seconds(5));
  auto t0 = Clock::now();
  auto cut = late({}, progress);
  auto took = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  CHECK(cut.items.empty());
  CHECK(cut.empty_reason == completion::EmptyReason::TimedOut);
  CHECK(cut.details.timed_out);
  CHECK(cut.details.generated_tokens == 0);
  CHECK(cut.details.elapsed_ms >= 5000);
  CHECK(took < 1500);

  // Asked now, the same question gets its whole cap and an answer.
  auto fresh = s.ws->inline_completion(*doc, cursor, completion::Trigger::Invoked);
  auto answered = fresh({}, progress);
  CHECK_FALSE(answered.details.timed_out);
  CHECK(answered.details.generated_tokens > 0);
  CHECK(answered.details.elapsed_ms < 2000);
}

TEST_CASE("astfill.vision without an mmproj takes the tower pulled beside the model", "[workspace][vision]") {
  astfill::testing::TempDir dir;
  const auto lm = dir.path() / "qwen2.5-vl-3b-q4_k_m.gguf";
  const auto tower = dir.path() / "qwen2.5-vl-3b-q4_k_m.mmproj.gguf";
  const auto other = dir.path() / "checkpoint.gguf";
  for (const auto& p : {lm, tower, other}) std::ofstream(p) << "GGUF";
  Session s(nullptr);
  Settings settings = s.ws->settings();
  settings.vision.model = lm.string();
  s.ws->set_settings(settings);
  CHECK(s.ws->vision_paths().mmproj == tower.string());
  // Named, the setting wins; with no tower beside it, the model's own file.
  settings.vision.mmproj = other.string();
  s.ws->set_settings(settings);
  CHECK(s.ws->vision_paths().mmproj == other.string());
  settings.vision = {other.string(), "", 256};
  s.ws->set_settings(settings);
  CHECK(s.ws->vision_paths().mmproj.empty());
}
