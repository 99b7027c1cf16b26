#include "workspace/uri.h"

namespace astfill::workspace {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool unreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

bool starts_with_scheme(std::string_view uri) {
  if (uri.size() < 5) return false;
  for (size_t i = 0; i < 4; ++i)
    if ((uri[i] | 0x20) != "file"[i]) return false;  // schemes are case-insensitive
  return uri[4] == ':';
}

}  // namespace

std::optional<std::string> file_uri_to_path(std::string_view uri) {
  if (!starts_with_scheme(uri)) return std::nullopt;
  std::string_view rest = uri.substr(5);
  // The query and fragment are not part of the path.
  if (auto cut = rest.find_first_of("?#"); cut != std::string_view::npos) rest = rest.substr(0, cut);
  if (rest.starts_with("//")) {
    rest.remove_prefix(2);
    size_t slash = rest.find('/');
    std::string_view host = rest.substr(0, slash);
    if (!host.empty() && host != "localhost") return std::nullopt;  // a file on another machine
    if (slash == std::string_view::npos) return std::nullopt;
    rest = rest.substr(slash);
  }
  if (!rest.starts_with("/")) return std::nullopt;
  std::string path;
  path.reserve(rest.size());
  for (size_t i = 0; i < rest.size(); ++i) {
    char c = rest[i];
    if (c != '%') {
      path += c;
      continue;
    }
    if (i + 2 >= rest.size()) return std::nullopt;
    int hi = hex_value(rest[i + 1]), lo = hex_value(rest[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    char decoded = static_cast<char>(hi * 16 + lo);
    if (decoded == '\0') return std::nullopt;
    path += decoded;
    i += 2;
  }
  return path;
}

std::string path_to_file_uri(std::string_view path) {
  static const char* hex = "0123456789ABCDEF";
  std::string uri = "file://";
  uri.reserve(7 + path.size());
  for (unsigned char c : path) {
    if (unreserved(c) || c == '/') {
      uri += static_cast<char>(c);
    } else {
      uri += '%';
      uri += hex[c >> 4];
      uri += hex[c & 15];
    }
  }
  return uri;
}

}  // namespace astfill::workspace
