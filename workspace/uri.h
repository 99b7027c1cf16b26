// file:// URIs and file system paths (RFC 8089 / RFC 3986), as LSP clients
// write them: VS Code percent-encodes everything but unreserved characters and
// '/', Neovim only what it must; both decode to the same path here.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace astfill::workspace {

// The absolute path a file URI names ("file:///a%20b/c.py" -> "/a b/c.py");
// nullopt for other schemes, a remote host, a relative path, bad escapes, or
// a NUL byte.
std::optional<std::string> file_uri_to_path(std::string_view uri);

// "file://" + the path with every byte outside unreserved characters and '/'
// percent-encoded (uppercase hex), as VS Code writes URIs.
std::string path_to_file_uri(std::string_view path);

}  // namespace astfill::workspace
