// See describe.h.
#include "vision/describe.h"

#include <algorithm>
#include <chrono>

#include "engine/errors.h"

namespace astfill::vision {

using engine::ModelError;
using engine::Session;

void check_pair(const engine::Model& lm, const std::string& lm_path, const VisionTower& tower) {
  const auto& hp = lm.hparams();
  if (hp.rope_sections.size() != 3)
    throw ModelError(lm_path + ": not a Qwen2-VL / Qwen2.5-VL language model (no M-RoPE sections); the vision "
                     "tower's embeddings only make sense to the LM it was trained with");
  if (tower.config().out_dim != static_cast<int64_t>(hp.embedding_length))
    throw ModelError(tower.path() + ": the vision tower writes rows of " + std::to_string(tower.config().out_dim) +
                     " values, but " + lm_path + " has embeddings of " + std::to_string(hp.embedding_length) +
                     " (a tower and LM of different models)");
}

VisionTokens vision_tokens(const engine::Tokenizer& tokenizer) {
  VisionTokens t;
  auto find = [&](const char* text, int32_t& out) {
    auto id = tokenizer.find_token(text);
    if (!id) throw ModelError(std::string("the model's tokenizer has no ") + text + " token (not a Qwen2-VL vocabulary)");
    out = *id;
  };
  find("<|vision_start|>", t.start);
  find("<|vision_end|>", t.end);
  find("<|image_pad|>", t.pad);
  return t;
}

std::string cut_at_control_text(std::string text, const engine::Tokenizer& tokenizer) {
  size_t cut = text.size();
  for (size_t id = 0; id < tokenizer.vocab_size(); ++id) {
    const auto t = static_cast<int32_t>(id);
    if (!tokenizer.is_special(t)) continue;
    const std::string& name = tokenizer.token_text(t);
    if (name.size() < 2) continue;  // a one-character "special" token would cut ordinary text
    if (size_t at = text.find(name); at < cut) cut = at;
  }
  text.resize(cut);
  return text;
}

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

DescribeStats describe_image(const engine::Model& lm, const VisionTower& tower, const Image& image,
                             const DescribeOptions& o, const std::function<bool(int32_t)>& on_token,
                             const CancellationToken& cancel) {
  const engine::Tokenizer& tok = lm.tokenizer();
  DescribeStats stats;
  auto t0 = std::chrono::steady_clock::now();
  const VisionInput input = preprocess(image, tower.preprocess_options(o.max_image_tokens));
  const std::vector<float> rows = tower.encode(input);
  stats.encode_seconds = seconds_since(t0);
  stats.grid_h = input.grid_h;
  stats.grid_w = input.grid_w;
  stats.image_tokens = static_cast<size_t>(input.patch_count() / 4);
  if (cancel.cancelled()) {
    stats.cancelled = true;
    return stats;
  }

  MultimodalPrompt prompt(lm.hparams().embedding_length, o.tokens ? *o.tokens : vision_tokens(tok));
  if (o.chat) {
    prompt.add_text(tok.encode("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"));
    prompt.add_image(rows, input.grid_h, input.grid_w, tower.config().merge_size);
    prompt.add_text(tok.encode(o.prompt, /*parse_special=*/false));
    prompt.add_text(tok.encode("<|im_end|>\n<|im_start|>assistant\n"));
  } else {
    prompt.add_image(rows, input.grid_h, input.grid_w, tower.config().merge_size);
    prompt.add_text(tok.encode(o.prompt, /*parse_special=*/false));
  }
  stats.prompt_tokens = prompt.rows();

  // Any special token ends the answer: <|im_end|> and <|endoftext|> are the
  // ends of a turn, and the others (<|im_start|>, <|fim_pad|>, the vision
  // tokens, ...) have no text to give an editor.
  std::vector<char> stops(tok.vocab_size(), 0);
  for (size_t id = 0; id < stops.size(); ++id) stops[id] = tok.is_special(static_cast<int32_t>(id)) ? 1 : 0;

  Session session(lm, prompt.rows() + static_cast<size_t>(std::max(o.max_tokens, 0)) + 1);
  const std::vector<const float*> embeddings = prompt.row_embeddings();
  std::vector<float> logits;
  t0 = std::chrono::steady_clock::now();
  const size_t chunk = std::max<size_t>(o.prefill_chunk, 1);
  for (size_t begin = 0; begin < prompt.rows(); begin += chunk) {
    const size_t end = std::min(prompt.rows(), begin + chunk);
    Session::Batch b;
    b.tokens.assign(prompt.tokens.begin() + static_cast<ptrdiff_t>(begin), prompt.tokens.begin() + static_cast<ptrdiff_t>(end));
    b.mrope_positions.assign(prompt.positions.begin() + static_cast<ptrdiff_t>(3 * begin),
                             prompt.positions.begin() + static_cast<ptrdiff_t>(3 * end));
    b.embeddings.assign(embeddings.begin() + static_cast<ptrdiff_t>(begin), embeddings.begin() + static_cast<ptrdiff_t>(end));
    logits = session.evaluate(b, cancel);
    if (logits.empty()) {
      stats.cancelled = true;
      return stats;
    }
  }
  stats.prefill_seconds = seconds_since(t0);

  engine::Sampler sampler(o.sampling);
  std::vector<int32_t> history = prompt.tokens;
  int32_t position = prompt.next_position;
  t0 = std::chrono::steady_clock::now();
  for (int k = 0; k < o.max_tokens; ++k) {
    const auto choice = sampler.sample(logits, history);
    if (choice.token < 0) break;
    if (static_cast<size_t>(choice.token) < stops.size() && stops[static_cast<size_t>(choice.token)]) {
      stats.stop_token = choice.token;
      break;
    }
    ++stats.generated_tokens;
    history.push_back(choice.token);
    if (!on_token(choice.token) || k + 1 == o.max_tokens) break;
    Session::Batch b;
    b.tokens = {choice.token};
    b.mrope_positions = {position, position, position};
    ++position;
    logits = session.evaluate(b, cancel);
    if (logits.empty()) {
      stats.cancelled = true;
      break;
    }
  }
  stats.decode_seconds = seconds_since(t0);
  return stats;
}

}  // namespace astfill::vision
