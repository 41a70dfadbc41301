#include "http_reply.h"

#include <boost/json.hpp>

namespace octohub::http {
namespace json = boost::json;
namespace {

const char* Title(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return status >= 500 ? "Internal Server Error" : "Error";
  }
}

}  // namespace

Reply JsonReply(int status, const json::value& body) {
  return Reply{status, "application/json", json::serialize(body), {}};
}

Reply ProblemReply(int status, const std::string& detail, const std::vector<FieldError>& errors) {
  json::object problem{
      {"type", "about:blank"}, {"title", Title(status)}, {"status", status}, {"detail", detail}};
  if (!errors.empty()) {
    json::array list;
    for (const auto& e : errors) list.push_back({{"pointer", e.pointer}, {"reason", e.reason}});
    problem["errors"] = std::move(list);
  }
  return Reply{status, "application/problem+json", json::serialize(problem), {}};
}

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kResourceExhausted:
      return 429;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kDeadlineExceeded:
      return 504;
    case StatusCode::kCancelled:
      return 499;
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

Reply ReplyForStatus(const Status& status) {
  int http = HttpStatusFor(status.code());
  // Validation problems with field pointers are 422: the document parsed but is invalid.
  if (status.code() == StatusCode::kInvalidArgument && !status.field_errors().empty()) http = 422;
  return ProblemReply(http, status.message(), status.field_errors());
}

}  // namespace octohub::http
