// astfill.image.attach and astfill.image.toCode (issue 19) on the tiny random
// Qwen2.5-VL pair (tests/vision/vl_fixture): the LanguageServer driven
// in-process, the test thread playing the loop thread; and the workspace
// core's side, the description entering the document's prompt.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <png.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cctype>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <span>
#include <thread>

#include "completion/context.h"
#include "completion/service.h"
#include "engine/model.h"
#include "vision/describe.h"
#include "lsp/server.h"
#include "tests/fixtures/random_model.h"
#include "tests/vision/vl_fixture.h"
#include "workspace/images.h"
#include "workspace/model_host.h"

using namespace astfill;
using namespace astfill::lsp;
using namespace std::chrono_literals;
namespace json = boost::json;
namespace fs = std::filesystem;

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
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
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
  explicit Harness(ServerOptions options = {}) : pool(1) {
    server = LanguageServer::create(std::move(options), pool, loop,
                                    {[this](std::string body) { sent.push_back(json::parse(body)); },
                                     [](int) {}, [](std::string) {}});
  }
  ~Harness() { server->on_disconnect(); }
  void send(const json::value& msg) { server->on_message(json::serialize(msg)); }
  void notify(const std::string& method, json::value params) {
    send(json::object{{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}});
  }
  const json::object* find_response(int64_t id) const {
    for (auto& m : sent) {
      auto& o = m.as_object();
      if (o.contains("id") && !o.contains("method") && o.at("id").is_int64() && o.at("id").as_int64() == id)
        return &o;
    }
    return nullptr;
  }
  json::object request(int64_t id, const std::string& method, json::value params) {
    send(json::object{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}});
    REQUIRE(loop.run_until([&] { return find_response(id) != nullptr; }, 60s));
    return *find_response(id);
  }
  json::object command(int64_t id, const std::string& name, json::value argument, json::value token = nullptr) {
    json::object params{{"command", name}, {"arguments", json::array{std::move(argument)}}};
    if (!token.is_null()) params["workDoneToken"] = token;
    return request(id, "workspace/executeCommand", params);
  }
  std::vector<json::object> progress_of(const std::string& token) const {
    std::vector<json::object> out;
    for (auto& m : sent) {
      auto& o = m.as_object();
      if (auto* meth = o.if_contains("method"); meth && *meth == "$/progress" &&
                                                 o.at("params").at("token") == token.c_str())
        out.push_back(o.at("params").at("value").as_object());
    }
    return out;
  }

  TestLoop loop;
  WorkerPool pool;
  std::shared_ptr<LanguageServer> server;
  std::vector<json::value> sent;
};

std::string png_bytes(unsigned w, unsigned h) {
  std::vector<unsigned char> rgb(size_t{w} * h * 3);
  for (unsigned y = 0; y < h; ++y)
    for (unsigned x = 0; x < w; ++x) {
      unsigned char* p = &rgb[(size_t{y} * w + x) * 3];
      p[0] = static_cast<unsigned char>(x * 5);
      p[1] = static_cast<unsigned char>(y * 7);
      p[2] = static_cast<unsigned char>((x ^ y) * 3);
    }
  png_image img;
  std::memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  img.width = w;
  img.height = h;
  img.format = PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  REQUIRE(png_image_write_to_memory(&img, nullptr, &size, 0, rgb.data(), 0, nullptr));
  std::string out(size, '\0');
  REQUIRE(png_image_write_to_memory(&img, out.data(), &size, 0, rgb.data(), 0, nullptr));
  out.resize(size);
  return out;
}

std::string base64(const std::string& bytes) {
  static const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8) | uint8_t(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(abc[(v >> s) & 63]);
  }
  if (i < bytes.size()) {
    uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
    if (i + 1 < bytes.size()) v |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    out.push_back(abc[(v >> 18) & 63]);
    out.push_back(abc[(v >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? abc[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

struct Fixture {
  fs::path dir;
  std::string lm, mm, png, truncated;
  std::string bytes;
  Fixture() {
    std::random_device rd;
    dir = fs::temp_directory_path() / ("astfill-image-test-" + std::to_string(rd()));
    fs::create_directories(dir);
    lm = (dir / "lm.gguf").string();
    mm = (dir / "mm.gguf").string();
    testing::write_random_vl_lm(lm);
    testing::write_random_mmproj(mm);
    bytes = png_bytes(60, 40);
    png = (dir / "form.png").string();
    std::ofstream(png, std::ios::binary) << bytes;
    truncated = (dir / "cut.png").string();
    std::ofstream(truncated, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  ~Fixture() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  json::object settings() const {
    return json::object{{"astfill", json::object{{"vision", json::object{{"model", lm}, {"mmproj", mm},
                                                                         {"maxImageTokens", 8}}}}}};
  }
};

json::object doc(const std::string& uri) { return json::object{{"uri", uri}}; }

// An OpenAI-compatible completion server on loopback that keeps the prompt
// of every request (astfill.backend pointed at it) and answers each with an
// empty stream: what the daemon's completions put in their prompts, seen
// from outside.
class PromptRecorder {
 public:
  PromptRecorder() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd_, 8) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~PromptRecorder() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  size_t count() const {
    std::lock_guard lock(mu_);
    return prompts_.size();
  }
  // The prompt of request `i` (0-based), waiting up to 60 s for it.
  std::string prompt(size_t i) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, 60s, [&] { return prompts_.size() > i; })) return "<no request " + std::to_string(i) + ">";
    return prompts_[i];
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      handle(c);
      ::close(c);
    }
  }
  void handle(int c) {
    std::string in;
    char buf[65536];
    size_t body_at = std::string::npos, length = 0;
    bool continued = false;
    while (true) {
      if (body_at == std::string::npos) {
        if (size_t end = in.find("\r\n\r\n"); end != std::string::npos) {
          body_at = end + 4;
          std::string head = in.substr(0, end);
          for (char& ch : head) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
          if (size_t cl = head.find("content-length:"); cl != std::string::npos)
            length = std::stoul(head.substr(cl + 15));
          if (head.find("expect: 100-continue") != std::string::npos && !continued) {
            const char* go = "HTTP/1.1 100 Continue\r\n\r\n";
            (void)!::write(c, go, std::strlen(go));
            continued = true;
          }
        }
      }
      if (body_at != std::string::npos && in.size() >= body_at + length) break;
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 10000) <= 0) return;
      ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) return;
      in.append(buf, static_cast<size_t>(n));
    }
    std::string prompt;
    try {
      auto body = json::parse(in.substr(body_at, length));
      prompt = std::string(body.at("prompt").as_string());
    } catch (const std::exception& e) {
      prompt = std::string("<unreadable request: ") + e.what() + ">";
    }
    const char* reply =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\ndata: [DONE]\n\n";
    (void)!::write(c, reply, std::strlen(reply));
    {
      std::lock_guard lock(mu_);
      prompts_.push_back(std::move(prompt));
    }
    cv_.notify_all();
  }

  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> prompts_;
};

}  // namespace

TEST_CASE("astfill.image.attach describes an image once, with progress, hostile images get clear errors",
          "[image]") {
  Fixture fx;
  Harness h;
  auto init = h.request(1, "initialize",
                        json::object{{"processId", nullptr}, {"rootUri", "file:///proj"},
                                     {"capabilities", json::object{{"window", json::object{{"workDoneProgress", true}}}}},
                                     {"initializationOptions", fx.settings()}});
  REQUIRE(init.contains("result"));
  auto& commands = init.at("result").at("capabilities").at("executeCommandProvider").at("commands").as_array();
  CHECK(std::find(commands.begin(), commands.end(), json::value("astfill.image.attach")) != commands.end());
  CHECK(std::find(commands.begin(), commands.end(), json::value("astfill.image.toCode")) != commands.end());
  h.notify("initialized", json::object{});
  const std::string uri = "file:///proj/form.py";
  h.notify("textDocument/didOpen",
           json::object{{"textDocument", json::object{{"uri", uri}, {"languageId", "python"}, {"version", 1},
                                                      {"text", "class Form:\n    def render(self):\n        \n"}}}});

  // First attach: the tower runs, progress begins and ends before the answer.
  auto first = h.command(2, "astfill.image.attach",
                         json::object{{"textDocument", doc(uri)}, {"source", "file://" + fx.png}}, "img-1");
  INFO(json::serialize(first));
  REQUIRE(first.contains("result"));
  auto& r1 = first.at("result").as_object();
  CHECK(r1.at("name") == "image form.png");
  CHECK(r1.at("cached") == false);
  CHECK(r1.at("towerRuns").to_number<int64_t>() == 1);
  CHECK(r1.at("imageTokens").to_number<int64_t>() > 0);
  CHECK(r1.at("imageTokens").to_number<int64_t>() <= 8);
  CHECK(r1.at("hash").as_string().size() == 32);
  auto progress = h.progress_of("img-1");
  REQUIRE(progress.size() >= 2);
  CHECK(progress.front().at("kind") == "begin");
  CHECK(progress.back().at("kind") == "end");
  bool described = false;
  for (auto& p : progress)
    if (auto* m = p.if_contains("message"); m && m->as_string().find("form.png") != json::string::npos) described = true;
  CHECK(described);

  // The same bytes as a data URI: from the cache, no second tower run.
  auto second = h.command(3, "astfill.image.attach",
                          json::object{{"textDocument", doc(uri)},
                                       {"source", "data:image/png;base64," + base64(fx.bytes)}});
  INFO(json::serialize(second));
  REQUIRE(second.contains("result"));
  CHECK(second.at("result").at("cached") == true);
  CHECK(second.at("result").at("towerRuns").to_number<int64_t>() == 1);
  CHECK(second.at("result").at("hash") == r1.at("hash"));
  CHECK(second.at("result").at("description") == r1.at("description"));

  // Hostile inputs: clear errors naming what is wrong; the daemon keeps serving.
  auto cut = h.command(4, "astfill.image.attach", json::object{{"textDocument", doc(uri)}, {"source", "file://" + fx.truncated}});
  REQUIRE(cut.contains("error"));
  std::string cut_msg(cut.at("error").at("message").as_string());
  CHECK(cut_msg.find("cut.png") != std::string::npos);
  CHECK(cut_msg.find("PNG") != std::string::npos);
  auto not_b64 = h.command(5, "astfill.image.attach",
                           json::object{{"textDocument", doc(uri)}, {"source", "data:image/png;base64,iVBOR*w0K!!"}});
  REQUIRE(not_b64.contains("error"));
  CHECK(std::string(not_b64.at("error").at("message").as_string()).find("not valid base64") != std::string::npos);
  auto bad_scheme = h.command(6, "astfill.image.attach", json::object{{"textDocument", doc(uri)}, {"source", "https://example.com/a.png"}});
  REQUIRE(bad_scheme.contains("error"));
  CHECK(std::string(bad_scheme.at("error").at("message").as_string()).find("file:// URI") != std::string::npos);
  auto missing = h.command(7, "astfill.image.attach", json::object{{"textDocument", doc(uri)}, {"source", "file://" + (fx.dir / "none.png").string()}});
  REQUIRE(missing.contains("error"));
  CHECK(std::string(missing.at("error").at("message").as_string()).find("none.png") != std::string::npos);
  auto no_doc = h.command(8, "astfill.image.attach", json::object{{"textDocument", doc("file:///proj/closed.py")}, {"source", "file://" + fx.png}});
  REQUIRE(no_doc.contains("error"));
  CHECK(std::string(no_doc.at("error").at("message").as_string()).find("not open") != std::string::npos);
  auto no_source = h.command(9, "astfill.image.attach", json::object{{"textDocument", doc(uri)}});
  REQUIRE(no_source.contains("error"));

  // Still serving: status answers, and toCode returns an edit at the position.
  auto status = h.command(10, "astfill.status", json::object{});
  CHECK(status.contains("result"));
  auto code = h.command(11, "astfill.image.toCode",
                        json::object{{"textDocument", doc(uri)},
                                     {"position", json::object{{"line", 2}, {"character", 8}}},
                                     {"source", "file://" + fx.png},
                                     {"instruction", "render the form's fields"}},
                        "code-1");
  INFO(json::serialize(code));
  REQUIRE(code.contains("result"));
  auto& changes = code.at("result").at("changes").as_object();
  REQUIRE(changes.contains(uri));
  // This fixture's LM writes line breaks only: no code, so no edit (the
  // "toCode inserts..." case below has an LM that writes text).
  CHECK(changes.at(uri).as_array().empty());
  for (auto& e : changes.at(uri).as_array()) {
    CHECK(e.at("range").at("start").at("line") == 2);
    CHECK(e.at("range").at("start").at("character") == 8);
    CHECK(e.at("range").at("end") == e.at("range").at("start"));
    std::string text(e.at("newText").as_string());
    CHECK(text.find("```") == std::string::npos);
  }
  CHECK(h.progress_of("code-1").size() >= 2);
  auto cut_code = h.command(12, "astfill.image.toCode",
                            json::object{{"textDocument", doc(uri)},
                                         {"position", json::object{{"line", 0}, {"character", 0}}},
                                         {"source", "file://" + fx.truncated}});
  REQUIRE(cut_code.contains("error"));
  CHECK(std::string(cut_code.at("error").at("message").as_string()).find("cut.png") != std::string::npos);
}

TEST_CASE("sessions sharing the daemon's ImageHost share its descriptions, a cancelled run is not cached",
          "[image]") {
  Fixture fx;
  auto host = std::make_shared<workspace::ImageHost>();
  workspace::VisionSettings vision{fx.lm, fx.mm, 8};
  workspace::ImageSource image{fx.bytes, "form.png"};
  NoProgress quiet;
  // Cancelled before it starts: nothing is described or cached.
  CancellationSource cancel;
  cancel.cancel(CancelReason::ClientRequest);
  auto cancelled = host->describe(image, vision, cancel.token(), quiet);
  CHECK(cancelled.text.empty());
  CHECK_FALSE(cancelled.cached);
  auto first = host->describe(image, vision, {}, quiet);
  CHECK_FALSE(first.cached);
  const size_t runs = host->tower_runs();
  CHECK(host->state() == "ready: " + fx.lm);

  // Two sessions of one daemon: the second one's attach is a cache hit.
  for (int session = 0; session < 2; ++session) {
    ServerOptions options;
    options.images = host;
    Harness h(std::move(options));
    h.request(1, "initialize", json::object{{"processId", nullptr}, {"rootUri", "file:///proj"},
                                            {"capabilities", json::object{}}, {"initializationOptions", fx.settings()}});
    h.notify("initialized", json::object{});
    h.notify("textDocument/didOpen",
             json::object{{"textDocument", json::object{{"uri", "file:///proj/a.py"}, {"languageId", "python"},
                                                        {"version", 1}, {"text", "x = 1\n"}}}});
    auto r = h.command(2, "astfill.image.attach", json::object{{"textDocument", doc("file:///proj/a.py")},
                                                               {"source", "file://" + fx.png}});
    INFO(json::serialize(r));
    REQUIRE(r.contains("result"));
    CHECK(r.at("result").at("cached") == true);
    CHECK(std::string(r.at("result").at("description").as_string()) == first.text);
  }
  CHECK(host->tower_runs() == runs);
  CHECK(host->cache_hits() == 2);
  // Another model's description is another entry: a missing file fails by name.
  workspace::VisionSettings other{(fx.dir / "nope.gguf").string(), fx.mm, 8};
  CHECK_THROWS_WITH(host->describe(image, other, {}, quiet), Catch::Contains("nope.gguf"));
  CHECK(host->state().rfind("failed: ", 0) == 0);
}

TEST_CASE("a cancelled attach answers at once, ends its progress and leaves nothing cached", "[image]") {
  Fixture fx;
  Harness h;
  h.request(1, "initialize", json::object{{"processId", nullptr}, {"rootUri", "file:///proj"},
                                          {"capabilities", json::object{{"window", json::object{{"workDoneProgress", true}}}}},
                                          {"initializationOptions", fx.settings()}});
  h.notify("initialized", json::object{});
  const std::string uri = "file:///proj/a.py";
  h.notify("textDocument/didOpen", json::object{{"textDocument", json::object{{"uri", uri}, {"languageId", "python"},
                                                                             {"version", 1}, {"text", "x = 1\n"}}}});
  h.send(json::object{{"jsonrpc", "2.0"}, {"id", 2}, {"method", "workspace/executeCommand"},
                      {"params", json::object{{"command", "astfill.image.attach"},
                                              {"workDoneToken", "img-c"},
                                              {"arguments", json::array{json::object{{"textDocument", doc(uri)},
                                                                                     {"source", "file://" + fx.png}}}}}}});
  h.notify("$/cancelRequest", json::object{{"id", 2}});
  REQUIRE(h.find_response(2) != nullptr);  // answered at once, on the loop thread
  CHECK(h.find_response(2)->at("error").at("code") == -32800);
  auto progress = h.progress_of("img-c");
  REQUIRE(!progress.empty());
  CHECK(progress.back().at("kind") == "end");
  // The worker's run (if it started) stops; the next attach is not from the cache.
  auto again = h.command(3, "astfill.image.attach", json::object{{"textDocument", doc(uri)}, {"source", "file://" + fx.png}});
  INFO(json::serialize(again));
  REQUIRE(again.contains("result"));
  CHECK(again.at("result").at("cached") == false);
  // After didClose the document has no images, and attaching to it is refused until it is open again.
  h.notify("textDocument/didClose", json::object{{"textDocument", doc(uri)}});
  auto closed = h.command(4, "astfill.image.attach", json::object{{"textDocument", doc(uri)}, {"source", "file://" + fx.png}});
  REQUIRE(closed.contains("error"));
  CHECK(std::string(closed.at("error").at("message").as_string()).find("not open") != std::string::npos);
}

TEST_CASE("after astfill.image.attach the document's completion prompts carry the description, until didClose",
          "[image]") {
  Fixture fx;
  PromptRecorder server;
  // A tiny completion model for the prompt's tokens; decoding goes to the recorder.
  const std::string lm = (fx.dir / "complete.gguf").string();
  engine::write_random_model(lm, engine::tiny_spec("qwen2"));
  completion::ServiceOptions so;
  so.load.threads = 1;
  auto service = std::make_shared<completion::CompletionService>(so);
  service->load_model(lm);
  ServerOptions options;
  options.model = std::make_shared<workspace::ModelHost>(workspace::ModelHost::Options{service, "", nullptr});
  Harness h(std::move(options));
  json::object settings = fx.settings();
  settings["astfill"].as_object()["backend"] = json::object{{"url", server.url()}, {"model", "recorder"}};
  auto init = h.request(1, "initialize", json::object{{"processId", nullptr}, {"rootUri", "file:///proj"},
                                                      {"capabilities", json::object{}},
                                                      {"initializationOptions", settings}});
  REQUIRE(init.contains("result"));
  h.notify("initialized", json::object{});
  const std::string uri = "file:///proj/form.py", other = "file:///proj/other.py";
  const std::string text = "class Form:\n    def render(self):\n        \n";
  auto open = [&](const std::string& u, int version) {
    h.notify("textDocument/didOpen", json::object{{"textDocument", json::object{{"uri", u}, {"languageId", "python"},
                                                                               {"version", version}, {"text", text}}}});
  };
  open(uri, 1);
  open(other, 1);
  int64_t id = 2;
  // Each completion is one request to the recorder; its prompt comes back.
  auto prompt_of_completion = [&](const std::string& u) {
    const size_t before = server.count();
    auto r = h.request(id++, "textDocument/inlineCompletion",
                       json::object{{"textDocument", doc(u)},
                                    {"position", json::object{{"line", 2}, {"character", 8}}},
                                    {"context", json::object{{"triggerKind", 1}}}});
    INFO(json::serialize(r));
    CHECK(r.contains("result"));
    REQUIRE(server.count() == before + 1);
    return server.prompt(before);
  };
  const std::string header = "Attached image form.png, as a vision model described it:";
  const std::string plain = prompt_of_completion(uri);
  INFO("before the attach: " << plain);
  REQUIRE(plain.find("class Form:") != std::string::npos);  // the recorder sees the document's prompt
  CHECK(plain.find(header) == std::string::npos);

  auto attached = h.command(id++, "astfill.image.attach",
                            json::object{{"textDocument", doc(uri)}, {"source", "file://" + fx.png}});
  INFO(json::serialize(attached));
  REQUIRE(attached.contains("result"));
  const std::string description(attached.at("result").at("description").as_string());
  const std::string with_image = prompt_of_completion(uri);
  INFO("after the attach: " << with_image);
  CHECK(with_image.find(header) != std::string::npos);
  CHECK(with_image.find("image form.png") != std::string::npos);  // the chunk's name
  // The description itself, line by line (the prompt may lay the chunk out
  // with its own line breaks and comment markers). The tiny random LM writes
  // blank lines only, so with this fixture the header and the name above are
  // what tell the chunk.
  for (size_t at = 0; at < description.size();) {
    size_t nl = description.find('\n', at);
    std::string line = description.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
    at = nl == std::string::npos ? description.size() : nl + 1;
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
    if (line.find_first_not_of(' ') == std::string::npos) continue;
    INFO("description line: " << line);
    CHECK(with_image.find(line) != std::string::npos);
  }
  CHECK(with_image.size() > plain.size());
  // Another open document's prompt does not carry it.
  CHECK(prompt_of_completion(other).find(header) == std::string::npos);
  // didClose detaches it: the reopened document's prompt is the plain one again.
  h.notify("textDocument/didClose", json::object{{"textDocument", doc(uri)}});
  open(uri, 2);
  CHECK(prompt_of_completion(uri).find(header) == std::string::npos);
}

TEST_CASE("toCode's prompt holds the code around the cursor, the marker, the language and the file", "[image]") {
  using workspace::code_prompt;
  const std::string text = "import os\n\nclass Form:\n    def render(self):\n        x = 1\n        \n    def done(self):\n        return 2\n";
  const size_t cursor = text.find("        \n    def done") + 8;
  auto q = code_prompt(text, cursor, "python", "form.py", "the login fields");
  INFO(q.prompt);
  const std::string before = text.substr(0, cursor), after = text.substr(cursor);
  // The whole (short) document, split at the cursor by the marker, fenced.
  CHECK(q.prompt.find("```\n" + before + "<CURSOR>" + after + "\n```") != std::string::npos);
  // The marker: named once in the question, once in the code.
  const size_t fence = q.prompt.find("```\n");
  REQUIRE(fence != std::string::npos);
  CHECK(q.prompt.find("<CURSOR>", fence) == q.prompt.rfind("<CURSOR>"));
  CHECK(q.prompt.find("<CURSOR>") < fence);
  CHECK(q.prompt.find("Write Python code for this image (the login fields)") == 0);
  CHECK(q.prompt.find(" in form.py:") != std::string::npos);
  CHECK(q.prompt.find("Answer with the Python code to insert only") != std::string::npos);
  CHECK(q.indent == "        ");
  // No instruction: no parentheses. Language ids are named for the model.
  CHECK(code_prompt(text, cursor, "python", "form.py", "").prompt.find("Write Python code for this image. It goes") == 0);
  CHECK(code_prompt(text, 0, "typescriptreact", "a.tsx", "").prompt.find("Write TSX code") == 0);
  CHECK(code_prompt(text, 0, "zig", "a.zig", "").prompt.find("Write zig code") == 0);
  CHECK(code_prompt(text, 0, "", "a", "").prompt.find("Write the file's language code") == 0);
  // At the start: nothing before the marker; no indentation.
  auto start = code_prompt(text, 0, "python", "form.py", "");
  CHECK(start.prompt.find("```\n<CURSOR>import os\n") != std::string::npos);
  CHECK(start.indent.empty());
  // Past the end is the end: the whole text, then the marker.
  auto end = code_prompt(text, text.size() + 10, "python", "form.py", "");
  CHECK(end.prompt.find("```\n" + text + "<CURSOR>\n```") != std::string::npos);
  // In the middle of an indented line: the blanks before the cursor only.
  CHECK(code_prompt(text, text.find("x = 1") + 2, "python", "f.py", "").indent == "        ");
  CHECK(code_prompt("\tif a:\n\t\tb", 9, "go", "f.go", "").indent == "\t\t");

  // A long document: up to 1500 bytes before the cursor, from a line's start,
  // and up to 600 after it, to a line's end.
  std::string big;
  for (int i = 0; i < 400; ++i) big += "line_" + std::to_string(i) + " = " + std::to_string(i * 7) + "\n";
  const size_t at = big.find("line_300 = ");
  auto far = code_prompt(big, at, "python", "big.py", "");
  REQUIRE(far.prompt.find("```\n") != std::string::npos);
  const size_t open = far.prompt.find("```\n") + 4, mark = far.prompt.find("<CURSOR>", open);
  REQUIRE(mark != std::string::npos);
  const size_t close = far.prompt.find("\n```", mark);
  REQUIRE(close != std::string::npos);
  const std::string shown_before = far.prompt.substr(open, mark - open);
  const std::string shown_after = far.prompt.substr(mark + 8, close - mark - 8);
  CHECK(shown_before.size() <= 1500);
  CHECK(shown_before.size() > 1500 - 20);  // all but the cut line
  CHECK(big.compare(at - shown_before.size(), shown_before.size(), shown_before) == 0);
  CHECK(big[at - shown_before.size() - 1] == '\n');  // starts at a line's start
  CHECK(shown_after.size() <= 600);
  CHECK(shown_after.size() > 600 - 20);
  CHECK(big.compare(at, shown_after.size(), shown_after) == 0);
  CHECK(big[at + shown_after.size()] == '\n');  // ends at a line's end
  CHECK(far.prompt.find("line_0 = 0\n") == std::string::npos);
  CHECK(far.prompt.find("line_399 = ") == std::string::npos);
}

TEST_CASE("astfill.image.toCode inserts the VL model's code for code_prompt's question at the position", "[image]") {
  Fixture fx;
  // The fixture's LM writes line breaks only; this one (sharper logits) writes text.
  const std::string talker = (fx.dir / "talker.gguf").string();
  testing::write_random_vl_lm(talker, 1, 0.1f);
  auto host = std::make_shared<workspace::ImageHost>();
  ServerOptions options;
  options.images = host;
  Harness h(std::move(options));
  json::object settings{{"astfill", json::object{{"vision", json::object{{"model", talker}, {"mmproj", fx.mm},
                                                                        {"maxImageTokens", 8}}}}}};
  h.request(1, "initialize", json::object{{"processId", nullptr}, {"rootUri", "file:///proj"},
                                          {"capabilities", json::object{}}, {"initializationOptions", settings}});
  h.notify("initialized", json::object{});
  const std::string uri = "file:///proj/form.py";
  const std::string text = "class Form:\n    def render(self):\n        \n";
  h.notify("textDocument/didOpen", json::object{{"textDocument", json::object{{"uri", uri}, {"languageId", "python"},
                                                                             {"version", 1}, {"text", text}}}});
  auto r = h.command(2, "astfill.image.toCode",
                     json::object{{"textDocument", doc(uri)},
                                  {"position", json::object{{"line", 2}, {"character", 8}}},
                                  {"source", "file://" + fx.png},
                                  {"instruction", "render the form's fields"}});
  INFO(json::serialize(r));
  REQUIRE(r.contains("result"));
  auto& edits = r.at("result").at("changes").at(uri).as_array();
  // The question code_prompt builds for that position, asked directly
  // (greedy decoding: the same answer): the edit inserts its code.
  auto q = workspace::code_prompt(text, text.size() - 1, "python", "form.py", "render the form's fields");
  CHECK(q.indent == "        ");
  NoProgress quiet;
  const std::string answer = host->ask({fx.bytes, "form.png"}, workspace::VisionSettings{talker, fx.mm, 8}, q.prompt,
                                       512, {}, quiet);
  const std::string code = workspace::code_from_answer(answer, q.indent);
  INFO("the model's answer: " << json::serialize(json::value(answer)));
  REQUIRE(!code.empty());  // the fixture's answer has text in it
  REQUIRE(edits.size() == 1);
  CHECK(edits[0].at("newText") == code.c_str());
  CHECK(edits[0].at("range").at("start") == json::object{{"line", 2}, {"character", 8}});
  CHECK(edits[0].at("range").at("end") == json::object{{"line", 2}, {"character", 8}});
  // A question for another place in the document gets another answer: the
  // edit above came from this document's code, not from any prompt.
  auto elsewhere = workspace::code_prompt(text, 0, "python", "form.py", "render the form's fields");
  CHECK(workspace::code_from_answer(host->ask({fx.bytes, "form.png"}, workspace::VisionSettings{talker, fx.mm, 8},
                                              elsewhere.prompt, 512, {}, quiet),
                                    elsewhere.indent) != code);
}

TEST_CASE("without astfill.vision the image commands say what to set", "[image]") {
  Fixture fx;
  Harness h;
  h.request(1, "initialize", json::object{{"processId", nullptr}, {"rootUri", "file:///proj"}, {"capabilities", json::object{}}});
  h.notify("initialized", json::object{});
  h.notify("textDocument/didOpen",
           json::object{{"textDocument", json::object{{"uri", "file:///proj/a.py"}, {"languageId", "python"},
                                                      {"version", 1}, {"text", "x = 1\n"}}}});
  auto r = h.command(2, "astfill.image.attach", json::object{{"textDocument", doc("file:///proj/a.py")}, {"source", "file://" + fx.png}});
  REQUIRE(r.contains("error"));
  CHECK(std::string(r.at("error").at("message").as_string()).find("astfill.vision.model") != std::string::npos);
}

TEST_CASE("an attached image's description enters its document's prompt until the document closes", "[image]") {
  workspace::Workspace ws(workspace::WorkspaceOptions{nullptr, nullptr, "test"}, workspace::Executor::inline_executor(),
                          {});
  const std::string uri = "file:///proj/ui.ts", other = "file:///proj/other.ts";
  ws.open(uri, "typescript", 1, "export function render() {\n  \n}\n");
  ws.open(other, "typescript", 1, "export const x = 1;\n");
  ws.attach_image(uri, "image form.png", "Attached image form.png: a login form with two fields.\n");
  CHECK(ws.attached_images(uri) == std::vector<std::string>{"image form.png"});

  auto project = ws.project_context(uri);
  completion::ContextRequest req;
  req.path = project.path;
  req.language_id = "typescript";
  std::string text = *ws.document(uri)->text;
  req.text = text;
  req.cursor = text.find("\n  \n") + 3;
  req.recent_edits = project.recent_edits;
  auto ctx = completion::build_context(req);
  bool found = false;
  for (auto& f : ctx.parts.context_files)
    if (f.path == "image form.png" && f.text.find("a login form with two fields") != std::string::npos) found = true;
  CHECK(found);
  // Other documents do not get it; attaching the same name again replaces it.
  for (auto& f : ws.project_context(other).recent_edits) CHECK(f.path != "image form.png");
  ws.attach_image(uri, "image form.png", "second\n");
  auto again = ws.project_context(uri).recent_edits;
  CHECK(std::count_if(again.begin(), again.end(), [](auto& f) { return f.path == "image form.png"; }) == 1);
  // Closing the document detaches it.
  ws.close(uri);
  ws.open(uri, "typescript", 2, "export function render() {}\n");
  CHECK(ws.attached_images(uri).empty());
  for (auto& f : ws.project_context(uri).recent_edits) CHECK(f.path != "image form.png");
}

TEST_CASE("image sources, base64 and code answers", "[image]") {
  using workspace::decode_base64;
  CHECK(decode_base64("aGVsbG8=") == std::optional<std::string>("hello"));
  CHECK(decode_base64("aGVsbG8") == std::optional<std::string>("hello"));
  CHECK(decode_base64("aGVs bG8=") == std::nullopt);
  CHECK(decode_base64("aGVsbG9=") == std::nullopt);  // non-zero leftover bits
  CHECK(decode_base64("a") == std::nullopt);
  CHECK_THROWS_WITH(workspace::read_image_source("data:text/plain;base64,aGVsbG8="),
                    Catch::Contains("text/plain"));
  CHECK_THROWS_WITH(workspace::read_image_source("data:image/png,rawbytes"), Catch::Contains("base64"));
  CHECK(workspace::read_image_source("data:image/png;base64,aGVs\r\nbG8=").bytes == "hello");
  CHECK(workspace::read_image_source("data:;base64,aGVsbG8=").name.rfind("pasted image ", 0) == 0);
  vision::ImageLimits small;
  small.max_file_bytes = 4;
  CHECK_THROWS_WITH(workspace::read_image_source("data:image/png;base64,aGVsbG8gd29ybGQ=", small),
                    Catch::Contains("over the limit"));
  CHECK(workspace::content_hash("a") != workspace::content_hash("b"));
  CHECK(workspace::content_hash("abc") == workspace::content_hash("abc"));

  using workspace::code_from_answer;
  CHECK(code_from_answer("Here it is:\n```python\nx = 1\ny = 2\n```\nDone.", "") == "x = 1\ny = 2\n");
  CHECK(code_from_answer("```\nif a:\n    b()\n```", "    ") == "if a:\n        b()\n");
  CHECK(code_from_answer("\n\nreturn 1\n\n", "") == "return 1\n");
  CHECK(code_from_answer("   \n", "").empty());
}

TEST_CASE("the vision host runs on the completion model when it is the same file, with a load's answers", "[image]") {
  Fixture fx;
  const std::string talker = (fx.dir / "talker.gguf").string();
  testing::write_random_vl_lm(talker, 1, 0.1f);
  completion::ServiceOptions so;
  so.cache_entries = 0;
  auto service = std::make_shared<completion::CompletionService>(so);
  service->load_model(talker);
  auto shared = std::make_shared<workspace::ImageHost>(workspace::shared_model_of(service));
  workspace::ImageHost own;
  const workspace::VisionSettings vision{talker, fx.mm, 8};
  const workspace::ImageSource image{fx.bytes, "form.png"};
  NoProgress quiet;
  const auto q = workspace::code_prompt("class Form:\n    pass\n", 11, "python", "form.py", "");

  // Its own load: what the shared model must answer too.
  const std::string want = own.ask(image, vision, q.prompt, 48, {}, quiet);
  INFO("the model's answer: " << json::serialize(json::value(want)));
  REQUIRE(!want.empty());
  CHECK(own.lm_loads() == 1);
  CHECK_FALSE(own.lm_shared());
  CHECK(own.state() == "ready: " + talker);

  CHECK(shared->ask(image, vision, q.prompt, 48, {}, quiet) == want);
  CHECK(shared->lm_loads() == 0);  // one load in the process: the service's
  CHECK(shared->lm_shared());
  CHECK(shared->state() == "ready: " + talker + " (shared with completions)");
  CHECK(shared->describe(image, vision, {}, quiet).text == own.describe(image, vision, {}, quiet).text);

  // While completions run on the same model from another thread.
  std::atomic<bool> stop{false};
  size_t completions = 0;
  std::thread typing([&] {
    NoProgress none;
    for (int n = 0; !stop; ++n) {
      completion::InlineCompletionRequest r;
      std::string text = "def f(x):\n    return x + " + std::to_string(n) + "\n\ndef g(";
      r.offset = text.size();
      r.document = {"file:///proj/a.py", "python", n, std::make_shared<const std::string>(std::move(text))};
      r.trigger = completion::Trigger::Invoked;
      r.options.max_tokens = 8;
      r.options.timeout_ms = 60000;
      service->complete_inline(r, {}, none);
      ++completions;
    }
  });
  std::vector<std::string> during;
  for (int k = 0; k < 3; ++k) during.push_back(shared->ask(image, vision, q.prompt, 48, {}, quiet));
  stop = true;
  typing.join();
  CHECK(completions > 0);
  for (const auto& answer : during) CHECK(answer == want);
  CHECK(shared->lm_loads() == 0);

  // The same file by another name (a link, as a pulled model's path may be).
  const std::string link = (fx.dir / "link.gguf").string();
  fs::create_symlink(talker, link);
  workspace::ImageHost linked(workspace::shared_model_of(service));
  CHECK(linked.ask(image, workspace::VisionSettings{link, fx.mm, 8}, q.prompt, 48, {}, quiet) == want);
  CHECK(linked.lm_loads() == 0);

  // Another completion model: the host loads its own copy, once.
  service->load_model(fx.lm);
  CHECK(shared->ask(image, vision, q.prompt, 48, {}, quiet) == want);
  CHECK(shared->ask(image, vision, q.prompt, 48, {}, quiet) == want);
  CHECK(shared->lm_loads() == 1);
  CHECK_FALSE(shared->lm_shared());
  // The completion model is the VL model's LM again: the host's copy goes.
  service->load_model(talker);
  CHECK(shared->ask(image, vision, q.prompt, 48, {}, quiet) == want);
  CHECK(shared->lm_loads() == 1);
  CHECK(shared->lm_shared());

  // A completion model loaded otherwise (f32 weights) is not what the host
  // would load: it loads its own.
  completion::ServiceOptions f32;
  f32.load.weights = engine::WeightMode::F32;
  auto f32_service = std::make_shared<completion::CompletionService>(f32);
  f32_service->load_model(talker);
  workspace::ImageHost beside_f32(workspace::shared_model_of(f32_service));
  CHECK(beside_f32.ask(image, vision, q.prompt, 48, {}, quiet) == want);
  CHECK(beside_f32.lm_loads() == 1);
  CHECK_FALSE(beside_f32.lm_shared());
}

TEST_CASE("astfill.image.toCode's edit ends where the model writes a control token", "[image]") {
  Fixture fx;
  const std::string talker = (fx.dir / "talker.gguf").string();
  testing::write_random_vl_lm(talker, 1, 0.1f);
  const std::string uri = "file:///proj/form.py";
  const std::string text = "class Form:\n    def render(self):\n        \n";
  const auto q = workspace::code_prompt(text, text.size() - 1, "python", "form.py", "");
  // The talker's answer to that question, token by token, as ImageHost::run asks it.
  auto lm = engine::Model::open(talker, engine::LoadOptions{});
  const auto tower = vision::VisionTower::load(fx.mm);
  const vision::Image pixels = vision::decode_image(fx.bytes, "form.png");
  vision::DescribeOptions o;
  o.prompt = q.prompt;
  o.max_tokens = 512;
  o.max_image_tokens = 8;
  std::vector<int32_t> ids;
  vision::describe_image(*lm, tower, pixels, o, [&](int32_t t) { ids.push_back(t); return true; });
  const auto& tok = lm->tokenizer();
  // The first token after which the answer has code, written there for the
  // first time: the model with it and <|fim_pad|> swapped (two ids
  // relabelled) writes <|fim_pad|> there instead, and then goes on as before
  // (its embedding is the old token's).
  // It must not be in the prompt either (the text describe_image encodes
  // around the image), which the relabelling would change.
  const int32_t pad = *tok.find_token("<|fim_pad|>");
  std::vector<int32_t> prompt = tok.encode("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n");
  for (auto t : tok.encode(q.prompt, false)) prompt.push_back(t);
  for (auto t : tok.encode("<|im_end|>\n<|im_start|>assistant\n")) prompt.push_back(t);
  auto in = [](const std::vector<int32_t>& v, size_t n, int32_t t) {
    return std::find(v.begin(), v.begin() + static_cast<ptrdiff_t>(n), t) != v.begin() + static_cast<ptrdiff_t>(n);
  };
  size_t k = 1;
  for (; k < ids.size(); ++k)
    if (!workspace::code_from_answer(tok.decode(std::span(ids).first(k)), q.indent).empty() && !in(ids, k, ids[k]) &&
        !in(prompt, prompt.size(), ids[k]))
      break;
  INFO("the model's answer: " << json::serialize(json::value(tok.decode(ids))));
  REQUIRE(k + 1 < ids.size());
  const std::string swapped = (fx.dir / "swapped.gguf").string();
  testing::write_vl_lm_with_tokens_swapped(talker, swapped, ids[k], pad);
  {
    // Premise: the relabelled model writes the same tokens, then <|fim_pad|>
    // (which describe_image does not pass on: it ends the answer).
    auto relabelled = engine::Model::open(swapped, engine::LoadOptions{});
    std::vector<int32_t> got;
    const auto stats =
        vision::describe_image(*relabelled, tower, pixels, o, [&](int32_t t) { got.push_back(t); return true; });
    REQUIRE(got.size() >= k);
    REQUIRE(std::vector<int32_t>(got.begin(), got.begin() + static_cast<ptrdiff_t>(k)) ==
            std::vector<int32_t>(ids.begin(), ids.begin() + static_cast<ptrdiff_t>(k)));
    REQUIRE((stats.stop_token == pad || (got.size() > k && got[k] == pad)));
  }

  auto host = std::make_shared<workspace::ImageHost>();
  ServerOptions options;
  options.images = host;
  Harness h(std::move(options));
  json::object settings{{"astfill", json::object{{"vision", json::object{{"model", swapped}, {"mmproj", fx.mm},
                                                                        {"maxImageTokens", 8}}}}}};
  h.request(1, "initialize", json::object{{"processId", nullptr}, {"rootUri", "file:///proj"},
                                          {"capabilities", json::object{}}, {"initializationOptions", settings}});
  h.notify("initialized", json::object{});
  h.notify("textDocument/didOpen", json::object{{"textDocument", json::object{{"uri", uri}, {"languageId", "python"},
                                                                             {"version", 1}, {"text", text}}}});
  auto r = h.command(2, "astfill.image.toCode",
                     json::object{{"textDocument", doc(uri)},
                                  {"position", json::object{{"line", 2}, {"character", 8}}},
                                  {"source", "file://" + fx.png}});
  INFO(json::serialize(r));
  REQUIRE(r.contains("result"));
  auto& edits = r.at("result").at("changes").at(uri).as_array();
  REQUIRE(edits.size() == 1);
  const std::string inserted(edits[0].at("newText").as_string());
  CHECK(inserted == workspace::code_from_answer(tok.decode(std::span(ids).first(k)), q.indent));
  CHECK(inserted.find("<|") == std::string::npos);
}
