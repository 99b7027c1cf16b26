// LSP over stdin/stdout on the libuv loop.
//
// stdin may be a pipe (editors), a TTY (a person typing), a socket or a
// regular file (replayed transcripts); stdout a pipe, a TTY or a file. Pipes,
// sockets and TTYs are libuv streams; files are read with uv_fs_read and
// written synchronously. When input ends, requests already running still get
// their answers before the process exits.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

#include "lsp/transport.h"
#include "lsp/uv_session.h"
#include "support/log.h"
#include "support/signals.h"

namespace astfill::lsp {
namespace {

// Stop serving when the client stops reading and this much is queued.
constexpr size_t kMaxQueuedOutput = 256u << 20;

class StdioServer {
 public:
  explicit StdioServer(const TransportOptions& options) : options_(options) {
    uv_loop_init(&loop_);
  }

  int run() {
    poster_.emplace(&loop_);
    {
      WorkerPool workers(options_.workers);
      session_.emplace(options_.server, options_.max_message_bytes, workers, *poster_,
                       Session::Io{[this](std::string frame) { write(std::move(frame)); },
                                   [this](int code) { finish(code); },
                                   [this](std::string why) {
                                     log::warn("closing: ", why);
                                     finish(1);
                                   }});
      poster_->set_after_drain([this] { maybe_finish_after_eof(); });
      open_output();
      open_input();
      watch_signals();
      uv_run(&loop_, UV_RUN_DEFAULT);
      session_.reset();
    }  // workers joined here: their jobs are cancelled, late results dropped
    on_signal_.reset();
    poster_.reset();
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
    return exit_code_.value_or(1);
  }

 private:
  void open_output() {
    uv_handle_type type = uv_guess_handle(STDOUT_FILENO);
    if (type == UV_NAMED_PIPE) {
      out_pipe_ = std::make_unique<uv_pipe_t>();
      uv_pipe_init(&loop_, out_pipe_.get(), 0);
      if (uv_pipe_open(out_pipe_.get(), STDOUT_FILENO) == 0) {
        out_stream_ = reinterpret_cast<uv_stream_t*>(out_pipe_.get());
        return;
      }
    } else if (type == UV_TTY) {
      out_tty_ = std::make_unique<uv_tty_t>();
      if (uv_tty_init(&loop_, out_tty_.get(), STDOUT_FILENO, 0) == 0) {
        out_stream_ = reinterpret_cast<uv_stream_t*>(out_tty_.get());
        return;
      }
    } else if (type == UV_TCP) {
      out_tcp_ = std::make_unique<uv_tcp_t>();
      uv_tcp_init(&loop_, out_tcp_.get());
      if (uv_tcp_open(out_tcp_.get(), STDOUT_FILENO) == 0) {
        out_stream_ = reinterpret_cast<uv_stream_t*>(out_tcp_.get());
        return;
      }
    }
    out_stream_ = nullptr;  // a file or something libuv cannot poll: write synchronously
  }

  void open_input() {
    uv_handle_type type = uv_guess_handle(STDIN_FILENO);
    uv_stream_t* stream = nullptr;
    if (type == UV_NAMED_PIPE) {
      in_pipe_ = std::make_unique<uv_pipe_t>();
      uv_pipe_init(&loop_, in_pipe_.get(), 0);
      if (uv_pipe_open(in_pipe_.get(), STDIN_FILENO) == 0)
        stream = reinterpret_cast<uv_stream_t*>(in_pipe_.get());
    } else if (type == UV_TTY) {
      in_tty_ = std::make_unique<uv_tty_t>();
      if (uv_tty_init(&loop_, in_tty_.get(), STDIN_FILENO, 1) == 0)
        stream = reinterpret_cast<uv_stream_t*>(in_tty_.get());
    } else if (type == UV_TCP) {
      in_tcp_ = std::make_unique<uv_tcp_t>();
      uv_tcp_init(&loop_, in_tcp_.get());
      if (uv_tcp_open(in_tcp_.get(), STDIN_FILENO) == 0)
        stream = reinterpret_cast<uv_stream_t*>(in_tcp_.get());
    }
    if (stream) {
      in_stream_ = stream;
      stream->data = this;
      uv_read_start(
          stream,
          [](uv_handle_t*, size_t suggested, uv_buf_t* buf) {
            buf->base = new char[suggested];
            buf->len = suggested;
          },
          [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
            auto* self = static_cast<StdioServer*>(s->data);
            if (n > 0) self->on_input(std::string_view(buf->base, static_cast<size_t>(n)));
            delete[] buf->base;
            if (n < 0) self->on_input_end(n == UV_EOF ? nullptr : uv_strerror(static_cast<int>(n)));
          });
      return;
    }
    read_file_chunk();  // a regular file (or /dev/null): read through the fs thread pool
  }

  void read_file_chunk() {
    file_buf_.resize(64 * 1024);
    fs_req_.data = this;
    uv_buf_t buf = uv_buf_init(file_buf_.data(), static_cast<unsigned>(file_buf_.size()));
    reading_file_ = true;
    uv_fs_read(&loop_, &fs_req_, STDIN_FILENO, &buf, 1, -1, [](uv_fs_t* req) {
      auto* self = static_cast<StdioServer*>(req->data);
      ssize_t n = req->result;
      uv_fs_req_cleanup(req);
      self->reading_file_ = false;
      if (n > 0) {
        self->on_input(std::string_view(self->file_buf_.data(), static_cast<size_t>(n)));
        if (!self->finishing_) self->read_file_chunk();
      } else {
        self->on_input_end(n == 0 ? nullptr : uv_strerror(static_cast<int>(n)));
      }
    });
  }

  // SIGINT and SIGTERM come from the signal thread (support/signals.h) as a
  // closure posted to the loop.
  void watch_signals() {
    ::signal(SIGPIPE, SIG_IGN);  // a vanished client shows up as a write error instead
    on_signal_.emplace([this](int signum) {
      poster_->post([this, signum] {
        log::info("signal ", signum, ": stopping");
        if (session_) session_->disconnect();
        finish(128 + signum);
      });
    });
  }

  void on_input(std::string_view bytes) {
    if (finishing_ || !session_) return;
    session_->feed(bytes);
  }

  void on_input_end(const char* error) {
    if (error) log::warn("stdin: ", error);
    else log::debug("stdin: end of input");
    input_ended_ = true;
    stop_input();
    maybe_finish_after_eof();
  }

  // After the input ends, requests already running still get their answers.
  void maybe_finish_after_eof() {
    if (!input_ended_ || finishing_ || !session_) return;
    if (session_->server().in_flight() > 0) return;
    int code = session_->server().shutdown_requested() ? 0 : 1;
    session_->disconnect();
    finish(code);
  }

  void write(std::string frame) {
    if (finishing_) return;
    if (out_stream_) {
      if (uv_stream_get_write_queue_size(out_stream_) > kMaxQueuedOutput) {
        log::error("stdout: the client is not reading (", kMaxQueuedOutput >> 20,
                   " MiB queued); stopping");
        session_->disconnect();
        finish(1);
        return;
      }
      if (!uv_write_string(out_stream_, std::move(frame))) on_output_broken();
      return;
    }
    size_t done = 0;
    while (done < frame.size()) {
      ssize_t n = ::write(STDOUT_FILENO, frame.data() + done, frame.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return on_output_broken();
      done += static_cast<size_t>(n);
    }
  }

  void on_output_broken() {
    if (output_broken_) return;
    output_broken_ = true;
    log::warn("stdout: the client went away");
    if (session_) session_->disconnect();
    finish(1);
  }

  void stop_input() {
    if (in_stream_) {
      uv_read_stop(in_stream_);
      if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(in_stream_)))
        uv_close(reinterpret_cast<uv_handle_t*>(in_stream_), nullptr);
    } else if (reading_file_) {
      uv_cancel(reinterpret_cast<uv_req_t*>(&fs_req_));
    }
  }

  // Ends the session: stop reading, flush what is queued, close every handle.
  void finish(int code) {
    if (finishing_) return;
    finishing_ = true;
    exit_code_ = code;
    stop_input();
    on_signal_.reset();
    poster_->close();
    if (out_stream_ && !output_broken_) {
      // uv_shutdown waits for queued writes before closing our end.
      shutdown_req_.data = this;
      int rc = uv_shutdown(&shutdown_req_, out_stream_, [](uv_shutdown_t* req, int) {
        auto* self = static_cast<StdioServer*>(req->data);
        uv_close(reinterpret_cast<uv_handle_t*>(self->out_stream_), nullptr);
      });
      if (rc == 0) return;
    }
    if (out_stream_ && !uv_is_closing(reinterpret_cast<uv_handle_t*>(out_stream_)))
      uv_close(reinterpret_cast<uv_handle_t*>(out_stream_), nullptr);
  }

  const TransportOptions& options_;
  uv_loop_t loop_;
  std::optional<UvPoster> poster_;
  std::optional<Session> session_;
  std::unique_ptr<uv_pipe_t> in_pipe_, out_pipe_;
  std::unique_ptr<uv_tty_t> in_tty_, out_tty_;
  std::unique_ptr<uv_tcp_t> in_tcp_, out_tcp_;
  uv_stream_t* in_stream_ = nullptr;
  uv_stream_t* out_stream_ = nullptr;
  uv_fs_t fs_req_{};
  std::string file_buf_;
  bool reading_file_ = false;
  uv_shutdown_t shutdown_req_{};
  std::optional<support::OnTerminationSignal> on_signal_;  // posts to poster_: reset before it closes
  bool input_ended_ = false;
  bool finishing_ = false;
  bool output_broken_ = false;
  std::optional<int> exit_code_;
};

}  // namespace

int serve_stdio(const TransportOptions& options) {
  StdioServer server(options);
  return server.run();
}

}  // namespace astfill::lsp
