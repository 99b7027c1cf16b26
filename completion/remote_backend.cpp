#include "completion/remote_backend.h"

#include <curl/curl.h>

#include <cstdlib>
#include <memory>

#include "support/files.h"

namespace astfill::completion {

namespace {

struct UrlParts {
  std::string scheme, host;
  std::string error;
};

UrlParts parse_url(const std::string& url) {
  UrlParts out;
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), curl_url_cleanup);
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    out.error = "'" + url + "' is not a URL";
    return out;
  }
  char* part = nullptr;
  if (curl_url_get(u.get(), CURLUPART_SCHEME, &part, 0) == CURLUE_OK) out.scheme = part;
  curl_free(part);
  part = nullptr;
  if (curl_url_get(u.get(), CURLUPART_HOST, &part, 0) == CURLUE_OK) out.host = part;
  curl_free(part);
  return out;
}

bool loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "[::1]" || host == "::1";
}

}  // namespace

std::string backend_token(const RemoteBackend& b, std::string& error) {
  if (!b.token_env.empty()) {
    const char* v = std::getenv(b.token_env.c_str());
    if (!v || !*v) {
      error = "the backend's token variable $" + b.token_env + " is not set";
      return "";
    }
    return v;
  }
  if (!b.token_file.empty()) {
    std::string token;
    if (auto e = support::read_text(b.token_file, token, 1 << 16)) {
      error = "the backend's token file: " + *e;
      return "";
    }
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) token.pop_back();
    return token;
  }
  return "";
}

std::string check_backend(const RemoteBackend& b) {
  if (b.url.empty()) return "";
  UrlParts u = parse_url(b.url);
  if (!u.error.empty()) return "backend: " + u.error;
  if (u.scheme != "http" && u.scheme != "https")
    return "backend: '" + b.url + "' must be an http:// or https:// URL";
  if (u.scheme == "http" && !loopback(u.host) && !b.allow_insecure)
    return "backend: '" + b.url + "' is plain http to another machine: use https (or set allow_insecure)";
  std::string error;
  backend_token(b, error);
  return error.empty() ? "" : "backend: " + error;
}

}  // namespace astfill::completion
