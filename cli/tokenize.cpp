// `astfill tokenize`: the ids (or pieces) a model's tokenizer gives a text.
// A debugging aid for prompts: what the model actually sees.
#include <boost/json.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <stdexcept>

#include "support/args.h"
#include "cli/commands.h"
#include "cli/model_name.h"
#include "engine/errors.h"
#include "engine/model_file.h"
#include "engine/tokenizer.h"
#include "support/files.h"
#include "support/utf8.h"

namespace astfill::cli {
namespace {

std::string ids_json(const std::vector<int32_t>& ids) {
  boost::json::array a;
  for (int32_t id : ids) a.push_back(id);
  return boost::json::serialize(a);
}

// A piece that is part of a character (an emoji split over tokens) shows
// U+FFFD for its bytes, so the output stays valid JSON text.
std::string pieces_json(const engine::Tokenizer& tokenizer, const std::vector<int32_t>& ids) {
  boost::json::array a;
  for (int32_t id : ids) {
    std::string piece = tokenizer.token_bytes(id);
    sanitize_utf8(piece);
    a.push_back(boost::json::object{{"id", id}, {"piece", piece}});
  }
  return boost::json::serialize(a);
}

}  // namespace

int run_tokenize(const std::vector<std::string>& args) {
  std::optional<std::string> model, text, text_file;
  bool pieces = false, parse_special = true;
  auto store = [](std::optional<std::string>& to) {
    return [&to](const std::string& v) -> std::optional<std::string> {
      to = v;
      return std::nullopt;
    };
  };
  ArgParser p("astfill tokenize",
              "Prints the token ids a model's tokenizer gives a text, as one JSON array.\n"
              "Special-token text in the input (<|fim_prefix|>, <|file_sep|>, ...) becomes the\n"
              "special token unless --no-special is given.");
  p.option("--model", "M", "a GGUF model, a Hugging Face model directory, a tokenizer.json, or the\n"
           "name of a pulled model", store(model));
  p.option("--text", "S", "the text to tokenize", store(text));
  p.option("--text-file", "F", "tokenize the contents of file F", store(text_file));
  p.flag("--pieces", "print [{\"id\", \"piece\"}] with each token's text instead of bare ids",
         [&] { pieces = true; });
  p.flag("--no-special", "tokenize special-token text as ordinary text", [&] { parse_special = false; });

  auto usage_error = [](const std::string& message) {
    std::fprintf(stderr, "astfill tokenize: %s\n", message.c_str());
    return 2;
  };
  if (auto err = p.parse(args)) return usage_error(*err);
  if (p.help_requested()) {
    std::fputs(p.help().c_str(), stdout);
    return 0;
  }
  if (!model) return usage_error("--model is required");
  if (text.has_value() == text_file.has_value()) return usage_error("give exactly one of --text and --text-file");

  try {
    if (text_file) {
      text.emplace();
      if (auto err = support::read_text(*text_file, *text)) throw std::runtime_error(*err);
    }
    engine::Tokenizer tokenizer(engine::load_tokenizer_data(resolve_model_argument(*model)));
    std::vector<int32_t> ids = tokenizer.encode(*text, parse_special);
    std::string out = pieces ? pieces_json(tokenizer, ids) : ids_json(ids);
    std::printf("%s\n", out.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "astfill tokenize: %s\n", e.what());
    return 1;
  }
}

}  // namespace astfill::cli
