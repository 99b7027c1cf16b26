// The LSP base protocol and JSON-RPC decoding, as the daemon meets them: the
// bytes arrive in pieces of any size (the first input byte picks the piece
// size), every body the decoder emits is classified and answered. Checks:
// a message framed by encode_frame comes back whole from a fresh decoder
// however it is cut, and a classified body's answer serialises.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "lsp/framing.h"
#include "lsp/jsonrpc.h"
#include "tests/fuzz/fuzz_support.h"

using namespace astfill::lsp;

namespace {

constexpr size_t kMaxBody = 64 * 1024;

void answer(const std::string& body) {
  size_t repaired = 0;
  Incoming msg = classify(body, &repaired);
  if (auto* r = std::get_if<Request>(&msg)) {
    (void)r->id.key();
    (void)r->id.to_string();
    (void)serialize_result(r->id, r->params);
  } else if (auto* m = std::get_if<Malformed>(&msg)) {
    (void)serialize_error(m->id, m->error);
  } else if (auto* n = std::get_if<Notification>(&msg)) {
    (void)serialize_notification(n->method, n->params);
  } else if (auto* resp = std::get_if<Response>(&msg)) {
    (void)resp->id.key();
  }
  std::string copy = body;
  size_t again = repair_unpaired_surrogates(copy);
  astfill::fuzz::check(copy.size() == body.size(), "surrogate repair changed the body's length");
  (void)again;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 64;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  std::vector<std::string> bodies;
  FrameDecoder decoder(kMaxBody);
  FrameDecoder::Sink sink{[&](std::string body) { bodies.push_back(std::move(body)); },
                          [](FrameError error) { (void)error.message; }};
  for (size_t at = 0; at < input.size(); at += piece) decoder.feed(input.substr(at, piece), sink);
  (void)decoder.mid_message();
  for (const auto& body : bodies) {
    astfill::fuzz::check(body.size() <= kMaxBody, "a body over the limit came through");
    answer(body);
  }

  // The input itself as one body, framed, cut into pieces, decoded again.
  if (input.size() <= kMaxBody) {
    std::string framed = encode_frame(input);
    std::vector<std::string> out;
    FrameDecoder fresh(kMaxBody);
    FrameDecoder::Sink s{[&](std::string body) { out.push_back(std::move(body)); },
                         [](FrameError) { astfill::fuzz::fail("a well-framed message was reported as an error"); }};
    for (size_t at = 0; at < framed.size(); at += piece) fresh.feed(std::string_view(framed).substr(at, piece), s);
    astfill::fuzz::check(out.size() == 1 && out[0] == input, "a framed body did not come back whole");
    astfill::fuzz::check(!fresh.mid_message(), "the decoder is mid-message after a whole frame");
    answer(out[0]);
  }
  return 0;
}
