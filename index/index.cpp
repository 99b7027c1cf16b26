// Index: the public face of the background machinery and the questions.
#include "index/index.h"

#include "index/background.h"
#include "index/store.h"
#include "support/log.h"

namespace astfill::index {
namespace {

// Runs a question on a read connection; a database that cannot be read
// answers nothing (and says why in the log) rather than failing completion.
template <typename Answer, typename F>
Answer ask(ReadConnections& readers, const char* question, F f) {
  try {
    auto db = readers.acquire();
    return f(*db);
  } catch (const IndexError& e) {
    log::warn("index: ", question, ": ", e.what());
    return {};
  }
}

}  // namespace

Index::Index(IndexOptions options, Extractor extract, LanguageOf language_of)
    : background_(std::make_unique<Background>(std::move(options), std::move(extract), std::move(language_of))) {}

Index::~Index() = default;

void Index::sync_with_disk(std::shared_ptr<Progress> progress, CancellationToken cancel) {
  background_->sync(std::move(progress), std::move(cancel));
}

void Index::update_file(std::string_view path, std::string text) {
  if (auto rel = background_->relative(path)) background_->update_file(*rel, std::move(text));
}

void Index::remove_file(std::string_view path) {
  if (auto rel = background_->relative(path)) background_->remove(*rel);
}

void Index::close_file(std::string_view path) {
  if (auto rel = background_->relative(path)) background_->close_file(*rel);
}

void Index::file_changed_on_disk(std::string_view path) {
  if (auto rel = background_->relative(path)) background_->disk_changed(*rel);
}

void Index::wait_until_idle() { background_->wait_until_idle(); }
IndexStats Index::stats() const { return background_->stats(); }

IndexTotals Index::totals() const {
  return ask<IndexTotals>(background_->readers(), "totals", [](Database& db) { return queries::totals(db); });
}
const std::filesystem::path& Index::root() const { return background_->root(); }
const std::filesystem::path& Index::database_path() const { return background_->database_path(); }

std::vector<Symbol> Index::definitions(std::string_view name, std::string_view current_file, size_t limit) const {
  std::string current = background_->relative(current_file).value_or("");
  return ask<std::vector<Symbol>>(background_->readers(), "definitions",
                                  [&](Database& db) { return queries::definitions(db, name, current, limit); });
}

std::vector<Symbol> Index::members(std::string_view container, size_t limit) const {
  return ask<std::vector<Symbol>>(background_->readers(), "members",
                                  [&](Database& db) { return queries::members(db, container, limit); });
}

std::vector<Symbol> Index::definitions_in(std::string_view file, size_t limit) const {
  auto rel = background_->relative(file);
  if (!rel) return {};
  return ask<std::vector<Symbol>>(background_->readers(), "definitions in a file",
                                  [&](Database& db) { return queries::definitions_in(db, *rel, limit); });
}

std::vector<ResolvedImport> Index::imports_of(std::string_view file) const {
  auto rel = background_->relative(file);
  if (!rel) return {};
  return ask<std::vector<ResolvedImport>>(background_->readers(), "imports",
                                          [&](Database& db) { return queries::imports_of(db, *rel); });
}

std::vector<SimilarChunk> Index::similar_chunks(std::string_view window, size_t k,
                                                std::string_view exclude_file) const {
  std::string exclude = background_->relative(exclude_file).value_or("");
  return ask<std::vector<SimilarChunk>>(background_->readers(), "similar chunks", [&](Database& db) {
    return queries::similar_chunks(db, window, k, exclude);
  });
}

std::vector<Symbol> Index::symbols_with_prefix(std::string_view prefix, size_t limit) const {
  return ask<std::vector<Symbol>>(background_->readers(), "symbols by prefix",
                                  [&](Database& db) { return queries::symbols_with_prefix(db, prefix, limit); });
}

std::vector<Symbol> Index::search_symbols(std::string_view query, size_t limit) const {
  return ask<std::vector<Symbol>>(background_->readers(), "symbol search",
                                  [&](Database& db) { return queries::search_symbols(db, query, limit); });
}

}  // namespace astfill::index
