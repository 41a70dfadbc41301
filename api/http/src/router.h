// Path matching for the route table. Pure; private to api/http/.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "octohub/http/types.h"

namespace octohub::http {

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

// Decodes %XX (and '+' as space when plus_is_space); false on a malformed escape.
bool PercentDecode(std::string_view in, std::string& out, bool plus_is_space);

}  // namespace octohub::http
