// The client's `astfill.*` settings: any JSON value (initializationOptions,
// didChangeConfiguration) is applied, reported and never fatal; the settings
// it leaves serialise, and applying that serialisation again is accepted
// without warnings and changes nothing.
#include <boost/json.hpp>

#include <cstdint>
#include <string>

#include "lsp/settings.h"
#include "tests/fuzz/fuzz_support.h"

using namespace astfill::lsp;
namespace json = boost::json;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  boost::system::error_code ec;
  json::value v = json::parse(std::string_view(reinterpret_cast<const char*>(data), size), ec);
  if (ec) return 0;
  Settings settings;
  auto warnings = apply_settings(v, settings);
  for (const auto& w : warnings) astfill::fuzz::check(!w.empty(), "an empty warning");
  json::value out = to_json(settings);
  Settings again;
  auto second = apply_settings(out, again);
  if (!second.empty()) astfill::fuzz::fail("to_json's output is refused: " + second.front());
  astfill::fuzz::check(to_json(again) == out, "to_json -> apply_settings does not round-trip");
  return 0;
}
