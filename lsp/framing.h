// The LSP base protocol: "Content-Length: N\r\n\r\n" + N bytes of JSON.
//
// This is the only code that knows about headers. The decoder is fed whatever
// the socket or pipe delivered (a fragment of a message, several messages at
// once) and emits complete bodies. Bad framing is reported, never trusted:
// a body over the size limit is skipped without being stored, and after a
// header it cannot use the decoder resynchronises on the next
// "Content-Length" header instead of guessing where the garbage ends.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace astfill::lsp {

struct FrameError {
  enum class Kind { Malformed, TooLarge } kind;
  std::string message;
};

class FrameDecoder {
 public:
  struct Sink {
    std::function<void(std::string body)> message;
    std::function<void(FrameError error)> error;
  };

  explicit FrameDecoder(size_t max_body_bytes) : max_body_(max_body_bytes) {}

  void feed(std::string_view data, const Sink& sink);

  // True when bytes of an unfinished message are buffered or being skipped.
  bool mid_message() const;
  size_t max_body_bytes() const { return max_body_; }

  static constexpr size_t kMaxHeaderBytes = 8192;

 private:
  enum class State { Header, Body, Skip, Resync };

  void parse_header(const Sink& sink);
  void enter_resync(const Sink& sink, std::string message);

  size_t max_body_;
  State state_ = State::Header;
  std::string buf_;     // header bytes, then body bytes
  size_t need_ = 0;     // body bytes wanted (Body) or left to discard (Skip)
};

std::string encode_frame(std::string_view body);

}  // namespace astfill::lsp
