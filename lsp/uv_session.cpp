#include "lsp/uv_session.h"

#include "support/log.h"

namespace astfill::lsp {

UvPoster::UvPoster(uv_loop_t* loop) : async_(new uv_async_t) {
  uv_async_init(loop, async_, &UvPoster::on_async);
  async_->data = this;
}

UvPoster::~UvPoster() {
  std::lock_guard lock(mu_);
  closed_ = true;
}

void UvPoster::post(std::function<void()> fn) {
  std::lock_guard lock(mu_);
  if (closed_) return;
  queue_.push_back(std::move(fn));
  uv_async_send(async_);
}

void UvPoster::close() {
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
    queue_.clear();
  }
  async_->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(async_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
}

void UvPoster::on_async(uv_async_t* handle) {
  auto* self = static_cast<UvPoster*>(handle->data);
  if (!self) return;
  std::deque<std::function<void()>> batch;
  {
    std::lock_guard lock(self->mu_);
    batch.swap(self->queue_);
  }
  for (auto& fn : batch) fn();
  if (self->after_drain_) self->after_drain_();
}

Session::Session(ServerOptions options, size_t max_message_bytes, WorkerPool& workers,
                 LoopPoster& loop, Io io)
    : decoder_(max_message_bytes) {
  auto write = io.write;
  server_ = LanguageServer::create(
      std::move(options), workers, loop,
      LanguageServer::Callbacks{[write](std::string body) { write(encode_frame(body)); },
                                std::move(io.exit), std::move(io.close)});
  LanguageServer* server = server_.get();
  sink_.message = [server](std::string body) { server->on_message(body); };
  sink_.error = [server](FrameError error) {
    // An oversized body is a well-framed message we refuse; anything else is
    // a stream we could not parse.
    server->on_framing_error(error.message, error.kind == FrameError::Kind::TooLarge
                                                ? ErrorCode::InvalidRequest
                                                : ErrorCode::ParseError);
  };
}

void Session::feed(std::string_view bytes) { decoder_.feed(bytes, sink_); }

void Session::disconnect() {
  if (decoder_.mid_message()) log::warn("input ended in the middle of a message; it was discarded");
  server_->on_disconnect();
}

namespace {
struct WriteRequest {
  uv_write_t req;
  std::string data;
};
}  // namespace

bool uv_write_string(uv_stream_t* stream, std::string data) {
  auto* w = new WriteRequest;
  w->data = std::move(data);
  uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
  int rc = uv_write(&w->req, stream, &buf, 1, [](uv_write_t* req, int status) {
    if (status < 0 && status != UV_ECANCELED)
      log::debug("write failed: ", uv_strerror(status));
    delete reinterpret_cast<WriteRequest*>(req);
  });
  if (rc < 0) {
    delete w;
    log::debug("write could not start: ", uv_strerror(rc));
    return false;
  }
  return true;
}

}  // namespace astfill::lsp
