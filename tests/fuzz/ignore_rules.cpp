// The gitignore matcher: an ignore file (the input up to the first NUL byte)
// checked against paths (the rest, one per line). Every pattern must compile
// or be skipped, and matching must stay fast (the fuzzer's timeout catches
// backtracking blow-ups on runs of stars).
#include <cstdint>
#include <string>
#include <string_view>

#include "index/ignore.h"
#include "tests/fuzz/fuzz_support.h"

using namespace astfill::index;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t nul = input.find('\0');
  std::string_view rules = input.substr(0, nul);
  std::string_view paths = nul == std::string_view::npos ? std::string_view("a/b/c.py\nsrc\nbuild/x") : input.substr(nul + 1);

  IgnoreFile file(rules, "");
  IgnoreFile nested(rules, "sub/dir");
  IgnoreStack stack;
  stack.push(file);
  stack.push(nested);
  size_t start = 0;
  while (start <= paths.size()) {
    size_t end = paths.find('\n', start);
    if (end == std::string_view::npos) end = paths.size();
    std::string path(paths.substr(start, end - start));
    start = end + 1;
    // Paths as the walk gives them: relative, '/'-separated, no trailing '/'.
    while (!path.empty() && path.back() == '/') path.pop_back();
    while (!path.empty() && path.front() == '/') path.erase(0, 1);
    if (path.empty()) continue;
    for (bool dir : {false, true}) {
      (void)file.check(path, dir);
      (void)nested.check("sub/dir/" + path, dir);
      (void)stack.ignored(path, dir);
    }
    size_t slash = path.rfind('/');
    std::string_view name = slash == std::string::npos ? std::string_view(path) : std::string_view(path).substr(slash + 1);
    size_t line_start = 0;
    while (line_start < rules.size()) {
      size_t line_end = rules.find('\n', line_start);
      if (line_end == std::string_view::npos) line_end = rules.size();
      std::string_view line = rules.substr(line_start, line_end - line_start);
      line_start = line_end + 1;
      if (line.find('/') == std::string_view::npos && !name.empty()) (void)glob_matches_component(line, name);
    }
  }
  return 0;
}
