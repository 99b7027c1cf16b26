#include "http/protocol.h"

#include <cstdio>

#include <algorithm>
#include <cmath>

#include "support/utf8.h"

namespace astfill::http {
namespace json = boost::json;

namespace {

ApiError bad_field(const std::string& field, const std::string& what) {
  return ApiError{400, "'" + field + "' " + what, "invalid_request_error", "invalid_value", field};
}

// Each reader leaves `out` alone when the field is absent or null.
std::optional<ApiError> read_string(const json::object& o, const char* key, std::string& out) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::nullopt;
  if (!it->value().is_string()) return bad_field(key, "must be a string");
  out = std::string(it->value().get_string());
  return std::nullopt;
}

std::optional<ApiError> read_int(const json::object& o, const char* key, int lo, int hi, int& out) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::nullopt;
  const json::value& v = it->value();
  double d = 0;
  if (v.is_int64()) d = static_cast<double>(v.get_int64());
  else if (v.is_uint64()) d = static_cast<double>(v.get_uint64());
  else if (v.is_double() && std::floor(v.get_double()) == v.get_double()) d = v.get_double();
  else return bad_field(key, "must be an integer");
  if (d < lo || d > hi)
    return bad_field(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  out = static_cast<int>(d);
  return std::nullopt;
}

std::optional<ApiError> read_number(const json::object& o, const char* key, double lo, double hi, float& out) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::nullopt;
  const json::value& v = it->value();
  if (!v.is_number()) return bad_field(key, "must be a number");
  double d = v.to_number<double>();
  if (!(d >= lo && d <= hi)) return bad_field(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  out = static_cast<float>(d);
  return std::nullopt;
}

std::optional<ApiError> read_bool(const json::object& o, const char* key, bool& out) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::nullopt;
  if (!it->value().is_bool()) return bad_field(key, "must be true or false");
  out = it->value().get_bool();
  return std::nullopt;
}

std::optional<ApiError> read_stop(const json::object& o, std::vector<std::string>& out) {
  auto it = o.find("stop");
  if (it == o.end() || it->value().is_null()) return std::nullopt;
  if (it->value().is_string()) {
    if (!it->value().get_string().empty()) out.emplace_back(it->value().get_string());
    return std::nullopt;
  }
  if (!it->value().is_array()) return bad_field("stop", "must be a string or an array of strings");
  for (const auto& s : it->value().get_array()) {
    if (!s.is_string()) return bad_field("stop", "must be a string or an array of strings");
    if (!s.get_string().empty()) out.emplace_back(s.get_string());
  }
  if (out.size() > 16) return bad_field("stop", "may hold 16 strings at most");
  return std::nullopt;
}

std::optional<ApiError> read_prompt(const json::object& o, const char* key, std::string& out, bool required) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) {
    if (required) return ApiError{400, std::string("'") + key + "' is required", "invalid_request_error",
                                  "missing_field", key};
    return std::nullopt;
  }
  const json::value& v = it->value();
  if (v.is_string()) {
    out = std::string(v.get_string());
    return std::nullopt;
  }
  // OpenAI also takes a list: one prompt is all this server answers per request.
  if (v.is_array() && v.get_array().size() == 1 && v.get_array()[0].is_string()) {
    out = std::string(v.get_array()[0].get_string());
    return std::nullopt;
  }
  if (v.is_array())
    return bad_field(key, "must be one string (a list of several prompts, or of token ids, is not supported)");
  return bad_field(key, "must be a string");
}

std::optional<ApiError> read_extension(const json::object& o, std::optional<AstfillExtension>& out) {
  auto it = o.find("astfill");
  if (it == o.end() || it->value().is_null()) return std::nullopt;
  if (!it->value().is_object()) return bad_field("astfill", "must be an object {root, constraints, language, path}");
  const json::object& a = it->value().get_object();
  AstfillExtension e;
  for (const auto& kv : a) {
    std::string_view k = kv.key();
    if (k != "root" && k != "constraints" && k != "language" && k != "path")
      return bad_field("astfill." + std::string(k), "is not a known field (root, constraints, language, path)");
  }
  auto prefixed = [](std::optional<ApiError> e) {
    if (e) {
      e->message = "'astfill." + e->message.substr(1);
      e->param = "astfill." + e->param;
    }
    return e;
  };
  if (auto err = prefixed(read_string(a, "root", e.root))) return err;
  if (auto err = prefixed(read_string(a, "language", e.language))) return err;
  if (auto err = prefixed(read_string(a, "path", e.path))) return err;
  std::string constraints;
  if (auto err = prefixed(read_string(a, "constraints", constraints))) return err;
  if (a.contains("constraints") && !a.at("constraints").is_null()) {
    if (constraints != "off" && constraints != "syntax" && constraints != "syntax+api")
      return bad_field("astfill.constraints", "must be \"off\", \"syntax\" or \"syntax+api\"");
    e.constraints = constraints;
  }
  out = std::move(e);
  return std::nullopt;
}

std::optional<ApiError> read_extra(const json::object& o, std::vector<ExtraFile>& out) {
  auto it = o.find("input_extra");
  if (it == o.end() || it->value().is_null()) return std::nullopt;
  if (!it->value().is_array()) return bad_field("input_extra", "must be an array of {filename, text}");
  for (const auto& c : it->value().get_array()) {
    if (!c.is_object()) return bad_field("input_extra", "must be an array of {filename, text}");
    ExtraFile f;
    if (read_string(c.get_object(), "filename", f.filename) || read_string(c.get_object(), "text", f.text))
      return bad_field("input_extra", "entries' filename and text must be strings");
    out.push_back(std::move(f));
  }
  return std::nullopt;
}

}  // namespace

std::variant<CompletionQuery, ApiError> parse_query(Endpoint endpoint, std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return ApiError{400, "the body is not JSON: " + ec.message(), "invalid_request_error", "invalid_json", ""};
  if (!v.is_object()) return ApiError{400, "the body must be a JSON object", "invalid_request_error", "invalid_json", ""};
  const json::object& o = v.get_object();
  CompletionQuery q;
  q.endpoint = endpoint;
  std::optional<ApiError> err;
  if ((err = read_string(o, "model", q.model))) return *err;
  if ((err = read_stop(o, q.stop))) return *err;
  if ((err = read_bool(o, "stream", q.stream))) return *err;
  if ((err = read_number(o, "temperature", 0, 2, q.temperature))) return *err;
  int seed = 0;
  if ((err = read_int(o, "seed", 0, 2147483647, seed))) return *err;
  q.seed = static_cast<uint64_t>(seed);
  if ((err = read_extension(o, q.astfill))) return *err;
  switch (endpoint) {
    case Endpoint::OpenAICompletions: {
      if ((err = read_prompt(o, "prompt", q.prompt, true))) return *err;
      std::string suffix;
      if ((err = read_string(o, "suffix", suffix))) return *err;
      if (o.contains("suffix") && !o.at("suffix").is_null()) q.suffix = suffix;
      if ((err = read_int(o, "max_tokens", 1, 4096, q.max_tokens))) return *err;
      auto lp = o.find("logprobs");
      if (lp != o.end() && !lp->value().is_null()) {
        int n = 0;
        if ((err = read_int(o, "logprobs", 0, 20, n))) return *err;
        q.logprobs = n;
      }
      bool echo = false;
      if ((err = read_bool(o, "echo", echo))) return *err;
      if (echo) return bad_field("echo", "is not supported");
      int n = 1;
      if ((err = read_int(o, "n", 1, 1, n))) return *err;
      break;
    }
    case Endpoint::LlamaCompletion:
    case Endpoint::LlamaInfill: {
      if (endpoint == Endpoint::LlamaCompletion) {
        if ((err = read_prompt(o, "prompt", q.prompt, true))) return *err;
      } else {
        if ((err = read_string(o, "input_prefix", q.prompt))) return *err;
        std::string suffix;
        if ((err = read_string(o, "input_suffix", suffix))) return *err;
        q.suffix = suffix;
        if ((err = read_extra(o, q.extra))) return *err;
        // llama.vscode sends the text typed on the cursor's line as `prompt`
        // after input_prefix; it belongs before the cursor.
        std::string typed;
        if ((err = read_string(o, "prompt", typed))) return *err;
        q.prompt += typed;
      }
      // llama.cpp's default n_predict is -1 (until a stop); here: 64, an
      // inline completion's length.
      q.max_tokens = 64;
      int n_predict = 64;
      if ((err = read_int(o, "n_predict", -1, 4096, n_predict))) return *err;
      if (n_predict > 0) q.max_tokens = n_predict;
      else if (n_predict == 0) return bad_field("n_predict", "must be positive (or -1 for the default)");
      int n_probs = 0;
      if ((err = read_int(o, "n_probs", 0, 20, n_probs))) return *err;
      if (n_probs > 0) q.logprobs = n_probs;
      break;
    }
  }
  return q;
}

// ---- Answers -------------------------------------------------------------------------

json::string json_text(std::string_view text) {
  std::string s(text);
  sanitize_utf8(s);
  return json::string(s);
}

json::object error_json(const ApiError& e) {
  json::object inner{{"message", e.message}, {"type", e.type}};
  inner["code"] = e.code.empty() ? json::value(nullptr) : json::value(e.code);
  inner["param"] = e.param.empty() ? json::value(nullptr) : json::value(e.param);
  return json::object{{"error", std::move(inner)}};
}

namespace {

// A token in OpenAI's legacy logprobs: its text, or, when its bytes are not
// whole UTF-8 (a piece of a character), vLLM's spelling of them,
// "bytes:\\xe2\\x80", which a client turns back into the bytes (JSON
// text cannot hold them, and U+FFFD would lose them).
json::string token_json(std::string_view text) {
  if (!first_invalid_utf8(text)) return json::string(text);
  std::string out = "bytes:";
  char hex[5];
  for (unsigned char b : text) {
    std::snprintf(hex, sizeof hex, "\\x%02x", b);
    out += hex;
  }
  return json::string(out);
}

// OpenAI's legacy logprobs: {tokens, token_logprobs, top_logprobs, text_offset}.
json::object openai_logprobs(const std::vector<TokenInfo>& tokens, size_t offset) {
  json::array toks, lps, tops, offsets;
  for (const auto& t : tokens) {
    toks.push_back(token_json(t.chosen.text));
    lps.push_back(t.chosen.logprob);
    json::object top;
    for (const auto& c : t.top) top[token_json(c.text)] = c.logprob;
    tops.push_back(std::move(top));
    offsets.push_back(offset);
    offset += t.chosen.text.size();
  }
  return json::object{{"tokens", std::move(toks)},
                      {"token_logprobs", std::move(lps)},
                      {"top_logprobs", std::move(tops)},
                      {"text_offset", std::move(offsets)}};
}

json::array bytes_of(const std::string& s) {
  json::array a;
  for (unsigned char c : s) a.push_back(c);
  return a;
}

// llama.cpp's newer shape (as its /v1/completions answers too):
// [{id, token, bytes, logprob, top_logprobs: [{id, token, bytes, logprob}]}].
json::array llama_probabilities(const std::vector<TokenInfo>& tokens) {
  json::array out;
  for (const auto& t : tokens) {
    json::array top;
    for (const auto& c : t.top)
      top.push_back(json::object{
          {"id", c.id}, {"token", json_text(c.text)}, {"bytes", bytes_of(c.text)}, {"logprob", c.logprob}});
    out.push_back(json::object{{"id", t.chosen.id},
                               {"token", json_text(t.chosen.text)},
                               {"bytes", bytes_of(t.chosen.text)},
                               {"logprob", t.chosen.logprob},
                               {"top_logprobs", std::move(top)}});
  }
  return out;
}

// llama.cpp's extras, which llama.vim and llama.vscode show when present.
void llama_extras(json::object& o, const CompletionAnswer& a) {
  o["tokens_cached"] = a.cached_tokens;
  o["truncated"] = false;
  auto per_second = [](size_t n, double ms) { return ms > 0 ? 1000.0 * static_cast<double>(n) / ms : 0.0; };
  o["timings"] = json::object{{"prompt_n", a.prompt_tokens - std::min(a.prompt_tokens, a.cached_tokens)},
                              {"prompt_ms", a.prompt_ms},
                              {"prompt_per_second", per_second(a.prompt_tokens - std::min(a.prompt_tokens, a.cached_tokens), a.prompt_ms)},
                              {"predicted_n", a.completion_tokens},
                              {"predicted_ms", a.predicted_ms},
                              {"predicted_per_second", per_second(a.completion_tokens, a.predicted_ms)}};
}

json::object usage(const CompletionAnswer& a) {
  return json::object{{"prompt_tokens", a.prompt_tokens},
                      {"completion_tokens", a.completion_tokens},
                      {"total_tokens", a.prompt_tokens + a.completion_tokens}};
}

}  // namespace

json::object answer_json(const CompletionQuery& q, const CompletionAnswer& a, const AnswerIdentity& who) {
  if (q.endpoint == Endpoint::OpenAICompletions) {
    json::object choice{{"text", json_text(a.text)}, {"index", 0}, {"finish_reason", a.finish_reason}};
    choice["logprobs"] = a.has_logprobs ? json::value(openai_logprobs(a.tokens, 0)) : json::value(nullptr);
    return json::object{{"id", who.id},          {"object", "text_completion"},
                        {"created", who.created}, {"model", who.model},
                        {"choices", json::array{std::move(choice)}}, {"usage", usage(a)}};
  }
  json::object o{{"content", json_text(a.text)},
                 {"model", who.model},
                 {"stop", true},
                 {"stop_type", a.finish_reason == "length" ? "limit" : "eos"},
                 {"tokens_predicted", a.completion_tokens},
                 {"tokens_evaluated", a.prompt_tokens}};
  if (a.has_logprobs) o["completion_probabilities"] = llama_probabilities(a.tokens);
  llama_extras(o, a);
  return o;
}

json::object piece_json(const CompletionQuery& q, std::string_view text, const std::vector<TokenInfo>& tokens,
                        size_t offset, const AnswerIdentity& who) {
  if (q.endpoint == Endpoint::OpenAICompletions) {
    json::object choice{{"text", json_text(text)}, {"index", 0}, {"finish_reason", nullptr}};
    choice["logprobs"] = q.logprobs ? json::value(openai_logprobs(tokens, offset)) : json::value(nullptr);
    return json::object{{"id", who.id},          {"object", "text_completion"},
                        {"created", who.created}, {"model", who.model},
                        {"choices", json::array{std::move(choice)}}};
  }
  json::object o{{"content", json_text(text)}, {"stop", false}};
  if (q.logprobs) o["completion_probabilities"] = llama_probabilities(tokens);
  return o;
}

json::object final_piece_json(const CompletionQuery& q, const CompletionAnswer& a, const AnswerIdentity& who) {
  if (q.endpoint == Endpoint::OpenAICompletions) {
    json::object choice{{"text", ""}, {"index", 0}, {"finish_reason", a.finish_reason}, {"logprobs", nullptr}};
    return json::object{{"id", who.id},          {"object", "text_completion"},
                        {"created", who.created}, {"model", who.model},
                        {"choices", json::array{std::move(choice)}}, {"usage", usage(a)}};
  }
  json::object o{{"content", ""},
                 {"model", who.model},
                 {"stop", true},
                 {"stop_type", a.finish_reason == "length" ? "limit" : "eos"},
                 {"tokens_predicted", a.completion_tokens},
                 {"tokens_evaluated", a.prompt_tokens}};
  llama_extras(o, a);
  return o;
}

json::object models_json(const std::string& model, int64_t created) {
  json::array data;
  if (!model.empty())
    data.push_back(json::object{{"id", model}, {"object", "model"}, {"created", created}, {"owned_by", "astfill"}});
  return json::object{{"object", "list"}, {"data", std::move(data)}};
}

}  // namespace astfill::http
