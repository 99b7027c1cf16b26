// `astfill serve --http`: an OpenAI-compatible and llama.cpp-compatible
// completion server over the daemon's model and workspace core.
//
// Routes: POST /v1/completions (and /completions), POST /completion, POST
// /infill, GET /v1/models (and /models), GET /health. Bodies and answers are
// http/protocol.h's; the work is http/completions.h's.
//
// Why Boost.Beast over Asio on threads of its own rather than over the LSP
// daemon's libuv loop: Beast's parser and serializer are written for Asio
// streams, and the HTTP server shares nothing with the LSP loop but the
// thread-safe ModelHost and IndexRegistry (an --http daemon serves HTTP only).
// One thread accepts; each connection is served, synchronously, on a thread
// of its own (requests on one connection are answered in order, as HTTP/1.1
// requires); the model takes one request at a time anyway
// (completion/model_runner.h), so threads cost nothing the model would not
// make them wait for.
//
// Limits: a body larger than max_body_bytes is refused (413) without being
// read into memory; more than max_concurrent completion requests at once are
// refused with 429 (GET /health and /v1/models are always answered); more
// than max_connections connections are closed at once. With a token, every
// request but GET /health must carry `Authorization: Bearer TOKEN` (401
// otherwise); the caller (cli/serve.cpp) requires one on any address but
// loopback. A streamed answer whose client goes away is cancelled at the next
// token.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "http/completions.h"

namespace astfill::http {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: a free port
  std::optional<std::string> token;
  size_t max_body_bytes = 4u << 20;
  unsigned max_concurrent = 4;
  unsigned max_connections = 64;
  unsigned idle_timeout_s = 60;  // a connection with no request for this long is closed
  // Told the bound address once listening ("listening on HOST:PORT").
  std::function<void(const std::string& host, int port)> on_listening;
};

// Serves until SIGINT or SIGTERM. Returns the process's exit status (1 when
// the address cannot be bound, with the reason on stderr).
int serve_http(const HttpOptions& options, std::shared_ptr<Completions> completions);

// Is `host` a loopback address (127.0.0.0/8, ::1, localhost)?
bool is_loopback_host(const std::string& host);

}  // namespace astfill::http
