// "pagination" of a source: its type, where paging values go and when paging stops.
#include <boost/json.hpp>
#include <regex>

#include "source_spec_parts.h"

namespace octohub::source_parts {
namespace json = boost::json;
namespace {

using Type = PaginationSpec::Type;

const char* const kTypeNames[] = {"none", "page", "offset", "cursor", "next_url", "link_header"};

// RFC 9110 token characters.
const std::regex kHeaderName("[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}");

std::string HeaderName(DocumentChecker& c, const json::object& g, std::string_view key,
                       const std::string& at) {
  auto name = c.String(g, key, at, false);
  if (!name) return {};
  if (!std::regex_match(*name, kHeaderName)) {
    c.Fail(at + "/" + std::string(key), "must be an HTTP header name");
    return {};
  }
  return *name;
}

}  // namespace

void ParsePagination(DocumentChecker& c, const json::object& o, SourceSpec& spec) {
  PaginationSpec& p = spec.pagination;
  const json::value* v = o.if_contains("pagination");
  if (v == nullptr) return;
  const std::string at = "/pagination";
  const json::object* g = c.Object(*v, at);
  if (g == nullptr) return;
  const std::string type = c.String(*g, "type", at, true).value_or("none");
  if (type == "none") {
    c.RejectUnknown(*g, at, {"type"});
    return;
  }
  if (type == "page") {
    p.type = Type::kPage;
    c.RejectUnknown(
        *g, at,
        {"type", "param", "start", "body_param", "size_param", "size", "size_body_param",
         "more_path", "done_path", "total_path", "total_header", "pages_path", "pages_header"});
  } else if (type == "offset") {
    p.type = Type::kOffset;
    c.RejectUnknown(
        *g, at,
        {"type", "param", "start", "body_param", "size_param", "size", "size_body_param",
         "more_path", "done_path", "total_path", "total_header", "pages_path", "pages_header"});
  } else if (type == "cursor") {
    p.type = Type::kCursor;
    c.RejectUnknown(*g, at,
                    {"type", "param", "cursor_path", "cursor_record_path", "body_param",
                     "size_param", "size", "size_body_param", "more_path", "done_path",
                     "total_path", "total_header", "pages_path", "pages_header"});
  } else if (type == "next_url") {
    p.type = Type::kNextUrl;
    c.RejectUnknown(*g, at,
                    {"type", "next_path", "size_param", "size", "size_body_param", "more_path",
                     "done_path", "total_path", "total_header", "pages_path", "pages_header"});
  } else if (type == "link_header") {
    p.type = Type::kLinkHeader;
    c.RejectUnknown(*g, at,
                    {"type", "size_param", "size", "size_body_param", "more_path", "done_path",
                     "total_path", "total_header", "pages_path", "pages_header"});
  } else {
    c.Fail(at + "/type", "must be one of none, page, offset, cursor, next_url, link_header");
    return;
  }

  // Where the paging value goes: a query parameter, or a pointer into a POST body.
  p.body_param = c.Pointer(*g, "body_param", at, false);
  const bool in_body = g->contains("body_param");
  if (in_body && p.body_param.empty() && g->at("body_param").is_string() &&
      g->at("body_param").get_string().empty()) {
    c.Fail(at + "/body_param", "must point to a member inside the body, not the whole body");
  }
  if (in_body && g->contains("param")) {
    c.Fail(at + "/param", "give either \"param\" (query string) or \"body_param\" (POST body)");
  }
  if (p.type == Type::kPage) {
    p.param = c.String(*g, "param", at, false).value_or(in_body ? "" : "page");
    p.start = c.Integer(*g, "start", at, 0, 1'000'000'000).value_or(1);
  } else if (p.type == Type::kOffset) {
    p.param = c.String(*g, "param", at, false).value_or(in_body ? "" : "offset");
    p.start = c.Integer(*g, "start", at, 0, 1'000'000'000'000).value_or(0);
  } else if (p.type == Type::kCursor) {
    p.param = c.String(*g, "param", at, !in_body).value_or("");
    p.cursor_path = c.Pointer(*g, "cursor_path", at, false);
    p.cursor_record_path = c.Pointer(*g, "cursor_record_path", at, false);
    const bool from_page = g->contains("cursor_path");
    const bool from_record = g->contains("cursor_record_path");
    if (from_page && from_record) {
      c.Fail(at + "/cursor_record_path",
             "give either \"cursor_path\" (in the page) or \"cursor_record_path\" (in its last "
             "record)");
    } else if (!from_page && !from_record) {
      c.Fail(at + "/cursor_path", "is required (or \"cursor_record_path\")");
    }
  } else if (p.type == Type::kNextUrl) {
    p.next_path = c.Pointer(*g, "next_path", at, true);
  }

  p.size_param = c.String(*g, "size_param", at, false).value_or("");
  p.size_body_param = c.Pointer(*g, "size_body_param", at, false);
  p.size = c.Integer(*g, "size", at, 1, 1'000'000).value_or(0);
  if (g->contains("size_param") && g->contains("size_body_param")) {
    c.Fail(at + "/size_body_param", "give either \"size_param\" or \"size_body_param\"");
  }
  if ((!p.size_param.empty() || !p.size_body_param.empty()) && p.size == 0 &&
      !g->contains("size")) {
    c.Fail(at + "/size", "is required with a size parameter");
  }
  if (p.type == Type::kOffset && p.size == 0 && !g->contains("size")) {
    c.Fail(at + "/size", "is required for offset paging");
  }
  const bool links = p.type == Type::kNextUrl || p.type == Type::kLinkHeader;
  for (const char* key : {"body_param", "size_body_param"}) {
    const bool unknown = links && std::string_view(key) == "body_param";  // reported above
    if (g->contains(key) && !unknown && spec.method != "POST") {
      c.Fail(at + "/" + key,
             "writes into the request body, which only a \"method\": \"POST\" source sends");
    }
  }

  p.more_path = c.Pointer(*g, "more_path", at, false);
  p.done_path = c.Pointer(*g, "done_path", at, false);
  p.total_path = c.Pointer(*g, "total_path", at, false);
  p.pages_path = c.Pointer(*g, "pages_path", at, false);
  p.total_header = HeaderName(c, *g, "total_header", at);
  p.pages_header = HeaderName(c, *g, "pages_header", at);
  if (g->contains("total_path") && g->contains("total_header")) {
    c.Fail(at + "/total_header", "give either \"total_path\" or \"total_header\"");
  }
  if (g->contains("pages_path") && g->contains("pages_header")) {
    c.Fail(at + "/pages_header", "give either \"pages_path\" or \"pages_header\"");
  }
  if (spec.format != SourceSpec::Format::kJson) {
    const char* format = spec.format == SourceSpec::Format::kCsv ? "csv" : "ndjson";
    for (const char* key :
         {"cursor_path", "next_path", "more_path", "done_path", "total_path", "pages_path"}) {
      if (g->contains(key)) {
        c.Fail(at + "/" + key, std::string("points into a JSON page; a ") + format +
                                   " page has none (use a header, a record path or page "
                                   "numbers)");
      }
    }
  }
}

json::object PaginationToJson(const PaginationSpec& p) {
  json::object out;
  out["type"] = kTypeNames[static_cast<int>(p.type)];
  if (!p.param.empty()) out["param"] = p.param;
  if (p.type == Type::kPage || p.type == Type::kOffset) out["start"] = p.start;
  auto add = [&out](const char* key, const std::string& value) {
    if (!value.empty()) out[key] = value;
  };
  add("body_param", p.body_param);
  add("size_param", p.size_param);
  add("size_body_param", p.size_body_param);
  if (p.size > 0) out["size"] = p.size;
  add("cursor_path", p.cursor_path);
  add("cursor_record_path", p.cursor_record_path);
  add("next_path", p.next_path);
  add("more_path", p.more_path);
  add("done_path", p.done_path);
  add("total_path", p.total_path);
  add("total_header", p.total_header);
  add("pages_path", p.pages_path);
  add("pages_header", p.pages_header);
  return out;
}

}  // namespace octohub::source_parts
