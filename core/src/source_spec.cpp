#include "octohub/core/source_spec.h"

#include <algorithm>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <cctype>
#include <cmath>
#include <map>
#include <regex>
#include <set>

#include "octohub/core/document_checker.h"
#include "octohub/core/json_pointer.h"
#include "octohub/core/schedule.h"
#include "octohub/core/secrets.h"
#include "source_spec_parts.h"

namespace octohub {
namespace json = boost::json;
namespace {

const std::regex kFieldNamePattern("[a-z0-9_]{1,64}");

NamedValues FieldPointers(DocumentChecker& c, const json::object& index, std::string_view key,
                          std::set<std::string>& names) {
  NamedValues out;
  const json::value* v = index.if_contains(key);
  if (!v) return out;
  std::string at = "/index/" + std::string(key);
  const json::object* members = c.Object(*v, at);
  if (!members) return out;
  for (const auto& member : *members) {
    std::string name(member.key());
    std::string here = at + "/" + EscapePointerToken(name);
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

// "synonyms": [["tv", "television"], ["nyc", "new york city"]]. Each entry is words (letters,
// digits, "-", "'" and "."), kept in lower case with single spaces. An entry in two groups
// would chain them together: refused, as are groups of one and oversized lists.
std::vector<std::vector<std::string>> SynonymGroups(DocumentChecker& c, const json::object& ix) {
  std::vector<std::vector<std::string>> groups;
  const json::value* v = ix.if_contains("synonyms");
  if (v == nullptr) return groups;
  if (!v->is_array()) {
    c.Fail("/index/synonyms", "must be an array of groups, each an array of words or phrases");
    return groups;
  }
  std::map<std::string, std::size_t> group_of;
  std::size_t total = 0;
  for (std::size_t g = 0; g < v->as_array().size(); ++g) {
    const std::string at = "/index/synonyms/" + std::to_string(g);
    const json::value& group = v->as_array()[g];
    if (!group.is_array() || group.as_array().size() < 2) {
      c.Fail(at, "a group is an array of at least two words or phrases");
      continue;
    }
    if (group.as_array().size() > kMaxSynonymsPerGroup) {
      c.Fail(at, "a group holds at most " + std::to_string(kMaxSynonymsPerGroup) + " entries");
      continue;
    }
    total += group.as_array().size();
    std::vector<std::string> entries;
    for (std::size_t e = 0; e < group.as_array().size(); ++e) {
      const std::string here = at + "/" + std::to_string(e);
      const json::value& item = group.as_array()[e];
      if (!item.is_string()) {
        c.Fail(here, "must be a word or phrase");
        continue;
      }
      std::string entry;
      std::size_t words = 0;
      bool readable = true;
      for (const char ch : item.as_string()) {
        const auto byte = static_cast<unsigned char>(ch);
        if (ch == ' ' || ch == '\t') {
          if (!entry.empty() && entry.back() != ' ') entry += ' ';
          continue;
        }
        if (entry.empty() || entry.back() == ' ') ++words;
        readable = readable && (std::isalnum(byte) || byte >= 0x80 || ch == '-' || ch == '\'' ||
                                ch == '.' || ch == '_');
        entry += static_cast<char>(std::tolower(byte));
      }
      if (!entry.empty() && entry.back() == ' ') entry.pop_back();
      if (entry.empty() || !readable) {
        c.Fail(here, "a synonym is words of letters and digits (with - ' . _), spaces between");
        continue;
      }
      if (words > kMaxSynonymWords) {
        c.Fail(here, "a synonym is at most " + std::to_string(kMaxSynonymWords) + " words");
        continue;
      }
      auto [it, added] = group_of.emplace(entry, g);
      if (!added) {
        c.Fail(here, "\"" + entry + "\" is already in group " + std::to_string(it->second) +
                         (it->second == g ? "" : "; an entry belongs to one group (merge them)"));
        continue;
      }
      entries.push_back(std::move(entry));
    }
    groups.push_back(std::move(entries));
  }
  if (total > kMaxSynonyms) {
    c.Fail("/index/synonyms", "at most " + std::to_string(kMaxSynonyms) + " entries in all");
  }
  return groups;
}

void ParseIndex(DocumentChecker& c, const json::object& o, IndexSpec& index) {
  const json::value* v = o.if_contains("index");
  if (!v) return;
  const json::object* ix = c.Object(*v, "/index");
  if (!ix) return;
  c.RejectUnknown(*ix, "/index",
                  {"title", "text", "facets", "dates", "numbers", "language", "typos", "synonyms"});
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
  index.typos = c.Bool(*ix, "typos", "/index").value_or(true);
  index.synonyms = SynonymGroups(c, *ix);
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

std::vector<std::string> PlaceholderNames(std::string_view text) {
  static const std::regex kPlaceholder(R"(\{([A-Za-z0-9_]{1,64})\})");
  std::vector<std::string> names;
  for (std::cregex_iterator it(text.data(), text.data() + text.size(), kPlaceholder), end;
       it != end; ++it) {
    names.push_back((*it)[1].str());
  }
  return names;
}

namespace {

const std::regex kVariableName("[A-Za-z0-9_]{1,64}");

void ParseForEach(DocumentChecker& c, const json::object& o, SourceSpec& spec) {
  const json::value* v = o.if_contains("for_each");
  if (v == nullptr) return;
  const std::string at = "/for_each";
  const json::object* f = c.Object(*v, at);
  if (f == nullptr) return;
  c.RejectUnknown(*f, at, {"source", "vars"});
  ForEachSpec for_each;
  for_each.source = c.String(*f, "source", at, true).value_or("");
  if (!for_each.source.empty() && for_each.source == spec.name) {
    c.Fail(at + "/source", "a source cannot be its own parent");
  }
  for_each.vars = c.Pairs(*f, "vars", at);
  if (!f->contains("vars")) c.Fail(at + "/vars", "is required: the parent fields the child uses");
  for (const auto& [name, pointer] : for_each.vars) {
    const std::string here = at + "/vars/" + EscapePointerToken(name);
    if (!std::regex_match(name, kVariableName)) {
      c.Fail(here, "variable names are 1-64 characters of A-Z, a-z, 0-9 and _");
    }
    auto parsed = JsonPointer::Parse(pointer);
    if (!parsed.ok()) c.Fail(here, parsed.status().message());
  }
  spec.for_each = std::move(for_each);
}

// Each "{name}" in the request must be a for_each variable; without for_each braces are text.
void CheckPlaceholders(DocumentChecker& c, const json::object& o, const SourceSpec& spec) {
  if (!spec.for_each) return;
  auto check = [&](std::string_view text, const std::string& at) {
    for (const std::string& name : PlaceholderNames(text)) {
      const bool known = std::any_of(spec.for_each->vars.begin(), spec.for_each->vars.end(),
                                     [&](const auto& var) { return var.first == name; });
      if (!known) c.Fail(at, "{" + name + "} is not one of the for_each variables");
    }
  };
  check(spec.url, "/url");
  for (const auto& [key, value] : spec.query) check(value, "/query/" + EscapePointerToken(key));
  for (const auto& [key, value] : spec.headers) {
    check(value, "/headers/" + EscapePointerToken(key));
  }
  if (const json::value* body = o.if_contains("body")) check(json::serialize(*body), "/body");
}

// "push": {"signature", "secret" or "secret_env", "header"}.
void ParsePush(DocumentChecker& c, const json::object& o, SourceSpec& spec) {
  const json::value* v = o.if_contains("push");
  if (v == nullptr) return;
  const json::object* push = c.Object(*v, "/push");
  if (push == nullptr) return;
  c.RejectUnknown(*push, "/push", {"signature", "secret", "secret_env", "header"});
  PushSpec out;
  const std::string signature = c.String(*push, "signature", "/push", true).value_or("");
  if (signature == "github") {
    out.signature = PushSpec::Signature::kGithub;
  } else if (signature == "stripe") {
    out.signature = PushSpec::Signature::kStripe;
  } else if (signature == "standard-webhooks") {
    out.signature = PushSpec::Signature::kStandardWebhooks;
  } else if (signature == "hmac-sha256") {
    out.signature = PushSpec::Signature::kHmacSha256;
  } else if (!signature.empty()) {
    c.Fail("/push/signature", "must be github, stripe, standard-webhooks or hmac-sha256");
  }
  auto secret = c.String(*push, "secret", "/push", false);
  auto secret_env = c.String(*push, "secret_env", "/push", false);
  if (secret && secret_env) {
    c.Fail("/push/secret", "give either \"secret\" or \"secret_env\"");
  } else if (!secret && !secret_env) {
    c.Fail("/push/secret", "is required (or \"secret_env\"): pushes are authenticated by it");
  } else if (secret && secret->empty()) {
    c.Fail("/push/secret", "must not be empty");
  }
  out.secret.value = secret.value_or("");
  out.secret.env = secret_env.value_or("");
  auto header = c.String(*push, "header", "/push", false);
  if (out.signature == PushSpec::Signature::kHmacSha256) {
    if (!header || header->empty() || header->find_first_of(":\r\n ") != std::string::npos) {
      c.Fail("/push/header",
             "must name the header that carries the signature, such as "
             "\"X-Signature\"");
    } else {
      out.header = *header;
    }
  } else if (header) {
    c.Fail("/push/header", "is only for \"signature\": \"hmac-sha256\"");
  }
  spec.push = out;
}

void ParseUrl(DocumentChecker& c, const json::object& o, SourceSpec& spec) {
  // A source that receives pushes may have nothing to poll.
  spec.url = c.String(o, "url", "", !o.contains("push")).value_or("");
  if (spec.url.empty()) return;
  // Placeholders are filled from each parent record: check the URL with a value in place.
  const std::string sample = std::regex_replace(spec.url, std::regex(R"(\{[A-Za-z0-9_]+\})"), "x");
  auto url = boost::urls::parse_absolute_uri(sample);
  if (!url || (url->scheme() != "http" && url->scheme() != "https") || url->host().empty()) {
    c.Fail("/url", "must be an absolute http:// or https:// URL");
  }
}

void ParseRateLimit(DocumentChecker& c, const json::object& o, SourceSpec& spec) {
  const json::value* v = o.if_contains("rate_limit");
  if (v == nullptr) return;
  const json::object* rate = c.Object(*v, "/rate_limit");
  if (rate == nullptr) return;
  c.RejectUnknown(*rate, "/rate_limit", {"requests_per_second", "max_wait_s"});
  spec.requests_per_second =
      c.Number(*rate, "requests_per_second", "/rate_limit", 0.001, 100000).value_or(0);
  spec.max_wait_s =
      c.Number(*rate, "max_wait_s", "/rate_limit", 0, 86400).value_or(spec.max_wait_s);
  if (!rate->contains("requests_per_second") && !rate->contains("max_wait_s")) {
    c.Fail("/rate_limit/requests_per_second", "is required (or \"max_wait_s\")");
  }
}

}  // namespace

Result<SourceSpec> ParseSourceSpec(const json::value& document) {
  DocumentChecker c;
  SourceSpec spec;
  const json::object* o = c.Object(document, "");
  if (o == nullptr) return InvalidArgument("invalid source", c.errors);
  c.RejectUnknown(*o, "", {"name",       "url",         "method",    "headers",  "query",
                           "body",       "auth",        "format",    "records",  "id",
                           "pagination", "incremental", "mode",      "schedule", "for_each",
                           "rate_limit", "max_pages",   "timeout_s", "strict",   "max_delete_ratio",
                           "index",      "push"});

  spec.name = c.Name(*o, "");
  ParseUrl(c, *o, spec);
  spec.method = c.String(*o, "method", "", false).value_or("GET");
  if (spec.method != "GET" && spec.method != "POST") c.Fail("/method", "must be GET or POST");
  spec.headers = c.Pairs(*o, "headers", "");
  spec.query = c.Pairs(*o, "query", "");
  if (const json::value* body = o->if_contains("body")) {
    if (spec.method != "POST") c.Fail("/body", "is only allowed with \"method\": \"POST\"");
    if (!body->is_object() && o->contains("pagination") && o->at("pagination").is_object() &&
        (o->at("pagination").as_object().contains("body_param") ||
         o->at("pagination").as_object().contains("size_body_param"))) {
      c.Fail("/body", "must be an object when paging writes into it");
    }
    spec.body = json::serialize(*body);
  }
  source_parts::ParseAuth(c, *o, spec.auth, /*allow_oauth2=*/true);
  if (auto format = c.String(*o, "format", "", false)) {
    if (*format == "ndjson") {
      spec.format = SourceSpec::Format::kNdjson;
    } else if (*format == "csv") {
      spec.format = SourceSpec::Format::kCsv;
    } else if (*format != "json") {
      c.Fail("/format", "must be json, ndjson or csv");
    }
  }
  spec.records = c.Pointer(*o, "records", "", false);
  if (o->contains("id")) spec.id = c.Pointer(*o, "id", "", true);
  source_parts::ParsePagination(c, *o, spec);
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
  ParseForEach(c, *o, spec);
  CheckPlaceholders(c, *o, spec);
  spec.schedule = c.String(*o, "schedule", "", false).value_or("");
  if (spec.schedule == kAfterParentSchedule) {
    if (!o->contains("for_each")) {
      c.Fail("/schedule", "\"after_parent\" needs a parent: add \"for_each\"");
    }
  } else if (!spec.schedule.empty()) {
    auto schedule = Schedule::Parse(spec.schedule);
    if (!schedule.ok()) c.Fail("/schedule", schedule.status().message());
  }
  ParseRateLimit(c, *o, spec);
  spec.max_pages = c.Integer(*o, "max_pages", "", 1, 10'000'000).value_or(spec.max_pages);
  spec.timeout_s = c.Number(*o, "timeout_s", "", 0.1, 3600).value_or(spec.timeout_s);
  spec.strict = c.Bool(*o, "strict", "").value_or(false);
  spec.max_delete_ratio =
      c.Number(*o, "max_delete_ratio", "", 0, 1).value_or(spec.max_delete_ratio);
  ParseIndex(c, *o, spec.index);
  ParsePush(c, *o, spec);
  if (spec.url.empty() && spec.push) {
    if (!spec.schedule.empty()) c.Fail("/schedule", "needs a \"url\" to poll");
    if (spec.for_each) c.Fail("/for_each", "needs a \"url\" to fetch");
  }

  if (!c.errors.empty()) {
    return InvalidArgument("invalid source" + (spec.name.empty() ? "" : " \"" + spec.name + "\""),
                           c.errors);
  }
  return spec;
}

json::object SourceSpecToJson(const SourceSpec& spec, bool redact) {
  json::object out;
  out["name"] = spec.name;
  const bool query_auth = spec.auth.type == AuthSpec::Type::kQuery;
  if (!spec.url.empty()) {
    out["url"] = redact ? RedactUrl(spec.url, query_auth ? spec.auth.name : "") : spec.url;
  }
  out["method"] = spec.method;
  if (!spec.headers.empty()) out["headers"] = NamedValuesToJson(spec.headers);
  if (!spec.query.empty()) out["query"] = NamedValuesToJson(spec.query);
  if (spec.body) out["body"] = json::parse(*spec.body);
  out["auth"] = AuthSpecToJson(spec.auth, redact);
  static const char* const kFormats[] = {"json", "ndjson", "csv"};
  out["format"] = kFormats[static_cast<int>(spec.format)];
  out["records"] = spec.records;
  if (spec.id) out["id"] = *spec.id;
  out["pagination"] = source_parts::PaginationToJson(spec.pagination);
  if (spec.incremental) {
    out["incremental"] = {{"cursor", spec.incremental->cursor}, {"param", spec.incremental->param}};
  }
  out["mode"] = spec.mode == SourceSpec::Mode::kFullRefresh ? "full_refresh" : "incremental";
  if (!spec.schedule.empty()) out["schedule"] = spec.schedule;
  if (spec.for_each) {
    out["for_each"] = {{"source", spec.for_each->source},
                       {"vars", NamedValuesToJson(spec.for_each->vars)}};
  }
  json::object rate_limit{{"max_wait_s", spec.max_wait_s}};
  if (spec.requests_per_second > 0) rate_limit["requests_per_second"] = spec.requests_per_second;
  out["rate_limit"] = std::move(rate_limit);
  out["max_pages"] = spec.max_pages;
  out["timeout_s"] = spec.timeout_s;
  out["strict"] = spec.strict;
  out["max_delete_ratio"] = spec.max_delete_ratio;
  json::object index;
  const auto& ix = spec.index;
  if (!ix.title.empty()) index["title"] = ix.title;
  json::array text;
  for (const auto& t : ix.text) text.emplace_back(t);
  index["text"] = std::move(text);
  index["facets"] = NamedValuesToJson(ix.facets);
  index["dates"] = NamedValuesToJson(ix.dates);
  index["numbers"] = NamedValuesToJson(ix.numbers);
  index["language"] = ix.language;
  index["typos"] = ix.typos;
  json::array synonyms;
  for (const auto& group : ix.synonyms) {
    json::array entries;
    for (const auto& entry : group) entries.emplace_back(entry);
    synonyms.emplace_back(std::move(entries));
  }
  index["synonyms"] = std::move(synonyms);
  out["index"] = std::move(index);
  if (spec.push) {
    json::object push{{"signature", PushSignatureName(spec.push->signature)}};
    if (!spec.push->secret.env.empty()) {
      push["secret_env"] = spec.push->secret.env;
    } else {
      push["secret"] = redact ? std::string("***") : spec.push->secret.value;
    }
    if (!spec.push->header.empty()) push["header"] = spec.push->header;
    out["push"] = std::move(push);
  }
  return out;
}

const char* PushSignatureName(PushSpec::Signature signature) {
  switch (signature) {
    case PushSpec::Signature::kGithub:
      return "github";
    case PushSpec::Signature::kStripe:
      return "stripe";
    case PushSpec::Signature::kStandardWebhooks:
      return "standard-webhooks";
    case PushSpec::Signature::kHmacSha256:
      return "hmac-sha256";
  }
  return "github";
}

}  // namespace octohub
