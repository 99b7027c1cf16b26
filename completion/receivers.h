// Who a receiver is, for the API constraint and API suggestions: the members
// of `util` in `util.`, of the enclosing class for `self.`/`this.`, of a class
// for `Circle.` or `Client::`, of a variable just built from a class
// (`c = Circle(...)`, `new Circle(...)`), answered from the index and the
// current file's text.
//
// Only complete answers are given. A class whose bases cannot all be resolved
// in the workspace (a subclass of an external class) may have members astfill
// does not know, so its receiver stays free (nullopt), as does anything else
// that is not understood. Python instance attributes (`self.x = ...`) and
// JavaScript ones (`this.x = ...`) are read from the classes' text.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "completion/api_constraint.h"
#include "index/symbol_index.h"
#include "parsing/document.h"

namespace astfill::completion {

struct ReceiverContext {
  const index::SymbolIndex* index = nullptr;  // may be null: then only the current file is known
  std::filesystem::path root;                 // the workspace folder (to read classes' files)
  std::string path;                           // the current file, relative to root
  std::string language;                       // its languageId
  std::string_view text;                      // its text as the editor has it
  size_t cursor = 0;                          // byte offset in text
  const parsing::Document* document = nullptr;  // text parsed, or null: parsed when needed
};

// Members of the receiver, or nullopt when it is unknown or not fully known.
std::optional<std::vector<std::string>> resolve_members(const ReceiverContext& context, const MemberAccess& access);

// The members as index symbols (with signatures and docs), for API
// suggestions; empty when the receiver is unknown.
std::vector<index::Symbol> member_symbols(const ReceiverContext& context, const MemberAccess& access);

}  // namespace astfill::completion
