// Thousands of corrupted sessions fed through framing and the server, in
// process: truncations, flipped bytes, insertions and deletions of a valid
// session. Nothing may crash (the sanitizer build runs this too), and after
// each corrupted stream a clean session on a fresh server still works.
#include <catch2/catch.hpp>
#include <deque>
#include <random>

#include "lsp/framing.h"
#include "lsp/server.h"

using namespace astfill::lsp;
namespace json = boost::json;

namespace {

class QueueLoop final : public LoopPoster {
 public:
  void post(std::function<void()> fn) override { queue.push_back(std::move(fn)); }
  void drain() {
    while (!queue.empty()) {
      auto fn = std::move(queue.front());
      queue.pop_front();
      fn();
    }
  }
  std::deque<std::function<void()>> queue;
};

std::string valid_session() {
  auto msg = [](json::object o) {
    o["jsonrpc"] = "2.0";
    return encode_frame(json::serialize(o));
  };
  auto pos = [](int l, int c) { return json::object{{"line", l}, {"character", c}}; };
  std::string s;
  s += msg({{"id", 1}, {"method", "initialize"},
            {"params", json::object{{"capabilities", json::object{{"general", json::object{{"positionEncodings", json::array{"utf-16"}}}}}},
                                    {"rootUri", "file:///p"},
                                    {"initializationOptions", json::object{{"astfill", json::object{{"maxTokens", 8}}}}}}}});
  s += msg({{"method", "initialized"}, {"params", json::object{}}});
  s += msg({{"method", "textDocument/didOpen"},
            {"params", json::object{{"textDocument", json::object{{"uri", "file:///p/a.py"}, {"languageId", "python"}, {"version", 1},
                                                                  {"text", "def f(x):\n    return x \xF0\x9F\x98\x80\r\n\xE6\xBC\xA2\n"}}}}}});
  s += msg({{"method", "textDocument/didChange"},
            {"params", json::object{{"textDocument", json::object{{"uri", "file:///p/a.py"}, {"version", 2}}},
                                    {"contentChanges", json::array{json::object{{"range", json::object{{"start", pos(1, 11)}, {"end", pos(1, 13)}}}, {"text", "y"}},
                                                                   json::object{{"text", "full\ntext\n"}}}}}}});
  s += msg({{"id", 2}, {"method", "textDocument/inlineCompletion"},
            {"params", json::object{{"textDocument", json::object{{"uri", "file:///p/a.py"}}}, {"position", pos(1, 2)},
                                    {"context", json::object{{"triggerKind", 2}}}, {"workDoneToken", "t"}}}});
  s += msg({{"method", "$/cancelRequest"}, {"params", json::object{{"id", 2}}}});
  s += msg({{"id", 3}, {"method", "textDocument/completion"},
            {"params", json::object{{"textDocument", json::object{{"uri", "file:///p/a.py"}}}, {"position", pos(0, 3)}}}});
  s += msg({{"method", "workspace/didChangeConfiguration"},
            {"params", json::object{{"settings", json::object{{"astfill", json::object{{"languages", json::object{{"python", false}}}}}}}}}});
  s += msg({{"method", "workspace/didChangeWorkspaceFolders"},
            {"params", json::object{{"event", json::object{{"added", json::array{json::object{{"uri", "file:///q"}, {"name", "q"}}}}, {"removed", json::array{}}}}}}});
  s += msg({{"id", 4}, {"method", "workspace/executeCommand"}, {"params", json::object{{"command", "astfill.status"}}}});
  s += msg({{"method", "textDocument/didClose"}, {"params", json::object{{"textDocument", json::object{{"uri", "file:///p/a.py"}}}}}});
  s += msg({{"id", 5}, {"method", "shutdown"}});
  s += msg({{"method", "exit"}});
  return s;
}

struct Run {
  std::vector<std::string> sent;
  std::optional<int> exit_code;
};

Run feed(const std::string& stream, size_t max_body, std::mt19937& rng) {
  WorkerPool pool(0);  // jobs run inline: deterministic
  QueueLoop loop;
  Run run;
  auto server = LanguageServer::create(ServerOptions{}, pool, loop,
                                       {[&](std::string body) { run.sent.push_back(std::move(body)); },
                                        [&](int code) { run.exit_code = code; },
                                        [](std::string) {}});
  FrameDecoder decoder(max_body);
  FrameDecoder::Sink sink{[&](std::string body) { server->on_message(body); },
                          [&](FrameError e) { server->on_framing_error(e.message, ErrorCode::ParseError); }};
  size_t i = 0;
  while (i < stream.size()) {
    size_t n = std::uniform_int_distribution<size_t>(1, 512)(rng);
    decoder.feed(std::string_view(stream).substr(i, n), sink);
    loop.drain();
    i += n;
  }
  server->on_disconnect();
  loop.drain();
  return run;
}

}  // namespace

TEST_CASE("the valid session runs to a clean exit", "[robustness]") {
  std::mt19937 rng(1);
  Run r = feed(valid_session(), 1 << 20, rng);
  CHECK(r.exit_code == 0);
  for (auto& body : r.sent) CHECK_NOTHROW(json::parse(body));
}

TEST_CASE("corrupted sessions never crash the server", "[robustness]") {
  const std::string good = valid_session();
  std::mt19937 rng(20261128);
  for (int variant = 0; variant < 3000; ++variant) {
    std::string s = good;
    int edits = std::uniform_int_distribution<int>(1, 8)(rng);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      size_t at = std::uniform_int_distribution<size_t>(0, s.size() - 1)(rng);
      switch (std::uniform_int_distribution<int>(0, 4)(rng)) {
        case 0: s[at] = static_cast<char>(rng()); break;                       // flip a byte
        case 1: s.erase(at, std::uniform_int_distribution<size_t>(1, 40)(rng)); break;
        case 2: s.insert(at, std::string(std::uniform_int_distribution<size_t>(1, 20)(rng), static_cast<char>(rng()))); break;
        case 3: s.resize(at); break;                                           // truncate
        case 4: {                                                              // duplicate a span
          size_t len = std::min<size_t>(std::uniform_int_distribution<size_t>(1, 200)(rng), s.size() - at);
          s.insert(std::uniform_int_distribution<size_t>(0, s.size())(rng), s.substr(at, len));
          break;
        }
      }
    }
    Run r = feed(s, 2048, rng);
    for (auto& body : r.sent) REQUIRE_NOTHROW(json::parse(body));
  }
  std::mt19937 again(2);
  CHECK(feed(good, 1 << 20, again).exit_code == 0);
}
