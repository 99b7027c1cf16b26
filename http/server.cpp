#include "http/server.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "support/log.h"
#include "support/signals.h"

namespace astfill::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

bool is_loopback_host(const std::string& host) {
  return host.rfind("127.", 0) == 0 || host == "::1" || host == "localhost";
}

namespace {

bool same_secret(std::string_view a, std::string_view b) {
  // Constant time in the presented token's content.
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i % (b.empty() ? 1 : b.size())]);
  return diff == 0;
}

std::string new_id() {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t salt = std::random_device{}();
  char buf[40];
  std::snprintf(buf, sizeof buf, "cmpl-%08llx%06llx", static_cast<unsigned long long>(salt & 0xffffffffu),
                static_cast<unsigned long long>(++counter));
  return buf;
}

// Everything the connections share.
struct ServerState {
  ServerState(const HttpOptions& o, std::shared_ptr<Completions> c) : options(o), completions(std::move(c)) {}
  const HttpOptions& options;
  std::shared_ptr<Completions> completions;
  std::atomic<unsigned> in_flight{0};
  std::atomic<uint64_t> answered{0};  // completion requests past the limits
  std::mutex mu;
  std::condition_variable idle;
  unsigned connections = 0;
  std::set<int> sockets;                       // open connections' descriptors, to shut them at the end
  std::set<std::shared_ptr<CancellationSource>> running;  // requests in flight, cancelled at the end
  bool stopping = false;
};

using Request = bhttp::request<bhttp::string_body>;

class Connection {
 public:
  Connection(ServerState& state, tcp::socket socket) : state_(state), socket_(std::move(socket)) {}

  void serve() {
    beast::flat_buffer buffer;
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(state_.options.max_body_bytes);
      parser.header_limit(64 * 1024);
      beast::error_code ec;
      bhttp::read(socket_, buffer, parser, ec);
      if (ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
          ec == asio::error::operation_aborted)
        return;
      if (ec == bhttp::error::body_limit) {
        send_error(ApiError{413,
                            "the body is larger than this server's limit of " +
                                std::to_string(state_.options.max_body_bytes) + " bytes",
                            "invalid_request_error", "request_too_large", ""},
                   11, false);
        return;
      }
      if (ec) {
        // A timeout on an idle connection, or bytes that are not HTTP.
        if (ec != asio::error::would_block && ec != asio::error::try_again && ec != asio::error::timed_out)
          send_error(ApiError{400, "not an HTTP request: " + ec.message(), "invalid_request_error", "bad_request", ""},
                     11, false);
        return;
      }
      Request request = parser.release();
      keep_alive_ = request.keep_alive();
      version_ = request.version();
      if (!handle(request) || !keep_alive_) break;
    }
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
  }

 private:
  // Returns false when the connection must close.
  bool handle(const Request& request) {
    std::string target(request.target());
    if (auto q = target.find('?'); q != std::string::npos) target.resize(q);
    bool get = request.method() == bhttp::verb::get;
    bool post = request.method() == bhttp::verb::post;

    if (target == "/health") {
      if (!get) return method_not_allowed("GET");
      std::string model = state_.completions->model_name();
      if (model.empty())
        return send_error(ApiError{503, "no model is loaded", "server_error", "model_not_loaded", ""}, version_,
                          keep_alive_);
      // completion_requests: answered since start (benchmarks count re-requests by it).
      return send_json(200, json::object{{"status", "ok"}, {"model", model},
                                         {"completion_requests", state_.answered.load()}});
    }
    if (!authorized(request)) {
      bhttp::response<bhttp::string_body> res{bhttp::status::unauthorized, version_};
      res.set(bhttp::field::www_authenticate, "Bearer");
      return send(std::move(res), error_json(ApiError{401, "a bearer token is required (Authorization: Bearer TOKEN)",
                                                      "authentication_error", "invalid_api_key", ""}));
    }
    if (target == "/v1/models" || target == "/models") {
      if (!get) return method_not_allowed("GET");
      return send_json(200, models_json(state_.completions->model_name(), std::time(nullptr)));
    }
    std::optional<Endpoint> endpoint;
    if (target == "/v1/completions" || target == "/completions") endpoint = Endpoint::OpenAICompletions;
    else if (target == "/completion") endpoint = Endpoint::LlamaCompletion;
    else if (target == "/infill") endpoint = Endpoint::LlamaInfill;
    if (!endpoint)
      return send_error(ApiError{404, "no route " + std::string(request.method_string()) + " " + target, "not_found_error",
                                 "not_found", ""},
                        version_, keep_alive_);
    if (!post) return method_not_allowed("POST");
    return complete(*endpoint, request);
  }

  bool authorized(const Request& request) const {
    if (!state_.options.token) return true;
    auto it = request.find(bhttp::field::authorization);
    if (it == request.end()) return false;
    std::string_view value(it->value().data(), it->value().size());
    constexpr std::string_view kBearer = "Bearer ";
    if (value.size() <= kBearer.size() || value.substr(0, kBearer.size()) != kBearer) return false;
    return same_secret(value.substr(kBearer.size()), *state_.options.token);
  }

  bool complete(Endpoint endpoint, const Request& request) {
    auto parsed = parse_query(endpoint, request.body());
    if (auto* e = std::get_if<ApiError>(&parsed)) return send_error(*e, version_, keep_alive_);
    const CompletionQuery& query = std::get<CompletionQuery>(parsed);

    // The concurrency cap.
    unsigned before = state_.in_flight.fetch_add(1);
    struct Release {
      std::atomic<unsigned>& n;
      ~Release() { n.fetch_sub(1); }
    } release{state_.in_flight};
    if (before >= state_.options.max_concurrent) {
      bhttp::response<bhttp::string_body> res{bhttp::status::too_many_requests, version_};
      res.set(bhttp::field::retry_after, "1");
      return send(std::move(res),
                  error_json(ApiError{429,
                                      "this server answers " + std::to_string(state_.options.max_concurrent) +
                                          " completion requests at once; try again shortly",
                                      "rate_limit_error", "too_many_requests", ""}));
    }
    state_.answered.fetch_add(1);
    auto source = std::make_shared<CancellationSource>();
    {
      std::lock_guard lock(state_.mu);
      if (state_.stopping) source->cancel(CancelReason::Shutdown);
      state_.running.insert(source);
    }
    struct Forget {
      ServerState& s;
      std::shared_ptr<CancellationSource> source;
      ~Forget() {
        std::lock_guard lock(s.mu);
        s.running.erase(source);
      }
    } forget{state_, source};

    AnswerIdentity who{new_id(), state_.completions->model_name(), static_cast<int64_t>(std::time(nullptr))};
    if (!query.model.empty() && query.model != who.model) who.model = query.model;
    bool headers_sent = false;
    bool write_failed = false;
    size_t offset = 0;
    Completions::Sink sink;
    if (query.stream) {
      sink = [&](std::string_view text, const std::vector<TokenInfo>& tokens) {
        if (!headers_sent && !(headers_sent = start_stream())) return !(write_failed = true);
        if (!send_event(json::serialize(piece_json(query, text, tokens, offset, who)))) return !(write_failed = true);
        offset += text.size();
        return true;
      };
    }
    std::variant<CompletionAnswer, ApiError> result;
    try {
      result = state_.completions->run(query, source->token(), sink);
    } catch (const std::exception& e) {
      log::error("http: a completion failed: ", e.what());
      result = ApiError{500, std::string("the completion failed: ") + e.what(), "server_error", "internal_error", ""};
    }
    if (write_failed) return false;  // the client went away
    if (auto* e = std::get_if<ApiError>(&result)) {
      if (!headers_sent) return send_error(*e, version_, keep_alive_);
      // Mid-stream: the error as the last event.
      send_event(json::serialize(error_json(*e)));
      return end_stream(query);
    }
    const CompletionAnswer& answer = std::get<CompletionAnswer>(result);
    if (!query.stream) return send_json(200, answer_json(query, answer, who));
    if (!headers_sent && !(headers_sent = start_stream())) return false;
    if (!send_event(json::serialize(final_piece_json(query, answer, who)))) return false;
    return end_stream(query);
  }

  // ---- Streams (SSE in chunked transfer encoding)

  bool start_stream() {
    bhttp::response<bhttp::empty_body> res{bhttp::status::ok, version_};
    res.set(bhttp::field::content_type, "text/event-stream");
    res.set(bhttp::field::cache_control, "no-cache");
    res.keep_alive(keep_alive_);
    res.chunked(true);
    bhttp::response_serializer<bhttp::empty_body> sr{res};
    beast::error_code ec;
    bhttp::write_header(socket_, sr, ec);
    return !ec;
  }

  bool send_event(const std::string& data) {
    std::string event = "data: " + data + "\n\n";
    beast::error_code ec;
    asio::write(socket_, bhttp::make_chunk(asio::buffer(event)), ec);
    return !ec;
  }

  bool end_stream(const CompletionQuery& query) {
    if (query.endpoint == Endpoint::OpenAICompletions && !send_event("[DONE]")) return false;
    beast::error_code ec;
    asio::write(socket_, bhttp::make_chunk_last(), ec);
    return !ec && keep_alive_;
  }

  // ---- Plain answers

  bool method_not_allowed(const char* allowed) {
    bhttp::response<bhttp::string_body> res{bhttp::status::method_not_allowed, version_};
    res.set(bhttp::field::allow, allowed);
    return send(std::move(res), error_json(ApiError{405, std::string("use ") + allowed, "invalid_request_error",
                                                    "method_not_allowed", ""}));
  }

  bool send_error(const ApiError& e, unsigned version, bool keep_alive) {
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(e.status == 499 ? 500 : e.status), version};
    res.keep_alive(keep_alive);
    return send(std::move(res), error_json(e));
  }

  bool send_json(int status, const json::object& body) {
    return send(bhttp::response<bhttp::string_body>{static_cast<bhttp::status>(status), version_}, body);
  }

  bool send(bhttp::response<bhttp::string_body> res, const json::object& body) {
    res.set(bhttp::field::server, "astfill");
    res.set(bhttp::field::content_type, "application/json");
    if (res.version() == 0) res.version(11);
    res.keep_alive(keep_alive_ && res.keep_alive());
    res.body() = json::serialize(body);
    res.prepare_payload();
    beast::error_code ec;
    bhttp::write(socket_, res, ec);
    return !ec && res.keep_alive();
  }

  ServerState& state_;
  tcp::socket socket_;
  bool keep_alive_ = true;
  unsigned version_ = 11;
};

}  // namespace

int serve_http(const HttpOptions& options, std::shared_ptr<Completions> completions) {
  asio::io_context io;
  tcp::acceptor acceptor(io);
  beast::error_code ec;
  auto address = asio::ip::make_address(options.host == "localhost" ? "127.0.0.1" : options.host, ec);
  if (ec) {
    std::fprintf(stderr, "astfill serve: '%s' is not an IP address\n", options.host.c_str());
    return 2;
  }
  tcp::endpoint endpoint(address, static_cast<unsigned short>(options.port));
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::fprintf(stderr, "astfill serve: cannot listen on %s:%d: %s\n", options.host.c_str(), options.port,
                 ec.message().c_str());
    return 1;
  }
  auto bound = acceptor.local_endpoint();
  log::info("http: listening on ", bound.address().to_string(), ":", bound.port(),
            options.token ? " (token required)" : "");
  if (options.on_listening) options.on_listening(bound.address().to_string(), bound.port());

  ServerState state(options, std::move(completions));
  // SIGINT and SIGTERM come from the signal thread (support/signals.h): stop
  // accepting, on io's thread.
  const support::OnTerminationSignal on_signal([&](int signum) {
    asio::post(io, [&acceptor, signum] {
      log::info("http: signal ", signum, ": stopping");
      beast::error_code ignored;
      acceptor.close(ignored);
    });
  });

  std::function<void()> accept = [&] {
    acceptor.async_accept([&](beast::error_code aec, tcp::socket socket) {
      if (aec) return;  // closed: stopping
      {
        std::lock_guard lock(state.mu);
        if (state.connections >= options.max_connections) {
          log::warn("http: ", options.max_connections, " connections open; refusing another");
          beast::error_code ignored;
          socket.close(ignored);
          accept();
          return;
        }
        ++state.connections;
        state.sockets.insert(socket.native_handle());
      }
      // An idle connection (no request, or a client that stops sending) is
      // closed after the idle timeout: the blocking read gives up.
      timeval tv{static_cast<time_t>(options.idle_timeout_s), 0};
      ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      socket.set_option(tcp::no_delay(true), aec);
      std::thread([&state, socket = std::move(socket)]() mutable {
        int fd = socket.native_handle();
        try {
          Connection(state, std::move(socket)).serve();
        } catch (const std::exception& e) {
          log::error("http: a connection failed: ", e.what());
        }
        std::lock_guard lock(state.mu);
        state.sockets.erase(fd);
        --state.connections;
        state.idle.notify_all();
      }).detach();
      accept();
    });
  };
  accept();
  io.run();

  // Stopping: cancel what runs, wake the connections' reads, wait for them.
  std::unique_lock lock(state.mu);
  state.stopping = true;
  for (const auto& s : state.running) s->cancel(CancelReason::Shutdown);
  for (int fd : state.sockets) ::shutdown(fd, SHUT_RDWR);
  state.idle.wait_for(lock, std::chrono::seconds(10), [&] { return state.connections == 0; });
  log::info("http: stopped");
  return 0;
}

}  // namespace astfill::http
