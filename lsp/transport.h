// Serving LSP over stdio or TCP on a libuv loop. These are the daemon's entry
// points; `astfill serve` parses flags into TransportOptions and calls one.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "lsp/server.h"

namespace astfill::lsp {

struct TransportOptions {
  ServerOptions server;
  size_t max_message_bytes = 64u << 20;
  // Compute threads (lsp/scheduler.h): requests that run at once, their model
  // work stepped together by the batcher. `astfill serve` makes it the model's
  // slots (completion::ServiceOptions::slots, 3) unless --workers says.
  unsigned workers = 3;
  // TCP only.
  std::string host = "127.0.0.1";
  int port = 0;  // 0: let the system choose
  // Called once listening, with the bound address (the CLI prints it).
  std::function<void(const std::string& host, int port)> on_listening;
};

// Serves one session over stdin/stdout. Returns the process exit code: 0 after
// shutdown + exit, 1 for exit without shutdown or a client that went away.
int serve_stdio(const TransportOptions& options);

// Serves every TCP connection as its own session until SIGINT/SIGTERM.
// Returns non-zero when the address cannot be bound (message on stderr).
int serve_tcp(const TransportOptions& options);

}  // namespace astfill::lsp
