#include "lsp/jsonrpc.h"

#include <algorithm>
#include <cmath>

#include "support/utf8.h"

namespace astfill::lsp {
namespace {

bool valid_id(const json::value& v) {
  if (v.is_int64() || v.is_uint64() || v.is_string()) return true;
  if (v.is_double()) {
    double d = v.get_double();
    return std::isfinite(d) && d == std::floor(d);
  }
  return false;
}

Malformed malformed(ErrorCode code, std::string message, json::value id = nullptr) {
  return Malformed{RpcError{code, std::move(message), std::nullopt}, std::move(id)};
}

std::optional<RpcError> read_error(const json::value& v) {
  RpcError e{ErrorCode::UnknownErrorCode, "", std::nullopt};
  if (auto* o = v.if_object()) {
    if (auto* c = o->if_contains("code"); c && c->is_int64())
      e.code = static_cast<ErrorCode>(c->get_int64());
    if (auto* m = o->if_contains("message"); m && m->is_string())
      e.message = std::string(m->get_string());
    if (auto* d = o->if_contains("data")) e.data = *d;
  }
  return e;
}

// Client strings echoed back (a method name, a URI, an id) may hold invalid
// UTF-8, which the serializer copies verbatim; the output must still be valid
// JSON. Invalid bytes can only come from inside strings (everything else is
// ASCII), so repairing the serialized text is safe.
std::string valid_utf8(std::string body) {
  sanitize_utf8(body);
  return body;
}

}  // namespace

std::string RequestId::key() const {
  if (value.is_string()) return "s:" + std::string(value.get_string());
  // 7, 7u and 7.0 name the same request; 1e300, -1e300 and 2^64 (a double:
  // past uint64) name three others.
  if (value.is_int64()) return "n:" + std::to_string(value.get_int64());
  if (value.is_uint64()) return "n:" + std::to_string(value.get_uint64());
  if (value.is_double()) {
    double d = value.get_double();
    if (std::isfinite(d) && d == std::floor(d)) {
      if (d >= -9223372036854775808.0 && d < 9223372036854775808.0)
        return "n:" + std::to_string(static_cast<int64_t>(d));
      if (d >= 0 && d < 18446744073709551616.0) return "n:" + std::to_string(static_cast<uint64_t>(d));
    }
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", d);
    return std::string("d:") + buf;
  }
  return "?:" + json::serialize(value);
}

namespace {
Incoming classify_json(std::string_view body);

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
// The code unit of the backslash-u-XXXX escape at `at` (pointing at the backslash), or -1.
int escaped_unit(const std::string& s, size_t at) {
  if (at + 6 > s.size() || s[at] != '\\' || s[at + 1] != 'u') return -1;
  int unit = 0;
  for (size_t i = at + 2; i < at + 6; ++i) {
    int h = hex_digit(s[i]);
    if (h < 0) return -1;
    unit = unit * 16 + h;
  }
  return unit;
}
}  // namespace

size_t repair_unpaired_surrogates(std::string& body) {
  size_t repaired = 0;
  bool in_string = false;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (!in_string) {
      if (c == '"') in_string = true;
      continue;
    }
    if (c == '"') {
      in_string = false;
      continue;
    }
    if (c != '\\') continue;
    int unit = escaped_unit(body, i);
    if (unit < 0) {
      ++i;  // another escape: skip the escaped character
      continue;
    }
    bool high = unit >= 0xD800 && unit <= 0xDBFF, low = unit >= 0xDC00 && unit <= 0xDFFF;
    if (high) {
      int next = escaped_unit(body, i + 6);
      if (next >= 0xDC00 && next <= 0xDFFF) {  // a proper pair
        i += 11;
        continue;
      }
    }
    if (high || low) {
      body.replace(i, 6, "\\ufffd");
      ++repaired;
    }
    i += 5;
  }
  return repaired;
}

Incoming classify(std::string_view body, size_t* repaired) {
  if (repaired) *repaired = 0;
  // Only a body that holds a surrogate escape at all is copied and scanned.
  if (body.find("\\u") != std::string_view::npos) {
    std::string copy(body);
    if (size_t n = repair_unpaired_surrogates(copy)) {
      if (repaired) *repaired = n;
      return classify_json(copy);
    }
  }
  return classify_json(body);
}

std::string RequestId::to_string() const { return json::serialize(value); }

namespace {
Incoming classify_json(std::string_view body) {
  json::parse_options opts;
  opts.allow_invalid_utf8 = true;  // documents with bad bytes are repaired later, not dropped
  opts.max_depth = 256;
  json::stream_parser parser({}, opts);
  std::error_code ec;
  size_t used = parser.write_some(body.data(), body.size(), ec);
  if (!ec && used < body.size()) {
    // Trailing bytes after a complete value: only whitespace is allowed.
    size_t i = used;
    while (i < body.size() && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n')) ++i;
    if (i < body.size()) {
      return malformed(ErrorCode::ParseError, "invalid JSON in message body: unexpected data after the value at byte " +
                                                  std::to_string(i));
    }
  }
  if (!ec) parser.finish(ec);
  if (ec) {
    return malformed(ErrorCode::ParseError, "invalid JSON in message body at byte " +
                                                std::to_string(std::min(used, body.size())) + " of " +
                                                std::to_string(body.size()) + ": " + ec.message());
  }
  json::value doc = parser.release();
  if (doc.is_array()) {
    return malformed(ErrorCode::InvalidRequest, "JSON-RPC batches are not supported by LSP");
  }
  auto* obj = doc.if_object();
  if (!obj) return malformed(ErrorCode::InvalidRequest, "message is not a JSON object");

  json::value id = nullptr;
  bool has_id = false;
  if (auto* v = obj->if_contains("id")) {
    if (!valid_id(*v)) {
      // A response to a request we could not identify may carry id null.
      if (!(v->is_null() && (obj->contains("result") || obj->contains("error"))))
        return malformed(ErrorCode::InvalidRequest, "'id' must be an integer or a string");
    } else {
      id = *v;
      has_id = true;
    }
  }
  auto* version = obj->if_contains("jsonrpc");
  if (!version || !version->is_string() || version->get_string() != "2.0")
    return malformed(ErrorCode::InvalidRequest, "'jsonrpc' must be \"2.0\"", id);

  if (auto* m = obj->if_contains("method")) {
    if (!m->is_string()) return malformed(ErrorCode::InvalidRequest, "'method' must be a string", id);
    json::value params = nullptr;
    if (auto* p = obj->if_contains("params"); p && !p->is_null()) {
      // null is read as "absent": several clients send it for exit/shutdown.
      if (!p->is_object() && !p->is_array())
        return malformed(ErrorCode::InvalidRequest, "'params' must be an object or an array", id);
      params = *p;
    }
    std::string method(m->get_string());
    if (has_id) return Request{RequestId{id}, std::move(method), std::move(params)};
    if (obj->contains("id"))
      return malformed(ErrorCode::InvalidRequest, "'id' must be an integer or a string");
    return Notification{std::move(method), std::move(params)};
  }
  if (obj->contains("result") || obj->contains("error")) {
    Response r{RequestId{id}, std::nullopt, std::nullopt};
    if (auto* res = obj->if_contains("result")) r.result = *res;
    if (auto* err = obj->if_contains("error")) r.error = read_error(*err);
    return r;
  }
  return malformed(ErrorCode::InvalidRequest,
                   "message has neither 'method' (request or notification) nor 'result'/'error' (response)",
                   id);
}

}  // namespace

std::string serialize_result(const RequestId& id, const json::value& result) {
  json::object o;
  o["jsonrpc"] = "2.0";
  o["id"] = id.value;
  o["result"] = result;
  return valid_utf8(json::serialize(o));
}

std::string serialize_error(const json::value& id, const RpcError& error) {
  json::object e;
  e["code"] = static_cast<int>(error.code);
  e["message"] = error.message;
  if (error.data) e["data"] = *error.data;
  json::object o;
  o["jsonrpc"] = "2.0";
  o["id"] = id;
  o["error"] = std::move(e);
  return valid_utf8(json::serialize(o));
}

std::string serialize_notification(std::string_view method, const json::value& params) {
  json::object o;
  o["jsonrpc"] = "2.0";
  o["method"] = method;
  if (!params.is_null()) o["params"] = params;
  return valid_utf8(json::serialize(o));
}

std::string serialize_request(const json::value& id, std::string_view method,
                              const json::value& params) {
  json::object o;
  o["jsonrpc"] = "2.0";
  o["id"] = id;
  o["method"] = method;
  if (!params.is_null()) o["params"] = params;
  return valid_utf8(json::serialize(o));
}

}  // namespace astfill::lsp
