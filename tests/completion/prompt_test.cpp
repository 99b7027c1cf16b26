// FIM templates: each renders exactly the layout its model was trained on,
// context files become comments where a model has no repository layout,
// templates are found by name and detected from a vocabulary, and the
// prompt changes as late as possible between keystrokes.
#include <catch2/catch.hpp>

#include <set>

#include "completion/prompt.h"
#include "engine/tokenizer.h"
#include "tests/fixtures/random_model.h"

using namespace astfill::completion;

namespace {

PromptParts small_parts() {
  PromptParts parts;
  parts.repo_name = "demo";
  parts.context_files = {{"utils.py", "def add(a, b):\n    ...\n"}, {"io.py", "def show(x):\n\n    ...\n"}};
  parts.current_path = "main.py";
  parts.language_id = "python";
  parts.prefix = "x = add(";
  parts.suffix = ")\nshow(x)\n";
  return parts;
}

const FimTemplate& named(std::string_view name) {
  const FimTemplate* t = find_fim_template(name);
  REQUIRE(t);
  return *t;
}

std::function<bool(std::string_view)> vocabulary(std::set<std::string> tokens) {
  return [tokens = std::move(tokens)](std::string_view t) { return tokens.contains(std::string(t)); };
}

}  // namespace

TEST_CASE("Qwen2.5-Coder: the repository-level layout", "[prompt]") {
  CHECK(render_prompt(named("qwen"), small_parts()) ==
        "<|repo_name|>demo\n"
        "<|file_sep|>utils.py\ndef add(a, b):\n    ...\n\n"
        "<|file_sep|>io.py\ndef show(x):\n\n    ...\n\n"
        "<|file_sep|>main.py\n<|fim_prefix|>x = add(<|fim_suffix|>)\nshow(x)\n<|fim_middle|>");
  PromptParts bare = small_parts();
  bare.context_files.clear();
  CHECK(render_prompt(named("qwen"), bare) ==
        "<|repo_name|>demo\n<|file_sep|>main.py\n<|fim_prefix|>x = add(<|fim_suffix|>)\nshow(x)\n<|fim_middle|>");
  auto stop = named("qwen").stop;
  CHECK(std::set<std::string_view>(stop.begin(), stop.end()) ==
        std::set<std::string_view>{"<|endoftext|>", "<|im_end|>", "<|fim_prefix|>", "<|fim_suffix|>",
                                   "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>"});
}

TEST_CASE("StarCoder2: <fim_prefix> before the path, no added newlines", "[prompt]") {
  CHECK(render_prompt(named("starcoder2"), small_parts()) ==
        "<repo_name>demo"
        "<file_sep>utils.py\ndef add(a, b):\n    ...\n"
        "<file_sep>io.py\ndef show(x):\n\n    ...\n"
        "<file_sep><fim_prefix>main.py\nx = add(<fim_suffix>)\nshow(x)\n<fim_middle>");
  auto stop = named("starcoder2").stop;
  CHECK(std::vector<std::string_view>(stop.begin(), stop.end()) ==
        std::vector<std::string_view>{"<|endoftext|>", "<file_sep>"});
}

TEST_CASE("DeepSeek-Coder: context files as comments with their paths at the top of the prefix", "[prompt]") {
  CHECK(render_prompt(named("deepseek"), small_parts()) ==
        "<｜fim▁begin｜>"
        "# Path: utils.py\n# def add(a, b):\n#     ...\n"
        "# Path: io.py\n# def show(x):\n#\n#     ...\n"
        "x = add(<｜fim▁hole｜>)\nshow(x)\n<｜fim▁end｜>");
  PromptParts bare = small_parts();
  bare.context_files.clear();
  CHECK(render_prompt(named("deepseek"), bare) == "<｜fim▁begin｜>x = add(<｜fim▁hole｜>)\nshow(x)\n<｜fim▁end｜>");
}

TEST_CASE("CodeLlama: its spacing, and comments in the current file's language", "[prompt]") {
  PromptParts parts;
  parts.context_files = {{"util.h", "int add(int a, int b);"}};  // no final newline
  parts.current_path = "main.c";
  parts.language_id = "c";
  parts.prefix = "int main() {\n  return ";
  parts.suffix = ";\n}\n";
  CHECK(render_prompt(named("codellama"), parts) ==
        "<PRE> // Path: util.h\n// int add(int a, int b);\nint main() {\n  return  <SUF>;\n}\n <MID>");
  CHECK(std::vector<std::string_view>(named("codellama").stop.begin(), named("codellama").stop.end()) ==
        std::vector<std::string_view>{"<EOT>"});
}

TEST_CASE("line comments by language", "[prompt]") {
  CHECK(line_comment("python") == "#");
  CHECK(line_comment("typescript") == "//");
  CHECK(line_comment("rust") == "//");
  CHECK(line_comment("lua") == "--");
  CHECK(line_comment("shellscript") == "#");
  CHECK(line_comment("something-new") == "//");
}

TEST_CASE("text that looks like a placeholder is never expanded", "[prompt]") {
  PromptParts parts = small_parts();
  parts.context_files = {{"{path}", "f'{prefix}{text}'\n"}};
  parts.prefix = "s = '{suffix}";
  parts.suffix = "{repo}'\n";
  CHECK(render_prompt(named("qwen"), parts) ==
        "<|repo_name|>demo\n<|file_sep|>{path}\nf'{prefix}{text}'\n\n"
        "<|file_sep|>main.py\n<|fim_prefix|>s = '{suffix}<|fim_suffix|>{repo}'\n<|fim_middle|>");
}

TEST_CASE("templates by name", "[prompt]") {
  std::vector<std::string_view> names;
  for (const FimTemplate& t : fim_templates()) names.push_back(t.name);
  CHECK(names == std::vector<std::string_view>{"qwen", "starcoder2", "deepseek", "codellama"});
  CHECK(find_fim_template("qwen")->repo_level());
  CHECK(find_fim_template("starcoder2")->repo_level());
  CHECK_FALSE(find_fim_template("deepseek")->repo_level());
  CHECK_FALSE(find_fim_template("codellama")->repo_level());
  CHECK(find_fim_template("gpt-4") == nullptr);
  CHECK(find_fim_template("") == nullptr);
}

TEST_CASE("templates detected from a vocabulary", "[prompt]") {
  CHECK(detect_fim_template(vocabulary({"<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>",
                                        "<|repo_name|>", "<|file_sep|>"}))
            ->name == "qwen");
  CHECK(detect_fim_template(vocabulary({"<|endoftext|>", "<fim_prefix>", "<fim_middle>", "<fim_suffix>",
                                        "<repo_name>", "<file_sep>", "<filename>"}))
            ->name == "starcoder2");
  CHECK(detect_fim_template(vocabulary({"<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>", "<｜end▁of▁sentence｜>"}))
            ->name == "deepseek");
  // SentencePiece spells CodeLlama's markers with a word-boundary mark.
  CHECK(detect_fim_template(vocabulary({"▁<PRE>", "▁<SUF>", "▁<MID>", "▁<EOT>"}))->name == "codellama");
  CHECK(detect_fim_template(vocabulary({"<PRE>", "<SUF>", "<MID>", "<EOT>"}))->name == "codellama");
  // StarCoder (1) has the FIM tokens but no repository layout: not StarCoder2's template.
  CHECK(detect_fim_template(vocabulary({"<fim_prefix>", "<fim_middle>", "<fim_suffix>", "<filename>"})) == nullptr);
  CHECK(detect_fim_template(vocabulary({"hello", "world"})) == nullptr);

  // astfill's own tokenizer, with Qwen's special tokens.
  astfill::engine::Tokenizer tokenizer(astfill::engine::tiny_tokenizer(400));
  const FimTemplate* detected =
      detect_fim_template([&](std::string_view t) { return tokenizer.find_token(t).has_value(); });
  REQUIRE(detected);
  CHECK(detected->name == "qwen");
  for (std::string_view stop : detected->stop) CHECK(tokenizer.find_token(stop));
}

TEST_CASE("between keystrokes the prompt changes only after the cursor", "[prompt]") {
  for (const FimTemplate& t : fim_templates()) {
    INFO(t.name);
    PromptParts before = small_parts();
    PromptParts after = small_parts();
    after.prefix += "y";
    std::string a = render_prompt(t, before), b = render_prompt(t, after);
    size_t shared = std::mismatch(a.begin(), a.end(), b.begin(), b.end()).first - a.begin();
    // Everything up to the cursor is shared: context files, then the prefix.
    size_t cursor = a.find(before.prefix) + before.prefix.size();
    CHECK(shared >= cursor);
    CHECK(a.find("utils.py") < a.find("io.py"));
    CHECK(a.find("io.py") < a.find(before.prefix));
    CHECK(a.find(before.prefix) < a.find(before.suffix));
  }
}
