// The index database's schema, its history as migration steps, and opening a
// database safely: an astfill index of an older schema is migrated; anything
// else at that path (not SQLite, another application's database, one that
// fails its integrity check, one from a newer astfill or another workspace)
// is moved aside with a warning and a new index is built. The index is a
// cache of the workspace, so starting over loses nothing but time.
//
// Tables (see schema.cpp for the columns):
//   meta     key/value: the workspace root the index belongs to
//   files    one row per indexed file: path relative to the root, its
//            directory, content hash, mtime, size, language, state
//   symbols  parsing::Definition rows, per file
//   refs     parsing::Reference rows, per file ("references" is an SQL keyword)
//   imports  parsing::Import rows, per file, with where each resolves
//   chunks   windows of code for similar-code retrieval, with the FTS5 index
//            chunk_text over them (external content, kept in step by
//            triggers) and chunk_terms, its per-term document counts
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "index/database.h"

namespace astfill::index {

inline constexpr int64_t kApplicationId = 0x41535446;  // "ASTF" in PRAGMA application_id

// What a files row's state says about the file.
enum class FileState : int64_t {
  Stale = 0,          // must be parsed again whatever its mtime (set by migrations)
  Indexed = 1,        // symbols, imports and chunks are stored
  Binary = 2,         // a NUL byte in its first 8 KiB: nothing stored, not read again until it changes
  ExtractFailed = 3,  // the extractor threw: chunks only
};

int latest_schema_version();

// Opens the index at `path` for writing (creating directories as needed), for
// the workspace at `root`, at the latest schema version. Throws IndexError
// only when no database can be created there at all.
std::unique_ptr<Database> open_index_database(const std::filesystem::path& path, const std::string& root);

// Records whether the database was closed cleanly (the index's destructor
// marks it so; opening marks it not). A large database closed cleanly skips
// the integrity check at the next open.
void mark_closed_cleanly(Database& db, bool clean);

// Makes an empty database an astfill index at `version` (tests use older
// versions to exercise migrations).
void create_index_schema(Database& db, const std::string& root, int version);

// Applies the migration steps from the database's user_version up to
// `version`, each in its own transaction.
void migrate_index_schema(Database& db, int version);

}  // namespace astfill::index
