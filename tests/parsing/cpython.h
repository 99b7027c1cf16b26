// CPython as the judge of Python syntax in tests: whether
// `ast.parse` accepts a text, run by /usr/bin/python3 (Debian's python3,
// present on every machine that builds astfill).
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace astfill::testing {

inline bool cpython_parses(std::string_view text) {
  char path[] = "/tmp/astfill-cpython-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  close(fd);
  {
    std::ofstream out(path, std::ios::binary);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
  }
  std::string command = "/usr/bin/python3 -c 'import ast,sys; ast.parse(sys.stdin.buffer.read())' < ";
  command += path;
  command += " 2>/dev/null";
  int status = std::system(command.c_str());
  std::remove(path);
  if (status == -1) throw std::runtime_error("cannot run /usr/bin/python3");
  return status == 0;
}

}  // namespace astfill::testing
