// Small facts about files that several parts of the index need: hashing their
// content, telling binary from text, workspace-relative paths, and where a
// workspace's database lives. Reading a file is support::read_file
// (support/files.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace astfill::index {

// 64-bit FNV-1a: a cheap, stable content hash to confirm that a file whose
// mtime or size changed really changed (not a security boundary).
uint64_t content_hash(std::string_view bytes);

// Whether the text (as support::read_file returns it) looks binary: a NUL
// byte in its first 8 KiB (git's rule).
bool looks_binary(std::string_view text);

// `path` relative to `root`, '/'-separated and normalised ("a/b.py"); accepts
// absolute paths under the root and relative ones. nullopt for paths outside
// the root, the root itself, and paths with ".." that climb out of it.
std::optional<std::string> workspace_relative(const std::filesystem::path& root, std::string_view path);

// The directory part of a relative path ("a/b" for "a/b/c.py", "" for "c.py").
std::string_view parent_dir(std::string_view path);
// The last component ("c.py" for "a/b/c.py").
std::string_view base_name(std::string_view path);
// Joins relative paths with '/', treating "" as the root.
std::string join_path(std::string_view dir, std::string_view name);
// Resolves "." and ".." components of a relative path; nullopt if it climbs
// above the root.
std::optional<std::string> normalize_relative(std::string_view path);

// The cache directory: $XDG_CACHE_HOME, else $HOME/.cache, else the temp dir.
std::filesystem::path cache_home();
// <cache>/astfill/index/<16 hex digits of the hash of the root path>.db
std::filesystem::path default_database_path(const std::filesystem::path& root);

}  // namespace astfill::index
