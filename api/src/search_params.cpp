#include "search_params.h"

#include <charconv>
#include <regex>

namespace octohub::api {
namespace {

const std::regex kFieldName("[a-z0-9_]{1,64}");

std::vector<std::string> SplitCommas(const std::string& value) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    std::string part =
        value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!part.empty()) out.push_back(std::move(part));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

Result<int> ParseIntParam(const std::string& name, const std::string& text, int min, int max) {
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return InvalidArgument("\"" + name + "\" must be an integer from " + std::to_string(min) +
                           " to " + std::to_string(max) + ", not \"" + text + "\"");
  }
  return value;
}

Result<bool> ParseBoolParam(const std::string& name, const std::string& text) {
  if (text == "true" || text == "1" || text.empty()) return true;
  if (text == "false" || text == "0") return false;
  return InvalidArgument("\"" + name + "\" must be true or false, not \"" + text + "\"");
}

Result<indexer::SearchRequest> ParseSearchParams(const QueryParams& params) {
  indexer::SearchRequest request;
  for (const auto& [name, value] : params) {
    if (name == "q") {
      request.q = value;
    } else if (name == "source") {
      for (auto& source : SplitCommas(value)) request.sources.push_back(std::move(source));
    } else if (name == "page") {
      auto page = ParseIntParam(name, value, 1, 100000);
      if (!page.ok()) return page.status();
      request.page = *page;
    } else if (name == "per_page") {
      auto per_page = ParseIntParam(name, value, 1, 100);
      if (!per_page.ok()) return per_page.status();
      request.per_page = *per_page;
    } else if (name == "prefix" || name == "exact_total") {
      auto flag = ParseBoolParam(name, value);
      if (!flag.ok()) return flag.status();
      (name == "prefix" ? request.prefix : request.exact_total) = *flag;
    } else if (name == "typos") {
      auto typos = indexer::ParseTypos(value);
      if (!typos.ok()) return typos.status();
      request.typos = *typos;
    } else if (name == "sort") {
      const std::string field = value.empty() || value[0] != '-' ? value : value.substr(1);
      if (!std::regex_match(field, kFieldName)) {
        return InvalidArgument("\"sort\" must be relevance, FIELD or -FIELD, not \"" + value +
                               "\"");
      }
      request.sort = value;
    } else if (name == "facets") {
      for (const auto& facet : SplitCommas(value)) {
        if (!std::regex_match(facet, kFieldName)) {
          return InvalidArgument("\"facets\" names fields: \"" + facet + "\" is not one");
        }
        request.facets.push_back(facet);
      }
    } else if (name.rfind("filter.", 0) == 0) {
      const std::string field = name.substr(7);
      if (!std::regex_match(field, kFieldName)) {
        return InvalidArgument("\"" + name + "\" must name a facet field: filter.FIELD=value");
      }
      request.filters.emplace_back(field, value);
    }
    // Other parameters are ignored, as HTTP APIs conventionally do (cache busters, tracking).
  }
  return request;
}

}  // namespace octohub::api
