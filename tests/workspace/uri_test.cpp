// file:// URIs <-> paths, as VS Code and Neovim write them.
#include <catch2/catch.hpp>

#include "workspace/uri.h"

using astfill::workspace::file_uri_to_path;
using astfill::workspace::path_to_file_uri;

TEST_CASE("file URIs decode to absolute paths", "[uri]") {
  CHECK(file_uri_to_path("file:///home/u/a.py") == "/home/u/a.py");
  CHECK(file_uri_to_path("file:///a%20b/c%2B%2B/%C3%A9.py") == "/a b/c++/\xc3\xa9.py");
  CHECK(file_uri_to_path("file:///a b/\xc3\xa9.py") == "/a b/\xc3\xa9.py");  // Neovim leaves some unescaped
  CHECK(file_uri_to_path("FILE:///x") == "/x");
  CHECK(file_uri_to_path("file://localhost/etc/hosts") == "/etc/hosts");
  CHECK(file_uri_to_path("file:/short/form") == "/short/form");
  CHECK(file_uri_to_path("file:///a.py?query#frag") == "/a.py");
  CHECK(file_uri_to_path("file:///c%3A/x") == "/c:/x");
  CHECK_FALSE(file_uri_to_path("untitled:Untitled-1"));
  CHECK_FALSE(file_uri_to_path("https://example.com/a.py"));
  CHECK_FALSE(file_uri_to_path("file://server/share/a.py"));
  CHECK_FALSE(file_uri_to_path("file://"));
  CHECK_FALSE(file_uri_to_path("file:relative/path"));
  CHECK_FALSE(file_uri_to_path("file:///bad%2"));
  CHECK_FALSE(file_uri_to_path("file:///bad%zz"));
  CHECK_FALSE(file_uri_to_path("file:///nul%00byte"));
}

TEST_CASE("paths encode as VS Code writes them, and round-trip", "[uri]") {
  CHECK(path_to_file_uri("/home/u/a.py") == "file:///home/u/a.py");
  CHECK(path_to_file_uri("/a b/c++/\xc3\xa9.py") == "file:///a%20b/c%2B%2B/%C3%A9.py");
  CHECK(path_to_file_uri("/x:y/#z?") == "file:///x%3Ay/%23z%3F");
  for (std::string path : {"/", "/a/b", "/sp ace/%/\xf0\x9f\x98\x80", "/~user/-._"})
    CHECK(file_uri_to_path(path_to_file_uri(path)) == path);
}
