// A deny-listed file (credentials) gets no completions from the workspace.
#include <catch2/catch.hpp>

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

}  // namespace
}  // namespace astfill::workspace
