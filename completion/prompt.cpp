// The FIM template table, detection, and rendering. Token strings and layouts
// as each family's model card and paper give them:
//   Qwen2.5-Coder: repository-level FIM (tech report, figure 4); stop tokens
//     as in ../shared/FACTS.md.
//   StarCoder2: "<repo_name>name<file_sep>path\ncode<file_sep><fim_prefix>path\n
//     pre<fim_suffix>suf<fim_middle>" (StarCoder2 paper, section 5.1): no
//     newline after the name or a file's code, <fim_prefix> before the path.
//   DeepSeek-Coder: <｜fim▁begin｜>, <｜fim▁hole｜>, <｜fim▁end｜> (fullwidth bars,
//     U+2581 for the space); base models end with <｜end▁of▁sentence｜>,
//     instruct ones with <|EOT|>.
//   CodeLlama: "<PRE> {prefix} <SUF>{suffix} <MID>", the spaces part of the
//     layout it was trained with; it ends with <EOT>.
#include "completion/prompt.h"

#include <array>

namespace astfill::completion {
namespace {

using namespace std::string_view_literals;

constexpr std::array qwen_stop = {"<|endoftext|>"sv, "<|im_end|>"sv,  "<|fim_prefix|>"sv, "<|fim_suffix|>"sv,
                                  "<|fim_pad|>"sv,   "<|repo_name|>"sv, "<|file_sep|>"sv};
constexpr std::array qwen_markers = {"<|fim_prefix|>"sv, "<|fim_suffix|>"sv, "<|fim_middle|>"sv,
                                     "<|repo_name|>"sv, "<|file_sep|>"sv};
constexpr std::array starcoder2_stop = {"<|endoftext|>"sv, "<file_sep>"sv};
constexpr std::array starcoder2_markers = {"<fim_prefix>"sv, "<fim_suffix>"sv, "<fim_middle>"sv, "<repo_name>"sv,
                                           "<file_sep>"sv};
constexpr std::array deepseek_stop = {"<｜end▁of▁sentence｜>"sv, "<|EOT|>"sv};
constexpr std::array deepseek_markers = {"<｜fim▁begin｜>"sv, "<｜fim▁hole｜>"sv, "<｜fim▁end｜>"sv};
constexpr std::array codellama_stop = {"<EOT>"sv};
constexpr std::array codellama_markers = {"<PRE>"sv, "<SUF>"sv, "<MID>"sv, "<EOT>"sv};

const std::array<FimTemplate, 4> templates = {{
    {"qwen", "<|repo_name|>{repo}\n", "<|file_sep|>{path}\n{text}\n",
     "<|file_sep|>{path}\n<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>", qwen_stop, qwen_markers},
    {"starcoder2", "<repo_name>{repo}", "<file_sep>{path}\n{text}",
     "<file_sep><fim_prefix>{path}\n{prefix}<fim_suffix>{suffix}<fim_middle>", starcoder2_stop,
     starcoder2_markers},
    {"deepseek", "", "", "<｜fim▁begin｜>{prefix}<｜fim▁hole｜>{suffix}<｜fim▁end｜>", deepseek_stop,
     deepseek_markers},
    {"codellama", "", "", "<PRE> {prefix} <SUF>{suffix} <MID>", codellama_stop, codellama_markers},
}};

struct Fill {
  std::string_view repo = {}, path = {}, text = {}, prefix = {}, suffix = {};
};

// Appends `pattern` with its placeholders replaced, in one pass: replacement
// text is never scanned again.
void expand(std::string& out, std::string_view pattern, const Fill& fill) {
  const std::pair<std::string_view, std::string_view> names[] = {
      {"{repo}", fill.repo},     {"{path}", fill.path},     {"{text}", fill.text},
      {"{prefix}", fill.prefix}, {"{suffix}", fill.suffix},
  };
  size_t i = 0;
  while (i < pattern.size()) {
    size_t brace = pattern.find('{', i);
    if (brace == std::string_view::npos) break;
    out.append(pattern, i, brace - i);
    i = brace;
    bool replaced = false;
    for (const auto& [name, value] : names) {
      if (pattern.substr(i).starts_with(name)) {
        out += value;
        i += name.size();
        replaced = true;
        break;
      }
    }
    if (!replaced) out += pattern[i++];
  }
  out.append(pattern.substr(std::min(i, pattern.size())));
}

// The context files as line comments: a "Path:" line, then each line of the
// file behind the comment marker.
std::string commented_context(const PromptParts& parts) {
  std::string out;
  std::string_view marker = line_comment(parts.language_id);
  for (const ContextFile& file : parts.context_files) {
    out.append(marker).append(" Path: ").append(file.path).append("\n");
    std::string_view text = file.text;
    while (!text.empty()) {
      size_t end = text.find('\n');
      std::string_view line = text.substr(0, end);
      out.append(marker);
      if (!line.empty()) out.append(" ").append(line);
      out += '\n';
      text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    }
  }
  return out;
}

bool has_marker(const std::function<bool(std::string_view)>& has_token, std::string_view marker) {
  return has_token(marker) || has_token("\u2581" + std::string(marker));
}

}  // namespace

std::span<const FimTemplate> fim_templates() { return templates; }

const FimTemplate* find_fim_template(std::string_view name) {
  for (const FimTemplate& t : templates)
    if (t.name == name) return &t;
  return nullptr;
}

const FimTemplate* detect_fim_template(const std::function<bool(std::string_view)>& has_token) {
  for (const FimTemplate& t : templates) {
    bool all = true;
    for (std::string_view marker : t.markers) all = all && has_marker(has_token, marker);
    if (all) return &t;
  }
  return nullptr;
}

std::string_view line_comment(std::string_view language_id) {
  static constexpr std::pair<std::string_view, std::string_view> table[] = {
      {"python", "#"},     {"shellscript", "#"}, {"ruby", "#"},     {"perl", "#"},       {"r", "#"},
      {"yaml", "#"},       {"toml", "#"},        {"makefile", "#"}, {"dockerfile", "#"}, {"powershell", "#"},
      {"elixir", "#"},     {"julia", "#"},       {"cmake", "#"},    {"coffeescript", "#"},
      {"lua", "--"},       {"sql", "--"},        {"haskell", "--"}, {"elm", "--"},       {"ada", "--"},
      {"erlang", "%"},     {"latex", "%"},       {"tex", "%"},      {"matlab", "%"},
      {"clojure", ";;"},   {"scheme", ";;"},     {"lisp", ";;"},
      {"vb", "'"},         {"bat", "REM"},
  };
  for (const auto& [id, marker] : table)
    if (id == language_id) return marker;
  return "//";
}

std::string render_prompt(const FimTemplate& fim, const PromptParts& parts) {
  std::string out;
  if (fim.repo_level()) {
    expand(out, fim.repo_header, {.repo = parts.repo_name});
    for (const ContextFile& file : parts.context_files)
      expand(out, fim.context_file, {.path = file.path, .text = file.text});
    expand(out, fim.current_file, {.path = parts.current_path, .prefix = parts.prefix, .suffix = parts.suffix});
    return out;
  }
  std::string prefix = commented_context(parts) + parts.prefix;
  expand(out, fim.current_file, {.prefix = prefix, .suffix = parts.suffix});
  return out;
}

}  // namespace astfill::completion
