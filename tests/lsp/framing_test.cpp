#include "lsp/framing.h"

#include <catch2/catch.hpp>
#include <random>
#include <vector>

using namespace astfill::lsp;

namespace {

struct Collected {
  std::vector<std::string> messages;
  std::vector<FrameError> errors;
  FrameDecoder::Sink sink() {
    return {[this](std::string b) { messages.push_back(std::move(b)); },
            [this](FrameError e) { errors.push_back(std::move(e)); }};
  }
};

std::string frame(const std::string& body) { return encode_frame(body); }

}  // namespace

TEST_CASE("one framed message is decoded", "[framing]") {
  FrameDecoder d(1 << 20);
  Collected c;
  d.feed(frame(R"({"a":1})"), c.sink());
  REQUIRE(c.messages == std::vector<std::string>{R"({"a":1})"});
  CHECK(c.errors.empty());
  CHECK_FALSE(d.mid_message());
}

TEST_CASE("messages split at every byte boundary are reassembled", "[framing]") {
  std::string stream = frame(R"({"x":"héllo"})") + frame("{}") + frame(R"([1,2,3])");
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    FrameDecoder d(1 << 20);
    Collected c;
    d.feed(std::string_view(stream).substr(0, cut), c.sink());
    d.feed(std::string_view(stream).substr(cut), c.sink());
    INFO("cut at " << cut);
    REQUIRE(c.messages.size() == 3);
    CHECK(c.messages[0] == R"({"x":"héllo"})");
    CHECK(c.messages[2] == "[1,2,3]");
    CHECK(c.errors.empty());
  }
}

TEST_CASE("byte-at-a-time and coalesced feeds agree", "[framing]") {
  std::string stream;
  for (int i = 0; i < 50; ++i) stream += frame("{\"i\":" + std::to_string(i) + "}");
  FrameDecoder a(1 << 20), b(1 << 20);
  Collected ca, cb;
  for (char ch : stream) a.feed(std::string_view(&ch, 1), ca.sink());
  b.feed(stream, cb.sink());
  CHECK(ca.messages.size() == 50);
  CHECK(ca.messages == cb.messages);
}

TEST_CASE("header names are case-insensitive and other headers are ignored", "[framing]") {
  FrameDecoder d(1 << 20);
  Collected c;
  d.feed("content-length: 2\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}",
         c.sink());
  CHECK(c.messages == std::vector<std::string>{"{}"});
}

TEST_CASE("a header block ended by bare newlines is accepted", "[framing]") {
  FrameDecoder d(1 << 20);
  Collected c;
  d.feed("Content-Length: 2\n\n{}", c.sink());
  CHECK(c.messages == std::vector<std::string>{"{}"});
}

TEST_CASE("a missing Content-Length is reported and the next message still arrives", "[framing]") {
  FrameDecoder d(1 << 20);
  Collected c;
  d.feed("Content-Type: text/plain\r\n\r\n{\"lost\":true}" + frame("{\"next\":1}"), c.sink());
  REQUIRE(c.errors.size() == 1);
  CHECK(c.errors[0].kind == FrameError::Kind::Malformed);
  CHECK(c.errors[0].message.find("no Content-Length") != std::string::npos);
  CHECK(c.messages == std::vector<std::string>{"{\"next\":1}"});
}

TEST_CASE("invalid Content-Length values are refused", "[framing]") {
  for (std::string bad : {"abc", "-5", "12x", "", "99999999999999999999999"}) {
    FrameDecoder d(1 << 20);
    Collected c;
    d.feed("Content-Length: " + bad + "\r\n\r\n{}" + frame("[]"), c.sink());
    INFO("value '" << bad << "'");
    REQUIRE(c.errors.size() == 1);
    CHECK(c.errors[0].message.find("Content-Length") != std::string::npos);
    CHECK(c.messages == std::vector<std::string>{"[]"});
  }
}

TEST_CASE("an oversized body is skipped without being buffered", "[framing]") {
  FrameDecoder d(100);
  Collected c;
  std::string big(5000, 'x');
  std::string stream = "Content-Length: 5000\r\n\r\n" + big + frame("{}");
  // Feed in chunks so the skip spans several reads.
  for (size_t i = 0; i < stream.size(); i += 700) d.feed(std::string_view(stream).substr(i, 700), c.sink());
  REQUIRE(c.errors.size() == 1);
  CHECK(c.errors[0].kind == FrameError::Kind::TooLarge);
  CHECK(c.errors[0].message.find("5000 bytes exceeds the limit of 100") != std::string::npos);
  CHECK(c.messages == std::vector<std::string>{"{}"});
}

TEST_CASE("a huge declared length is refused before anything is allocated", "[framing]") {
  FrameDecoder d(1 << 20);
  Collected c;
  d.feed("Content-Length: 1099511627776\r\n\r\n", c.sink());
  REQUIRE(c.errors.size() == 1);
  CHECK(c.errors[0].kind == FrameError::Kind::TooLarge);
  CHECK(d.mid_message());
}

TEST_CASE("garbage before a header is skipped with one error", "[framing]") {
  FrameDecoder d(1 << 20);
  Collected c;
  d.feed("hello there\r\n\r\n" + frame("{\"ok\":1}"), c.sink());
  CHECK(c.errors.size() == 1);
  CHECK(c.messages == std::vector<std::string>{"{\"ok\":1}"});
}

TEST_CASE("an endless header is cut off", "[framing]") {
  FrameDecoder d(1 << 20);
  Collected c;
  std::string junk(FrameDecoder::kMaxHeaderBytes + 10, 'h');
  d.feed(junk, c.sink());
  d.feed(frame("{}"), c.sink());
  REQUIRE(c.errors.size() == 1);
  CHECK(c.errors[0].message.find("header block longer") != std::string::npos);
  CHECK(c.messages == std::vector<std::string>{"{}"});
}

TEST_CASE("an empty body is a message", "[framing]") {
  FrameDecoder d(1 << 20);
  Collected c;
  d.feed("Content-Length: 0\r\n\r\n" + frame("{}"), c.sink());
  CHECK(c.messages == std::vector<std::string>{"", "{}"});
}

TEST_CASE("random chunking of a mixed good/bad stream is deterministic", "[framing]") {
  std::string stream = frame("{\"a\":1}") + "Content-Length: zz\r\n\r\n{}" + frame("{\"b\":2}") +
                       "Content-Length: 300\r\n\r\n" + std::string(300, 'y') + frame("{\"c\":3}");
  FrameDecoder whole(200);
  Collected ref;
  whole.feed(stream, ref.sink());
  REQUIRE(ref.messages.size() == 3);
  REQUIRE(ref.errors.size() == 2);
  std::mt19937 rng(42);
  for (int trial = 0; trial < 200; ++trial) {
    FrameDecoder d(200);
    Collected c;
    size_t i = 0;
    while (i < stream.size()) {
      size_t n = std::uniform_int_distribution<size_t>(1, 40)(rng);
      d.feed(std::string_view(stream).substr(i, n), c.sink());
      i += n;
    }
    CHECK(c.messages == ref.messages);
    CHECK(c.errors.size() == ref.errors.size());
  }
}
