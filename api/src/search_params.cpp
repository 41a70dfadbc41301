#include "search_params.h"

#include <charconv>

namespace octohub::api {
namespace {

Result<int> ParseInt(const std::string& name, const std::string& text, int min, int max) {
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return InvalidArgument("\"" + name + "\" must be an integer from " + std::to_string(min) +
                           " to " + std::to_string(max) + ", not \"" + text + "\"");
  }
  return value;
}

Result<bool> ParseBool(const std::string& name, const std::string& text) {
  if (text == "true" || text == "1" || text.empty()) return true;
  if (text == "false" || text == "0") return false;
  return InvalidArgument("\"" + name + "\" must be true or false, not \"" + text + "\"");
}

}  // namespace

Result<indexer::SearchRequest> ParseSearchParams(const QueryParams& params) {
  indexer::SearchRequest request;
  for (const auto& [name, value] : params) {
    if (name == "q") {
      request.q = value;
    } else if (name == "source") {
      size_t start = 0;
      while (start <= value.size()) {
        size_t comma = value.find(',', start);
        std::string source =
            value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (!source.empty()) request.sources.push_back(source);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else if (name == "page") {
      auto page = ParseInt(name, value, 1, 100000);
      if (!page.ok()) return page.status();
      request.page = *page;
    } else if (name == "per_page") {
      auto per_page = ParseInt(name, value, 1, 100);
      if (!per_page.ok()) return per_page.status();
      request.per_page = *per_page;
    } else if (name == "prefix" || name == "exact_total") {
      auto flag = ParseBool(name, value);
      if (!flag.ok()) return flag.status();
      (name == "prefix" ? request.prefix : request.exact_total) = *flag;
    } else if (name == "sort" && value == "relevance") {
      // the default order
    } else if (name == "sort" || name == "facets" || name.rfind("filter.", 0) == 0) {
      return InvalidArgument("\"" + name + "\" is not supported by this version of octohub");
    }
    // Other parameters are ignored, as HTTP APIs conventionally do (cache busters, tracking).
  }
  return request;
}

}  // namespace octohub::api
