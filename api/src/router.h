// Path matching for the route table. Pure; private to api/.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "octohub/api/http_server.h"

namespace octohub::api {

class Router {
 public:
  explicit Router(std::vector<Route> routes) : routes_(std::move(routes)) {}

  struct Match {
    const Route* route = nullptr;  // null: no route for this method and path
    std::vector<std::string> params;
    std::vector<std::string> allowed;  // methods the path has, when the method did not match
  };
  Match Find(std::string_view method, std::string_view path) const;

 private:
  std::vector<Route> routes_;
};

// A path parameter that must be a whole number (an id); nullopt otherwise.
std::optional<std::int64_t> ParseIdParam(const std::string& text);

// Decodes %XX (and '+' as space when plus_is_space); false on a malformed escape.
bool PercentDecode(std::string_view in, std::string& out, bool plus_is_space);

}  // namespace octohub::api
