// The LanguageServer driven in-process: the test thread plays the loop thread
// (running what workers post back), so every exchange is observable.
#include "lsp/server.h"

#include <catch2/catch.hpp>
#include <condition_variable>
#include <deque>

using namespace astfill::lsp;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

class TestLoop final : public LoopPoster {
 public:
  void post(std::function<void()> fn) override {
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(fn));
    }
    cv_.notify_all();
  }
  // Runs posted closures until `done()` or the timeout.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      std::function<void()> fn;
      {
        std::unique_lock lock(mu_);
        if (!cv_.wait_until(lock, deadline, [&] { return !queue_.empty(); })) return done();
        fn = std::move(queue_.front());
        queue_.pop_front();
      }
      fn();
    }
    return true;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
};

struct Harness {
  explicit Harness(ServerOptions options = {}, unsigned workers = 1) : pool(workers) {
    server = LanguageServer::create(
        std::move(options), pool, loop,
        {[this](std::string body) { sent.push_back(json::parse(body)); },
         [this](int code) { exit_code = code; },
         [this](std::string why) { closed = why; }});
  }
  ~Harness() { server->on_disconnect(); }

  void send(const json::value& msg) { server->on_message(json::serialize(msg)); }
  void notify(const std::string& method, json::value params) {
    send(json::object{{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}});
  }
  void request_async(int64_t id, const std::string& method, json::value params) {
    json::object m{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
    if (!params.is_null()) m["params"] = std::move(params);
    send(m);
  }
  const json::object* find_response(int64_t id) const {
    for (auto& m : sent) {
      auto& o = m.as_object();
      if (o.contains("id") && !o.contains("method") && o.at("id").is_int64() &&
          o.at("id").as_int64() == id)
        return &o;
    }
    return nullptr;
  }
  json::object wait_response(int64_t id, std::chrono::milliseconds timeout = 10s) {
    REQUIRE(loop.run_until([&] { return find_response(id) != nullptr; }, timeout));
    return *find_response(id);
  }
  json::object request(int64_t id, const std::string& method, json::value params = nullptr) {
    request_async(id, method, std::move(params));
    return wait_response(id);
  }
  json::object initialize(json::object caps = {}, json::value init_options = nullptr) {
    json::object params{{"processId", nullptr}, {"rootUri", "file:///proj"}, {"capabilities", caps}};
    if (!init_options.is_null()) params["initializationOptions"] = init_options;
    auto r = request(1000, "initialize", params);
    notify("initialized", json::object{});
    return r;
  }
  std::vector<json::object> notifications(const std::string& method) const {
    std::vector<json::object> out;
    for (auto& m : sent)
      if (auto* meth = m.as_object().if_contains("method"); meth && *meth == method.c_str())
        out.push_back(m.as_object());
    return out;
  }
  void open(const std::string& uri, const std::string& text, const std::string& lang = "python") {
    notify("textDocument/didOpen",
           json::object{{"textDocument", json::object{{"uri", uri}, {"languageId", lang},
                                                      {"version", 1}, {"text", text}}}});
  }
  static json::object at(const std::string& uri, int line, int ch) {
    return json::object{{"textDocument", json::object{{"uri", uri}}},
                        {"position", json::object{{"line", line}, {"character", ch}}}};
  }

  TestLoop loop;
  WorkerPool pool;
  std::shared_ptr<LanguageServer> server;
  std::vector<json::value> sent;
  std::optional<int> exit_code;
  std::optional<std::string> closed;
};

int64_t error_code(const json::object& response) {
  REQUIRE(response.contains("error"));
  return response.at("error").at("code").as_int64();
}

std::string error_message(const json::object& response) {
  return std::string(response.at("error").at("message").as_string());
}

}  // namespace

TEST_CASE("requests before initialize are refused, initialize once", "[server]") {
  Harness h;
  CHECK(error_code(h.request(1, "textDocument/completion", Harness::at("u", 0, 0))) == -32002);
  auto init = h.initialize();
  CHECK(init.at("result").at("capabilities").at("positionEncoding") == "utf-16");
  CHECK(error_code(h.request(2, "initialize", json::object{{"capabilities", json::object{}}})) == -32600);
}

TEST_CASE("position encoding follows the client's order of preference", "[server]") {
  Harness a;
  auto r = a.initialize(json::object{
      {"general", json::object{{"positionEncodings", json::array{"utf-32", "utf-8", "utf-16"}}}}});
  CHECK(r.at("result").at("capabilities").at("positionEncoding") == "utf-32");
  Harness b;
  r = b.initialize(json::object{
      {"general", json::object{{"positionEncodings", json::array{"latin-1", "utf-8"}}}}});
  CHECK(r.at("result").at("capabilities").at("positionEncoding") == "utf-8");
}

TEST_CASE("shutdown, then exit with the spec's exit codes", "[server]") {
  Harness h;
  h.initialize();
  CHECK(h.request(1, "shutdown").at("result").is_null());
  CHECK(error_code(h.request(2, "workspace/executeCommand",
                             json::object{{"command", "astfill.status"}})) == -32600);
  h.notify("exit", nullptr);
  CHECK(h.exit_code == 0);

  Harness abrupt;
  abrupt.initialize();
  abrupt.notify("exit", nullptr);
  CHECK(abrupt.exit_code == 1);
}

TEST_CASE("unknown methods and wrong param types get their error codes", "[server]") {
  Harness h;
  h.initialize();
  CHECK(error_code(h.request(1, "astfill/nope")) == -32601);
  auto bad = h.request(2, "textDocument/completion",
                       json::object{{"textDocument", json::object{{"uri", "u"}}},
                                    {"position", json::object{{"line", "x"}, {"character", 0}}}});
  CHECK(error_code(bad) == -32602);
  CHECK(error_message(bad).find("params.position.line") != std::string::npos);
  auto closed = h.request(3, "textDocument/inlineCompletion", Harness::at("file:///x.py", 0, 0));
  CHECK(error_code(closed) == -32602);
  CHECK(error_message(closed).find("not open") != std::string::npos);
  h.open("file:///x.py", "one line");
  auto past = h.request(4, "textDocument/inlineCompletion", Harness::at("file:///x.py", 5, 0));
  CHECK(error_code(past) == -32602);
  CHECK(error_message(past).find("past the end") != std::string::npos);
  h.notify("$/unknownNotification", json::object{});  // ignored, no answer
  CHECK(h.request(5, "workspace/executeCommand", json::object{{"command", "astfill.status"}})
            .contains("result"));
}

TEST_CASE("a duplicate id of a request in flight is refused", "[server]") {
  ServerOptions o;
  o.simulated_latency = 500ms;
  Harness h(o);
  h.initialize();
  h.open("file:///a.py", "x = 1\n");
  h.request_async(7, "textDocument/completion", Harness::at("file:///a.py", 0, 0));
  h.request_async(7, "textDocument/completion", Harness::at("file:///a.py", 0, 0));
  // The refusal comes first; the original request is still answered.
  REQUIRE(h.loop.run_until([&] { return h.sent.size() >= 3; }));
  auto first = h.sent[1].as_object();
  CHECK(first.at("error").at("code").as_int64() == -32600);
  REQUIRE(h.loop.run_until([&] {
    int n = 0;
    for (auto& m : h.sent) n += m.as_object().contains("id") && m.at("id") == 7;
    return n == 2;
  }));
  CHECK(h.sent.back().as_object().contains("result"));
}

TEST_CASE("$/cancelRequest answers at once and frees the worker", "[server]") {
  ServerOptions o;
  o.simulated_latency = 1500ms;
  Harness h(o);
  h.initialize();
  h.open("file:///a.py", "x = 1\n");
  auto start = std::chrono::steady_clock::now();
  h.request_async(1, "textDocument/inlineCompletion", Harness::at("file:///a.py", 0, 0));
  h.notify("$/cancelRequest", json::object{{"id", 1}});
  auto cancelled = h.wait_response(1);
  CHECK(error_code(cancelled) == -32800);
  CHECK(std::chrono::steady_clock::now() - start < 1000ms);
  // The single worker is free again: the next request takes one latency, not two.
  auto next = h.request(2, "textDocument/inlineCompletion", Harness::at("file:///a.py", 0, 1));
  CHECK(next.at("result").at("items").as_array().empty());
  CHECK(std::chrono::steady_clock::now() - start < 2900ms);
  // A cancel for a request already answered is a no-op.
  h.notify("$/cancelRequest", json::object{{"id", 2}});
  CHECK(h.server->in_flight() == 0);
}

TEST_CASE("a newer inline completion supersedes the older one", "[server]") {
  ServerOptions o;
  o.simulated_latency = 300ms;
  Harness h(o, 2);
  h.initialize();
  h.open("file:///a.py", "x = 1\n");
  h.open("file:///b.py", "y = 2\n");
  h.request_async(1, "textDocument/inlineCompletion", Harness::at("file:///a.py", 0, 0));
  h.request_async(2, "textDocument/inlineCompletion", Harness::at("file:///b.py", 0, 0));
  h.request_async(3, "textDocument/inlineCompletion", Harness::at("file:///a.py", 0, 1));
  auto first = h.wait_response(1);
  CHECK(error_code(first) == -32800);
  CHECK(error_message(first).find("superseded") != std::string::npos);
  CHECK(h.wait_response(2).contains("result"));  // other document: untouched
  CHECK(h.wait_response(3).contains("result"));
}

TEST_CASE("an edit cancels inline completions for that document with ContentModified", "[server]") {
  ServerOptions o;
  o.simulated_latency = 2000ms;
  Harness h(o);
  h.initialize();
  h.open("file:///a.py", "x = 1\n");
  h.request_async(1, "textDocument/inlineCompletion", Harness::at("file:///a.py", 0, 0));
  h.notify("textDocument/didChange",
           json::object{{"textDocument", json::object{{"uri", "file:///a.py"}, {"version", 2}}},
                        {"contentChanges", json::array{json::object{{"text", "x = 2\n"}}}}});
  CHECK(error_code(h.wait_response(1, 1000ms)) == -32801);
}

TEST_CASE("work-done progress begins, reports and ends before the response", "[server]") {
  ServerOptions o;
  o.simulated_latency = 200ms;
  Harness h(o);
  h.initialize();
  h.open("file:///a.py", "x = 1\n");
  auto params = Harness::at("file:///a.py", 0, 0);
  params["workDoneToken"] = "tok-1";
  auto response = h.request(1, "textDocument/inlineCompletion", params);
  CHECK(response.contains("result"));
  auto progress = h.notifications("$/progress");
  REQUIRE(progress.size() >= 3);
  CHECK(progress.front().at("params").at("token") == "tok-1");
  CHECK(progress.front().at("params").at("value").at("kind") == "begin");
  CHECK(progress[1].at("params").at("value").at("kind") == "report");
  CHECK(progress.back().at("params").at("value").at("kind") == "end");
  // The end precedes the response in what was sent.
  size_t end_at = 0, response_at = 0;
  for (size_t i = 0; i < h.sent.size(); ++i) {
    auto& m = h.sent[i].as_object();
    if (m.contains("method") && m.at("method") == "$/progress" &&
        m.at("params").at("value").at("kind") == "end")
      end_at = i;
    if (!m.contains("method") && m.contains("id") && m.at("id") == 1) response_at = i;
  }
  CHECK(end_at < response_at);
}

TEST_CASE("settings arrive under astfill.* and bad ones are named", "[server]") {
  Harness h;
  h.initialize({}, json::object{{"astfill", json::object{{"maxTokens", 16}}}});
  h.notify("workspace/didChangeConfiguration",
           json::object{{"settings",
                         json::object{{"astfill", json::object{{"maxTokens", "many"},
                                                               {"timeoutMs", 250},
                                                               {"speculate", false},
                                                               {"tokenHealing", false},
                                                               {"kvPersist", "no"},
                                                               {"languages", json::object{{"python", false}}},
                                                               {"bogus", 1}}}}}});
  auto status = h.request(1, "workspace/executeCommand", json::object{{"command", "astfill.status"}});
  auto& settings = status.at("result").at("settings");
  CHECK(settings.at("maxTokens").as_int64() == 16);
  CHECK(settings.at("timeoutMs").as_int64() == 250);
  CHECK(settings.at("languages").at("python") == false);
  CHECK(settings.at("speculate") == false);
  CHECK(settings.at("tokenHealing") == false);
  CHECK(settings.at("kvPersist") == true);  // "no" is no boolean: named and ignored
  bool named_bogus = false, named_max = false, named_persist = false;
  for (auto& n : h.notifications("window/logMessage")) {
    std::string msg(n.at("params").at("message").as_string());
    named_bogus |= msg.find("astfill.bogus") != std::string::npos;
    named_max |= msg.find("astfill.maxTokens") != std::string::npos;
    named_persist |= msg.find("astfill.kvPersist") != std::string::npos;
  }
  CHECK(named_bogus);
  CHECK(named_max);
  CHECK(named_persist);
}

TEST_CASE("astfill.adapter takes a path or a list of them, and a bad value is named", "[server]") {
  Harness h;
  h.initialize({}, json::object{{"astfill", json::object{{"adapter", "/adapters/repo.gguf:0.5"}}}});
  auto status = h.request(1, "workspace/executeCommand", json::object{{"command", "astfill.status"}});
  CHECK(status.at("result").at("settings").at("adapter") == json::array{"/adapters/repo.gguf:0.5"});
  h.notify("workspace/didChangeConfiguration",
           json::object{{"settings", json::object{{"astfill", json::object{{"adapter", json::array{"a", "b:2"}}}}}}});
  status = h.request(2, "workspace/executeCommand", json::object{{"command", "astfill.status"}});
  // Relative paths are the workspace root's (rootUri file:///proj), not the
  // daemon's working directory.
  CHECK(status.at("result").at("settings").at("adapter") == json::array{"/proj/a", "/proj/b:2"});
  h.notify("workspace/didChangeConfiguration",
           json::object{{"settings", json::object{{"astfill", json::object{{"adapter", 3}}}}}});
  status = h.request(3, "workspace/executeCommand", json::object{{"command", "astfill.status"}});
  CHECK(status.at("result").at("settings").at("adapter") == json::array{"/proj/a", "/proj/b:2"});  // kept
  bool named = false;
  for (auto& n : h.notifications("window/logMessage"))
    named |= std::string(n.at("params").at("message").as_string()).find("astfill.adapter") != std::string::npos;
  CHECK(named);
  h.notify("workspace/didChangeConfiguration",
           json::object{{"settings", json::object{{"astfill", json::object{{"adapter", "tune/../astfill-tune/adapter:0.5"}}}}}});
  status = h.request(5, "workspace/executeCommand", json::object{{"command", "astfill.status"}});
  CHECK(status.at("result").at("settings").at("adapter") == json::array{"/proj/astfill-tune/adapter:0.5"});
  h.notify("workspace/didChangeConfiguration",
           json::object{{"settings", json::object{{"astfill", json::object{{"adapter", ""}}}}}});
  status = h.request(4, "workspace/executeCommand", json::object{{"command", "astfill.status"}});
  CHECK(status.at("result").at("settings").at("adapter").as_array().empty());
}

TEST_CASE("workspace folders follow didChangeWorkspaceFolders", "[server]") {
  Harness h;
  h.initialize();
  h.notify("workspace/didChangeWorkspaceFolders",
           json::object{{"event", json::object{{"added", json::array{json::object{{"uri", "file:///other"}, {"name", "other"}}}},
                                               {"removed", json::array{json::object{{"uri", "file:///proj"}, {"name", "proj"}}}}}}});
  auto status = h.request(1, "workspace/executeCommand", json::object{{"command", "astfill.status"}});
  auto& folders = status.at("result").at("workspaceFolders").as_array();
  REQUIRE(folders.size() == 1);
  CHECK(folders[0].at("uri") == "file:///other");
}

TEST_CASE("an out-of-range edit is reported and the document keeps its last good state", "[server]") {
  Harness h;
  h.initialize();
  h.open("file:///a.py", "ab\n");
  h.notify("textDocument/didChange",
           json::object{{"textDocument", json::object{{"uri", "file:///a.py"}, {"version", 2}}},
                        {"contentChanges", json::array{json::object{
                                               {"range", json::object{{"start", json::object{{"line", 9}, {"character", 0}}},
                                                                      {"end", json::object{{"line", 9}, {"character", 0}}}}},
                                               {"text", "x"}}}}});
  auto logs = h.notifications("window/logMessage");
  REQUIRE(logs.size() == 1);
  CHECK(logs[0].at("params").at("type").as_int64() == 1);
  auto status = h.request(1, "workspace/executeCommand", json::object{{"command", "astfill.status"}});
  auto& doc = status.at("result").at("documents").as_array().at(0);
  CHECK(doc.at("version").as_int64() == 1);
  CHECK(doc.at("bytes").as_int64() == 3);
}

TEST_CASE("a token-protected session must authenticate in initialize", "[server]") {
  ServerOptions o;
  o.auth_token = "s3cret";
  Harness wrong(o);
  auto r = wrong.request(1, "initialize",
                         json::object{{"capabilities", json::object{}},
                                      {"initializationOptions", json::object{{"token", "guess"}}}});
  CHECK(error_code(r) == -32600);
  CHECK(error_message(r).find("authentication failed") != std::string::npos);
  CHECK(wrong.closed);

  Harness early(o);
  CHECK(error_code(early.request(1, "shutdown")) == -32002);
  CHECK(early.closed);

  Harness right(o);
  auto ok = right.request(1, "initialize",
                          json::object{{"capabilities", json::object{}},
                                       {"initializationOptions", json::object{{"token", "s3cret"}}}});
  CHECK(ok.contains("result"));
  CHECK_FALSE(right.closed);
}

TEST_CASE("a didOpen whose text holds a lone surrogate escape opens the document, with a warning", "[server]") {
  Harness h;
  h.initialize();
  h.server->on_message(
      R"({"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file:///s.py",)"
      R"("languageId":"python","version":1,"text":"a\ud800b"}}})");
  auto logs = h.notifications("window/logMessage");
  REQUIRE(logs.size() == 1);
  CHECK(logs[0].at("params").at("type").as_int64() == 2);
  CHECK(std::string(logs[0].at("params").at("message").as_string()).find("surrogate") != std::string::npos);
  auto status = h.request(1, "workspace/executeCommand", json::object{{"command", "astfill.status"}});
  auto& docs = status.at("result").at("documents").as_array();
  REQUIRE(docs.size() == 1);
  CHECK(docs.at(0).at("bytes").as_int64() == 5);  // a, U+FFFD (3 bytes), b
}
