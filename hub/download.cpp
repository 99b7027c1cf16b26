#include "hub/download.h"

#include <curl/curl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string_view>
#include <system_error>
#include <vector>

#include "hub/sha256.h"

namespace astfill::hub {

namespace fs = std::filesystem;

namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::optional<uint64_t> parse_u64(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + uint64_t(c - '0');
  }
  return v;
}

// "\"<64 hex>\"" (possibly W/-prefixed) -> the hex in lowercase; "" for any
// other ETag (a git blob's SHA-1 for files not stored in LFS).
std::string sha256_from_etag(std::string value) {
  if (value.rfind("W/", 0) == 0) value.erase(0, 2);
  value.erase(std::remove(value.begin(), value.end(), '"'), value.end());
  value = lower(trim(value));
  if (value.size() != 64 || !std::all_of(value.begin(), value.end(), [](char c) { return std::isxdigit(c); }))
    return "";
  return value;
}

std::string human_bytes(uint64_t n) {
  char buf[32];
  if (n >= 1000ull * 1000 * 1000) std::snprintf(buf, sizeof buf, "%.2f GB", n / 1e9);
  else if (n >= 1000ull * 1000) std::snprintf(buf, sizeof buf, "%.1f MB", n / 1e6);
  else std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(n));
  return buf;
}

std::string host_of(const std::string& url) {
  std::string host = url;
  if (CURLU* u = curl_url()) {
    char* h = nullptr;
    if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK && curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK) {
      host = h;
      curl_free(h);
    }
    curl_url_cleanup(u);
  }
  return host;
}

// One attempt's state, shared with libcurl's callbacks.
struct Transfer {
  const DownloadOptions* options = nullptr;
  fs::path part;
  uint64_t offset = 0;  // bytes of .part when the request was made

  // The current response (a redirect is a response too).
  long status = 0;
  std::optional<uint64_t> range_start, range_total, content_length;
  // Across the redirect chain: what Hugging Face publishes on the redirect.
  std::string linked_sha256;
  std::optional<uint64_t> linked_size;

  std::FILE* file = nullptr;
  bool body_started = false;
  Sha256 hash;
  uint64_t written = 0;  // bytes in .part
  uint64_t this_run = 0;
  std::string local_error;  // set when a callback aborts the transfer

  std::optional<uint64_t> expected_total() const {
    if (linked_size) return linked_size;
    if (status == 206 && range_total) return range_total;
    if (content_length) return *content_length + (status == 206 ? offset : 0);
    return std::nullopt;
  }
};

// Hashes the first `bytes` of a file into `hash`; an error message or "".
std::string hash_file_prefix(const fs::path& path, uint64_t bytes, Sha256& hash) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) return "cannot read '" + path.string() + "': " + std::strerror(errno);
  std::vector<char> buf(1 << 20);
  while (bytes > 0) {
    size_t n = std::fread(buf.data(), 1, std::min<uint64_t>(buf.size(), bytes), f.get());
    if (n == 0) return "cannot read '" + path.string() + "': it is shorter than expected";
    hash.update(buf.data(), n);
    bytes -= n;
  }
  return "";
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) {
    auto sp = line.find(' ');
    t.status = sp == std::string_view::npos ? 0 : std::atol(std::string(line.substr(sp + 1, 3)).c_str());
    t.range_start.reset();
    t.range_total.reset();
    t.content_length.reset();
    return size * count;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return size * count;
  std::string name = lower(trim(line.substr(0, colon)));
  std::string value = trim(line.substr(colon + 1));
  if (name == "x-linked-etag") {
    if (t.linked_sha256.empty()) t.linked_sha256 = sha256_from_etag(value);
  } else if (name == "x-linked-size") {
    if (!t.linked_size) t.linked_size = parse_u64(value);
  } else if (name == "content-length") {
    t.content_length = parse_u64(value);
  } else if (name == "content-range") {
    // "bytes START-END/TOTAL" or, refusing a range, "bytes */TOTAL".
    std::string_view v = value;
    if (v.rfind("bytes ", 0) == 0) v.remove_prefix(6);
    auto slash = v.find('/');
    if (slash != std::string_view::npos) {
      t.range_total = parse_u64(v.substr(slash + 1));
      auto dash = v.find('-');
      if (dash != std::string_view::npos && dash < slash) t.range_start = parse_u64(v.substr(0, dash));
    }
  }
  return size * count;
}

// The first bytes of the final response decide how .part is written: a 206
// appends to it, a 200 (the server ignored the range) starts it over.
bool start_body(Transfer& t) {
  t.body_started = true;
  if (t.status == 206) {
    if (!t.range_start || *t.range_start != t.offset) {
      t.local_error = "the server answered a request for the bytes from " + std::to_string(t.offset) +
                      " with another range";
      return false;
    }
    if (auto e = hash_file_prefix(t.part, t.offset, t.hash); !e.empty()) {
      t.local_error = e;
      return false;
    }
    t.file = std::fopen(t.part.c_str(), "ab");
    t.written = t.offset;
  } else {
    t.file = std::fopen(t.part.c_str(), "wb");
    t.written = 0;
  }
  if (!t.file) {
    t.local_error = "cannot write '" + t.part.string() + "': " + std::strerror(errno);
    return false;
  }
  // Refuse at once, rather than at the end of the disk, what cannot fit.
  if (auto total = t.expected_total(); total && *total > t.written) {
    struct statvfs fs_info {};
    if (::statvfs(t.part.parent_path().c_str(), &fs_info) == 0) {
      uint64_t available = uint64_t(fs_info.f_bavail) * fs_info.f_frsize;
      if (available < *total - t.written) {
        t.local_error = "not enough disk space in '" + t.part.parent_path().string() + "': the download needs " +
                        human_bytes(*total - t.written) + " more, " + human_bytes(available) + " are free";
        return false;
      }
    }
  }
  return true;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  size_t n = size * count;
  if (t.status < 200 || t.status >= 300) return n;  // an error page: the status says enough
  if (!t.body_started && !start_body(t)) return 0;
  if (std::fwrite(data, 1, n, t.file) != n) {
    t.local_error = "cannot write '" + t.part.string() + "': " + std::strerror(errno);
    return 0;
  }
  t.hash.update(data, n);
  t.written += n;
  t.this_run += n;
  if (t.options->progress) t.options->progress({t.written, t.expected_total(), t.this_run});
  return n;
}

// Flushes and closes .part; an error message (a full disk often shows here,
// when the last buffered bytes are written) or "".
std::string close_part(Transfer& t) {
  if (!t.file) return "";
  std::string error;
  if (std::fflush(t.file) != 0 || ::fsync(::fileno(t.file)) != 0)
    error = "cannot write '" + t.part.string() + "': " + std::strerror(errno);
  if (std::fclose(t.file) != 0 && error.empty())
    error = "cannot write '" + t.part.string() + "': " + std::strerror(errno);
  t.file = nullptr;
  return error;
}

void remove_quietly(const fs::path& p) {
  std::error_code ec;
  fs::remove(p, ec);
}

enum class Attempt { Done, Failed, StartOver };

Attempt attempt(const DownloadOptions& options, const fs::path& part, DownloadResult& result) {
  Transfer t;
  t.options = &options;
  t.part = part;
  std::error_code ec;
  if (fs::is_regular_file(part, ec)) t.offset = fs::file_size(part, ec);
  if (ec) t.offset = 0;

  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) {
    result.error = "cannot start libcurl";
    return Attempt::Failed;
  }
  char curl_error[CURL_ERROR_SIZE] = "";
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, options.url.c_str());
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, options.user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, options.connect_timeout_seconds);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, options.stall_seconds);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_error);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  std::string range = std::to_string(t.offset) + "-";
  if (t.offset > 0) curl_easy_setopt(h, CURLOPT_RANGE, range.c_str());

  CURLcode rc = curl_easy_perform(h);
  std::string close_error = close_part(t);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  const char* effective = nullptr;
  curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &effective);
  std::string last_url = effective ? effective : options.url;
  result.expected_sha256 = t.linked_sha256;
  result.resumed_from = t.status == 206 ? t.offset : 0;

  if (!t.local_error.empty() || !close_error.empty()) {
    result.error = !t.local_error.empty() ? t.local_error : close_error;
    return Attempt::Failed;
  }
  if (rc != CURLE_OK) {
    std::string why = curl_error[0] ? curl_error : curl_easy_strerror(rc);
    switch (rc) {
      case CURLE_COULDNT_RESOLVE_HOST:
      case CURLE_COULDNT_RESOLVE_PROXY:
      case CURLE_COULDNT_CONNECT:
      case CURLE_SSL_CONNECT_ERROR:
      case CURLE_PEER_FAILED_VERIFICATION:
        result.error = "cannot reach " + host_of(last_url) + " (offline, or a proxy or firewall in the way?): " + why;
        return Attempt::Failed;
      default:
        break;
    }
    if (rc == CURLE_OPERATION_TIMEDOUT && !t.body_started) {
      result.error = "cannot reach " + host_of(last_url) + ": " + why;
      return Attempt::Failed;
    }
    result.error = "the download of " + options.url + " stopped after " + human_bytes(t.written);
    if (auto total = t.expected_total()) result.error += " of " + human_bytes(*total);
    result.error += ": " + why + "; run the same command again to resume it";
    return Attempt::Failed;
  }
  if (status == 416 && t.offset > 0) {
    // The range starts at or past the end: .part is complete, or it is not
    // this file's; verify it as it is, or start over.
    if (t.range_total && *t.range_total == t.offset) {
      if (auto e = hash_file_prefix(part, t.offset, t.hash); !e.empty()) {
        result.error = e;
        return Attempt::Failed;
      }
      t.written = t.offset;
      result.resumed_from = t.offset;
      t.linked_size = t.linked_size ? t.linked_size : t.range_total;
    } else {
      remove_quietly(part);
      return Attempt::StartOver;
    }
  } else if (status < 200 || status >= 300) {
    result.error = "HTTP " + std::to_string(status) + " for " + options.url;
    if (last_url != options.url) result.error += " (at " + last_url + ")";
    if (status == 401 || status == 403) result.error += ": the file is private or gated";
    return Attempt::Failed;
  } else if (!t.body_started) {
    // An empty file: nothing was written, so make the empty .part now.
    std::FILE* f = std::fopen(part.c_str(), "wb");
    if (!f || std::fclose(f) != 0) {
      result.error = "cannot write '" + part.string() + "': " + std::strerror(errno);
      return Attempt::Failed;
    }
  }

  std::optional<uint64_t> expected = t.linked_size ? t.linked_size : t.expected_total();
  if (expected && t.written != *expected) {
    if (t.written < *expected) {
      result.error = "the download of " + options.url + " stopped after " + human_bytes(t.written) + " of " +
                     human_bytes(*expected) + "; run the same command again to resume it";
    } else {
      remove_quietly(part);
      result.error = "the download of " + options.url + " is " + human_bytes(t.written) +
                     ", larger than the published " + human_bytes(*expected) + "; it was removed";
    }
    return Attempt::Failed;
  }
  result.sha256 = t.hash.hex_digest();
  result.bytes = t.written;
  if (!t.linked_sha256.empty() && t.linked_sha256 != result.sha256) {
    remove_quietly(part);
    result.error = "checksum mismatch for " + options.url + ": expected SHA-256 " + t.linked_sha256 + ", got " +
                   result.sha256 + "; the download was removed";
    return Attempt::Failed;
  }
  fs::rename(part, options.destination, ec);
  if (ec) {
    result.error = "cannot move '" + part.string() + "' to '" + options.destination.string() + "': " + ec.message();
    return Attempt::Failed;
  }
  return Attempt::Done;
}

}  // namespace

fs::path partial_path(const fs::path& destination) {
  fs::path p = destination;
  p += ".part";
  return p;
}

DownloadResult download_file(const DownloadOptions& options) {
  static std::once_flag curl_ready;
  std::call_once(curl_ready, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  fs::path part = partial_path(options.destination);
  DownloadResult result;
  // At most one start-over: after it there is no .part left to disagree.
  for (int i = 0; i < 2; ++i) {
    result = DownloadResult{};
    if (attempt(options, part, result) != Attempt::StartOver) return result;
  }
  result.error = "the server refused the range request for " + options.url + " twice";
  return result;
}

}  // namespace astfill::hub
