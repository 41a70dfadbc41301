#include "page_planner.h"

#include <boost/json.hpp>
#include <boost/url.hpp>
#include <cctype>

#include "octohub/core/content_hash.h"
#include "octohub/core/json_pointer.h"

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

Status SetAtPointer(boost::json::value& document, std::string_view pointer,
                    boost::json::value value) {
  auto parsed = JsonPointer::Parse(pointer);
  if (!parsed.ok()) return parsed.status();
  boost::json::value* at = &document;
  for (const std::string& token : parsed->tokens()) {
    if (at->is_null()) *at = boost::json::object();
    if (auto* object = at->if_object()) {
      at = &(*object)[token];
    } else if (auto* array = at->if_array()) {
      const bool digits = !token.empty() && token.find_first_not_of("0123456789") == token.npos;
      if (!digits || token.size() > 9 || std::stoul(token) >= array->size()) {
        return InvalidArgument("the request body has no element " + token + " on the way to " +
                               std::string(pointer));
      }
      at = &(*array)[std::stoul(token)];
    } else {
      return InvalidArgument("the request body holds a value that is not an object on the way to " +
                             std::string(pointer));
    }
  }
  *at = std::move(value);
  return Status::Ok();
}

PagePlanner::PagePlanner(const SourceSpec& spec, NamedValues query,
                         std::optional<std::string> incremental_cursor,
                         NamedValues credential_query)
    : spec_(spec),
      query_(std::move(query)),
      credential_query_(std::move(credential_query)),
      origin_(UrlOrigin(spec.url)),
      offset_(spec.pagination.start) {
  if (spec.incremental && incremental_cursor) {
    query_.emplace_back(spec.incremental->param, *incremental_cursor);
  }
  const auto& p = spec.pagination;
  if (!p.size_param.empty() && p.size > 0)
    query_.emplace_back(p.size_param, std::to_string(p.size));
  if (spec.body) {
    boost::system::error_code error;
    body_ = boost::json::parse(*spec.body, error);
    if (error) body_.reset();  // validated when saved; Build reports it
  } else if (!p.body_param.empty() || !p.size_body_param.empty()) {
    body_ = boost::json::object();
  }
}

Result<PageRequest> PagePlanner::Build(std::optional<boost::json::value> paging) const {
  const auto& p = spec_.pagination;
  auto parsed = boost::urls::parse_uri_reference(spec_.url);
  if (!parsed) return InvalidArgument("the source URL cannot be parsed: " + spec_.url);
  boost::urls::url url(*parsed);
  for (const auto& [key, value] : query_) SetParam(url, key, value);
  for (const auto& [key, value] : credential_query_) SetParam(url, key, value);
  PageRequest request;
  if (paging && p.body_param.empty()) {
    SetParam(
        url, p.param,
        paging->is_string() ? std::string(paging->get_string()) : boost::json::serialize(*paging));
  }
  request.url = std::string(url.buffer());
  if (spec_.body && !body_) return InvalidArgument("the source's body is not JSON");
  if (body_) {
    boost::json::value body = *body_;
    if (!p.size_body_param.empty() && p.size > 0) {
      if (Status s = SetAtPointer(body, p.size_body_param, p.size); !s.ok()) return s;
    }
    if (paging && !p.body_param.empty()) {
      if (Status s = SetAtPointer(body, p.body_param, std::move(*paging)); !s.ok()) return s;
    }
    request.body = boost::json::serialize(body);
  }
  return request;
}

Result<PageRequest> PagePlanner::First() {
  pages_ = 1;
  const auto& p = spec_.pagination;
  std::optional<boost::json::value> paging;
  if (p.type == PaginationSpec::Type::kPage || p.type == PaginationSpec::Type::kOffset) {
    paging = p.start;
  }
  auto request = Build(std::move(paging));
  if (request.ok()) {
    current_url_ = request->url;
    seen_.insert(request->url);
  }
  return request;
}

Result<std::optional<PageRequest>> PagePlanner::Stop(std::string reason) {
  stop_reason_ = std::move(reason);
  return std::optional<PageRequest>();
}

std::optional<std::string> PagePlanner::StopCondition(const ExtractedPage& page,
                                                      const HttpResponse& response) {
  const auto& p = spec_.pagination;
  auto header_count = [&response](const std::string& name) -> std::optional<std::int64_t> {
    if (name.empty()) return std::nullopt;
    auto value = response.Header(Lower(name));
    if (!value || value->empty() || value->size() > 18 ||
        value->find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
    return std::stoll(*value);
  };
  if (page.more && !*page.more) return p.more_path + " is false";
  if (page.more_absent) return p.more_path + " is not in the page";
  if (page.done && *page.done) return p.done_path + " is true";
  std::optional<std::int64_t> total = page.total ? page.total : header_count(p.total_header);
  if (total) {
    reported_total_ = total;
    if (records_seen_ >= *total) {
      return "all " + std::to_string(*total) + " records the API counts were seen";
    }
  }
  std::optional<std::int64_t> pages =
      page.total_pages ? page.total_pages : header_count(p.pages_header);
  if (pages && pages_ >= *pages) {
    return "the last of the " + std::to_string(*pages) + " pages the API counts";
  }
  return std::nullopt;
}

Result<std::optional<PageRequest>> PagePlanner::Next(const ExtractedPage& page,
                                                     const HttpResponse& response) {
  using Type = PaginationSpec::Type;
  const auto& p = spec_.pagination;
  records_seen_ += page.array_size;
  if (previous_short_ && page.array_size > 0 && !first_short_page_) {
    first_short_page_ = pages_ - 1;  // a short page, and yet this one followed it
  }
  previous_short_ = p.size > 0 && page.array_size < p.size;
  if (p.type == Type::kNone) return Stop("the source does not page");
  if (page.array_size == 0) return Stop("an empty page");
  if (auto condition = StopCondition(page, response)) return Stop(*condition);
  if ((p.type == Type::kPage || p.type == Type::kOffset) && !page.records.empty()) {
    std::string ids;
    for (const auto& record : page.records) ids += record.id + '\n';
    std::string hashed = ContentHash(ids);
    if (hashed == previous_ids_) {
      const std::string param = p.body_param.empty() ? p.param : p.body_param;
      return InvalidArgument("pagination loop: page " + std::to_string(pages_) +
                             " holds the same records as the page before (does the API ignore \"" +
                             param + "\"?)");
    }
    previous_ids_ = std::move(hashed);
  }
  Result<PageRequest> next = PageRequest();
  switch (p.type) {
    case Type::kPage:
      next = Build(boost::json::value(p.start + pages_));
      break;
    case Type::kOffset:
      // Servers such as Jira return fewer records than asked: continue after those it sent.
      offset_ += page.array_size;
      next = Build(boost::json::value(offset_));
      break;
    case Type::kCursor: {
      if (!page.next_cursor) return Stop("no next cursor");
      if (!seen_.insert(*page.next_cursor).second) {
        return InvalidArgument("pagination loop: the cursor \"" + *page.next_cursor +
                               "\" came back a second time");
      }
      boost::system::error_code error;
      boost::json::value cursor = p.body_param.empty() || !page.next_cursor_json
                                      ? boost::json::value(*page.next_cursor)
                                      : boost::json::parse(*page.next_cursor_json, error);
      if (error) cursor = *page.next_cursor;
      next = Build(std::move(cursor));
      break;
    }
    case Type::kNextUrl:
    case Type::kLinkHeader: {
      std::optional<std::string> link = page.next_url;
      if (p.type == Type::kLinkHeader) {
        auto header = response.Header("link");
        link = header ? NextLink(*header) : std::nullopt;
      }
      if (!link) return Stop("no next link");
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
      // A next link is followed as given (Shopify refuses any parameter beside page_info):
      // only the auth query parameter is added when missing, and only on the source's own
      // origin; a link elsewhere loses it even when the upstream copied it in.
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
      PageRequest request{url, std::nullopt};
      if (body_) request.body = boost::json::serialize(*body_);
      next = std::move(request);
      break;
    }
    case Type::kNone:
      break;
  }
  if (!next.ok()) return next.status();
  if (pages_ >= spec_.max_pages) {
    truncated_ = true;
    return Stop("max_pages (" + std::to_string(spec_.max_pages) + ") reached");
  }
  ++pages_;
  current_url_ = next->url;
  return std::optional<PageRequest>(std::move(*next));
}

}  // namespace octohub::ingest
