#include "completion/remote_decoder.h"

#include <curl/curl.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <mutex>

#include <boost/json.hpp>

#include "engine/tokenizer.h"
#include "support/files.h"
#include "support/log.h"

namespace astfill::completion {
namespace json = boost::json;
using clock_type = std::chrono::steady_clock;

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// One streamed token: its text and the server's alternatives, best first.
struct Streamed {
  std::string text;
  std::vector<std::pair<std::string, double>> alternatives;
};

// vLLM writes a token that is not whole UTF-8 as "bytes:\xe2\x80".
std::string token_text(std::string_view t) {
  if (t.rfind("bytes:", 0) != 0) return std::string(t);
  std::string out;
  for (size_t i = 6; i < t.size();) {
    if (i + 3 < t.size() + 0 && t[i] == '\\' && t[i + 1] == 'x') {
      out.push_back(static_cast<char>(std::strtol(std::string(t.substr(i + 2, 2)).c_str(), nullptr, 16)));
      i += 4;
    } else {
      out.push_back(t[i++]);
    }
  }
  return out;
}

// An entry's bytes (llama.cpp sends them as a list) or its token text.
std::string entry_text(const json::object& e) {
  if (auto* b = e.if_contains("bytes"); b && b->is_array()) {
    std::string out;
    for (const auto& x : b->get_array())
      if (x.is_int64()) out.push_back(static_cast<char>(x.get_int64()));
    return out;
  }
  for (const char* key : {"token", "tok_str", "content"})
    if (auto* t = e.if_contains(key); t && t->is_string()) return token_text(t->get_string());
  return "";
}

double entry_logprob(const json::object& e) {
  if (auto* l = e.if_contains("logprob"); l && l->is_number()) return l->to_number<double>();
  if (auto* p = e.if_contains("prob"); p && p->is_number()) return std::log(std::max(1e-30, p->to_number<double>()));
  return -1e30;
}

// Chat-style entries: [{token, bytes, logprob, top_logprobs | probs: [...]}].
void read_entries(const json::array& entries, std::vector<Streamed>& out) {
  for (const auto& v : entries) {
    if (!v.is_object()) continue;
    const json::object& e = v.get_object();
    Streamed s{entry_text(e), {}};
    for (const char* key : {"top_logprobs", "probs"})
      if (auto* top = e.if_contains(key); top && top->is_array())
        for (const auto& c : top->get_array())
          if (c.is_object()) s.alternatives.emplace_back(entry_text(c.get_object()), entry_logprob(c.get_object()));
    out.push_back(std::move(s));
  }
}

// What one SSE event carries.
struct Event {
  std::vector<Streamed> tokens;
  std::string finish;  // "stop", "length", or ""
  std::string error;
};

Event read_event(const json::value& v, RemoteBackend::Api api) {
  Event ev;
  if (!v.is_object()) {
    ev.error = "an event that is not a JSON object";
    return ev;
  }
  const json::object& o = v.get_object();
  if (auto* err = o.if_contains("error")) {
    ev.error = err->is_object() && err->get_object().contains("message") && err->at("message").is_string()
                   ? std::string(err->at("message").get_string())
                   : json::serialize(*err);
    return ev;
  }
  if (api == RemoteBackend::Api::LlamaCpp) {
    std::string content = o.contains("content") && o.at("content").is_string() ? std::string(o.at("content").get_string()) : "";
    if (auto* probs = o.if_contains("completion_probabilities"); probs && probs->is_array() && !probs->get_array().empty())
      read_entries(probs->get_array(), ev.tokens);
    else if (!content.empty())
      ev.tokens.push_back(Streamed{content, {}});
    if (auto* stop = o.if_contains("stop"); stop && stop->is_bool() && stop->get_bool()) {
      std::string type = o.contains("stop_type") && o.at("stop_type").is_string() ? std::string(o.at("stop_type").get_string()) : "";
      ev.finish = type == "limit" ? "length" : "stop";
    }
    return ev;
  }
  auto* choices = o.if_contains("choices");
  if (!choices || !choices->is_array() || choices->get_array().empty() || !choices->get_array()[0].is_object()) return ev;
  const json::object& c = choices->get_array()[0].get_object();
  std::string text = c.contains("text") && c.at("text").is_string() ? std::string(c.at("text").get_string()) : "";
  const json::value* lp = c.if_contains("logprobs");
  if (lp && lp->is_object() && lp->get_object().contains("content") && lp->at("content").is_array()) {
    read_entries(lp->at("content").get_array(), ev.tokens);  // llama.cpp's shape
  } else if (lp && lp->is_object() && lp->get_object().contains("tokens") && lp->at("tokens").is_array()) {
    const json::array& toks = lp->at("tokens").get_array();
    const json::array* tops = lp->get_object().contains("top_logprobs") && lp->at("top_logprobs").is_array()
                                  ? &lp->at("top_logprobs").get_array()
                                  : nullptr;
    for (size_t i = 0; i < toks.size(); ++i) {
      Streamed s{toks[i].is_string() ? token_text(toks[i].get_string()) : "", {}};
      if (tops && i < tops->size() && (*tops)[i].is_object())
        for (const auto& kv : (*tops)[i].get_object())
          if (kv.value().is_number()) s.alternatives.emplace_back(token_text(kv.key()), kv.value().to_number<double>());
      ev.tokens.push_back(std::move(s));
    }
  } else if (!text.empty()) {
    ev.tokens.push_back(Streamed{text, {}});
  }
  if (auto* f = c.if_contains("finish_reason"); f && f->is_string()) ev.finish = std::string(f->get_string());
  return ev;
}

// The state of one completion across its requests.
struct Loop {
  const RemoteBackend& backend;
  const RemoteDecodeOptions& options;
  SyntaxHooks* syntax;
  ApiConstraint* api;
  const engine::Tokenizer* tokenizer;
  const CancellationToken& cancel;
  clock_type::time_point deadline;
  std::string api_text;  // the document's text before the cursor plus what was accepted
  RemoteDecodeResult result;
  bool done = false;       // decoding ended (decode.end says why)
  bool re_request = false; // an alternative was taken: ask again from the accepted text

  // Could `piece` follow `text` under the API constraint? Pieces are the
  // server's tokens, not ours: the piece must be spelled by allowed local
  // tokens (or be the start of one).
  bool api_allows(std::string& text, std::string_view piece, int depth = 0) {
    if (!api || !tokenizer || piece.empty() || depth > 32) return true;
    auto allowed = api->allowed(text);
    if (!allowed) return true;
    for (int32_t id : *allowed) {
      std::string b = tokenizer->token_bytes(id);
      if (b.empty()) continue;
      if (b.size() > piece.size() ? b.compare(0, piece.size(), piece) == 0 : piece.substr(0, b.size()) == b) {
        if (b.size() >= piece.size()) return true;
        size_t keep = text.size();
        text += b;
        bool ok = api_allows(text, piece.substr(b.size()), depth + 1);
        text.resize(keep);
        if (ok) return true;
      }
    }
    return false;
  }

  bool allowed(const std::string& piece) {
    auto t0 = clock_type::now();
    bool ok = !syntax || syntax->viable(piece);
    if (ok && api) {
      bool restricted = api->allowed(api_text).has_value();
      ok = api_allows(api_text, piece);
      if (restricted) ++result.decode.restricted;
    }
    result.decode.check_seconds += std::chrono::duration<double>(clock_type::now() - t0).count();
    return ok;
  }

  void accept(const std::string& piece) {
    auto t0 = clock_type::now();
    if (syntax) syntax->accept(piece);
    result.decode.text += piece;
    api_text += piece;
    ++result.decode.stats.generated_tokens;
    if (syntax && syntax->should_stop()) finish(DecodeEnd::Complete);
    result.decode.check_seconds += std::chrono::duration<double>(clock_type::now() - t0).count();
    if (!done && static_cast<int>(result.decode.stats.generated_tokens) >= options.max_tokens) finish(DecodeEnd::MaxTokens);
  }

  void finish(DecodeEnd end) {
    done = true;
    result.decode.end = end;
  }

  // One streamed token. Returns false to abort the transfer.
  bool on_token(const Streamed& s) {
    if (s.text.empty()) return true;
    if (allowed(s.text)) {
      accept(s.text);
      return !done;
    }
    ++result.decode.rejected;
    auto alternatives = s.alternatives;
    std::stable_sort(alternatives.begin(), alternatives.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    for (const auto& [text, logprob] : alternatives) {
      if (text.empty() || text == s.text) continue;
      if (allowed(text)) {
        accept(text);
        re_request = !done;
        return false;
      }
      ++result.decode.rejected;
    }
    finish(DecodeEnd::NoViableToken);
    return false;
  }
};

// One HTTP request's transfer.
struct Transfer {
  explicit Transfer(Loop& l) : loop(l) {}
  Loop& loop;
  CURL* curl = nullptr;
  long status = 0;
  std::string buffer;      // SSE bytes not yet a whole line
  std::string error_body;  // the body of an error answer
  bool ended = false;      // [DONE], or the last event of a llama.cpp stream
  bool aborted = false;    // we stopped it (a refused token, the end)

  // Returns false to abort.
  bool on_line(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.rfind("data:", 0) != 0) return true;
    std::string_view data = line.substr(5);
    while (!data.empty() && data.front() == ' ') data.remove_prefix(1);
    if (data == "[DONE]") {
      ended = true;
      return true;
    }
    boost::system::error_code ec;
    json::value v = json::parse(data, ec);
    if (ec) {
      loop.result.error = "the server sent an event that is not JSON: " + std::string(data.substr(0, 200));
      return false;
    }
    Event ev = read_event(v, loop.backend.api);
    if (!ev.error.empty()) {
      loop.result.error = "the server reported: " + ev.error;
      return false;
    }
    for (const auto& t : ev.tokens)
      if (!loop.on_token(t)) return false;
    if (!ev.finish.empty()) {
      loop.finish(ev.finish == "length" ? DecodeEnd::MaxTokens : DecodeEnd::StopToken);
      if (loop.backend.api == RemoteBackend::Api::LlamaCpp) ended = true;
    }
    return true;
  }

  size_t on_bytes(const char* data, size_t n) {
    if (status == 0) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 400) {
      if (error_body.size() < 4096) error_body.append(data, std::min(n, 4096 - error_body.size()));
      return n;
    }
    buffer.append(data, n);
    size_t start = 0;
    for (size_t nl; (nl = buffer.find('\n', start)) != std::string::npos; start = nl + 1) {
      if (!on_line(std::string_view(buffer).substr(start, nl - start))) {
        aborted = true;
        return 0;
      }
    }
    buffer.erase(0, start);
    return n;
  }
};

size_t write_cb(char* data, size_t size, size_t n, void* user) {
  return static_cast<Transfer*>(user)->on_bytes(data, size * n);
}

int progress_cb(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  return (t->loop.cancel.cancelled() || clock_type::now() >= t->loop.deadline) ? 1 : 0;
}

std::string error_message(long status, const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (!ec && v.is_object()) {
    const json::value* e = v.get_object().if_contains("error");
    if (e && e->is_object() && e->get_object().contains("message") && e->at("message").is_string())
      return "HTTP " + std::to_string(status) + ": " + std::string(e->at("message").get_string());
    if (e && e->is_string()) return "HTTP " + std::to_string(status) + ": " + std::string(e->get_string());
  }
  return "HTTP " + std::to_string(status) + (body.empty() ? "" : ": " + body.substr(0, 200));
}

}  // namespace

RemoteDecodeResult decode_remote(const RemoteBackend& backend, const std::string& prompt, std::string_view text_before,
                                 SyntaxHooks* syntax, ApiConstraint* api, const engine::Tokenizer* tokenizer,
                                 const RemoteDecodeOptions& options, const CancellationToken& cancel) {
  auto t0 = clock_type::now();
  Loop loop{backend, options, syntax, api, tokenizer, cancel, t0 + options.time_budget, std::string(text_before), {}};
  loop.result.decode.end = DecodeEnd::MaxTokens;
  if (std::string problem = check_backend(backend); !problem.empty()) {
    loop.result.error = problem;
    loop.result.decode.end = DecodeEnd::NoViableToken;
    return std::move(loop.result);
  }
  std::string token_error;
  std::string token = backend_token(backend, token_error);
  global_init();
  std::string base = backend.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::string url = base + (backend.api == RemoteBackend::Api::LlamaCpp ? "/completion" : "/v1/completions");
  if (backend.api == RemoteBackend::Api::OpenAI && base.size() >= 3 && base.compare(base.size() - 3, 3, "/v1") == 0)
    url = base + "/completions";

  while (!loop.done) {
    if (cancel.cancelled()) {
      loop.finish(DecodeEnd::Cancelled);
      break;
    }
    if (clock_type::now() >= loop.deadline) {
      loop.finish(DecodeEnd::Timeout);
      break;
    }
    if (loop.result.requests >= options.max_requests) {
      loop.finish(DecodeEnd::NoViableToken);
      break;
    }
    int remaining = options.max_tokens - static_cast<int>(loop.result.decode.stats.generated_tokens);
    json::array stop;
    for (const auto& s : options.stop) stop.emplace_back(s);
    json::object body;
    std::string full_prompt = prompt + loop.result.decode.text;
    if (backend.api == RemoteBackend::Api::LlamaCpp) {
      body = {{"prompt", full_prompt}, {"n_predict", remaining}, {"n_probs", options.top_candidates},
              {"temperature", 0},      {"stream", true},          {"cache_prompt", true}, {"stop", stop}};
    } else {
      body = {{"prompt", full_prompt}, {"max_tokens", remaining}, {"logprobs", options.top_candidates},
              {"temperature", 0},      {"stream", true},           {"stop", stop}};
      if (!backend.model.empty()) body["model"] = backend.model;
    }
    std::string payload = json::serialize(body);

    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    struct curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Accept: text/event-stream");
    std::string auth = "Authorization: Bearer " + token;
    if (!token.empty()) headers = curl_slist_append(headers, auth.c_str());
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_list(headers, curl_slist_free_all);
    Transfer transfer(loop);
    transfer.curl = curl.get();
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(loop.deadline - clock_type::now()).count();
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(payload.size()));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress_cb);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &transfer);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<long long>(left, 1)));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::clamp<long long>(left, 1, 5000)));
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    ++loop.result.requests;
    loop.re_request = false;
    CURLcode rc = curl_easy_perform(c);
    if (transfer.status == 0) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &transfer.status);

    if (transfer.aborted) {
      if (!loop.result.error.empty()) {
        loop.finish(DecodeEnd::NoViableToken);
        break;
      }
      if (loop.re_request) continue;  // an alternative was taken: ask again
      break;                          // the checks ended it (done)
    }
    if (rc == CURLE_ABORTED_BY_CALLBACK || rc == CURLE_OPERATION_TIMEDOUT) {
      loop.finish(cancel.cancelled() ? DecodeEnd::Cancelled : DecodeEnd::Timeout);
      if (!cancel.cancelled()) loop.result.error = "the server did not answer within the time budget";
      break;
    }
    if (rc != CURLE_OK) {
      loop.result.error = std::string("the request to ") + url + " failed: " + curl_easy_strerror(rc);
      loop.finish(DecodeEnd::NoViableToken);
      break;
    }
    if (transfer.status >= 400) {
      loop.result.error = error_message(transfer.status, transfer.error_body);
      loop.finish(DecodeEnd::NoViableToken);
      break;
    }
    if (!transfer.buffer.empty()) transfer.on_line(transfer.buffer);
    if (!loop.done && !transfer.ended) {
      loop.result.error = "the server closed the stream before it ended";
      loop.finish(DecodeEnd::NoViableToken);
      break;
    }
    if (!loop.done) loop.finish(DecodeEnd::StopToken);
  }
  loop.result.decode.stats.decode_seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
  if (!loop.result.error.empty()) log::warn("remote backend: ", loop.result.error);
  return std::move(loop.result);
}

}  // namespace astfill::completion
