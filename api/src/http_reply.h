// Replies as plain values, and the one place where domain statuses become HTTP statuses.
// Pure; private to api/.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

#include "octohub/core/status.h"

namespace octohub::api {

struct Reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

Reply JsonReply(int status, const boost::json::value& body);

// application/problem+json (RFC 9457): type, title, status, detail, and errors for fields.
Reply ProblemReply(int status, const std::string& detail, const std::vector<FieldError>& errors = {});

int HttpStatusFor(StatusCode code);
Reply ReplyForStatus(const Status& status);

}  // namespace octohub::api
