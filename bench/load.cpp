// bench_load: the daemon under load. Starts `astfill serve --listen
// 127.0.0.1:0` with a token file on a small generated project, connects N
// clients over TCP (each authenticates with the token, opens its own file and
// types into it), and at a set rate per client sends a keystroke (didChange)
// followed by a textDocument/inlineCompletion request, as an editor does.
// Counts what came back (answered, superseded by the client's next request,
// cancelled because the document changed, errors), the answered requests'
// latency, and the daemon's resident memory over time (/proc/PID/status).
//
// Prints one JSON object. Exits 1 when anything went wrong that load must
// not cause: an error response, a request never answered, a session closed
// by the daemon, or the daemon dying (so a short run is a smoke test).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/args.h"
#include "lsp/framing.h"

namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string binary = ASTFILL_BINARY;
  std::string model;  // empty: the daemon's default (the bundled model)
  unsigned clients = 8;
  unsigned rate = 10;  // requests per second per client
  unsigned seconds = 60;
  unsigned warmup = 0;  // seconds; 0: min(120, seconds / 5)
  unsigned threads = 0;
  unsigned workers = 0;
  unsigned drain = 30;  // seconds to wait for the last answers
  unsigned rss_interval_ms = 1000;
  bool no_index = false;
};

// ---- the daemon ----------------------------------------------------------------

struct Daemon {
  pid_t pid = -1;
  int port = 0;
  std::optional<int> status;  // waitpid status once it has exited

  bool alive() {
    if (status) return false;
    int st = 0;
    if (waitpid(pid, &st, WNOHANG) == pid) status = st;
    return !status;
  }
};

std::string describe_exit(int st) {
  if (WIFEXITED(st)) return "exited with status " + std::to_string(WEXITSTATUS(st));
  if (WIFSIGNALED(st)) return std::string("killed by signal ") + strsignal(WTERMSIG(st));
  return "stopped";
}

Daemon start_daemon(const Options& o, const fs::path& dir, const std::string& token_file) {
  std::vector<std::string> args{o.binary, "serve", "--listen", "127.0.0.1:0", "--token-file", token_file};
  if (!o.model.empty()) args.insert(args.end(), {"--model", o.model});
  if (o.threads) args.insert(args.end(), {"--threads", std::to_string(o.threads)});
  if (o.workers) args.insert(args.end(), {"--workers", std::to_string(o.workers)});
  if (o.no_index) args.push_back("--no-index");
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  const std::string log = (dir / "daemon.log").string();
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    dup2(out[1], 1);
    int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (err >= 0) dup2(err, 2);
    close(out[0]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    std::fprintf(stderr, "bench_load: cannot run %s: %s\n", argv[0], std::strerror(errno));
    _exit(127);
  }
  close(out[1]);
  Daemon d;
  d.pid = pid;
  // "listening on 127.0.0.1:PORT" on stdout.
  std::string text;
  char buf[512];
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  while (Clock::now() < deadline) {
    ssize_t n = read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
    auto at = text.find("listening on 127.0.0.1:");
    if (at != std::string::npos && text.find('\n', at) != std::string::npos) {
      d.port = std::atoi(text.c_str() + at + std::strlen("listening on 127.0.0.1:"));
      break;
    }
  }
  // Keep draining stdout so the daemon never blocks on a full pipe.
  std::thread([fd = out[0]] {
    char sink[4096];
    while (read(fd, sink, sizeof sink) > 0) {
    }
    close(fd);
  }).detach();
  if (!d.port) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    throw std::runtime_error("the daemon did not print 'listening on 127.0.0.1:PORT' (log: " + log + ")");
  }
  return d;
}

long rss_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

// ---- a project to type in --------------------------------------------------------

const char* kModule =
    "\"\"\"Inventory of a small shop.\"\"\"\n"
    "from dataclasses import dataclass\n\n\n"
    "@dataclass\n"
    "class Item:\n"
    "    name: str\n"
    "    price: float\n"
    "    quantity: int = 0\n\n"
    "    def total(self) -> float:\n"
    "        return self.price * self.quantity\n\n\n"
    "class Depot:\n"
    "    def __init__(self):\n"
    "        self.items: dict[str, Item] = {}\n\n"
    "    def add(self, item: Item) -> None:\n"
    "        self.items[item.name] = item\n\n"
    "    def value(self) -> float:\n"
    "        return sum(item.total() for item in self.items.values())\n";

std::string client_file(unsigned i) {
  return "from inventory import Depot, Item\n\n\n"
         "def restock_" + std::to_string(i) + "(depot: Depot, names: list[str]) -> int:\n"
         "    count = 0\n";
}

// What each client types, a character per keystroke, at the end of its file,
// below a comment naming the pass; when it is all typed it is deleted and
// typed again (the comment differs each pass, so no pass is answered from the
// completion cache of the one before).
const char* kTyped =
    "    for name in names:\n"
    "        item = depot.items.get(name)\n"
    "        if item is None:\n"
    "            depot.add(Item(name, 1.0, 10))\n"
    "            count += 1\n"
    "    return count\n";

// ---- results ------------------------------------------------------------------------

struct Totals {
  std::mutex mu;
  uint64_t requests = 0, answered = 0, answered_nonempty = 0, superseded = 0, cancelled = 0, errors = 0;
  uint64_t unanswered = 0, sessions_lost = 0;
  std::vector<double> latency_ms;  // answered requests
  std::vector<std::string> error_samples;

  void error(std::string what) {
    std::lock_guard lock(mu);
    ++errors;
    if (error_samples.size() < 10) error_samples.push_back(std::move(what));
  }
};

// ---- one client ---------------------------------------------------------------------

class Client {
 public:
  Client(unsigned index, const Options& o, int port, const fs::path& project, const std::string& token,
         Totals& totals)
      : index_(index), o_(o), port_(port), project_(project), token_(token), totals_(totals),
        decoder_(64 << 20) {}

  void run(Clock::time_point start, Clock::time_point stop) {
    if (!connect_socket()) return;
    reader_ = std::thread([this] { read_loop(); });
    const std::string root = "file://" + project_.string();
    uri_ = root + "/client_" + std::to_string(index_) + ".py";
    text_ = client_file(index_);
    if (!request_and_wait("initialize",
                          json::object{{"processId", getpid()},
                                       {"rootUri", root},
                                       {"capabilities", json::object{}},
                                       {"workspaceFolders", json::array{json::object{{"uri", root}, {"name", "load"}}}},
                                       {"initializationOptions", json::object{{"token", token_}}}})) {
      finish();
      return;
    }
    notify("initialized", json::object{});
    notify("textDocument/didOpen", json::object{{"textDocument", json::object{{"uri", uri_},
                                                                              {"languageId", "python"},
                                                                              {"version", version_},
                                                                              {"text", text_}}}});
    // Clients start spread over one period, as editors do.
    const auto period = std::chrono::microseconds(1000000 / o_.rate);
    auto next = start + period * index_ / std::max(1u, o_.clients);
    const size_t base = text_.size();
    size_t typed = 0;
    unsigned pass = 0;
    auto script_of = [&](unsigned n) { return "    # pass " + std::to_string(n) + "\n" + kTyped; };
    std::string script = script_of(pass);
    while (Clock::now() < stop && !lost_) {
      std::this_thread::sleep_until(next);
      next += period;
      if (typed == script.size()) {
        // Delete what was typed and start again.
        json::value range = range_of(base, text_.size());
        text_.resize(base);
        typed = 0;
        script = script_of(++pass);
        send_change(range, "");
        continue;
      }
      const size_t at = text_.size();
      std::string ch(1, script[typed++]);
      json::value range = range_of(at, at);
      text_ += ch;
      send_change(range, ch);
      auto [line, character] = position_of(text_.size());
      json::object params{{"textDocument", json::object{{"uri", uri_}}},
                          {"position", json::object{{"line", line}, {"character", character}}},
                          {"context", json::object{{"triggerKind", 2}}}};
      send_request("textDocument/inlineCompletion", std::move(params));
    }
    // The answers still on their way.
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::seconds(o_.drain), [&] { return pending_.empty() || lost_; });
      std::lock_guard tl(totals_.mu);
      totals_.unanswered += pending_.size();
    }
    if (!lost_) request_and_wait("shutdown", nullptr);
    if (!lost_) notify("exit", nullptr);
    finish();
  }

 private:
  struct Pending {
    std::string method;
    Clock::time_point sent;
    bool wait = false;  // initialize/shutdown: run() waits for it
  };

  bool connect_socket() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      totals_.error("client " + std::to_string(index_) + ": cannot connect: " + std::strerror(errno));
      return false;
    }
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return true;
  }

  void finish() {
    if (fd_ >= 0) shutdown(fd_, SHUT_RDWR);
    if (reader_.joinable()) reader_.join();
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  // The document's lines are ASCII, so UTF-16 characters are bytes.
  std::pair<int64_t, int64_t> position_of(size_t offset) const {
    int64_t line = std::count(text_.begin(), text_.begin() + static_cast<std::ptrdiff_t>(offset), '\n');
    size_t start = text_.rfind('\n', offset == 0 ? 0 : offset - 1);
    start = (start == std::string::npos || offset == 0) ? 0 : start + 1;
    return {line, static_cast<int64_t>(offset - start)};
  }
  json::value range_of(size_t begin, size_t end) const {
    auto [l0, c0] = position_of(begin);
    auto [l1, c1] = position_of(end);
    return json::object{{"start", json::object{{"line", l0}, {"character", c0}}},
                        {"end", json::object{{"line", l1}, {"character", c1}}}};
  }

  void send_change(json::value range, const std::string& text) {
    notify("textDocument/didChange",
           json::object{{"textDocument", json::object{{"uri", uri_}, {"version", ++version_}}},
                        {"contentChanges", json::array{json::object{{"range", std::move(range)}, {"text", text}}}}});
  }

  void write_all(const std::string& body) {
    std::string frame = astfill::lsp::encode_frame(body);
    std::lock_guard lock(write_mu_);
    size_t off = 0;
    while (off < frame.size()) {
      ssize_t n = ::send(fd_, frame.data() + off, frame.size() - off, MSG_NOSIGNAL);
      if (n <= 0) {
        lose("the connection failed while sending: " + std::string(std::strerror(errno)));
        return;
      }
      off += static_cast<size_t>(n);
    }
  }

  void notify(const char* method, json::value params) {
    json::object m{{"jsonrpc", "2.0"}, {"method", method}};
    if (!params.is_null()) m["params"] = std::move(params);
    write_all(json::serialize(m));
  }

  int64_t send_request(const char* method, json::value params, bool wait = false) {
    int64_t id;
    {
      std::lock_guard lock(mu_);
      id = next_id_++;
      pending_[id] = Pending{method, Clock::now(), wait};
    }
    if (!wait) {
      std::lock_guard lock(totals_.mu);
      ++totals_.requests;
    }
    json::object m{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
    if (!params.is_null()) m["params"] = std::move(params);
    write_all(json::serialize(m));
    return id;
  }

  bool request_and_wait(const char* method, json::value params) {
    int64_t id = send_request(method, std::move(params), true);
    std::unique_lock lock(mu_);
    bool done = cv_.wait_for(lock, std::chrono::seconds(60), [&] { return !pending_.count(id) || lost_; });
    if (!done) {
      pending_.erase(id);
      totals_.error("client " + std::to_string(index_) + ": no answer to " + method + " in 60 s");
      return false;
    }
    return !lost_;
  }

  void lose(const std::string& why) {
    bool first = false;
    {
      std::lock_guard lock(mu_);
      if (!lost_ && !closing_) first = true;
      lost_ = true;
    }
    cv_.notify_all();
    if (first) {
      {
        std::lock_guard lock(totals_.mu);
        ++totals_.sessions_lost;
      }
      totals_.error("client " + std::to_string(index_) + ": " + why);
    }
  }

  void read_loop() {
    char buf[65536];
    astfill::lsp::FrameDecoder::Sink sink{
        [this](std::string body) { on_message(body); },
        [this](astfill::lsp::FrameError e) { totals_.error("client " + std::to_string(index_) + ": bad frame: " + e.message); }};
    for (;;) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      decoder_.feed(std::string_view(buf, static_cast<size_t>(n)), sink);
    }
    bool expected;
    {
      std::lock_guard lock(mu_);
      expected = shutdown_answered_;
    }
    if (!expected) lose("the daemon closed the connection");
    std::lock_guard lock(mu_);
    lost_ = true;
    cv_.notify_all();
  }

  void on_message(const std::string& body) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec || !v.is_object()) {
      totals_.error("client " + std::to_string(index_) + ": a message that is not a JSON object");
      return;
    }
    const auto& m = v.get_object();
    const json::value* id = m.if_contains("id");
    const json::value* method = m.if_contains("method");
    if (method) {
      // A request from the server (workDoneProgress/create, configuration):
      // answered with null, as a minimal client does. Notifications: ignored.
      if (id) {
        json::object reply{{"jsonrpc", "2.0"}, {"id", *id}, {"result", nullptr}};
        write_all(json::serialize(reply));
      }
      return;
    }
    if (!id || !id->is_int64()) {
      totals_.error("client " + std::to_string(index_) + ": a response with an id it never sent: " + body.substr(0, 200));
      return;
    }
    Pending p;
    {
      std::lock_guard lock(mu_);
      auto it = pending_.find(id->get_int64());
      if (it == pending_.end()) {
        totals_.error("client " + std::to_string(index_) + ": a second response to id " + std::to_string(id->get_int64()));
        return;
      }
      p = it->second;
      pending_.erase(it);
      if (p.method == "shutdown") shutdown_answered_ = closing_ = true;
    }
    cv_.notify_all();
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - p.sent).count();
    if (const json::value* err = m.if_contains("error")) {
      int64_t code = 0;
      std::string message;
      if (err->is_object()) {
        if (auto* c = err->get_object().if_contains("code"); c && c->is_int64()) code = c->get_int64();
        if (auto* s = err->get_object().if_contains("message"); s && s->is_string()) message = s->get_string();
      }
      if (!p.wait && code == -32800 && message.find("superseded") != std::string::npos) {
        std::lock_guard lock(totals_.mu);
        ++totals_.superseded;
      } else if (!p.wait && (code == -32800 || code == -32801)) {
        std::lock_guard lock(totals_.mu);
        ++totals_.cancelled;
      } else {
        totals_.error("client " + std::to_string(index_) + ": " + p.method + ": error " + std::to_string(code) +
                      ": " + message);
      }
      return;
    }
    if (p.wait) return;
    const json::value* result = m.if_contains("result");
    bool nonempty = false;
    if (result && result->is_object())
      if (auto* items = result->get_object().if_contains("items"); items && items->is_array())
        for (auto& item : items->get_array())
          if (auto* t = item.is_object() ? item.get_object().if_contains("insertText") : nullptr;
              t && t->is_string() && !t->get_string().empty())
            nonempty = true;
    std::lock_guard lock(totals_.mu);
    ++totals_.answered;
    if (nonempty) ++totals_.answered_nonempty;
    totals_.latency_ms.push_back(ms);
  }

  unsigned index_;
  const Options& o_;
  int port_;
  fs::path project_;
  std::string token_;
  Totals& totals_;
  int fd_ = -1;
  std::thread reader_;
  astfill::lsp::FrameDecoder decoder_;
  std::mutex write_mu_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<int64_t, Pending> pending_;
  int64_t next_id_ = 1;
  std::atomic<bool> lost_{false};
  bool closing_ = false, shutdown_answered_ = false;
  std::string uri_, text_;
  int64_t version_ = 1;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

double round1(double x) { return std::round(x * 10) / 10; }

// JSON text with doubles as plain decimals ("12.5", not Boost.JSON's "1.25E1").
std::string to_text(const json::value& v) {
  switch (v.kind()) {
    case json::kind::double_: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.1f", v.get_double());
      return buf;
    }
    case json::kind::array: {
      std::string out = "[";
      for (const auto& e : v.get_array()) out += (out.size() > 1 ? "," : "") + to_text(e);
      return out + "]";
    }
    case json::kind::object: {
      std::string out = "{";
      for (const auto& [k, e] : v.get_object())
        out += (out.size() > 1 ? "," : "") + json::serialize(json::value(k)) + ":" + to_text(e);
      return out + "}";
    }
    default:
      return json::serialize(v);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  astfill::bench::ArgParser args(
      "bench_load",
      "The daemon under load: N clients over TCP (loopback) against `astfill serve --listen`, each\n"
      "authenticated with a token, typing into its own file of a small generated project with a\n"
      "keystroke (didChange) and a textDocument/inlineCompletion request at a set rate. Prints one\n"
      "JSON object: answered / superseded / cancelled / errors, the answered requests' latency\n"
      "(p50/p95/p99), and the daemon's RSS over time with its growth after the warm-up. Exits 1 on\n"
      "any error response, unanswered request, lost session or daemon crash.");
  using astfill::bench::count_value;
  using astfill::bench::text_value;
  args.option("--astfill", "PATH", "the daemon binary (default: this build's)", text_value(o.binary));
  args.option("--model", "PATH", "model for the daemon (default: its own, the bundled model)", text_value(o.model));
  args.option("--clients", "N", "clients at once (default 8)", count_value(o.clients, "client count", 1, 256));
  args.option("--rate", "R", "requests per second per client (default 10)", count_value(o.rate, "rate", 1, 1000));
  args.option("--seconds", "S", "how long the clients type (default 60)", count_value(o.seconds, "duration", 1, 86400));
  args.option("--warmup", "S", "seconds before RSS growth is measured (default: min(120, seconds/5))",
              count_value(o.warmup, "warm-up", 0, 86400));
  args.option("--threads", "N", "the daemon's model threads (default: its own)", count_value(o.threads, "thread count", 1, 1024));
  args.option("--workers", "N", "the daemon's completion workers (default: its own)", count_value(o.workers, "worker count", 1, 64));
  args.option("--drain", "S", "seconds to wait for the last answers (default 30)", count_value(o.drain, "drain time", 0, 3600));
  args.option("--rss-interval-ms", "MS", "how often RSS is sampled (default 1000)",
              count_value(o.rss_interval_ms, "interval", 10, 600000));
  args.flag("--no-index", "start the daemon with --no-index", [&] { o.no_index = true; });
  astfill::bench::parse_args_or_exit(args, "bench_load", argc, argv);
  if (!o.warmup) o.warmup = std::min(120u, o.seconds / 5);

  char tmpl[] = "/tmp/astfill-bench-load-XXXXXX";
  if (!mkdtemp(tmpl)) {
    std::fprintf(stderr, "bench_load: mkdtemp: %s\n", std::strerror(errno));
    return 1;
  }
  const fs::path dir = tmpl;
  const fs::path project = dir / "project";
  fs::create_directories(project);
  std::ofstream(project / "inventory.py") << kModule;
  for (unsigned i = 0; i < o.clients; ++i) std::ofstream(project / ("client_" + std::to_string(i) + ".py")) << client_file(i);
  std::string token;
  {
    std::random_device rd;
    std::mt19937_64 rng(rd());
    char hex[33];
    std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                  static_cast<unsigned long long>(rng()));
    token = hex;
    const std::string token_file = (dir / "token").string();
    int fd = ::open(token_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, token.data(), token.size()) != static_cast<ssize_t>(token.size())) {
      std::fprintf(stderr, "bench_load: cannot write %s\n", token_file.c_str());
      return 1;
    }
    close(fd);
  }

  Daemon daemon;
  try {
    daemon = start_daemon(o, dir, (dir / "token").string());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_load: %s\n", e.what());
    return 1;
  }

  Totals totals;
  const auto start = Clock::now() + std::chrono::milliseconds(200);
  const auto stop = start + std::chrono::seconds(o.seconds);
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < o.clients; ++i) {
    clients.push_back(std::make_unique<Client>(i, o, daemon.port, project, token, totals));
    threads.emplace_back([&, i] { clients[i]->run(start, stop); });
  }

  // RSS over time while the clients run (and drain).
  std::atomic<bool> done{false};
  std::vector<std::pair<double, long>> rss;  // seconds since start, kB
  std::thread sampler([&] {
    while (!done) {
      if (!daemon.alive()) break;
      double t = std::chrono::duration<double>(Clock::now() - start).count();
      long kb = rss_kb(daemon.pid);
      if (kb > 0) rss.emplace_back(std::max(0.0, t), kb);
      std::this_thread::sleep_for(std::chrono::milliseconds(o.rss_interval_ms));
    }
  });
  for (auto& t : threads) t.join();
  done = true;
  sampler.join();

  const bool crashed = !daemon.alive();
  std::string exit_text = crashed ? describe_exit(*daemon.status) : "running until stopped";
  if (!crashed) {
    kill(daemon.pid, SIGTERM);
    for (int i = 0; i < 100 && daemon.alive(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (daemon.alive()) {
      kill(daemon.pid, SIGKILL);
      waitpid(daemon.pid, nullptr, 0);
      exit_text = "did not stop within 10 s of SIGTERM";
    } else {
      exit_text = "after SIGTERM: " + describe_exit(*daemon.status);
    }
  }

  // RSS: the sample nearest the end of the warm-up, the last one while the
  // clients typed, and one sample per 10 s for the series.
  auto rss_at = [&](double t) -> long {
    long best = -1;
    double dist = 1e18;
    for (auto& [s, kb] : rss)
      if (std::abs(s - t) < dist) dist = std::abs(s - t), best = kb;
    return best;
  };
  const long rss_warm = rss_at(o.warmup), rss_end = rss_at(o.seconds);
  long rss_max = 0;
  json::array series;
  double next_point = 0;
  for (auto& [s, kb] : rss) {
    rss_max = std::max(rss_max, kb);
    if (s >= next_point) {
      series.push_back(json::array{round1(s), round1(static_cast<double>(kb) / 1024)});
      next_point = s + 10;
    }
  }

  std::lock_guard lock(totals.mu);
  const double elapsed = static_cast<double>(o.seconds);
  json::object out{
      {"clients", o.clients},
      {"rate_per_client", o.rate},
      {"seconds", o.seconds},
      {"model", o.model.empty() ? "the daemon's default (bundled)" : o.model},
      {"requests", totals.requests},
      {"requests_per_s", round1(static_cast<double>(totals.requests) / elapsed)},
      {"answered", totals.answered},
      {"answered_nonempty", totals.answered_nonempty},
      {"superseded", totals.superseded},
      {"cancelled", totals.cancelled},
      {"errors", totals.errors},
      {"unanswered", totals.unanswered},
      {"sessions_lost", totals.sessions_lost},
      {"error_samples", json::value_from(totals.error_samples)},
      {"latency_ms", json::object{{"p50", round1(percentile(totals.latency_ms, 50))},
                                  {"p95", round1(percentile(totals.latency_ms, 95))},
                                  {"p99", round1(percentile(totals.latency_ms, 99))},
                                  {"max", round1(percentile(totals.latency_ms, 100))}}},
      {"rss_mb", json::object{{"warmup_s", o.warmup},
                              {"at_warmup", round1(static_cast<double>(rss_warm) / 1024)},
                              {"at_end", round1(static_cast<double>(rss_end) / 1024)},
                              {"max", round1(static_cast<double>(rss_max) / 1024)},
                              {"growth_after_warmup_pct",
                               rss_warm > 0 ? round1(100.0 * static_cast<double>(rss_end - rss_warm) /
                                                     static_cast<double>(rss_warm))
                                            : 0.0},
                              {"series", series}}},
      {"daemon_crashed", crashed},
      {"daemon_exit", exit_text},
  };
  const bool failed = crashed || totals.errors || totals.unanswered || totals.sessions_lost;
  if (failed) out["daemon_log"] = (dir / "daemon.log").string();  // kept for a look
  else fs::remove_all(dir);
  std::printf("%s\n", to_text(out).c_str());
  return failed ? 1 : 0;
}
