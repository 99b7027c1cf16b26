// The HTTP server's protocol: request bodies of OpenAI's /v1/completions and
// llama.cpp's /completion and /infill as C++ data, and the answers back as
// JSON in each API's shape. The only file of http/ that reads or writes JSON
// bodies; the server (http/server.*) routes, the completions
// (http/completions.*) run the model.
//
// OpenAI's legacy completions: prompt, suffix, max_tokens (default 16), stop
// (a string or up to 4), stream (SSE ending in `data: [DONE]`), logprobs (0-20
// top candidates; the answer's {tokens, token_logprobs, top_logprobs,
// text_offset}), temperature, seed. llama.cpp's server: /completion with
// prompt, n_predict, n_probs, stop, stream; /infill with input_prefix,
// input_suffix, input_extra [{filename, text}], n_predict. astfill's own
// extension in any of them: `astfill: {root, constraints, language, path}`.
//
// One difference from OpenAI, on purpose: temperature defaults to 0 (greedy,
// as astfill decodes everywhere), so a client that sends nothing gets the
// completion an editor would.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/json.hpp>

namespace astfill::http {

enum class Endpoint { OpenAICompletions, LlamaCompletion, LlamaInfill };

// An error answer: the HTTP status and OpenAI's {"error": {message, type, code, param}}.
struct ApiError {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string code;   // "" = null
  std::string param;  // the field at fault, "" = null
};

struct ExtraFile {
  std::string filename;
  std::string text;
};

// astfill's extension: where the text lives, for project context and the guard.
struct AstfillExtension {
  std::string root;                        // a workspace folder ("" = none)
  std::optional<std::string> constraints;  // "off", "syntax", "syntax+api"
  std::string language;                    // a languageId ("" = from `path`)
  std::string path;                        // the file's path, relative to root or absolute
};

struct CompletionQuery {
  Endpoint endpoint = Endpoint::OpenAICompletions;
  std::string model;                  // as asked ("" = the loaded one)
  std::string prompt;                 // the prompt, or the text before the cursor
  std::optional<std::string> suffix;  // the text after the cursor (FIM)
  std::vector<ExtraFile> extra;       // llama.cpp's input_extra
  int max_tokens = 16;
  std::vector<std::string> stop;
  bool stream = false;
  std::optional<int> logprobs;        // top candidates per token (0: only the chosen token's)
  float temperature = 0;
  uint64_t seed = 0;
  std::optional<AstfillExtension> astfill;

  // A fill-in-the-middle question (answered through the workspace core, with
  // the prompt built here) rather than a plain continuation of `prompt`.
  bool is_fill() const { return endpoint == Endpoint::LlamaInfill || suffix.has_value() || astfill.has_value(); }
};

std::variant<CompletionQuery, ApiError> parse_query(Endpoint endpoint, std::string_view body);

// ---- Answers

struct Candidate {
  int32_t id = -1;
  std::string text;  // the token's bytes
  float logprob = 0;
};

struct TokenInfo {
  Candidate chosen;
  std::vector<Candidate> top;  // best first
};

struct CompletionAnswer {
  std::string text;
  std::vector<TokenInfo> tokens;  // per generated token (plain generation only)
  std::string finish_reason = "stop";  // "stop" or "length"
  size_t prompt_tokens = 0;
  size_t completion_tokens = 0;
  bool has_logprobs = false;      // `tokens` carry the candidates the query asked for
  size_t cached_tokens = 0;       // prompt tokens the KV cache already held
  double prompt_ms = 0, predicted_ms = 0;
};

// What the connection needs to put answers into the right shape.
struct AnswerIdentity {
  std::string id;     // "cmpl-..."
  std::string model;
  int64_t created = 0;
};

boost::json::object error_json(const ApiError& error);
// The whole answer, non-streamed.
boost::json::object answer_json(const CompletionQuery& query, const CompletionAnswer& answer,
                                const AnswerIdentity& who);
// One streamed piece (SSE data), `tokens` the tokens it covers; `offset` the
// piece's byte offset in the whole text.
boost::json::object piece_json(const CompletionQuery& query, std::string_view text,
                               const std::vector<TokenInfo>& tokens, size_t offset, const AnswerIdentity& who);
// The stream's last event before `data: [DONE]` (OpenAI) or the end (llama.cpp).
boost::json::object final_piece_json(const CompletionQuery& query, const CompletionAnswer& answer,
                                     const AnswerIdentity& who);
boost::json::object models_json(const std::string& model, int64_t created);

// `text` as a JSON string, invalid UTF-8 replaced by U+FFFD.
boost::json::string json_text(std::string_view text);

}  // namespace astfill::http
