#include "lsp/framing.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

namespace astfill::lsp {
namespace {

constexpr std::string_view kLengthHeader = "Content-Length";

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Shows a header fragment in an error message without flooding the log.
std::string excerpt(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 60)) {
    if (c == '\r') out += "\\r";
    else if (c == '\n') out += "\\n";
    else if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) out += '?';
    else out += c;
  }
  if (s.size() > 60) out += "...";
  return out;
}

// Where the header block ends: the index just past "\r\n\r\n" (or a bare
// "\n\n", which some hand-written clients send), or npos.
size_t header_end(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\n') continue;
    size_t j = i + 1;
    if (j < s.size() && s[j] == '\r') ++j;
    if (j < s.size() && s[j] == '\n') return j + 1;
  }
  return std::string_view::npos;
}

}  // namespace

bool FrameDecoder::mid_message() const {
  switch (state_) {
    case State::Header: return !buf_.empty();
    case State::Body:
    case State::Skip: return true;
    case State::Resync: return false;
  }
  return false;
}

void FrameDecoder::enter_resync(const Sink& sink, std::string message) {
  state_ = State::Resync;
  sink.error(FrameError{FrameError::Kind::Malformed, std::move(message)});
}

void FrameDecoder::feed(std::string_view input, const Sink& sink) {
  // `carry` holds bytes that were read into buf_ while looking for a header's
  // end but belong to what follows it. `data` is always consumed (appended or
  // skipped) before carry is reassigned, so it never dangles.
  std::string carry;
  std::string_view data = input;
  while (!data.empty()) {
    switch (state_) {
      case State::Header: {
        buf_.append(data);
        data = {};
        // Blank lines between messages are harmless; drop them.
        size_t lead = 0;
        while (lead < buf_.size() && (buf_[lead] == '\r' || buf_[lead] == '\n')) ++lead;
        buf_.erase(0, lead);
        size_t end = header_end(buf_);
        if (end == std::string::npos) {
          if (buf_.size() > kMaxHeaderBytes) {
            carry = buf_.substr(1);  // look for the next header past this one's start
            buf_.clear();
            data = carry;
            enter_resync(sink, "header block longer than " + std::to_string(kMaxHeaderBytes) +
                                   " bytes without a blank line");
          }
          break;
        }
        carry = buf_.substr(end);
        buf_.resize(end);
        parse_header(sink);
        if (state_ == State::Body && need_ == 0) {
          state_ = State::Header;
          sink.message(std::string());
        }
        data = carry;
        break;
      }
      case State::Resync: {
        buf_.append(data);
        data = {};
        size_t at = buf_.find(kLengthHeader);
        if (at == std::string::npos) {
          // Keep a tail that might be the start of a split "Content-Length".
          if (buf_.size() > kLengthHeader.size()) buf_.erase(0, buf_.size() - kLengthHeader.size());
          break;
        }
        carry = buf_.substr(at);
        buf_.clear();
        state_ = State::Header;
        data = carry;
        break;
      }
      case State::Body: {
        size_t take = std::min(need_ - buf_.size(), data.size());
        buf_.append(data.substr(0, take));
        data.remove_prefix(take);
        if (buf_.size() == need_) {
          std::string body;
          body.swap(buf_);
          state_ = State::Header;
          sink.message(std::move(body));
        }
        break;
      }
      case State::Skip: {
        size_t take = std::min(need_, data.size());
        need_ -= take;
        data.remove_prefix(take);
        if (need_ == 0) state_ = State::Header;
        break;
      }
    }
  }
}

void FrameDecoder::parse_header(const Sink& sink) {
  std::string_view block(buf_);
  std::optional<size_t> length;
  std::string problem;
  while (!block.empty()) {
    size_t nl = block.find('\n');
    std::string_view line = block.substr(0, nl);
    block = nl == std::string_view::npos ? std::string_view() : block.substr(nl + 1);
    line = trim(line);
    if (line.empty()) continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      problem = "malformed header line '" + excerpt(line) + "' (expected 'Name: value')";
      break;
    }
    std::string_view name = trim(line.substr(0, colon));
    std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, kLengthHeader)) {
      size_t n = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || p != value.data() + value.size() || value.empty()) {
        problem = "invalid Content-Length '" + excerpt(value) + "' (expected a decimal byte count)";
        break;
      }
      length = n;
    }
    // Content-Type and unknown headers are accepted and ignored (UTF-8 is assumed).
  }
  if (problem.empty() && !length) problem = "message header has no Content-Length";
  buf_.clear();
  if (!problem.empty()) {
    enter_resync(sink, problem);
    return;
  }
  if (*length > max_body_) {
    state_ = State::Skip;
    need_ = *length;
    sink.error(FrameError{FrameError::Kind::TooLarge,
                          "message body of " + std::to_string(*length) +
                              " bytes exceeds the limit of " + std::to_string(max_body_) +
                              " bytes (--max-message-bytes); skipped"});
    return;
  }
  state_ = State::Body;
  need_ = *length;
  buf_.reserve(std::min<size_t>(need_, 1 << 20));
}

std::string encode_frame(std::string_view body) {
  std::string out = "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  out.append(body);
  return out;
}

}  // namespace astfill::lsp
