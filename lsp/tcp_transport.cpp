// LSP over TCP: every connection is its own session (documents, settings,
// lifecycle), all sharing one worker pool. Binds loopback unless told
// otherwise. With a token, a connection must authenticate in `initialize`
// within kAuthTimeout or it is closed; nothing else is served before that.
// Without one, an idle connection is left alone, as a stdio session would be.
#include <signal.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <set>

#include "lsp/transport.h"
#include "lsp/uv_session.h"
#include "support/log.h"
#include "support/signals.h"

namespace astfill::lsp {
namespace {

constexpr auto kAuthTimeout = std::chrono::seconds(10);
constexpr size_t kMaxQueuedOutput = 64u << 20;

class TcpServer;

class Connection {
 public:
  Connection(TcpServer& owner, uv_loop_t* loop, const TransportOptions& options,
             WorkerPool& workers, LoopPoster& poster, std::string peer);
  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&tcp_); }
  void start();
  // Closes the connection once queued writes are flushed.
  void close(const std::string& why);

 private:
  void write(std::string frame);
  void close_now();

  TcpServer& owner_;
  uv_tcp_t tcp_;
  uv_timer_t auth_timer_;
  uv_shutdown_t shutdown_req_;
  std::string peer_;
  std::optional<Session> session_;
  bool closing_ = false;
  bool requires_token_ = false;
  int handles_open_ = 2;
};

class TcpServer {
 public:
  explicit TcpServer(const TransportOptions& options) : options_(options) {
    uv_loop_init(&loop_);
  }

  int run() {
    ::signal(SIGPIPE, SIG_IGN);
    poster_.emplace(&loop_);
    int rc = 0;
    {
      WorkerPool workers(options_.workers);
      workers_ = &workers;
      rc = listen();
      if (rc == 0) {
        watch_signals();
        uv_run(&loop_, UV_RUN_DEFAULT);
      } else {
        stop();
        uv_run(&loop_, UV_RUN_DEFAULT);
      }
      workers_ = nullptr;
    }
    on_signal_.reset();
    poster_.reset();
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
    return rc;
  }

  void forget(Connection* c) {
    connections_.erase(c);
    delete c;
  }

 private:
  int listen() {
    sockaddr_storage addr{};
    std::string host = options_.host;
    if (uv_ip4_addr(host.c_str(), options_.port, reinterpret_cast<sockaddr_in*>(&addr)) != 0 &&
        uv_ip6_addr(host.c_str(), options_.port, reinterpret_cast<sockaddr_in6*>(&addr)) != 0) {
      log::error("--listen: '", host, "' is not an IPv4 or IPv6 address");
      return 2;
    }
    uv_tcp_init(&loop_, &listener_);
    listener_.data = this;
    listener_open_ = true;
    int rc = uv_tcp_bind(&listener_, reinterpret_cast<sockaddr*>(&addr), 0);
    if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 64, on_connection);
    if (rc != 0) {
      log::error("cannot listen on ", host, ":", options_.port, ": ", uv_strerror(rc));
      return 2;
    }
    sockaddr_storage bound{};
    int len = sizeof bound;
    uv_tcp_getsockname(&listener_, reinterpret_cast<sockaddr*>(&bound), &len);
    int port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                 : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    log::info("listening on ", host, ":", port,
              options_.server.auth_token ? " (token required)" : "");
    if (options_.on_listening) options_.on_listening(host, port);
    return 0;
  }

  static void on_connection(uv_stream_t* listener, int status) {
    auto* self = static_cast<TcpServer*>(listener->data);
    if (status < 0) {
      log::warn("accept: ", uv_strerror(status));
      return;
    }
    auto* c = new Connection(*self, &self->loop_, self->options_, *self->workers_, *self->poster_,
                             "tcp#" + std::to_string(++self->accepted_));
    if (uv_accept(listener, c->stream()) != 0) {
      c->close("accept failed");
      return;
    }
    self->connections_.insert(c);
    c->start();
  }

  // SIGINT and SIGTERM come from the signal thread (support/signals.h) as a
  // closure posted to the loop.
  void watch_signals() {
    on_signal_.emplace([this](int signum) {
      poster_->post([this, signum] {
        log::info("signal ", signum, ": stopping");
        stop();
      });
    });
  }

  void stop() {
    on_signal_.reset();
    if (listener_open_) {
      listener_open_ = false;
      uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
    }
    auto open = connections_;
    for (auto* c : open) c->close("server stopping");
    poster_->close();
  }

  const TransportOptions& options_;
  uv_loop_t loop_;
  uv_tcp_t listener_{};
  bool listener_open_ = false;
  std::optional<UvPoster> poster_;
  WorkerPool* workers_ = nullptr;
  std::set<Connection*> connections_;
  std::optional<support::OnTerminationSignal> on_signal_;  // posts to poster_: reset before it closes
  uint64_t accepted_ = 0;
};

Connection::Connection(TcpServer& owner, uv_loop_t* loop, const TransportOptions& options,
                       WorkerPool& workers, LoopPoster& poster, std::string peer)
    : owner_(owner), peer_(std::move(peer)) {
  uv_tcp_init(loop, &tcp_);
  uv_timer_init(loop, &auth_timer_);
  tcp_.data = this;
  auth_timer_.data = this;
  ServerOptions server = options.server;
  server.peer = peer_;
  requires_token_ = server.auth_token.has_value();
  session_.emplace(server, options.max_message_bytes, workers, poster,
                   Session::Io{[this](std::string frame) { write(std::move(frame)); },
                               [this](int) { close("exit"); },
                               [this](std::string why) { close(why); }});
}

void Connection::start() {
  sockaddr_storage addr{};
  int len = sizeof addr;
  char name[INET6_ADDRSTRLEN] = "?";
  if (uv_tcp_getpeername(&tcp_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    if (addr.ss_family == AF_INET6)
      uv_ip6_name(reinterpret_cast<sockaddr_in6*>(&addr), name, sizeof name);
    else
      uv_ip4_name(reinterpret_cast<sockaddr_in*>(&addr), name, sizeof name);
  }
  log::info(peer_, ": connected from ", name);
  if (requires_token_) {
    uv_timer_start(
        &auth_timer_,
        [](uv_timer_t* t) {
          auto* self = static_cast<Connection*>(t->data);
          if (self->session_ && !self->session_->server().initialized())
            self->close("no initialize within " + std::to_string(kAuthTimeout.count()) + " s");
        },
        std::chrono::duration_cast<std::chrono::milliseconds>(kAuthTimeout).count(), 0);
  }
  uv_read_start(
      stream(),
      [](uv_handle_t*, size_t suggested, uv_buf_t* buf) {
        buf->base = new char[suggested];
        buf->len = suggested;
      },
      [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
        auto* self = static_cast<Connection*>(s->data);
        if (n > 0 && !self->closing_ && self->session_) {
          self->session_->feed(std::string_view(buf->base, static_cast<size_t>(n)));
          if (self->session_ && self->session_->server().initialized())
            uv_timer_stop(&self->auth_timer_);
        }
        delete[] buf->base;
        if (n < 0) self->close(n == UV_EOF ? "client closed the connection"
                                           : std::string("read error: ") + uv_strerror(static_cast<int>(n)));
      });
}

void Connection::write(std::string frame) {
  if (closing_) return;
  if (uv_stream_get_write_queue_size(stream()) > kMaxQueuedOutput) {
    close("client is not reading its responses");
    return;
  }
  if (!uv_write_string(stream(), std::move(frame))) close("write failed");
}

void Connection::close(const std::string& why) {
  if (closing_) return;
  closing_ = true;
  log::info(peer_, ": closing (", why, ")");
  if (session_) session_->disconnect();
  uv_read_stop(stream());
  uv_timer_stop(&auth_timer_);
  shutdown_req_.data = this;
  if (uv_shutdown(&shutdown_req_, stream(), [](uv_shutdown_t* req, int) {
        static_cast<Connection*>(req->data)->close_now();
      }) != 0)
    close_now();
}

void Connection::close_now() {
  auto on_closed = [](uv_handle_t* h) {
    auto* self = static_cast<Connection*>(h->data);
    if (--self->handles_open_ == 0) self->owner_.forget(self);
  };
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&tcp_)))
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_closed);
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&auth_timer_)))
    uv_close(reinterpret_cast<uv_handle_t*>(&auth_timer_), on_closed);
}

}  // namespace

int serve_tcp(const TransportOptions& options) {
  TcpServer server(options);
  return server.run();
}

}  // namespace astfill::lsp
