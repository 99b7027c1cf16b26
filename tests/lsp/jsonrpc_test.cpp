#include "lsp/jsonrpc.h"

#include <catch2/catch.hpp>

using namespace astfill::lsp;

namespace {
template <typename T>
T as(const Incoming& in) {
  REQUIRE(std::holds_alternative<T>(in));
  return std::get<T>(in);
}
ErrorCode malformed_code(std::string_view body) { return as<Malformed>(classify(body)).error.code; }
}  // namespace

TEST_CASE("requests, notifications and responses are told apart", "[jsonrpc]") {
  auto r = as<Request>(classify(R"({"jsonrpc":"2.0","id":7,"method":"shutdown"})"));
  CHECK(r.method == "shutdown");
  CHECK(r.id.value.as_int64() == 7);
  CHECK(r.params.is_null());

  auto s = as<Request>(classify(R"({"jsonrpc":"2.0","id":"abc","method":"x","params":{"a":1}})"));
  CHECK(s.id.value.as_string() == "abc");
  CHECK(s.params.as_object().at("a").as_int64() == 1);

  auto n = as<Notification>(classify(R"({"jsonrpc":"2.0","method":"initialized","params":{}})"));
  CHECK(n.method == "initialized");

  auto resp = as<Response>(classify(R"({"jsonrpc":"2.0","id":1,"result":null})"));
  CHECK(resp.result.has_value());
  auto err = as<Response>(classify(R"({"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"no"}})"));
  REQUIRE(err.error);
  CHECK(err.error->code == ErrorCode::MethodNotFound);
}

TEST_CASE("malformed bodies get the JSON-RPC error the spec names", "[jsonrpc]") {
  CHECK(malformed_code("{bad}") == ErrorCode::ParseError);
  CHECK(malformed_code("") == ErrorCode::ParseError);
  CHECK(malformed_code(R"({"jsonrpc":"2.0","method":"x"} trailing)") == ErrorCode::ParseError);
  CHECK(malformed_code("[1,2]") == ErrorCode::InvalidRequest);
  CHECK(malformed_code("42") == ErrorCode::InvalidRequest);
  CHECK(malformed_code(R"({"id":1,"method":"x"})") == ErrorCode::InvalidRequest);
  CHECK(malformed_code(R"({"jsonrpc":"1.0","id":1,"method":"x"})") == ErrorCode::InvalidRequest);
  CHECK(malformed_code(R"({"jsonrpc":"2.0","id":1,"method":5})") == ErrorCode::InvalidRequest);
  CHECK(malformed_code(R"({"jsonrpc":"2.0","id":{},"method":"x"})") == ErrorCode::InvalidRequest);
  CHECK(malformed_code(R"({"jsonrpc":"2.0","id":1,"method":"x","params":"s"})") == ErrorCode::InvalidRequest);
  CHECK(malformed_code(R"({"jsonrpc":"2.0","id":1})") == ErrorCode::InvalidRequest);
}

TEST_CASE("a malformed request keeps its id when the id was readable", "[jsonrpc]") {
  auto m = as<Malformed>(classify(R"({"jsonrpc":"2.0","id":9,"method":5})"));
  CHECK(m.id.as_int64() == 9);
  auto p = as<Malformed>(classify("{bad"));
  CHECK(p.id.is_null());
  CHECK(p.error.message.find("invalid JSON") != std::string::npos);
}

TEST_CASE("invalid UTF-8 inside strings does not make the message unreadable", "[jsonrpc]") {
  std::string body = "{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":{\"t\":\"a\xff\xfe z\"}}";
  auto n = as<Notification>(classify(body));
  CHECK(n.params.as_object().at("t").as_string().size() == 5);
}

TEST_CASE("request ids that name the same number share a key", "[jsonrpc]") {
  RequestId a{boost::json::value(7)}, b{boost::json::value(7u)}, c{boost::json::value(7.0)},
      s{boost::json::value("7")};
  CHECK(a.key() == b.key());
  CHECK(a.key() == c.key());
  CHECK(a.key() != s.key());
}

TEST_CASE("request ids that name different numbers have different keys", "[jsonrpc]") {
  auto key = [](std::string_view id) {
    return as<Request>(classify(std::string(R"({"jsonrpc":"2.0","method":"m","id":)") + std::string(id) + "}"))
        .id.key();
  };
  std::vector<std::string> keys{key("1e300"), key("-1e300"), key("18446744073709551616"),
                                key("18446744073709551615"), key("9223372036854775807"), key("-9223372036854775808"),
                                key("1")};
  for (size_t i = 0; i < keys.size(); ++i)
    for (size_t j = i + 1; j < keys.size(); ++j) CHECK(keys[i] != keys[j]);
  CHECK(key("1e0") == key("1"));
  CHECK(key("18446744073709551615") == RequestId{boost::json::value(uint64_t{18446744073709551615ull})}.key());
}

TEST_CASE("an unpaired surrogate escape is read as U+FFFD, and counted", "[jsonrpc]") {
  size_t repaired = 9;
  auto n = as<Notification>(classify(
      R"({"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"text":"a\ud800b\udc00c\ud83d\ude00d"}})",
      &repaired));
  CHECK(repaired == 2);
  // a, U+FFFD, b, U+FFFD, c, the pair (one emoji), d
  CHECK(std::string(n.params.as_object().at("text").as_string()) == "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xf0\x9f\x98\x80" "d");

  // An escaped backslash followed by "ud800" is text, not an escape; keys
  // and strings elsewhere are left alone.
  std::string body = R"({"jsonrpc":"2.0","method":"m","params":{"t":"\\ud800","\ud800":1}})";
  repaired = 9;
  auto m = as<Notification>(classify(body, &repaired));
  CHECK(repaired == 1);  // the key's
  CHECK(std::string(m.params.as_object().at("t").as_string()) == "\\ud800");
  // Nothing to repair: nothing counted.
  classify(R"({"jsonrpc":"2.0","method":"m","params":{"t":"\u00e9"}})", &repaired);
  CHECK(repaired == 0);
}

TEST_CASE("outgoing messages serialise as JSON-RPC 2.0", "[jsonrpc]") {
  CHECK(serialize_result(RequestId{boost::json::value(3)}, nullptr) ==
        R"({"jsonrpc":"2.0","id":3,"result":null})");
  CHECK(serialize_error(nullptr, RpcError{ErrorCode::ParseError, "bad", std::nullopt}) ==
        R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"bad"}})");
  CHECK(serialize_notification("exit", nullptr) == R"({"jsonrpc":"2.0","method":"exit"})");
}
