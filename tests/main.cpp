// Catch2 runner. The daemon's log is quiet during tests unless
// ASTFILL_TEST_LOG names a level (error, warn, info, debug, trace): many tests
// feed bad input on purpose, and its log lines would bury real failures.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <cstdlib>

#include "support/log.h"

int main(int argc, char** argv) {
  astfill::log::set_level(astfill::log::Level::Off);
  if (const char* level = std::getenv("ASTFILL_TEST_LOG"))
    if (auto parsed = astfill::log::parse_level(level)) astfill::log::set_level(*parsed);
  return Catch::Session().run(argc, argv);
}
