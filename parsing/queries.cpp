// Compiling the embedded query sources and evaluating their predicates.
#include "parsing/queries.h"

#include <array>
#include <mutex>

#include "parsing/nodes.h"
#include "parsing/query_sources.h"

namespace astfill::parsing {

namespace {

// Our patterns, then the grammar's tags.scm: TypeScript extends JavaScript
// in both.
struct Sources {
  std::string ours, tags;
};

Sources sources_for(std::string_view id) {
  namespace q = query_sources;
  auto join = [](std::string_view a, std::string_view b) { return std::string(a) + "\n" + std::string(b); };
  if (id == "python") return {join(q::ours_python, {}), join(q::tags_python, {})};
  if (id == "javascript") return {join(q::ours_ecmascript, q::ours_javascript), join(q::tags_javascript, {})};
  if (id == "typescript" || id == "typescriptreact")
    return {join(q::ours_ecmascript, q::ours_typescript), join(q::tags_typescript, q::tags_javascript)};
  if (id == "c") return {join(q::ours_c, {}), join(q::tags_c, {})};
  if (id == "cpp") return {join(q::ours_cpp, {}), join(q::tags_cpp, {})};
  if (id == "go") return {join(q::ours_go, {}), join(q::tags_go, {})};
  if (id == "rust") return {join(q::ours_rust, {}), join(q::tags_rust, {})};
  if (id == "java") return {join(q::ours_java, {}), join(q::tags_java, {})};
  return {};
}

const char* query_error_name(TSQueryError e) {
  switch (e) {
    case TSQueryErrorSyntax: return "syntax error";
    case TSQueryErrorNodeType: return "unknown node type";
    case TSQueryErrorField: return "unknown field";
    case TSQueryErrorCapture: return "unknown capture";
    case TSQueryErrorStructure: return "impossible pattern";
    case TSQueryErrorLanguage: return "language mismatch";
    default: return "error";
  }
}

TSQuery* compile(const Language& language, const std::string& source, std::string* error) {
  uint32_t offset = 0;
  TSQueryError kind = TSQueryErrorNone;
  TSQuery* q = ts_query_new(language.grammar, source.data(), static_cast<uint32_t>(source.size()), &offset, &kind);
  if (!q) {
    size_t line_end = source.find('\n', offset);
    *error = std::string(language.id) + ": " + query_error_name(kind) + " at byte " + std::to_string(offset) +
             ": " + source.substr(offset, line_end == std::string::npos ? 60 : line_end - offset);
  }
  return q;
}

Capture classify_capture(std::string_view name) {
  auto after = [&](std::string_view prefix) { return std::string(name.substr(prefix.size())); };
  if (name == "name") return {CaptureRole::Name, ""};
  if (name.starts_with("definition.")) return {CaptureRole::Definition, after("definition.")};
  if (name.starts_with("reference.")) return {CaptureRole::Reference, after("reference.")};
  if (name == "import") return {CaptureRole::Import, ""};
  if (name == "import.module") return {CaptureRole::ImportModule, ""};
  if (name == "import.name") return {CaptureRole::ImportName, ""};
  if (name == "import.relative") return {CaptureRole::ImportRelative, ""};
  if (name == "import.use") return {CaptureRole::ImportUse, ""};
  return {};
}

bool parse_predicate(const TSQuery* q, const TSQueryPredicateStep* steps, uint32_t n, Predicate* out) {
  if (n < 2 || steps[0].type != TSQueryPredicateStepTypeString || steps[1].type != TSQueryPredicateStepTypeCapture)
    return false;
  uint32_t len;
  std::string_view op = ts_query_string_value_for_id(q, steps[0].value_id, &len);
  out->capture = steps[1].value_id;
  for (uint32_t i = 2; i < n; ++i) {
    if (steps[i].type == TSQueryPredicateStepTypeCapture) out->other_capture = static_cast<int>(steps[i].value_id);
    else out->values.emplace_back(ts_query_string_value_for_id(q, steps[i].value_id, &len), len);
  }
  using Op = Predicate::Op;
  if (op == "eq?") out->op = Op::Eq;
  else if (op == "not-eq?") out->op = Op::NotEq;
  else if (op == "any-of?") out->op = Op::AnyOf;
  else if (op == "not-any-of?") out->op = Op::NotAnyOf;
  else if (op == "match?" || op == "not-match?") {
    if (out->values.size() != 1) return false;
    out->op = op == "match?" ? Op::Match : Op::NotMatch;
    try {
      out->pattern = std::regex(out->values[0], std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error&) {
      return false;
    }
  } else {
    return false;  // a directive (#strip!, #set-adjacent!, ...): not ours to follow
  }
  return true;
}

std::vector<Predicate> predicates_of(const TSQuery* q, uint32_t pattern) {
  std::vector<Predicate> result;
  uint32_t count = 0;
  const TSQueryPredicateStep* steps = ts_query_predicates_for_pattern(q, pattern, &count);
  uint32_t begin = 0;
  for (uint32_t i = 0; i < count; ++i) {
    if (steps[i].type != TSQueryPredicateStepTypeDone) continue;
    Predicate p;
    if (parse_predicate(q, steps + begin, i - begin, &p)) result.push_back(std::move(p));
    begin = i + 1;
  }
  return result;
}

CompiledQuery build(const Language& language) {
  CompiledQuery c;
  Sources s = sources_for(language.id);
  const std::string& ours = s.ours;
  std::string all = ours + "\n" + s.tags;
  c.query = compile(language, all, &c.error);
  if (!c.query) c.query = compile(language, ours, &c.error);  // keep ours when a tags.scm does not fit
  if (!c.query) return c;
  std::string tmp;
  if (TSQuery* alone = compile(language, ours, &tmp)) {
    c.own_patterns = ts_query_pattern_count(alone);
    ts_query_delete(alone);
  }
  for (uint32_t i = 0; i < ts_query_capture_count(c.query); ++i) {
    uint32_t len;
    const char* name = ts_query_capture_name_for_id(c.query, i, &len);
    c.captures.push_back(classify_capture(std::string_view(name, len)));
  }
  for (uint32_t p = 0; p < ts_query_pattern_count(c.query); ++p) c.predicates.push_back(predicates_of(c.query, p));
  return c;
}

std::string_view captured_text(const TSQueryMatch& m, uint32_t capture, std::string_view text, bool* found) {
  for (uint16_t i = 0; i < m.capture_count; ++i)
    if (m.captures[i].index == capture) {
      *found = true;
      return node_text(text, m.captures[i].node);
    }
  *found = false;
  return {};
}

bool holds(const Predicate& p, const TSQueryMatch& m, std::string_view text) {
  bool found = false;
  std::string_view value = captured_text(m, p.capture, text, &found);
  if (!found) return true;  // an optional capture that did not match constrains nothing
  using Op = Predicate::Op;
  switch (p.op) {
    case Op::Eq:
    case Op::NotEq: {
      bool equal;
      if (p.other_capture >= 0) {
        bool other_found = false;
        std::string_view other = captured_text(m, static_cast<uint32_t>(p.other_capture), text, &other_found);
        equal = other_found && other == value;
      } else {
        equal = !p.values.empty() && value == p.values[0];
      }
      return (p.op == Op::Eq) == equal;
    }
    case Op::Match:
    case Op::NotMatch: {
      bool matched = std::regex_search(value.begin(), value.end(), p.pattern);
      return (p.op == Op::Match) == matched;
    }
    case Op::AnyOf:
    case Op::NotAnyOf: {
      bool any = false;
      for (const std::string& v : p.values) any = any || value == v;
      return (p.op == Op::AnyOf) == any;
    }
  }
  return true;
}

}  // namespace

const CompiledQuery& query_for(const Language& language) {
  static std::array<CompiledQuery, 16> compiled;
  static std::array<std::once_flag, 16> once;
  auto languages = all_languages();
  size_t index = 0;
  while (index < languages.size() && languages[index] != &language) ++index;
  if (index == languages.size()) {
    static const CompiledQuery none;
    return none;
  }
  std::call_once(once[index], [&] { compiled[index] = build(language); });
  return compiled[index];
}

bool predicates_hold(const CompiledQuery& q, const TSQueryMatch& match, std::string_view text) {
  if (match.pattern_index >= q.predicates.size()) return true;
  for (const Predicate& p : q.predicates[match.pattern_index])
    if (!holds(p, match, text)) return false;
  return true;
}

}  // namespace astfill::parsing
