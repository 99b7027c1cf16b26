// libuv glue shared by the stdio and TCP transports: the loop's poster, and a
// Session joining a byte stream (FrameDecoder) to a LanguageServer.
#pragma once

#include <uv.h>

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "lsp/framing.h"
#include "lsp/scheduler.h"
#include "lsp/server.h"

namespace astfill::lsp {

// Runs posted closures on the loop thread (one uv_async_t). After close() it
// drops what is posted, so workers that outlive the loop are harmless.
class UvPoster final : public LoopPoster {
 public:
  explicit UvPoster(uv_loop_t* loop);
  ~UvPoster() override;
  void post(std::function<void()> fn) override;
  // Called on the loop thread after each batch of closures ran.
  void set_after_drain(std::function<void()> fn) { after_drain_ = std::move(fn); }
  void close();  // loop thread

 private:
  static void on_async(uv_async_t* handle);
  uv_async_t* async_;  // heap: freed in its close callback
  std::mutex mu_;
  std::deque<std::function<void()>> queue_;
  bool closed_ = false;
  std::function<void()> after_drain_;
};

// One client session over one byte stream.
class Session {
 public:
  struct Io {
    std::function<void(std::string frame)> write;
    std::function<void(int exit_code)> exit;
    std::function<void(std::string why)> close;
  };
  Session(ServerOptions options, size_t max_message_bytes, WorkerPool& workers, LoopPoster& loop,
          Io io);
  void feed(std::string_view bytes);
  // The input ended or the connection broke.
  void disconnect();
  LanguageServer& server() { return *server_; }

 private:
  FrameDecoder decoder_;
  std::shared_ptr<LanguageServer> server_;
  FrameDecoder::Sink sink_;
};

// Queues `data` on `stream`; returns false when the write could not start.
bool uv_write_string(uv_stream_t* stream, std::string data);

}  // namespace astfill::lsp
