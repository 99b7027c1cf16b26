// A deny-listed file (credentials), or one its folder's .astfillignore leaves
// out, gets no completions from the workspace.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>

#include "workspace/workspace.h"

namespace astfill::workspace {
namespace {

TEST_CASE("a deny-listed file gets no inline completion, fill or API suggestion", "[trust][workspace]") {
  Workspace ws(WorkspaceOptions{nullptr, nullptr, "test"}, Executor::inline_executor(), WorkspaceEvents{});
  NoProgress progress;
  auto ask = [&](const std::string& uri) {
    ws.open(uri, "python", 1, "TOKEN = \"\"\n");
    auto doc = ws.document(uri);
    REQUIRE(doc);
    auto inline_result = ws.inline_completion(*doc, 9, completion::Trigger::Invoked)({}, progress);
    auto fill_result = ws.fill(*doc, 9)({}, progress);
    auto api_result = ws.api_suggestions(*doc, 9)({}, progress);
    CHECK(fill_result.empty_reason == inline_result.empty_reason);
    CHECK(api_result.empty_reason == inline_result.empty_reason);
    return inline_result.empty_reason;
  };
  CHECK(ask("file:///w/.env") == completion::EmptyReason::Disabled);
  CHECK(ask("file:///w/secrets/prod.py") == completion::EmptyReason::Disabled);
  CHECK(ask("file:///w/deploy/id_rsa") == completion::EmptyReason::Disabled);
  // An ordinary file is asked of the model (there is none here).
  CHECK(ask("file:///w/app.py") == completion::EmptyReason::NoModel);

  // A pattern from the settings.
  Settings settings = ws.settings();
  settings.index.deny_paths = {"*.vault.py"};
  ws.set_settings(settings);
  CHECK(ask("file:///w/app.vault.py") == completion::EmptyReason::Disabled);
}

void write(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

TEST_CASE("a file its folder's .astfillignore leaves out gets no completions, one only .gitignore leaves out does",
          "[trust][workspace]") {
  std::random_device rd;
  std::filesystem::path root =
      std::filesystem::temp_directory_path() / ("astfill-astfillignore-test-" + std::to_string(rd()));
  write(root / ".astfillignore", "vendor/\n*.local.py\n");
  write(root / "sub" / ".astfillignore", "!keep.local.py\n");
  write(root / ".gitignore", "build/\n");
  std::filesystem::create_directories(root / "pipe");
  REQUIRE(::mkfifo((root / "pipe" / ".astfillignore").c_str(), 0600) == 0);  // must not block

  Workspace ws(WorkspaceOptions{nullptr, nullptr, "test"}, Executor::inline_executor(), WorkspaceEvents{});
  ws.set_folders({Folder{"file://" + root.string(), "w"}});
  NoProgress progress;
  auto ask = [&](const std::string& rel) {
    std::string uri = "file://" + (root / rel).string();
    ws.open(uri, "python", 1, "x = 1\n");
    auto doc = ws.document(uri);
    REQUIRE(doc);
    auto inline_result = ws.inline_completion(*doc, 4, completion::Trigger::Invoked)({}, progress);
    auto fill_result = ws.fill(*doc, 4)({}, progress);
    auto api_result = ws.api_suggestions(*doc, 4)({}, progress);
    CHECK(fill_result.empty_reason == inline_result.empty_reason);
    CHECK(api_result.empty_reason == inline_result.empty_reason);
    return inline_result.empty_reason;
  };
  CHECK(ask("vendor/lib.py") == completion::EmptyReason::Disabled);
  CHECK(ask("vendor/deep/er/lib.py") == completion::EmptyReason::Disabled);
  CHECK(ask("settings.local.py") == completion::EmptyReason::Disabled);
  CHECK(ask("sub/other.local.py") == completion::EmptyReason::Disabled);
  CHECK(ask("sub/keep.local.py") == completion::EmptyReason::NoModel);  // a deeper '!' brings it back
  CHECK(ask("build/gen.py") == completion::EmptyReason::NoModel);       // .gitignore: not indexed, still completed
  CHECK(ask("pipe/x.py") == completion::EmptyReason::NoModel);
  CHECK(ask("app.py") == completion::EmptyReason::NoModel);
  // An edit to the file applies at once.
  write(root / ".astfillignore", "vendor/\n*.local.py\napp.py\n");
  CHECK(ask("app.py") == completion::EmptyReason::Disabled);
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace astfill::workspace
