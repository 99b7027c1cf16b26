// `astfill serve`: the LSP daemon, or (with --http) the HTTP completion server.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "support/args.h"
#include "cli/commands.h"
#include "cli/model_name.h"
#include "cli/model_options.h"
#include "engine/bundled_model.h"
#include "completion/service.h"
#include "http/server.h"
#include "index/parsed.h"
#include "lsp/transport.h"
#include "support/files.h"
#include "workspace/images.h"
#include "workspace/index_registry.h"
#include "workspace/model_host.h"
#include "support/log.h"

namespace astfill::cli {
namespace {

// "PORT", "HOST:PORT" or "[V6HOST]:PORT".
std::optional<std::string> parse_listen(const std::string& text, lsp::TransportOptions& out) {
  std::string host = "127.0.0.1";
  std::string port = text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find("]:");
    if (close == std::string::npos) return "expected [HOST]:PORT, got '" + text + "'";
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else if (auto colon = text.rfind(':'); colon != std::string::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host == "localhost") host = "127.0.0.1";
  unsigned long long p = 0;
  if (auto err = parse_uint(port, "port number", 0, 65535, p)) return err;
  out.host = host;
  out.port = static_cast<int>(p);
  return std::nullopt;
}

bool is_loopback(const std::string& host) {
  return host.rfind("127.", 0) == 0 || host == "::1" || host == "localhost";
}

std::optional<std::string> read_token(const std::string& path, std::string& out) {
  std::string token;
  if (auto error = support::read_text(path, token, 1 << 20)) return "token file: " + *error;
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' '))
    token.pop_back();
  if (token.empty()) return "token file '" + path + "' is empty";
  if (token.find_first_of("\r\n") != std::string::npos)
    return "token file '" + path + "' must hold one line";
  out = token;
  return std::nullopt;
}

}  // namespace

int run_serve(const std::vector<std::string>& args) {
  lsp::TransportOptions options;
  options.server.version = ASTFILL_VERSION;
  bool tcp = false;
  std::optional<std::string> token_file, log_file;
  log::Level level = log::Level::Info;

  ArgParser p("astfill serve",
              "Runs the astfill language server. By default it speaks LSP 3.17 over stdin/stdout,\n"
              "one session, as editors expect. With --listen it serves TCP instead, one session per\n"
              "connection, bound to loopback unless another address is given. With --http it serves\n"
              "OpenAI's /v1/completions and llama.cpp's /completion and /infill over HTTP instead.");
  std::optional<std::string> http_address;
  http::HttpOptions http_options;
  p.option("--http", "[HOST:]PORT",
           "serve HTTP (OpenAI /v1/completions, /v1/models, llama.cpp /completion, /infill,\n"
           "/health) on HOST:PORT (HOST defaults to 127.0.0.1; PORT 0 picks a free port, printed\n"
           "as 'listening on HOST:PORT'); any address but loopback needs a token: --token-file\n"
           "or $ASTFILL_HTTP_TOKEN, sent by clients as 'Authorization: Bearer TOKEN'",
           [&](const std::string& v) -> std::optional<std::string> {
             http_address = v;
             lsp::TransportOptions where;
             if (auto err = parse_listen(v, where)) return err;
             http_options.host = where.host;
             http_options.port = where.port;
             return std::nullopt;
           });
  completion::RemoteBackend backend;
  p.option("--backend", "URL",
           "HTTP only: decode fills on another server (OpenAI-compatible, or llama.cpp's with\n"
           "--backend-api llamacpp) with the prompt built and each token checked here; editors\n"
           "set astfill.backend instead",
           [&](const std::string& v) -> std::optional<std::string> {
             backend.url = v;
             return std::nullopt;
           });
  p.option("--backend-api", "API", "openai (default) or llamacpp",
           [&](const std::string& v) -> std::optional<std::string> {
             if (v != "openai" && v != "llamacpp") return "'" + v + "' is not openai or llamacpp";
             backend.api = v == "openai" ? completion::RemoteBackend::Api::OpenAI : completion::RemoteBackend::Api::LlamaCpp;
             return std::nullopt;
           });
  p.option("--backend-model", "NAME", "the model name the backend server knows",
           [&](const std::string& v) -> std::optional<std::string> {
             backend.model = v;
             return std::nullopt;
           });
  p.option("--backend-token-env", "VAR", "the environment variable holding the backend's bearer token",
           [&](const std::string& v) -> std::optional<std::string> {
             backend.token_env = v;
             return std::nullopt;
           });
  p.option("--max-concurrent", "N",
           "HTTP only: completion requests answered at once; more get 429 (default 4)",
           [&](const std::string& v) -> std::optional<std::string> {
             unsigned long long n = 0;
             if (auto e = parse_uint(v, "request count", 1, 1024, n)) return e;
             http_options.max_concurrent = static_cast<unsigned>(n);
             return std::nullopt;
           });
  p.option("--listen", "[HOST:]PORT",
           "serve TCP on HOST:PORT (HOST defaults to 127.0.0.1; PORT 0 picks a free port,\n"
           "printed on stdout as 'listening on HOST:PORT')",
           [&](const std::string& v) {
             tcp = true;
             return parse_listen(v, options);
           });
  p.option("--token-file", "FILE",
           "TCP: require each connection to send the token in FILE as\n"
           "initializationOptions.token in 'initialize'; others are refused and closed.\n"
           "HTTP: require 'Authorization: Bearer TOKEN' on every request but GET /health",
           [&](const std::string& v) -> std::optional<std::string> {
             token_file = v;
             return std::nullopt;
           });
  p.option("--max-message-bytes", "N",
           "refuse (without reading into memory) messages larger than N bytes\n(default 67108864)",
           [&](const std::string& v) -> std::optional<std::string> {
             unsigned long long n = 0;
             if (auto e = parse_uint(v, "byte count", 64, 1ull << 32, n)) return e;
             options.max_message_bytes = n;
             http_options.max_body_bytes = n;
             return std::nullopt;
           });
  std::optional<unsigned> workers;
  p.option("--workers", "N",
           "requests computed at once, across documents and sessions; their model work is\n"
           "batched into shared forward passes, the newest inline completion first (default:\n"
           "the model's KV slots, 3)",
           [&](const std::string& v) -> std::optional<std::string> {
             unsigned long long n = 0;
             if (auto e = parse_uint(v, "thread count", 1, 64, n)) return e;
             workers = static_cast<unsigned>(n);
             return std::nullopt;
           });
  p.option("--log-file", "FILE", "append the log to FILE instead of stderr",
           [&](const std::string& v) -> std::optional<std::string> {
             log_file = v;
             return std::nullopt;
           });
  p.option("--log-level", "LEVEL", "off, error, warn, info (default), debug or trace",
           [&](const std::string& v) -> std::optional<std::string> {
             auto l = log::parse_level(v);
             if (!l) return "'" + v + "' is not one of off, error, warn, info, debug, trace";
             level = *l;
             return std::nullopt;
           });
  std::optional<std::string> model_path;
  completion::ServiceOptions service_options;
  p.option("--model", "PATH",
           "the model to complete with: a GGUF file, a Hugging Face checkpoint directory, or\n"
           "the name of a model `astfill pull` downloaded (the astfill.model setting may name\n"
           "another later)",
           [&](const std::string& v) -> std::optional<std::string> {
             model_path = resolve_model_argument(v);
             return std::nullopt;
           });
  p.option("--threads", "N", "threads for the model (default: all cores)",
           [&](const std::string& v) -> std::optional<std::string> {
             unsigned long long n = 0;
             if (auto e = parse_uint(v, "thread count", 1, 1024, n)) return e;
             service_options.load.threads = static_cast<int>(n);
             return std::nullopt;
           });
  add_kv_option(p, service_options.load);
  add_adapter_option(p, service_options.adapters);  // for sessions whose astfill.adapter names none
  p.option("--context", "TOKENS", "KV-cache capacity per document slot (default 4096)",
           [&](const std::string& v) -> std::optional<std::string> {
             unsigned long long n = 0;
             if (auto e = parse_uint(v, "token count", 256, 131072, n)) return e;
             service_options.context_tokens = n;
             return std::nullopt;
           });
  bool no_model = false;
  p.flag("--no-model", "start without a model (completions are empty until astfill.model names one)",
         [&] { no_model = true; });
  bool index_enabled = true;
  index::IndexOptions index_defaults;
  p.flag("--no-index", "do not index workspace folders (workspace/symbol and definition then find nothing)",
         [&] { index_enabled = false; });
  p.option("--index-threads", "N", "parse threads for indexing (default: one per core)",
           [&](const std::string& v) -> std::optional<std::string> {
             unsigned long long n = 0;
             if (auto e = parse_uint(v, "thread count", 1, 256, n)) return e;
             index_defaults.parse_threads = static_cast<unsigned>(n);
             return std::nullopt;
           });
  p.option("--simulate-latency-ms", "N",
           "add N ms of cancellable work, with progress reports, to every completion\n"
           "request (for testing clients' cancellation and progress handling)",
           [&](const std::string& v) -> std::optional<std::string> {
             unsigned long long n = 0;
             if (auto e = parse_uint(v, "millisecond count", 0, 600000, n)) return e;
             options.server.simulated_latency = std::chrono::milliseconds(n);
             return std::nullopt;
           });

  if (auto err = p.parse(args)) {
    std::fprintf(stderr, "astfill serve: %s\n", err->c_str());
    return 2;
  }
  if (p.help_requested()) {
    std::fputs(p.help().c_str(), stdout);
    return 0;
  }
  // As many requests at once as the model has slots: a request beyond them
  // would only wait for one (completion/model_runner.h).
  options.workers = workers.value_or(static_cast<unsigned>(std::max<size_t>(service_options.slots, 1)));
  log::set_level(level);
  if (log_file) {
    if (auto err = log::set_file(*log_file)) {
      std::fprintf(stderr, "astfill serve: %s\n", err->c_str());
      return 2;
    }
  }
  if (backend.remote() && !http_address) {
    std::fprintf(stderr, "astfill serve: --backend applies to --http; editors set astfill.backend\n");
    return 2;
  }
  if (std::string problem = completion::check_backend(backend); !problem.empty()) {
    std::fprintf(stderr, "astfill serve: %s\n", problem.c_str());
    return 2;
  }
  if (http_address && tcp) {
    std::fprintf(stderr, "astfill serve: --http and --listen contradict each other (one daemon serves one)\n");
    return 2;
  }
  if (token_file) {
    if (!tcp && !http_address) {
      std::fprintf(stderr, "astfill serve: --token-file applies to TCP and HTTP; use it with --listen or --http\n");
      return 2;
    }
    std::string token;
    if (auto err = read_token(*token_file, token)) {
      std::fprintf(stderr, "astfill serve: %s\n", err->c_str());
      return 2;
    }
    options.server.auth_token = token;
    http_options.token = token;
  } else if (const char* env = std::getenv("ASTFILL_HTTP_TOKEN"); http_address && env && *env) {
    http_options.token = std::string(env);
  }
  if (http_address && !http_options.token && !is_loopback(http_options.host)) {
    std::fprintf(stderr,
                 "astfill serve: --http on %s (not loopback) needs a token: --token-file FILE or "
                 "$ASTFILL_HTTP_TOKEN\n",
                 http_options.host.c_str());
    return 2;
  }
  // The model loads before the first session: a wrong path is an error at
  // start, not a silent daemon without completions.
  auto service = std::make_shared<completion::CompletionService>(service_options);
  if (no_model && model_path) {
    std::fprintf(stderr, "astfill serve: --no-model and --model contradict each other\n");
    return 2;
  }
  // Without --model: the bundled demo model (engine/bundled_model.h). A
  // named model that cannot be loaded is an error; the bundled one (a file
  // damaged in a checkout, say) is reported and the daemon serves without it.
  bool bundled = !model_path && !no_model;
  if (bundled) model_path = engine::bundled_model_path();
  if (model_path) {
    try {
      service->load_model(*model_path);
      log::info("model loaded: ", *model_path);
    } catch (const std::exception& e) {
      if (!bundled) {
        std::fprintf(stderr, "astfill serve: %s\n", e.what());
        return 1;
      }
      log::error("the bundled model cannot be loaded (serving without a model): ", e.what());
      model_path.reset();
    }
  }
  // --adapter: read and checked against the model now, not at the first completion.
  if (model_path && !service_options.adapters.empty()) {
    try {
      service->runner()->adapters(service_options.adapters);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "astfill serve: %s\n", e.what());
      return 1;
    }
  }
  // One model for the daemon, shared by every session (workspace/settings.h).
  options.server.model = std::make_shared<workspace::ModelHost>(
      workspace::ModelHost::Options{service, model_path.value_or(""), resolve_model_argument});
  // One vision model and one cache of image descriptions for the daemon, like
  // the model; the completion model is the VL model's LM when it is that file.
  options.server.images = std::make_shared<workspace::ImageHost>(workspace::shared_model_of(service));
  if (index_enabled)
    options.server.indexes = std::make_shared<workspace::IndexRegistry>(
        [](index::IndexOptions o) { return index::open_project_index(std::move(o)); }, index_defaults);
  if (http_address) {
    http_options.on_listening = [](const std::string& host, int port) {
      std::printf("listening on %s:%d\n", host.c_str(), port);
      std::fflush(stdout);
    };
    return http::serve_http(http_options,
                            std::make_shared<http::Completions>(options.server.model, options.server.indexes, backend));
  }
  if (!tcp) return lsp::serve_stdio(options);

  if (!is_loopback(options.host) && !options.server.auth_token)
    log::warn("listening on ", options.host,
              " without --token-file: anyone who can reach this address can use the server");
  options.on_listening = [](const std::string& host, int port) {
    std::printf("listening on %s:%d\n", host.c_str(), port);
    std::fflush(stdout);
  };
  return lsp::serve_tcp(options);
}

}  // namespace astfill::cli
