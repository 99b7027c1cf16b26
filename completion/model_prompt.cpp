#include "completion/model_prompt.h"

#include <algorithm>

namespace astfill::completion {
namespace {

// Breaks every occurrence of the template's markers in `text` by putting a
// zero-width space after its first byte.
void defuse(std::string& text, const FimTemplate& fim) {
  static const std::string kBreak = "\xe2\x80\x8b";  // U+200B
  auto defuse_one = [&](std::string_view marker) {
    if (marker.size() < 2) return;
    for (size_t at = text.find(marker); at != std::string::npos; at = text.find(marker, at + marker.size() + kBreak.size()))
      text.insert(at + 1, kBreak);
  };
  for (auto m : fim.markers) defuse_one(m);
  for (auto m : fim.stop) defuse_one(m);
}

}  // namespace

ContextBudgets budgets_for(const Options& options, size_t context_tokens, size_t generate) {
  ContextBudgets b;
  b.prefix = options.prefix_tokens;
  b.suffix = options.suffix_tokens;
  size_t cross = options.cross_file_tokens;
  size_t room = context_tokens > generate + 64 ? context_tokens - generate - 64 : context_tokens / 2;
  // A context too small for all of it (a small model's, or a small
  // --context): cross-file context gets at most a quarter, and the prefix and
  // suffix share the rest in their own proportion, so the suffix is never
  // crowded out by a long prefix.
  if (b.prefix + b.suffix + cross > room) {
    cross = std::min(cross, room / 4);
    size_t near = room - cross;
    if (b.prefix + b.suffix > near) {
      b.suffix = b.suffix * near / (b.prefix + b.suffix);
      b.prefix = near - b.suffix;
    }
    cross = std::min<size_t>(options.cross_file_tokens, room - b.prefix - b.suffix);
  }
  // Cross-file context: imported API 25%, definitions 30%, similar code 30%,
  // recent edits 15% (the proportions of ContextBudgets' defaults).
  b.imports = cross * 25 / 100;
  b.definitions = cross * 30 / 100;
  b.similar = cross * 30 / 100;
  b.recent = cross - b.imports - b.definitions - b.similar;
  b.total = std::min(room, b.prefix + b.suffix + cross);
  return b;
}

const FimTemplate& template_for(const engine::Tokenizer& tokenizer, const std::string& name) {
  if (!name.empty())
    if (const auto* t = find_fim_template(name)) return *t;
  if (const auto* t = detect_fim_template([&](std::string_view s) { return tokenizer.find_token(s).has_value(); }))
    return *t;
  return *find_fim_template("qwen");
}

ModelPrompt build_model_prompt(const engine::Tokenizer& tokenizer, const FimTemplate& fim,
                               const ModelPromptRequest& request, const CancellationToken& cancel) {
  ContextRequest c;
  c.index = request.index;
  c.path = request.path;
  c.language_id = request.language_id;
  // The context builder sees the text without what a fill replaces.
  std::string joined;
  std::string_view text = request.text;
  size_t cursor = std::min(request.cursor, text.size());
  size_t suffix_begin = std::clamp(request.suffix_begin, cursor, text.size());
  if (suffix_begin != cursor) {
    joined.reserve(text.size() - (suffix_begin - cursor));
    joined.append(text.substr(0, cursor)).append(text.substr(suffix_begin));
    text = joined;
  }
  c.text = text;
  c.cursor = cursor;
  c.repo_name = request.repo_name;
  c.recent_edits = request.recent_edits;
  c.open_paths = request.open_paths;
  c.count_tokens = [&](std::string_view s) { return tokenizer.encode(s, false).size(); };
  c.budgets = request.budgets;
  Context context = build_context(c, cancel);
  for (auto& f : context.parts.context_files) {
    defuse(f.text, fim);
    defuse(f.path, fim);
  }
  defuse(context.parts.prefix, fim);
  defuse(context.parts.suffix, fim);
  defuse(context.parts.repo_name, fim);
  defuse(context.parts.current_path, fim);

  ModelPrompt out;
  out.fim = &fim;
  out.report = context.report;
  out.tokens = tokenizer.encode(render_prompt(fim, context.parts), /*parse_special=*/true);
  for (auto stop : fim.stop)
    if (auto id = tokenizer.find_token(stop)) out.stop_tokens.push_back(*id);
  // Whatever the template, the end-of-text token ends a completion.
  for (std::string_view eos : {"<|endoftext|>", "<|im_end|>", "</s>", "<|end_of_text|>"})
    if (auto id = tokenizer.find_token(eos))
      if (std::find(out.stop_tokens.begin(), out.stop_tokens.end(), *id) == out.stop_tokens.end())
        out.stop_tokens.push_back(*id);
  return out;
}

}  // namespace astfill::completion
