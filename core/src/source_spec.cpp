#include "octohub/core/source_spec.h"

#include <algorithm>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <cmath>
#include <regex>
#include <set>

#include "octohub/core/json_pointer.h"
#include "octohub/core/schedule.h"
#include "octohub/core/secrets.h"

namespace octohub {
namespace json = boost::json;
namespace {

std::string Escape(std::string_view token) {
  std::string out;
  for (char c : token) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

// Walks a document while collecting every problem with its JSON Pointer.
class Checker {
 public:
  std::vector<FieldError> errors;

  void Fail(const std::string& at, std::string reason) {
    errors.push_back({at, std::move(reason)});
  }

  const json::object* Object(const json::value& v, const std::string& at) {
    if (const auto* o = v.if_object()) return o;
    Fail(at, "must be an object");
    return nullptr;
  }

  void RejectUnknown(const json::object& o, const std::string& at,
                     std::initializer_list<std::string_view> known) {
    for (const auto& member : o) {
      if (std::find(known.begin(), known.end(), member.key()) == known.end()) {
        Fail(at + "/" + Escape(member.key()), "unknown field");
      }
    }
  }

  std::optional<std::string> String(const json::object& o, std::string_view key,
                                    const std::string& at, bool required) {
    const json::value* v = o.if_contains(key);
    std::string here = at + "/" + Escape(key);
    if (!v) {
      if (required) Fail(here, "is required");
      return std::nullopt;
    }
    if (!v->is_string()) {
      Fail(here, "must be a string");
      return std::nullopt;
    }
    return std::string(v->get_string());
  }

  std::optional<double> Number(const json::object& o, std::string_view key, const std::string& at,
                               double min, double max) {
    const json::value* v = o.if_contains(key);
    if (!v) return std::nullopt;
    std::string here = at + "/" + Escape(key);
    if (!v->is_number()) {
      Fail(here, "must be a number");
      return std::nullopt;
    }
    double d = v->to_number<double>();
    if (!(d >= min && d <= max)) {
      Fail(here, "must be between " + json::serialize(json::value(min)) + " and " +
                     json::serialize(json::value(max)));
      return std::nullopt;
    }
    return d;
  }

  std::optional<std::int64_t> Integer(const json::object& o, std::string_view key,
                                      const std::string& at, std::int64_t min, std::int64_t max) {
    auto d = Number(o, key, at, static_cast<double>(min), static_cast<double>(max));
    if (!d) return std::nullopt;
    if (std::floor(*d) != *d) {
      Fail(at + "/" + Escape(key), "must be an integer");
      return std::nullopt;
    }
    return static_cast<std::int64_t>(*d);
  }

  std::string Pointer(const json::object& o, std::string_view key, const std::string& at,
                      bool required, bool wildcard = false) {
    auto text = String(o, key, at, required);
    if (!text) return {};
    auto parsed = JsonPointer::Parse(*text, wildcard);
    if (!parsed.ok()) Fail(at + "/" + Escape(key), parsed.status().message());
    return *text;
  }

  // An object of string (or number/bool) values, kept in document order.
  NamedValues Pairs(const json::object& o, std::string_view key, const std::string& at) {
    NamedValues out;
    const json::value* v = o.if_contains(key);
    if (!v) return out;
    std::string here = at + "/" + Escape(key);
    const json::object* members = Object(*v, here);
    if (!members) return out;
    for (const auto& member : *members) {
      const json::value& value = member.value();
      if (value.is_string()) {
        out.emplace_back(member.key(), std::string(value.get_string()));
      } else if (value.is_number() || value.is_bool()) {
        out.emplace_back(member.key(), json::serialize(value));
      } else {
        Fail(here + "/" + Escape(member.key()), "must be a string, number or boolean");
      }
    }
    return out;
  }

  // A secret given as "key" or "key_env".
  Secret SecretField(const json::object& o, const std::string& key, const std::string& at) {
    Secret secret;
    auto literal = String(o, key, at, false);
    auto env = String(o, key + "_env", at, false);
    if (literal && env) Fail(at + "/" + key, "give either \"" + key + "\" or \"" + key + "_env\"");
    if (!literal && !env && !o.contains(key) && !o.contains(key + "_env")) {
      Fail(at + "/" + key, "is required (or \"" + key + "_env\" naming an environment variable)");
    }
    if (literal) secret.value = *literal;
    if (env) secret.env = *env;
    return secret;
  }
};

const std::regex kNamePattern("[a-z0-9_-]{1,64}");
const std::regex kFieldNamePattern("[a-z0-9_]{1,64}");

void ParseAuth(Checker& c, const json::object& o, AuthSpec& auth) {
  const json::value* v = o.if_contains("auth");
  if (!v) return;
  const json::object* a = c.Object(*v, "/auth");
  if (!a) return;
  auto type = c.String(*a, "type", "/auth", true).value_or("none");
  if (type == "none") {
    c.RejectUnknown(*a, "/auth", {"type"});
  } else if (type == "bearer") {
    auth.type = AuthSpec::Type::kBearer;
    c.RejectUnknown(*a, "/auth", {"type", "token", "token_env"});
    auth.token = c.SecretField(*a, "token", "/auth");
  } else if (type == "basic") {
    auth.type = AuthSpec::Type::kBasic;
    c.RejectUnknown(*a, "/auth", {"type", "username", "username_env", "password", "password_env"});
    auth.username = c.SecretField(*a, "username", "/auth");
    auth.password = c.SecretField(*a, "password", "/auth");
  } else if (type == "header" || type == "query") {
    auth.type = type == "header" ? AuthSpec::Type::kHeader : AuthSpec::Type::kQuery;
    c.RejectUnknown(*a, "/auth", {"type", "name", "value", "value_env"});
    auth.name = c.String(*a, "name", "/auth", true).value_or("");
    if (a->contains("name") && auth.name.empty()) c.Fail("/auth/name", "must not be empty");
    auth.value = c.SecretField(*a, "value", "/auth");
  } else {
    c.Fail("/auth/type", "must be one of none, bearer, basic, header, query");
  }
}

void ParsePagination(Checker& c, const json::object& o, PaginationSpec& p) {
  const json::value* v = o.if_contains("pagination");
  if (!v) return;
  const std::string at = "/pagination";
  const json::object* g = c.Object(*v, at);
  if (!g) return;
  auto type = c.String(*g, "type", at, true).value_or("none");
  auto size = [&] {
    p.size_param = c.String(*g, "size_param", at, false).value_or("");
    p.size = c.Integer(*g, "size", at, 1, 1'000'000).value_or(0);
    if (!p.size_param.empty() && p.size == 0) c.Fail(at + "/size", "is required with size_param");
  };
  if (type == "none") {
    c.RejectUnknown(*g, at, {"type"});
  } else if (type == "page") {
    p.type = PaginationSpec::Type::kPage;
    c.RejectUnknown(*g, at, {"type", "param", "start", "size_param", "size"});
    p.param = c.String(*g, "param", at, false).value_or("page");
    p.start = c.Integer(*g, "start", at, 0, 1'000'000'000).value_or(1);
    size();
  } else if (type == "offset") {
    p.type = PaginationSpec::Type::kOffset;
    c.RejectUnknown(*g, at, {"type", "param", "start", "size_param", "size"});
    p.param = c.String(*g, "param", at, false).value_or("offset");
    p.start = c.Integer(*g, "start", at, 0, 1'000'000'000'000).value_or(0);
    size();
    if (p.size == 0 && !g->contains("size")) c.Fail(at + "/size", "is required for offset paging");
  } else if (type == "cursor") {
    p.type = PaginationSpec::Type::kCursor;
    c.RejectUnknown(*g, at, {"type", "param", "cursor_path", "size_param", "size"});
    p.param = c.String(*g, "param", at, true).value_or("");
    p.cursor_path = c.Pointer(*g, "cursor_path", at, true);
    size();
  } else if (type == "next_url") {
    p.type = PaginationSpec::Type::kNextUrl;
    c.RejectUnknown(*g, at, {"type", "next_path", "size_param", "size"});
    p.next_path = c.Pointer(*g, "next_path", at, true);
    size();
  } else if (type == "link_header") {
    p.type = PaginationSpec::Type::kLinkHeader;
    c.RejectUnknown(*g, at, {"type", "size_param", "size"});
    size();
  } else {
    c.Fail(at + "/type", "must be one of none, page, offset, cursor, next_url, link_header");
  }
}

NamedValues FieldPointers(Checker& c, const json::object& index, std::string_view key,
                          std::set<std::string>& names) {
  NamedValues out;
  const json::value* v = index.if_contains(key);
  if (!v) return out;
  std::string at = "/index/" + std::string(key);
  const json::object* members = c.Object(*v, at);
  if (!members) return out;
  for (const auto& member : *members) {
    std::string name(member.key());
    std::string here = at + "/" + Escape(name);
    if (!std::regex_match(name, kFieldNamePattern)) {
      c.Fail(here, "field names are 1-64 characters of a-z, 0-9 and _");
    } else if (name == "source" || name == "id" || name == "title" || name == "text" ||
               name == "updated_at" || name == "data") {
      c.Fail(here, "\"" + name + "\" is reserved");
    } else if (!names.insert(name).second) {
      c.Fail(here, "the field name \"" + name + "\" is used twice in the index block");
    }
    if (!member.value().is_string()) {
      c.Fail(here, "must be a JSON Pointer string");
      continue;
    }
    std::string pointer(member.value().get_string());
    auto parsed = JsonPointer::Parse(pointer, true);
    if (!parsed.ok()) c.Fail(here, parsed.status().message());
    out.emplace_back(name, pointer);
  }
  return out;
}

void ParseIndex(Checker& c, const json::object& o, IndexSpec& index) {
  const json::value* v = o.if_contains("index");
  if (!v) return;
  const json::object* ix = c.Object(*v, "/index");
  if (!ix) return;
  c.RejectUnknown(*ix, "/index", {"title", "text", "facets", "dates", "numbers", "language"});
  index.title = c.Pointer(*ix, "title", "/index", false, true);
  if (const json::value* text = ix->if_contains("text")) {
    auto add = [&](const json::value& item, const std::string& at) {
      if (!item.is_string()) return c.Fail(at, "must be a JSON Pointer string");
      auto parsed = JsonPointer::Parse(item.get_string(), true);
      if (!parsed.ok()) c.Fail(at, parsed.status().message());
      index.text.emplace_back(item.get_string());
    };
    if (text->is_array()) {
      const auto& items = text->get_array();
      for (size_t i = 0; i < items.size(); ++i) add(items[i], "/index/text/" + std::to_string(i));
    } else {
      add(*text, "/index/text");
    }
  }
  std::set<std::string> names;
  index.facets = FieldPointers(c, *ix, "facets", names);
  index.dates = FieldPointers(c, *ix, "dates", names);
  index.numbers = FieldPointers(c, *ix, "numbers", names);
  if (auto language = c.String(*ix, "language", "/index", false)) {
    const auto& known = IndexLanguages();
    if (std::find(known.begin(), known.end(), *language) == known.end()) {
      c.Fail("/index/language", "unknown language; one of the Xapian stemmers or \"none\"");
    } else {
      index.language = *language;
    }
  }
}

json::object SecretToJson(const Secret& s, const std::string& key, bool redact) {
  json::object out;
  if (!s.env.empty())
    out[key + "_env"] = s.env;
  else
    out[key] = redact ? std::string("***") : s.value;
  return out;
}

json::object PairsToJson(const NamedValues& pairs) {
  json::object out;
  for (const auto& [k, v] : pairs) out[k] = v;
  return out;
}

}  // namespace

const std::vector<std::string>& IndexLanguages() {
  static const std::vector<std::string> kLanguages = {
      "none",      "armenian",     "basque",    "catalan", "danish",          "dutch",
      "english",   "earlyenglish", "finnish",   "french",  "german",          "german2",
      "hungarian", "indonesian",   "irish",     "italian", "kraaij_pohlmann", "lithuanian",
      "lovins",    "nepali",       "norwegian", "porter",  "portuguese",      "romanian",
      "russian",   "spanish",      "swedish",   "tamil",   "turkish"};
  return kLanguages;
}

Result<SourceSpec> ParseSourceSpec(const json::value& document) {
  Checker c;
  SourceSpec spec;
  const json::object* o = c.Object(document, "");
  if (!o) return InvalidArgument("invalid source", c.errors);
  c.RejectUnknown(
      *o, "",
      {"name", "url", "method", "headers", "query", "body", "auth", "records", "id", "pagination",
       "incremental", "mode", "schedule", "rate_limit", "max_pages", "timeout_s", "index"});

  spec.name = c.String(*o, "name", "", true).value_or("");
  if (o->contains("name") && o->at("name").is_string() &&
      !std::regex_match(spec.name, kNamePattern)) {
    c.Fail("/name", "must be 1-64 characters of a-z, 0-9, _ and -");
  }
  spec.url = c.String(*o, "url", "", true).value_or("");
  if (!spec.url.empty()) {
    auto url = boost::urls::parse_absolute_uri(spec.url);
    if (!url || (url->scheme() != "http" && url->scheme() != "https") || url->host().empty()) {
      c.Fail("/url", "must be an absolute http:// or https:// URL");
    }
  }
  spec.method = c.String(*o, "method", "", false).value_or("GET");
  if (spec.method != "GET" && spec.method != "POST") c.Fail("/method", "must be GET or POST");
  spec.headers = c.Pairs(*o, "headers", "");
  spec.query = c.Pairs(*o, "query", "");
  if (const json::value* body = o->if_contains("body")) {
    if (spec.method != "POST") c.Fail("/body", "is only allowed with \"method\": \"POST\"");
    spec.body = json::serialize(*body);
  }
  ParseAuth(c, *o, spec.auth);
  spec.records = c.Pointer(*o, "records", "", false);
  if (o->contains("id")) spec.id = c.Pointer(*o, "id", "", true);
  ParsePagination(c, *o, spec.pagination);
  if (const json::value* v = o->if_contains("incremental")) {
    if (const json::object* inc = c.Object(*v, "/incremental")) {
      c.RejectUnknown(*inc, "/incremental", {"cursor", "param"});
      IncrementalSpec incremental;
      incremental.cursor = c.Pointer(*inc, "cursor", "/incremental", true);
      incremental.param = c.String(*inc, "param", "/incremental", true).value_or("");
      spec.incremental = incremental;
    }
  }
  if (auto mode = c.String(*o, "mode", "", false)) {
    if (*mode == "full_refresh")
      spec.mode = SourceSpec::Mode::kFullRefresh;
    else if (*mode != "incremental")
      c.Fail("/mode", "must be incremental or full_refresh");
  }
  spec.schedule = c.String(*o, "schedule", "", false).value_or("");
  if (!spec.schedule.empty()) {
    auto schedule = Schedule::Parse(spec.schedule);
    if (!schedule.ok()) c.Fail("/schedule", schedule.status().message());
  }
  if (const json::value* v = o->if_contains("rate_limit")) {
    if (const json::object* rate = c.Object(*v, "/rate_limit")) {
      c.RejectUnknown(*rate, "/rate_limit", {"requests_per_second"});
      spec.requests_per_second =
          c.Number(*rate, "requests_per_second", "/rate_limit", 0.001, 100000).value_or(0);
      if (!rate->contains("requests_per_second")) {
        c.Fail("/rate_limit/requests_per_second", "is required");
      }
    }
  }
  spec.max_pages = c.Integer(*o, "max_pages", "", 1, 10'000'000).value_or(spec.max_pages);
  spec.timeout_s = c.Number(*o, "timeout_s", "", 0.1, 3600).value_or(spec.timeout_s);
  ParseIndex(c, *o, spec.index);

  if (!c.errors.empty()) {
    return InvalidArgument("invalid source" + (spec.name.empty() ? "" : " \"" + spec.name + "\""),
                           c.errors);
  }
  return spec;
}

AuthSpec ParseAuthMember(const json::object& document, std::vector<FieldError>& errors) {
  Checker c;
  AuthSpec auth;
  ParseAuth(c, document, auth);
  errors.insert(errors.end(), c.errors.begin(), c.errors.end());
  return auth;
}

json::object AuthSpecToJson(const AuthSpec& spec, bool redact) {
  json::object auth;
  switch (spec.type) {
    case AuthSpec::Type::kNone:
      auth["type"] = "none";
      break;
    case AuthSpec::Type::kBearer:
      auth = SecretToJson(spec.token, "token", redact);
      auth["type"] = "bearer";
      break;
    case AuthSpec::Type::kBasic: {
      auth = SecretToJson(spec.username, "username", redact);
      for (auto& kv : SecretToJson(spec.password, "password", redact)) auth[kv.key()] = kv.value();
      auth["type"] = "basic";
      break;
    }
    case AuthSpec::Type::kHeader:
    case AuthSpec::Type::kQuery:
      auth = SecretToJson(spec.value, "value", redact);
      auth["type"] = spec.type == AuthSpec::Type::kHeader ? "header" : "query";
      auth["name"] = spec.name;
      break;
  }
  return auth;
}

json::object SourceSpecToJson(const SourceSpec& spec, bool redact) {
  json::object out;
  out["name"] = spec.name;
  const bool query_auth = spec.auth.type == AuthSpec::Type::kQuery;
  out["url"] = redact ? RedactUrl(spec.url, query_auth ? spec.auth.name : "") : spec.url;
  out["method"] = spec.method;
  if (!spec.headers.empty()) out["headers"] = PairsToJson(spec.headers);
  if (!spec.query.empty()) out["query"] = PairsToJson(spec.query);
  if (spec.body) out["body"] = json::parse(*spec.body);
  out["auth"] = AuthSpecToJson(spec.auth, redact);
  out["records"] = spec.records;
  if (spec.id) out["id"] = *spec.id;
  json::object pagination;
  const auto& p = spec.pagination;
  static const char* kTypes[] = {"none", "page", "offset", "cursor", "next_url", "link_header"};
  pagination["type"] = kTypes[static_cast<int>(p.type)];
  if (!p.param.empty()) pagination["param"] = p.param;
  if (p.type == PaginationSpec::Type::kPage || p.type == PaginationSpec::Type::kOffset) {
    pagination["start"] = p.start;
  }
  if (!p.size_param.empty()) pagination["size_param"] = p.size_param;
  if (p.size > 0) pagination["size"] = p.size;
  if (!p.cursor_path.empty()) pagination["cursor_path"] = p.cursor_path;
  if (!p.next_path.empty()) pagination["next_path"] = p.next_path;
  out["pagination"] = std::move(pagination);
  if (spec.incremental) {
    out["incremental"] = {{"cursor", spec.incremental->cursor}, {"param", spec.incremental->param}};
  }
  out["mode"] = spec.mode == SourceSpec::Mode::kFullRefresh ? "full_refresh" : "incremental";
  if (!spec.schedule.empty()) out["schedule"] = spec.schedule;
  if (spec.requests_per_second > 0) {
    out["rate_limit"] = {{"requests_per_second", spec.requests_per_second}};
  }
  out["max_pages"] = spec.max_pages;
  out["timeout_s"] = spec.timeout_s;
  json::object index;
  const auto& ix = spec.index;
  if (!ix.title.empty()) index["title"] = ix.title;
  json::array text;
  for (const auto& t : ix.text) text.emplace_back(t);
  index["text"] = std::move(text);
  index["facets"] = PairsToJson(ix.facets);
  index["dates"] = PairsToJson(ix.dates);
  index["numbers"] = PairsToJson(ix.numbers);
  index["language"] = ix.language;
  out["index"] = std::move(index);
  return out;
}

}  // namespace octohub
