// Documents: text + tree, edits, incremental reparse, position helpers.
// errors_introduced lives in syntax_errors.cpp.
#include "parsing/document.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "parsing/nodes.h"

namespace astfill::parsing {

const char* to_string(ParseStatus status) {
  switch (status) {
    case ParseStatus::Parsed: return "parsed";
    case ParseStatus::Cancelled: return "cancelled";
    case ParseStatus::TimedOut: return "timed out";
    case ParseStatus::Unsupported: return "unsupported";
  }
  return "?";
}

namespace {

TSPoint advance(TSPoint p, std::string_view inserted) {
  size_t nl = inserted.rfind('\n');
  if (nl == std::string_view::npos) return {p.row, p.column + static_cast<uint32_t>(inserted.size())};
  p.row += static_cast<uint32_t>(std::count(inserted.begin(), inserted.end(), '\n'));
  p.column = static_cast<uint32_t>(inserted.size() - nl - 1);
  return p;
}

thread_local uint64_t parses_started = 0;
thread_local uint64_t full_parses_started = 0;

}  // namespace

uint64_t parses_on_this_thread() { return parses_started; }
uint64_t full_parses_on_this_thread() { return full_parses_started; }

ParseStatus parse_text(TSParser* parser, const TSTree* old_tree, std::string_view text, const ParseLimits& limits,
                       TSTree** out) {
  static_assert(sizeof(std::atomic<size_t>) == sizeof(size_t) && std::atomic<size_t>::is_always_lock_free,
                "tree-sitter reads the cancellation flag as a plain size_t");
  ts_parser_set_cancellation_flag(parser, reinterpret_cast<const size_t*>(limits.cancel.flag()));
  ts_parser_set_timeout_micros(parser, static_cast<uint64_t>(limits.timeout.count()) * 1000);
  ++parses_started;
  if (!old_tree) ++full_parses_started;
  *out = ts_parser_parse_string(parser, old_tree, text.data(), static_cast<uint32_t>(text.size()));
  ParseStatus status = ParseStatus::Parsed;
  if (!*out) {
    status = limits.cancel.cancelled() ? ParseStatus::Cancelled : ParseStatus::TimedOut;
    // Never resume a stopped parse: tree-sitter 0.20.7 crashes resuming an
    // incremental parse (docs/architecture.md). The next parse starts over
    // from the edited old tree.
    ts_parser_reset(parser);
  }
  ts_parser_set_cancellation_flag(parser, nullptr);
  ts_parser_set_timeout_micros(parser, 0);
  return status;
}

Document::Document(std::string_view language_id, std::string text, const ParseLimits& limits)
    : text_(std::move(text)), language_(find_language(language_id)) {
  // tree-sitter offsets are 32-bit; a larger text keeps no tree.
  if (!language_ || text_.size() > UINT32_MAX / 2) return;
  parser_ = ts_parser_new();
  if (!ts_parser_set_language(parser_, language_->grammar)) {
    release();
    return;
  }
  status_ = parse(limits);
}

Document::Document(const Document& other)
    : text_(other.text_), language_(other.language_), status_(other.status_) {
  if (!other.parser_) return;
  parser_ = ts_parser_new();
  ts_parser_set_language(parser_, language_->grammar);
  if (other.tree_) tree_ = ts_tree_copy(other.tree_);
}

Document& Document::operator=(const Document& other) {
  if (this != &other) *this = Document(other);
  return *this;
}

Document::Document(Document&& other) noexcept
    : text_(std::move(other.text_)),
      language_(other.language_),
      parser_(std::exchange(other.parser_, nullptr)),
      tree_(std::exchange(other.tree_, nullptr)),
      status_(std::exchange(other.status_, ParseStatus::Unsupported)) {}

Document& Document::operator=(Document&& other) noexcept {
  if (this != &other) {
    release();
    text_ = std::move(other.text_);
    language_ = other.language_;
    parser_ = std::exchange(other.parser_, nullptr);
    tree_ = std::exchange(other.tree_, nullptr);
    status_ = std::exchange(other.status_, ParseStatus::Unsupported);
  }
  return *this;
}

Document::~Document() { release(); }

void Document::release() {
  if (tree_) ts_tree_delete(tree_);
  if (parser_) ts_parser_delete(parser_);
  tree_ = nullptr;
  parser_ = nullptr;
}

ParseStatus Document::parse(const ParseLimits& limits) {
  TSTree* fresh = nullptr;
  ParseStatus status = parse_text(parser_, tree_, text_, limits, &fresh);
  if (fresh) {
    if (tree_) ts_tree_delete(tree_);
    tree_ = fresh;
  }
  return status;
}

ParseStatus Document::edit(uint32_t start_byte, uint32_t old_end_byte, std::string_view new_text,
                           const ParseLimits& limits) {
  const auto size = static_cast<uint32_t>(text_.size());
  start_byte = std::min(start_byte, size);
  old_end_byte = std::clamp(old_end_byte, start_byte, size);
  if (!parser_) {
    text_.replace(start_byte, old_end_byte - start_byte, new_text);
    return status_;
  }
  if (text_.size() - (old_end_byte - start_byte) + new_text.size() > UINT32_MAX / 2) {
    // Past tree-sitter's 32-bit offsets: keep the text, drop the tree.
    text_.replace(start_byte, old_end_byte - start_byte, new_text);
    release();
    status_ = ParseStatus::Unsupported;
    return status_;
  }
  TSInputEdit e;
  e.start_byte = start_byte;
  e.old_end_byte = old_end_byte;
  e.new_end_byte = start_byte + static_cast<uint32_t>(new_text.size());
  e.start_point = point_at(text_, start_byte);
  e.old_end_point = point_at(text_, old_end_byte);
  e.new_end_point = advance(e.start_point, new_text);
  text_.replace(start_byte, old_end_byte - start_byte, new_text);
  if (tree_) ts_tree_edit(tree_, &e);
  status_ = parse(limits);
  return status_;
}

ParseStatus Document::reparse(const ParseLimits& limits) {
  if (!parser_) return status_;
  status_ = parse(limits);
  return status_;
}

TSNode Document::root() const { return tree_ ? ts_tree_root_node(tree_) : TSNode{}; }

bool Document::has_syntax_errors() const { return tree_ && ts_node_has_error(root()); }

std::optional<TSNode> Document::node_at(uint32_t byte) const {
  if (!tree_) return std::nullopt;
  byte = std::min<uint32_t>(byte, static_cast<uint32_t>(text_.size()));
  // The token just typed: a named leaf ending at the cursor (`foo|`).
  if (byte > 0) {
    TSNode before = ts_node_named_descendant_for_byte_range(root(), byte - 1, byte - 1);
    if (!ts_node_is_null(before) && ts_node_child_count(before) == 0 && ts_node_end_byte(before) == byte)
      return before;
  }
  std::vector<TSNode> path = path_at(root(), byte);
  for (size_t i = path.size(); i-- > 0;)
    if (ts_node_is_named(path[i])) return path[i];
  return root();
}

namespace {

// A block that is a function's, class's or namespace's body is reported as
// that function, class or namespace.
std::optional<Scope::Kind> scope_kind(const Language& l, TSNode node, bool parent_is_scope) {
  if (l.functions.contains(node)) return Scope::Kind::Function;
  if (l.classes.contains(node)) return Scope::Kind::Class;
  if (l.namespaces.contains(node)) return Scope::Kind::Namespace;
  if (l.blocks.contains(node) && !parent_is_scope) return Scope::Kind::Block;
  return std::nullopt;
}

}  // namespace

Scope Document::scope_at(uint32_t byte) const {
  Scope scope;
  scope.range = Span{0, static_cast<uint32_t>(text_.size())};
  if (!tree_) return scope;
  scope.range = span_of(root());
  bool parent_is_scope = false;
  for (TSNode node : path_at(root(), byte)) {
    std::optional<Scope::Kind> kind = scope_kind(*language_, node, parent_is_scope);
    parent_is_scope = kind && *kind != Scope::Kind::Block;
    if (!kind) continue;
    scope.kind = *kind;
    scope.range = span_of(node);
    TSNode name = field(node, "name");
    if (ts_node_is_null(name)) name = field(node, "type");  // Rust impl blocks
    scope.name = *kind == Scope::Kind::Block || ts_node_is_null(name) ? "" : std::string(node_text(text_, name));
  }
  return scope;
}

uint32_t Document::statement_end(uint32_t byte) const {
  uint32_t end = static_cast<uint32_t>(text_.size());
  if (!tree_) return end;
  for (TSNode node : path_at(root(), byte))
    if (language_->statements.contains(node)) end = ts_node_end_byte(node);
  return end;
}

uint32_t Document::block_end(uint32_t byte) const {
  uint32_t end = static_cast<uint32_t>(text_.size());
  if (!tree_) return end;
  for (TSNode node : path_at(root(), byte))
    if (language_->blocks.contains(node)) end = ts_node_end_byte(node);
  return end;
}

}  // namespace astfill::parsing
