#include "page_planner.h"

#include <boost/url.hpp>
#include <cctype>

#include "octohub/core/content_hash.h"

namespace octohub::ingest {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Boost.URL 1.81's params().set leaves '+' as is, which servers read as a space
// (boostorg/url#903): encode keys and values ourselves, escaping '&', '=' and '+'.
constexpr auto kParamChars = boost::urls::pchars + '/' + '?' - '&' - '=' - '+';

void SetParam(boost::urls::url& url, std::string_view key, std::string_view value) {
  url.encoded_params().set(boost::urls::encode(key, kParamChars),
                           boost::urls::encode(value, kParamChars));
}

}  // namespace

std::optional<std::string> NextLink(std::string_view header) {
  // Link: <url>; rel="next"; title="x", <url2>; rel="prev"
  size_t pos = 0;
  while (pos < header.size()) {
    size_t open = header.find('<', pos);
    if (open == std::string_view::npos) return std::nullopt;
    size_t close = header.find('>', open);
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view target = header.substr(open + 1, close - open - 1);
    size_t end = header.find('<', close);  // parameters run to the next link
    std::string params = Lower(header.substr(
        close + 1, end == std::string_view::npos ? std::string_view::npos : end - close - 1));
    for (size_t rel = params.find("rel"); rel != std::string::npos;
         rel = params.find("rel", rel + 3)) {
      size_t eq = params.find_first_not_of(" \t", rel + 3);
      if (eq == std::string::npos || params[eq] != '=') continue;
      size_t value_start = params.find_first_not_of(" \t\"", eq + 1);
      if (value_start == std::string::npos) continue;
      size_t value_end = params.find_first_of("\";,", value_start);
      std::string value =
          params.substr(value_start, value_end == std::string::npos ? std::string::npos
                                                                    : value_end - value_start);
      // rel may hold several space-separated relation types.
      for (size_t p = 0; p <= value.size();) {
        size_t space = value.find(' ', p);
        if (value.substr(p, space == std::string::npos ? std::string::npos : space - p) == "next") {
          return std::string(target);
        }
        if (space == std::string::npos) break;
        p = space + 1;
      }
    }
    pos = close + 1;
  }
  return std::nullopt;
}

PagePlanner::PagePlanner(const SourceSpec& spec, NamedValues query,
                         std::optional<std::string> incremental_cursor,
                         NamedValues credential_query)
    : spec_(spec),
      query_(std::move(query)),
      credential_query_(std::move(credential_query)),
      origin_(UrlOrigin(spec.url)) {
  if (spec.incremental && incremental_cursor) {
    query_.emplace_back(spec.incremental->param, *incremental_cursor);
  }
  const auto& p = spec.pagination;
  if (!p.size_param.empty() && p.size > 0)
    query_.emplace_back(p.size_param, std::to_string(p.size));
}

Result<std::string> PagePlanner::BuildUrl(const NamedValues& paging) const {
  auto parsed = boost::urls::parse_uri_reference(spec_.url);
  if (!parsed) return InvalidArgument("the source URL cannot be parsed: " + spec_.url);
  boost::urls::url url(*parsed);
  for (const auto& [key, value] : query_) SetParam(url, key, value);
  for (const auto& [key, value] : credential_query_) SetParam(url, key, value);
  for (const auto& [key, value] : paging) SetParam(url, key, value);
  return std::string(url.buffer());
}

Result<std::string> PagePlanner::FirstUrl() {
  pages_ = 1;
  const auto& p = spec_.pagination;
  NamedValues paging;
  if (p.type == PaginationSpec::Type::kPage || p.type == PaginationSpec::Type::kOffset) {
    paging.emplace_back(p.param, std::to_string(p.start));
  }
  auto url = BuildUrl(paging);
  if (url.ok()) {
    current_url_ = *url;
    seen_.insert(*url);
  }
  return url;
}

Result<std::optional<std::string>> PagePlanner::NextUrl(const ExtractedPage& page,
                                                        const HttpResponse& response) {
  using Type = PaginationSpec::Type;
  const auto& p = spec_.pagination;
  if (p.type == Type::kNone || page.array_size == 0) return std::optional<std::string>();
  if ((p.type == Type::kPage || p.type == Type::kOffset) && !page.records.empty()) {
    std::string ids;
    for (const auto& record : page.records) ids += record.id + '\n';
    std::string hashed = ContentHash(ids);
    if (hashed == previous_ids_) {
      return InvalidArgument("pagination loop: page " + std::to_string(pages_) +
                             " holds the same records as the page before (does the API ignore \"" +
                             p.param + "\"?)");
    }
    previous_ids_ = std::move(hashed);
  }
  Result<std::string> next = std::string();
  switch (p.type) {
    case Type::kPage:
      next = BuildUrl({{p.param, std::to_string(p.start + pages_)}});
      break;
    case Type::kOffset:
      next = BuildUrl({{p.param, std::to_string(p.start + pages_ * p.size)}});
      break;
    case Type::kCursor:
      if (!page.next_cursor) return std::optional<std::string>();
      if (!seen_.insert(*page.next_cursor).second) {
        return InvalidArgument("pagination loop: the cursor \"" + *page.next_cursor +
                               "\" came back a second time");
      }
      next = BuildUrl({{p.param, *page.next_cursor}});
      break;
    case Type::kNextUrl:
    case Type::kLinkHeader: {
      std::optional<std::string> link = page.next_url;
      if (p.type == Type::kLinkHeader) {
        auto header = response.Header("link");
        link = header ? NextLink(*header) : std::nullopt;
      }
      if (!link) return std::optional<std::string>();
      // Relative links resolve against the page they came from.
      auto base =
          boost::urls::parse_uri(response.final_url.empty() ? current_url_ : response.final_url);
      auto ref = boost::urls::parse_uri_reference(*link);
      if (!base || !ref) return InvalidArgument("the next link \"" + *link + "\" is not a URL");
      boost::urls::url resolved;
      if (boost::urls::resolve(*base, *ref, resolved).has_error()) {
        return InvalidArgument("the next link \"" + *link + "\" cannot be resolved");
      }
      if (resolved.scheme() != "http" && resolved.scheme() != "https") {
        return InvalidArgument("the next link \"" + *link + "\" is not an http(s) URL");
      }
      // A next URL leaves out our own query (say, the auth parameter): keep ours on it. The
      // credential goes only to the source's own origin; a link elsewhere loses it even when
      // the upstream copied it in.
      for (const auto& [key, value] : query_) {
        if (!resolved.params().contains(key)) SetParam(resolved, key, value);
      }
      const bool own_origin = UrlOrigin(resolved.buffer()) == origin_;
      for (const auto& [key, value] : credential_query_) {
        if (!own_origin)
          resolved.params().erase(key);
        else if (!resolved.params().contains(key))
          SetParam(resolved, key, value);
      }
      std::string url(resolved.buffer());
      if (!seen_.insert(url).second) {
        return InvalidArgument("pagination loop: the next link \"" + url +
                               "\" was already fetched");
      }
      next = url;
      break;
    }
    case Type::kNone:
      break;
  }
  if (!next.ok()) return next.status();
  if (pages_ >= spec_.max_pages) {
    truncated_ = true;
    return std::optional<std::string>();
  }
  ++pages_;
  current_url_ = *next;
  return std::optional<std::string>(*next);
}

}  // namespace octohub::ingest
