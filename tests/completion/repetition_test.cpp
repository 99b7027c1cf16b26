// The repetition stop (StopRule, "repeats itself"): a completion that starts
// looping, within a line (`value, value, value, ...`) or over lines, stops
// before the repeat, whatever the mode; data that repeats (`0, 0, 0, 0`,
// closing braces, three `None`s) does not stop it.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "completion/stopping.h"
#include "stop_harness.h"

using namespace astfill::completion;
using astfill::completion::testing::decode;
using astfill::completion::testing::Outcome;

namespace {

std::vector<std::string> times(std::vector<std::string> head, const std::string& piece, int n) {
  for (int i = 0; i < n; ++i) head.push_back(piece);
  return head;
}

}  // namespace

TEST_CASE("a loop within a line stops before the repeat", "[stop][repeat]") {
  // The demo's fill: `value, value, value, ...` until the cap.
  Outcome single = decode("python", "def f(value):\n    return g(", ")\n", CompletionMode::SingleLine,
                       times({"value"}, ", value", 30));
  CHECK(single.reason == "repeats itself");
  CHECK(single.kept == "value, ");
  CHECK(single.stopped_at < 6);
  Outcome block = decode("python", "def f(value):\n", "", CompletionMode::MultiLine,
                      times({"    return [", "value"}, ", value", 30));
  CHECK(block.reason == "repeats itself");
  CHECK(block.kept == "    return [value, ");
  Outcome call = decode("javascript", "function f(a) {\n", "\n}\n", CompletionMode::MultiLine,
                     times({"  log("}, "a.b.c(", 20));
  CHECK(call.reason == "repeats itself");
  CHECK(call.kept == "  log(a.b.c");  // one copy of the unit, which begins at the `(` after `log`
  // The copies begin after `code`, whose `e` also ends every copy: one whole
  // copy is kept, not a cut word (the demo model's `code, valu`).
  Outcome member = decode("python", "def f(depot):\n    code = depot.", "\n", CompletionMode::SingleLine,
                       times({"code"}, ", value", 30));
  CHECK(member.reason == "repeats itself");
  CHECK(member.kept == "code, value");
  // The demo's fill: the copies line up from the first byte (`e, valu|e, valu|...`).
  Outcome fill = decode("python", "def f(depot):\n    ", "\n", CompletionMode::MultiLine, times({"e"}, ", value", 30));
  CHECK(fill.reason == "repeats itself");
  CHECK(fill.kept == "e, value");
}

TEST_CASE("a loop inside one identifier stops before the repeat", "[stop][repeat]") {
  // The demo model's `e_or_or_or_...`: no word starts in the unit, the loop
  // is inside one name.
  Outcome name = decode("python", "def f(depot):\n    return d", "\n", CompletionMode::SingleLine,
                        times({"e"}, "_or", 20));
  CHECK(name.reason == "repeats itself");
  CHECK(name.kept == "e_or");
  CHECK(name.stopped_at < 6);
  Outcome block = decode("c", "int f(int x) {\n", "\n}\n", CompletionMode::MultiLine,
                         times({"  return x", "_f"}, "oo_f", 20));
  CHECK(block.reason == "repeats itself");
  CHECK(block.kept == "  return x_foo");
  // A number's digits and one repeated letter are data, not a loop.
  Outcome hex = decode("c", "unsigned f(void) {\n", "\n}\n", CompletionMode::MultiLine,
                       {"  return 0x", "ABAB", "ABAB", "ABAB", "ABAB;"});
  CHECK(hex.reason != std::string("repeats itself"));
  Outcome big = decode("python", "x = ", "\n", CompletionMode::SingleLine, {"1", "01010101", "01010101"});
  CHECK(big.reason != std::string("repeats itself"));
  Outcome same = decode("python", "s = '", "'\n", CompletionMode::SingleLine, {"xxxx", "xxxx", "xxxx"});
  CHECK(same.reason != std::string("repeats itself"));
  Outcome real = decode("javascript", "const ", "\n", CompletionMode::SingleLine, {"onOnOff", "Handler = 1;"});
  CHECK(real.reason != std::string("repeats itself"));
}

TEST_CASE("repeated lines stop before the second copy", "[stop][repeat]") {
  Outcome one = decode("python", "def f(x):\n", "", CompletionMode::MultiLine,
                    times({"    y = x\n"}, "    x += 1\n", 10));
  CHECK(one.reason == "repeats itself");
  CHECK(one.kept == "    y = x\n    x += 1");
  Outcome two = decode("python", "def f(x):\n", "", CompletionMode::MultiLine,
                    {"    a = 1\n", "    b = 2\n", "    a = 1\n", "    b = 2\n", "    a = 1\n"});
  CHECK(two.reason == "repeats itself");
  CHECK(two.kept == "    a = 1\n    b = 2");
  CHECK(two.stopped_at == 3);
}

TEST_CASE("data that repeats is not a loop", "[stop][repeat]") {
  Outcome zeros = decode("c", "int f(void) {\n", "\n}\n", CompletionMode::MultiLine,
                      {"  int t[8] = {", "0, 0, 0, 0, 0, 0, 0, 0", "};\n", "  return t[0];"});
  CHECK(zeros.reason != std::string("repeats itself"));
  Outcome hex = decode("c", "int f(void) {\n", "\n}\n", CompletionMode::MultiLine,
                    {"  char t[] = {", "0x00, 0x00, 0x00, 0x00, 0x00, 0x00", "};"});
  CHECK(hex.reason != std::string("repeats itself"));
  Outcome nones = decode("python", "def f():\n", "", CompletionMode::MultiLine, {"    return [None, None, None]"});
  CHECK(nones.reason != std::string("repeats itself"));
  Outcome braces = decode("javascript", "function f(a) {\n", "\n}\n", CompletionMode::MultiLine,
                       {"  if (a) {\n", "    if (a.b) {\n", "      g();\n", "    }\n", "  }\n"});
  CHECK(braces.reason != std::string("repeats itself"));
}
