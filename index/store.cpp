#include "index/store.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <queue>
#include <tuple>

#include "index/files.h"
#include "trust/secrets.h"

namespace astfill::index {
namespace {

#define SPAN(p) p "start_byte, " p "end_byte, " p "start_line, " p "start_column, " p "end_line, " p "end_column"

int bind_span(Query& q, int at, const parsing::Span& s) {
  q.bind(at, int64_t{s.start_byte}).bind(at + 1, int64_t{s.end_byte});
  q.bind(at + 2, int64_t{s.start_line}).bind(at + 3, int64_t{s.start_column});
  q.bind(at + 4, int64_t{s.end_line}).bind(at + 5, int64_t{s.end_column});
  return at + 6;
}

parsing::Span read_span(const Query& q, int at) {
  auto u = [&](int i) { return static_cast<uint32_t>(q.integer(at + i)); };
  return {u(0), u(1), u(2), u(3), u(4), u(5)};
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += '\n';
    out += n;
  }
  return out;
}

std::vector<std::string> split_names(const std::string& joined) {
  std::vector<std::string> names;
  size_t start = 0;
  while (start < joined.size()) {
    size_t end = joined.find('\n', start);
    if (end == std::string::npos) end = joined.size();
    names.push_back(joined.substr(start, end - start));
    start = end + 1;
  }
  return names;
}

// Kinds are stored by name, so that the database does not depend on the
// order of parsing's enum (a new kind makes this switch warn).
const char* kind_name(parsing::SymbolKind kind) {
  using K = parsing::SymbolKind;
  switch (kind) {
    case K::Function: return "function";
    case K::Method: return "method";
    case K::Class: return "class";
    case K::Struct: return "struct";
    case K::Interface: return "interface";
    case K::Trait: return "trait";
    case K::Enum: return "enum";
    case K::EnumMember: return "enum_member";
    case K::Field: return "field";
    case K::Constant: return "constant";
    case K::Variable: return "variable";
    case K::TypeAlias: return "type_alias";
    case K::Module: return "module";
    case K::Namespace: return "namespace";
  }
  return "variable";
}

parsing::SymbolKind kind_of(const std::string& name) {
  using K = parsing::SymbolKind;
  for (K kind : {K::Function, K::Method, K::Class, K::Struct, K::Interface, K::Trait, K::Enum, K::EnumMember,
                 K::Field, K::Constant, K::Variable, K::TypeAlias, K::Module, K::Namespace})
    if (name == kind_name(kind)) return kind;
  return K::Variable;
}

FileState state_of(int64_t stored) {
  if (stored < 0 || stored > static_cast<int64_t>(FileState::ExtractFailed)) return FileState::Stale;
  return static_cast<FileState>(stored);
}

StoredFile stored_file(const Query& q, int at) {
  return {static_cast<uint64_t>(q.integer(at)), q.integer(at + 1), static_cast<uint64_t>(q.integer(at + 2)),
          state_of(q.integer(at + 3))};
}

}  // namespace

std::unordered_map<std::string, StoredFile> load_stored_files(Database& db) {
  std::unordered_map<std::string, StoredFile> files;
  Query q = db.query("SELECT path, content_hash, mtime_ns, size, state FROM files");
  while (q.step()) files.emplace(q.text(0), stored_file(q, 1));
  return files;
}

std::optional<StoredFile> load_stored_file(Database& db, std::string_view path) {
  Query q = db.query("SELECT content_hash, mtime_ns, size, state FROM files WHERE path = ?");
  q.bind(1, path);
  if (!q.step()) return std::nullopt;
  return stored_file(q, 0);
}

std::vector<std::string> load_stored_paths(Database& db) {
  std::vector<std::string> paths;
  Query q = db.query("SELECT path FROM files");
  while (q.step()) paths.push_back(q.text(0));
  return paths;
}

// ---- IndexWriter ----------------------------------------------------------------

int64_t IndexWriter::file_id(const std::string& path) {
  Query q = db_.query("SELECT id FROM files WHERE path = ?");
  q.bind(1, path);
  return q.step() ? q.integer(0) : 0;
}

void IndexWriter::put_file(const FileRecord& file, const parsing::FileSymbols& symbols,
                           const std::vector<CodeChunk>& chunks,
                           const std::vector<std::optional<ImportTarget>>& targets) {
  int64_t id = file_id(file.path);
  bool added = id == 0;
  if (added) {
    Query q = db_.query(
        "INSERT INTO files(path, dir, content_hash, mtime_ns, size, language, state) VALUES (?, ?, ?, ?, ?, ?, ?)");
    q.bind(1, file.path).bind(2, parent_dir(file.path)).bind(3, static_cast<int64_t>(file.content_hash));
    q.bind(4, file.mtime_ns).bind(5, static_cast<int64_t>(file.size)).bind(6, file.language);
    q.bind(7, static_cast<int64_t>(file.state)).run();
    id = db_.last_insert_id();
  } else {
    Query q = db_.query(
        "UPDATE files SET content_hash = ?, mtime_ns = ?, size = ?, language = ?, state = ? WHERE id = ?");
    q.bind(1, static_cast<int64_t>(file.content_hash)).bind(2, file.mtime_ns).bind(3, static_cast<int64_t>(file.size));
    q.bind(4, file.language).bind(5, static_cast<int64_t>(file.state)).bind(6, id).run();
    for (const char* sql : {"DELETE FROM symbols WHERE file_id = ?", "DELETE FROM refs WHERE file_id = ?",
                            "DELETE FROM imports WHERE file_id = ?", "DELETE FROM chunks WHERE file_id = ?"})
      db_.query(sql).bind(1, id).run();
  }
  insert_symbols(id, symbols.definitions);
  insert_references(id, symbols.references);
  insert_imports(id, symbols.imports, targets);
  insert_chunks(id, chunks);
  if (added) {
    // Imports that already pointed here (the file was known to exist before it
    // was indexed) now have a row to link to.
    Query q = db_.query(
        "UPDATE imports SET resolved_file_id = ?1 WHERE resolved_file_id IS NULL AND "
        "(resolved_path = ?2 OR (resolved_is_directory = 1 AND resolved_path = ?3))");
    q.bind(1, id).bind(2, file.path).bind(3, parent_dir(file.path)).run();
  }
}

void IndexWriter::insert_symbols(int64_t file_id, const std::vector<parsing::Definition>& definitions) {
  for (const auto& d : definitions) {
    if (d.name.empty()) continue;
    Query q = db_.query("INSERT INTO symbols(file_id, name, kind, signature, doc, container, " SPAN("") ", " SPAN(
        "name_") ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    // No secret text on disk: signatures and docs become completion details
    // and prompt context.
    q.bind(1, file_id).bind(2, d.name).bind(3, kind_name(d.kind)).bind(4, trust::redact(d.signature));
    q.bind(5, trust::redact(d.doc)).bind(6, d.container);
    bind_span(q, bind_span(q, 7, d.range), d.name_range);
    q.run();
  }
}

void IndexWriter::insert_references(int64_t file_id, const std::vector<parsing::Reference>& references) {
  for (const auto& r : references) {
    if (r.name.empty()) continue;
    Query q = db_.query("INSERT INTO refs(file_id, name, " SPAN("") ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    q.bind(1, file_id).bind(2, r.name);
    bind_span(q, 3, r.range);
    q.run();
  }
}

void IndexWriter::insert_imports(int64_t file_id, const std::vector<parsing::Import>& imports,
                                 const std::vector<std::optional<ImportTarget>>& targets) {
  for (size_t i = 0; i < imports.size(); ++i) {
    const auto& imp = imports[i];
    Query q = db_.query("INSERT INTO imports(file_id, module, names, relative, " SPAN(
        "") ", resolved_path, resolved_is_directory, resolved_file_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT id FROM files WHERE path = ?))");
    q.bind(1, file_id).bind(2, imp.module).bind(3, join_names(imp.names)).bind(4, int64_t{imp.relative});
    bind_span(q, 5, imp.range);
    const auto* target = i < targets.size() && targets[i] ? &*targets[i] : nullptr;
    if (target) {
      q.bind(11, target->path).bind(12, int64_t{target->is_directory}).bind(13, target->file);
    } else {
      q.bind_null(11).bind(12, int64_t{0}).bind_null(13);
    }
    q.run();
  }
}

void IndexWriter::insert_chunks(int64_t file_id, const std::vector<CodeChunk>& chunks) {
  for (const auto& c : chunks) {
    Query q = db_.query("INSERT INTO chunks(file_id, start_line, end_line, text) VALUES (?, ?, ?, ?)");
    q.bind(1, file_id).bind(2, int64_t{c.start_line}).bind(3, int64_t{c.end_line}).bind(4, trust::redact(c.text)).run();
  }
}

void IndexWriter::touch_file(const std::string& path, int64_t mtime_ns, uint64_t size) {
  Query q = db_.query("UPDATE files SET mtime_ns = ?, size = ? WHERE path = ?");
  q.bind(1, mtime_ns).bind(2, static_cast<int64_t>(size)).bind(3, path).run();
}

bool IndexWriter::remove_file(const std::string& path) {
  int64_t id = file_id(path);
  if (id == 0) return false;
  // Chunks first, explicitly: their trigger keeps the full-text index in step.
  db_.query("DELETE FROM chunks WHERE file_id = ?").bind(1, id).run();
  db_.query("DELETE FROM files WHERE id = ?").bind(1, id).run();
  return true;
}

std::vector<std::string> IndexWriter::paths_under(const std::string& dir) {
  std::vector<std::string> paths;
  // Every path that starts with "dir/": from "dir/" up to "dir0" ('0' follows '/').
  Query q = db_.query("SELECT path FROM files WHERE path >= ? AND path < ?");
  q.bind(1, dir + "/").bind(2, dir + "0");
  while (q.step()) paths.push_back(q.text(0));
  return paths;
}

#define IMPORT_ROW_COLUMNS "i.rowid, f.path, f.language, i.module, i.names, i.relative, i.resolved_path IS NOT NULL"

std::vector<ImportRow> IndexWriter::import_rows(Query& q) {
  std::vector<ImportRow> rows;
  while (q.step()) {
    ImportRow row;
    row.rowid = q.integer(0);
    row.importer = q.text(1);
    row.language = q.text(2);
    row.import.module = q.text(3);
    row.import.names = split_names(q.text(4));
    row.import.relative = q.integer(5) != 0;
    row.resolved = q.integer(6) != 0;
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<ImportRow> IndexWriter::imports_to_resolve_again(bool unresolved, const std::vector<std::string>& removed) {
  std::vector<ImportRow> rows;
  if (unresolved) {
    Query q = db_.query("SELECT " IMPORT_ROW_COLUMNS
                        " FROM imports i JOIN files f ON f.id = i.file_id WHERE i.resolved_path IS NULL");
    rows = import_rows(q);
  }
  for (const auto& path : removed) {
    Query q = db_.query("SELECT " IMPORT_ROW_COLUMNS
                        " FROM imports i JOIN files f ON f.id = i.file_id WHERE i.resolved_path IN (?, ?)");
    q.bind(1, path).bind(2, parent_dir(path));
    auto more = import_rows(q);
    rows.insert(rows.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  }
  return rows;
}

std::vector<ImportRow> IndexWriter::all_imports() {
  Query q = db_.query("SELECT " IMPORT_ROW_COLUMNS " FROM imports i JOIN files f ON f.id = i.file_id");
  return import_rows(q);
}

void IndexWriter::set_import_target(int64_t rowid, const std::optional<ImportTarget>& target) {
  Query q = db_.query(
      "UPDATE imports SET resolved_path = ?, resolved_is_directory = ?, "
      "resolved_file_id = (SELECT id FROM files WHERE path = ?) WHERE rowid = ?");
  if (target) {
    q.bind(1, target->path).bind(2, int64_t{target->is_directory}).bind(3, target->file);
  } else {
    q.bind_null(1).bind(2, int64_t{0}).bind_null(3);
  }
  q.bind(4, rowid).run();
}

// ---- queries ------------------------------------------------------------------------

namespace queries {
namespace {

#define SYMBOL_COLUMNS "s.name, s.kind, s.signature, s.doc, s.container, f.path, " SPAN("s.") ", " SPAN("s.name_")

// `ranked`: an 18th column holds the definition's proximity rank.
std::vector<Symbol> read_symbols(Query& q, bool ranked = false) {
  std::vector<Symbol> out;
  while (q.step()) {
    Symbol s;
    s.name = q.text(0);
    s.kind = kind_of(q.text(1));
    s.signature = q.text(2);
    s.doc = q.text(3);
    s.container = q.text(4);
    s.path = q.text(5);
    s.range = read_span(q, 6);
    s.name_range = read_span(q, 12);
    if (ranked) s.proximity = static_cast<int>(q.integer(18));
    out.push_back(std::move(s));
  }
  return out;
}

int64_t as_limit(size_t limit) { return limit > INT32_MAX ? INT32_MAX : static_cast<int64_t>(limit); }

}  // namespace

std::vector<Symbol> definitions(Database& db, std::string_view name, std::string_view current_file, size_t limit) {
  // Rank 0: the current file; 1: files it imports (or, for a package import,
  // files of that directory); 2: its directory; 3: elsewhere. The first three
  // are point lookups by (name, file); elsewhere takes the first `limit` the
  // name index holds, so a name defined thousands of times costs `limit` rows.
  Query q = db.query(
      "WITH cur AS (SELECT id, dir FROM files WHERE path = ?2),"
      " imported AS (SELECT resolved_path, resolved_is_directory FROM imports"
      "              WHERE file_id = (SELECT id FROM cur) AND resolved_path IS NOT NULL),"
      " imported_files AS (SELECT f.id FROM files f WHERE f.path IN (SELECT resolved_path FROM imported"
      "                                                              WHERE resolved_is_directory = 0)"
      "                    UNION SELECT f.id FROM files f WHERE f.dir IN (SELECT resolved_path FROM imported"
      "                                                                  WHERE resolved_is_directory = 1)),"
      " near AS (SELECT s.rowid AS rid, 0 AS rank FROM symbols s WHERE s.name = ?1 AND s.file_id = (SELECT id FROM cur)"
      "          UNION ALL SELECT s.rowid, 1 FROM imported_files i JOIN symbols s ON s.name = ?1 AND s.file_id = i.id"
      "          UNION ALL SELECT s.rowid, 2 FROM files d JOIN symbols s ON s.name = ?1 AND s.file_id = d.id"
      "                    WHERE d.dir = (SELECT dir FROM cur)),"
      " best AS (SELECT rid, min(rank) AS rank FROM near GROUP BY rid),"
      " rest AS (SELECT s.rowid AS rid, 3 AS rank FROM symbols s WHERE s.name = ?1"
      "          AND s.rowid NOT IN (SELECT rid FROM best) LIMIT ?3),"
      " ranked AS (SELECT rid, rank FROM best UNION ALL SELECT rid, rank FROM rest)"
      " SELECT " SYMBOL_COLUMNS ", r.rank"
      " FROM ranked r JOIN symbols s ON s.rowid = r.rid JOIN files f ON f.id = s.file_id"
      " ORDER BY r.rank, f.path, s.start_byte LIMIT ?3");
  q.bind(1, name).bind(2, current_file).bind(3, as_limit(limit));
  return read_symbols(q, /*ranked=*/true);
}

std::vector<Symbol> members(Database& db, std::string_view container, size_t limit) {
  Query q = db.query("SELECT " SYMBOL_COLUMNS
                     " FROM symbols s JOIN files f ON f.id = s.file_id WHERE s.container = ?1"
                     " ORDER BY f.path, s.start_byte LIMIT ?2");
  q.bind(1, container).bind(2, as_limit(limit));
  return read_symbols(q);
}

std::vector<Symbol> definitions_in(Database& db, std::string_view file, size_t limit) {
  // The workspace root is no package: "" would match every top-level file.
  if (file.empty()) return {};
  Query q = db.query("SELECT " SYMBOL_COLUMNS
                     " FROM symbols s JOIN files f ON f.id = s.file_id WHERE f.path = ?1 OR f.dir = ?1"
                     " ORDER BY f.path, s.start_byte LIMIT ?2");
  q.bind(1, file).bind(2, as_limit(limit));
  return read_symbols(q);
}

std::vector<ResolvedImport> imports_of(Database& db, std::string_view file) {
  Query q = db.query("SELECT i.module, i.names, i.relative, " SPAN("i.") ", i.resolved_path, i.resolved_is_directory"
                     " FROM imports i JOIN files f ON f.id = i.file_id WHERE f.path = ?"
                     " ORDER BY i.start_byte, i.rowid");
  q.bind(1, file);
  std::vector<ResolvedImport> out;
  while (q.step()) {
    ResolvedImport r;
    r.module = q.text(0);
    r.names = split_names(q.text(1));
    r.relative = q.integer(2) != 0;
    r.range = read_span(q, 3);
    if (!q.is_null(9)) r.resolved_path = q.text(9);
    r.resolved_is_directory = q.integer(10) != 0;
    out.push_back(std::move(r));
  }
  return out;
}

namespace {

// How many chunks hold `term`, or nullopt when that cannot be asked: FTS5's
// unicode61 tokenizer folds case (and diacritics), so only ASCII terms are
// looked up, lowercased.
std::optional<int64_t> chunks_holding(Database& db, const std::string& term) {
  std::string folded;
  for (char c : term) {
    if (static_cast<unsigned char>(c) >= 0x80) return std::nullopt;
    folded += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  Query q = db.query("SELECT doc FROM chunk_terms WHERE term = ?");
  q.bind(1, folded);
  return q.step() ? q.integer(0) : 0;
}

// The window's terms worth searching for. A term found in most chunks adds
// almost nothing to BM25 (its IDF is near zero) but makes FTS5 score every
// chunk it is in, which is what makes a query slow (about 1.5 us per chunk
// and term here): terms in more than a quarter of the chunks, and more than
// kCommonFloor of them, are left out. When nothing rarer is left, the rarest
// is kept if at most half the chunks hold it; a window of nothing but such
// words finds nothing worth showing.
constexpr int64_t kCommonFloor = 512;

constexpr size_t kMaxQueryTerms = 12;

std::vector<std::string> selective_terms(Database& db, const std::vector<std::string>& terms) {
  int64_t chunks = db.integer_of("SELECT max(id) FROM chunks");  // ~ the count, without a scan
  auto common = [&](int64_t holding, int64_t share) { return holding > kCommonFloor && holding * share > chunks; };
  std::vector<std::pair<int64_t, std::string>> kept;  // (chunks holding it, term)
  std::optional<std::pair<int64_t, std::string>> rarest_common;
  for (const auto& term : terms) {
    auto holding = chunks_holding(db, term);
    if (holding && *holding == 0) continue;
    if (!holding || !common(*holding, 4)) kept.emplace_back(holding.value_or(0), term);
    else if (!rarest_common || *holding < rarest_common->first) rarest_common.emplace(*holding, term);
  }
  if (kept.empty() && rarest_common && !common(rarest_common->first, 2)) kept.push_back(*rarest_common);
  // BM25 costs a step per chunk holding a term: on a large tree a window's
  // moderately common words (size_t, len) hold hundreds of thousands. The
  // rarest terms say the most about similarity; keep those.
  std::stable_sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  if (kept.size() > kMaxQueryTerms) kept.resize(kMaxQueryTerms);
  std::vector<std::string> out;
  for (auto& [holding, term] : kept) out.push_back(std::move(term));
  return out;
}

}  // namespace

std::vector<SimilarChunk> similar_chunks(Database& db, std::string_view window, size_t k,
                                         std::string_view exclude_file) {
  if (k == 0) return {};
  std::string match = match_any(selective_terms(db, window_terms(window)));
  if (match.empty()) return {};
  // Rank in FTS5 alone (ORDER BY rank LIMIT is its fast path), asking for
  // enough extra rows to make up for the excluded file's chunks.
  Query excluded = db.query("SELECT count(*) FROM chunks c JOIN files f ON f.id = c.file_id WHERE f.path = ?");
  excluded.bind(1, exclude_file);
  int64_t extra = excluded.step() ? excluded.integer(0) : 0;
  Query ranked = db.query("SELECT rowid, rank FROM chunk_text WHERE chunk_text MATCH ? ORDER BY rank LIMIT ?");
  ranked.bind(1, match).bind(2, as_limit(k) + extra);
  std::vector<SimilarChunk> out;
  while (out.size() < k && ranked.step()) {
    Query chunk = db.query(
        "SELECT f.path, c.start_line, c.end_line, c.text FROM chunks c JOIN files f ON f.id = c.file_id"
        " WHERE c.id = ?");
    chunk.bind(1, ranked.integer(0));
    if (!chunk.step() || chunk.text(0) == exclude_file) continue;
    // FTS5's rank (bm25) is negated so that better matches sort first.
    out.push_back({chunk.text(0), static_cast<uint32_t>(chunk.integer(1)), static_cast<uint32_t>(chunk.integer(2)),
                   chunk.text(3), -ranked.real(1)});
  }
  return out;
}

std::optional<std::string> prefix_upper_bound(std::string_view prefix) {
  std::string bound(prefix);
  while (!bound.empty()) {
    auto last = static_cast<unsigned char>(bound.back());
    if (last < 0xFF) {
      bound.back() = static_cast<char>(last + 1);
      return bound;
    }
    bound.pop_back();
  }
  return std::nullopt;
}

std::vector<Symbol> symbols_with_prefix(Database& db, std::string_view prefix, size_t limit) {
  // A range over the name index rather than LIKE, which is case-insensitive
  // and cannot use it; ordering by (name, file_id, rowid) is the index's own order, so
  // the scan stops at the limit instead of sorting every match.
  auto upper = prefix_upper_bound(prefix);
  if (!upper) {
    Query q = db.query("SELECT " SYMBOL_COLUMNS " FROM symbols s JOIN files f ON f.id = s.file_id"
                       " WHERE s.name >= ?1 ORDER BY s.name, s.file_id, s.rowid LIMIT ?2");
    q.bind(1, prefix).bind(2, as_limit(limit));
    return read_symbols(q);
  }
  Query q = db.query("SELECT " SYMBOL_COLUMNS " FROM symbols s JOIN files f ON f.id = s.file_id"
                     " WHERE s.name >= ?1 AND s.name < ?2 ORDER BY s.name, s.file_id, s.rowid LIMIT ?3");
  q.bind(1, prefix).bind(2, *upper).bind(3, as_limit(limit));
  return read_symbols(q);
}

namespace {

char lower_ascii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool word_start(std::string_view name, size_t i) {
  if (i == 0) return true;
  char prev = name[i - 1], c = name[i];
  if (prev == '_' || prev == '-' || prev == '.' || prev == ':') return true;
  return c >= 'A' && c <= 'Z' && !(prev >= 'A' && prev <= 'Z');
}

}  // namespace

// How well `name` matches `query`, lower is better; nullopt: no match. Exact,
// then prefix, then substring, then a subsequence whose letters start words
// ("gfn" in "getFileName"), then any subsequence; case-sensitive before
// case-insensitive in each.
std::optional<int> match_rank(std::string_view name, std::string_view query) {
  if (query.empty()) return 8;
  if (name == query) return 0;
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = lower_ascii(c);
    return out;
  };
  std::string lname = lower(name), lquery = lower(query);
  if (lname == lquery) return 1;
  if (name.starts_with(query)) return 2;
  if (std::string_view(lname).starts_with(lquery)) return 3;
  if (name.find(query) != std::string_view::npos) return 4;
  if (lname.find(lquery) != std::string::npos) return 5;
  // Subsequence, preferring letters at word starts.
  size_t qi = 0;
  bool all_word_starts = true;
  for (size_t i = 0; i < lname.size() && qi < lquery.size(); ++i) {
    if (lname[i] != lquery[qi]) continue;
    if (!word_start(name, i)) all_word_starts = false;
    ++qi;
  }
  if (qi < lquery.size()) return std::nullopt;
  return all_word_starts ? 6 : 7;
}

std::vector<Symbol> search_symbols(Database& db, std::string_view query, size_t limit) {
  if (limit == 0) return {};
  // LIKE with '%' between the letters selects case-insensitive subsequences
  // in SQLite itself; only names and row ids cross into C++, the best `limit`
  // are kept in a heap, and only those are read in full.
  std::string pattern = "%";
  for (char c : query) {
    if (c == '%' || c == '_' || c == '\\') pattern += '\\';
    pattern += c;
    pattern += '%';
  }
  Query scan = db.query("SELECT s.rowid, s.name FROM symbols s WHERE s.name LIKE ?1 ESCAPE '\\'");
  scan.bind(1, pattern);
  struct Hit {
    int rank;
    size_t length;
    std::string name;
    int64_t rowid;
    bool operator<(const Hit& o) const {
      return std::tie(rank, length, name, rowid) < std::tie(o.rank, o.length, o.name, o.rowid);
    }
  };
  std::priority_queue<Hit> best;  // the worst kept hit on top
  while (scan.step()) {
    std::string name = scan.text(1);
    auto rank = match_rank(name, query);
    if (!rank) continue;
    Hit hit{*rank, name.size(), std::move(name), scan.integer(0)};
    if (best.size() < limit) best.push(std::move(hit));
    else if (hit < best.top()) {
      best.pop();
      best.push(std::move(hit));
    }
  }
  std::vector<Hit> hits;
  while (!best.empty()) {
    hits.push_back(best.top());
    best.pop();
  }
  std::reverse(hits.begin(), hits.end());
  std::vector<Symbol> out;
  out.reserve(hits.size());
  for (const auto& hit : hits) {
    Query row = db.query("SELECT " SYMBOL_COLUMNS " FROM symbols s JOIN files f ON f.id = s.file_id WHERE s.rowid = ?1");
    row.bind(1, hit.rowid);
    auto symbols = read_symbols(row);
    if (!symbols.empty()) out.push_back(std::move(symbols.front()));
  }
  return out;
}

IndexTotals totals(Database& db) {
  // Lines are not stored per file; a file's chunks are consecutive runs of its
  // lines, so the end of its last chunk is its line count (less a trailing
  // run of blank lines that made a chunk of its own and was dropped; nothing
  // for binary files, which have no chunks).
  Query q = db.query(
      "SELECT (SELECT count(*) FROM files), (SELECT count(*) FROM symbols),"
      " (SELECT coalesce(sum(size), 0) FROM files),"
      " (SELECT coalesce(sum(last), 0) FROM (SELECT max(end_line) AS last FROM chunks GROUP BY file_id))");
  if (!q.step()) return {};
  return {static_cast<size_t>(q.integer(0)), static_cast<size_t>(q.integer(1)), static_cast<uint64_t>(q.integer(2)),
          static_cast<uint64_t>(q.integer(3))};
}

}  // namespace queries
}  // namespace astfill::index
