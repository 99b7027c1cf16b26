// The completion core's entry points, as the LSP layer and the CLI call them.
//
// The core speaks C++ types, never JSON-RPC: a request names a document
// snapshot and a byte offset; positions in the client's encoding are the LSP
// layer's business. Every call takes a CancellationToken that is polled at
// token granularity, and a Progress sink for long work.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "completion/options.h"
#include "support/cancel.h"
#include "support/progress.h"

namespace astfill::completion {

struct DocumentText {
  std::string uri;
  std::string language_id;
  int64_t version = 0;
  std::shared_ptr<const std::string> text;
};

enum class Trigger { Invoked, Automatic };

struct InlineCompletionRequest {
  DocumentText document;
  size_t offset = 0;  // byte offset of the cursor in document.text
  Trigger trigger = Trigger::Automatic;
  Options options;
};

struct InlineCompletionItem {
  std::string insert_text;
  size_t replace_begin = 0;  // byte range of the document the text replaces
  size_t replace_end = 0;
};

struct ApiSuggestionRequest {
  DocumentText document;
  size_t offset = 0;
  Options options;
};

struct ApiSuggestion {
  std::string label;
  std::string detail;         // signature
  std::string documentation;
  double score = 0;           // the model's log-probability in context
};

// Why a request produced nothing; shown in logs and `astfill.status`.
enum class EmptyReason { None, Disabled, NoModel };

struct InlineCompletionResult {
  std::vector<InlineCompletionItem> items;
  EmptyReason empty_reason = EmptyReason::None;
};

struct ApiSuggestionResult {
  std::vector<ApiSuggestion> items;
  EmptyReason empty_reason = EmptyReason::None;
};

// Thread-safe: calls may run concurrently on worker threads. Settings travel
// with each request, so a configuration change never races a running call.
class CompletionService {
 public:
  // Whether a model is available to complete with. Until the engine is wired
  // in, none is, and requests answer with no items (EmptyReason::NoModel).
  bool has_model() const { return false; }

  InlineCompletionResult complete_inline(const InlineCompletionRequest& request,
                                         const CancellationToken& cancel,
                                         Progress& progress) const;
  ApiSuggestionResult suggest_api(const ApiSuggestionRequest& request,
                                  const CancellationToken& cancel, Progress& progress) const;

};

const char* to_string(EmptyReason reason);

}  // namespace astfill::completion
