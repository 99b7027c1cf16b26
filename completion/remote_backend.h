// Where completions are decoded: here (the default) or on a shared server
// (astfill.backend, the CLI's --backend). Plain data, so that
// completion::Options can carry it; the remote loop is
// completion/remote_decoder.h.
#pragma once

#include <string>

namespace astfill::completion {

struct RemoteBackend {
  enum class Api { OpenAI, LlamaCpp };
  std::string url;    // "" = decode locally; else the server's base URL (http[s]://host:port[/prefix])
  std::string model;  // the model name the server knows ("" = the server's default)
  Api api = Api::OpenAI;
  // Where the bearer token comes from: an environment variable's name, or a
  // file (never the settings themselves, which may sit in a repository).
  std::string token_env;
  std::string token_file;
  bool allow_insecure = false;  // plain http to a host other than loopback
  bool remote() const { return !url.empty(); }
  bool operator==(const RemoteBackend&) const = default;
};

// Checks a backend's settings: the URL's scheme, TLS for any host but
// loopback (unless allow_insecure), the token's source. "" when usable.
// (completion/remote_backend.cpp: libcurl's URL parser, nothing of the
// decoder, so that settings can check a backend cheaply.)
std::string check_backend(const RemoteBackend& backend);

// The bearer token, from the environment variable or the file the backend
// names ("" = none), or "" with `error` saying what is wrong.
std::string backend_token(const RemoteBackend& backend, std::string& error);

}  // namespace astfill::completion
