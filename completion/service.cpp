#include "completion/service.h"

namespace astfill::completion {

const char* to_string(EmptyReason reason) {
  switch (reason) {
    case EmptyReason::None: return "none";
    case EmptyReason::Disabled: return "completions are disabled for this language";
    case EmptyReason::NoModel: return "no model is loaded";
  }
  return "unknown";
}

InlineCompletionResult CompletionService::complete_inline(const InlineCompletionRequest& request,
                                                          const CancellationToken&,
                                                          Progress&) const {
  InlineCompletionResult result;
  if (!request.options.enabled_for(request.document.language_id)) {
    result.empty_reason = EmptyReason::Disabled;
  } else if (!has_model()) {
    result.empty_reason = EmptyReason::NoModel;
  }
  return result;
}

ApiSuggestionResult CompletionService::suggest_api(const ApiSuggestionRequest& request,
                                                   const CancellationToken&, Progress&) const {
  ApiSuggestionResult result;
  if (!request.options.enabled_for(request.document.language_id)) {
    result.empty_reason = EmptyReason::Disabled;
  } else if (!has_model()) {
    result.empty_reason = EmptyReason::NoModel;
  }
  return result;
}

}  // namespace astfill::completion
