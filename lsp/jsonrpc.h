// JSON-RPC 2.0 messages as LSP uses them: classification of an incoming body
// and construction of outgoing ones. Knows nothing of LSP methods.
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace astfill::lsp {

namespace json = boost::json;

// JSON-RPC and LSP error codes (LSP 3.17 §ErrorCodes).
enum class ErrorCode : int {
  ParseError = -32700,
  InvalidRequest = -32600,
  MethodNotFound = -32601,
  InvalidParams = -32602,
  InternalError = -32603,
  ServerNotInitialized = -32002,
  UnknownErrorCode = -32001,
  RequestFailed = -32803,
  ServerCancelled = -32802,
  ContentModified = -32801,
  RequestCancelled = -32800,
};

struct RpcError {
  ErrorCode code;
  std::string message;
  std::optional<json::value> data;
};

// A request id: integer or string. Kept as JSON so it is echoed exactly.
struct RequestId {
  json::value value;
  // A stable key for maps: numbers and strings never collide ("1" vs 1).
  std::string key() const;
  std::string to_string() const;
};

struct Request {
  RequestId id;
  std::string method;
  json::value params;  // null when absent
};

struct Notification {
  std::string method;
  json::value params;
};

struct Response {
  RequestId id;
  std::optional<json::value> result;
  std::optional<RpcError> error;
};

// An incoming body that is not a usable message: what to answer, and to which
// id (null when the id could not be read).
struct Malformed {
  RpcError error;
  json::value id;  // null unless a valid id was present
};

using Incoming = std::variant<Request, Notification, Response, Malformed>;

// `repaired`, when given, receives how many unpaired UTF-16 surrogate escapes
// (backslash-u-D800 without its partner) the body had: they cannot be text, and
// rather than refusing the whole message (a document would never open), each
// is read as U+FFFD, as invalid UTF-8 is; the caller reports it.
Incoming classify(std::string_view body, size_t* repaired = nullptr);

// Replaces every unpaired surrogate escape in the JSON text's strings by
// the escape of U+FFFD (the same length), returning how many there were.
size_t repair_unpaired_surrogates(std::string& body);

std::string serialize_result(const RequestId& id, const json::value& result);
std::string serialize_error(const json::value& id, const RpcError& error);
std::string serialize_notification(std::string_view method, const json::value& params);
std::string serialize_request(const json::value& id, std::string_view method,
                              const json::value& params);

}  // namespace astfill::lsp
