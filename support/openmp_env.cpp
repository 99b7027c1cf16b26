#include "support/openmp_env.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace astfill::support {

void prefer_passive_openmp_wait(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") || std::getenv("GOMP_SPINCOUNT")) return;
  if (::setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0) return;
  // The same file, even if argv[0] is a bare name found on PATH or a link.
  ::execv("/proc/self/exe", argv);
  // exec failed (no /proc): run on; the variable stays set for child
  // processes, and this one keeps the runtime's default.
}

const char* openmp_wait_policy() {
  static std::string policy = [] {
    if (const char* p = std::getenv("OMP_WAIT_POLICY")) {
      std::string s(p);
      for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return s;
    }
    if (const char* n = std::getenv("GOMP_SPINCOUNT")) return std::string("spin ") + n;
    return std::string("default");
  }();
  return policy.c_str();
}

}  // namespace astfill::support
