// What the HTTP server answers with: a query run on the daemon's model.
//
// Two kinds of question:
//  - a plain continuation of `prompt` (OpenAI's /v1/completions without a
//    suffix, llama.cpp's /completion): the prompt is tokenized as sent
//    (special tokens included, so a client may send a FIM-templated prompt,
//    as astfill's remote backend does) and generated in the runner's "http"
//    slot, whose KV cache keeps the longest shared prefix between requests;
//    each token comes with its log-probability and the top candidates';
//  - a fill in the middle (a suffix, llama.cpp's /infill, or astfill's
//    extension): the text around the cursor becomes a document of a
//    workspace session (one per root, plus one without a folder), and the
//    question goes through workspace::Workspace::inline_completion exactly as
//    an editor's: the prompt built here with the index's context, the syntax
//    guard and API constraint, trimming.
//
// Threads: run() is called on a connection's thread. A root's Workspace lives
// on a thread of its own (documents are opened, the question prepared and the
// document closed there, in one job); the prepared task then runs on the
// caller's thread, taking turns on the model with every other request.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <variant>

#include "http/protocol.h"
#include "support/cancel.h"
#include "workspace/index_registry.h"
#include "workspace/model_host.h"

namespace astfill::http {

class Completions {
 public:
  // `backend`: where fills are decoded (serve --http --backend URL: the
  // prompt and checks here, the model on another server); plain generation
  // is always this daemon's model.
  Completions(std::shared_ptr<workspace::ModelHost> model, std::shared_ptr<workspace::IndexRegistry> indexes,
              completion::RemoteBackend backend = {});
  ~Completions();

  // Text as it becomes final (never a prefix of a stop string, never a cut
  // UTF-8 character), with the tokens it covers. Returns false to stop (the
  // client went away).
  using Sink = std::function<bool(std::string_view text, const std::vector<TokenInfo>& tokens)>;

  std::variant<CompletionAnswer, ApiError> run(const CompletionQuery& query, const CancellationToken& cancel,
                                               const Sink& sink);

  // The loaded model's name for /v1/models ("" when none).
  std::string model_name() const;

 private:
  struct RootSession;
  std::variant<CompletionAnswer, ApiError> generate(const CompletionQuery& query, const CancellationToken& cancel,
                                                    const Sink& sink);
  std::variant<CompletionAnswer, ApiError> fill(const CompletionQuery& query, const CancellationToken& cancel,
                                                const Sink& sink);
  std::variant<std::shared_ptr<RootSession>, ApiError> session_for(const std::string& root);

  std::shared_ptr<workspace::ModelHost> model_;
  std::shared_ptr<workspace::IndexRegistry> indexes_;
  completion::RemoteBackend backend_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<RootSession>> sessions_;  // by canonical root ("" = none)
};

// Holds back text that may be the beginning of a stop string; cuts at the
// first stop string found.
class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {}
  // Adds text; returns what is now final. After a stop string, stopped() is
  // true and the rest is dropped.
  std::string push(std::string_view text);
  // What was held back, at the end.
  std::string flush();
  bool stopped() const { return stopped_; }

 private:
  std::vector<std::string> stops_;
  std::string pending_;
  bool stopped_ = false;
};

}  // namespace astfill::http
