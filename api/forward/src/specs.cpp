// Targets and rules as documents: validation with JSON Pointers, canonical JSON.
#include "octohub/forward/specs.h"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <cmath>
#include <regex>

#include "octohub/forward/payload.h"

namespace octohub::forward {
namespace json = boost::json;
namespace {

const std::regex kNamePattern("[a-z0-9_-]{1,64}");

// Collects every problem with its pointer while reading members of one object.
class Fields {
 public:
  Fields(const json::object& o, std::vector<FieldError>& errors) : o_(o), errors_(errors) {}

  void Fail(const std::string& key, std::string reason) {
    errors_.push_back({"/" + key, std::move(reason)});
  }

  void RejectUnknown(std::initializer_list<std::string_view> known) {
    for (const auto& member : o_) {
      if (std::find(known.begin(), known.end(), member.key()) == known.end()) {
        std::string key(member.key());
        std::string escaped;
        for (char c : key) escaped += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
        Fail(escaped, "unknown field");
      }
    }
  }

  std::optional<std::string> String(const std::string& key, bool required) {
    const json::value* v = o_.if_contains(key);
    if (v == nullptr) {
      if (required) Fail(key, "is required");
      return std::nullopt;
    }
    if (!v->is_string()) {
      Fail(key, "must be a string");
      return std::nullopt;
    }
    return std::string(v->get_string());
  }

  std::optional<double> Number(const std::string& key, double min, double max, bool integer) {
    const json::value* v = o_.if_contains(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_number()) {
      Fail(key, "must be a number");
      return std::nullopt;
    }
    double d = v->to_number<double>();
    if (integer && std::floor(d) != d) {
      Fail(key, "must be an integer");
      return std::nullopt;
    }
    if (!(d >= min && d <= max)) {
      Fail(key, "must be between " + json::serialize(json::value(min)) + " and " +
                    json::serialize(json::value(max)));
      return std::nullopt;
    }
    return d;
  }

  std::optional<bool> Bool(const std::string& key) {
    const json::value* v = o_.if_contains(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_bool()) {
      Fail(key, "must be true or false");
      return std::nullopt;
    }
    return v->get_bool();
  }

  void Name(std::string& out) {
    out = String("name", true).value_or("");
    if (o_.contains("name") && o_.at("name").is_string() && !std::regex_match(out, kNamePattern)) {
      Fail("name", "must be 1-64 characters of a-z, 0-9, _ and -");
    }
  }

 private:
  const json::object& o_;
  std::vector<FieldError>& errors_;
};

json::object PairsToJson(const NamedValues& pairs) {
  json::object out;
  for (const auto& [k, v] : pairs) out[k] = v;
  return out;
}

}  // namespace

Result<TargetSpec> ParseTargetSpec(const json::value& document) {
  std::vector<FieldError> errors;
  const json::object* o = document.if_object();
  if (o == nullptr) return InvalidArgument("invalid target", {{"", "must be an object"}});
  Fields f(*o, errors);
  f.RejectUnknown({"name", "url", "method", "headers", "auth", "template", "batch", "max_attempts",
                   "secret", "secret_env", "timeout_s", "rate_limit", "backoff_s", "concurrency"});
  TargetSpec spec;
  f.Name(spec.name);
  spec.url = f.String("url", true).value_or("");
  if (!spec.url.empty()) {
    auto url = boost::urls::parse_absolute_uri(spec.url);
    if (!url || (url->scheme() != "http" && url->scheme() != "https") || url->host().empty()) {
      f.Fail("url", "must be an absolute http:// or https:// URL");
    }
  }
  spec.method = f.String("method", false).value_or("POST");
  if (spec.method != "POST" && spec.method != "PUT" && spec.method != "PATCH") {
    f.Fail("method", "must be POST, PUT or PATCH");
  }
  if (const json::value* v = o->if_contains("headers")) {
    if (!v->is_object()) {
      f.Fail("headers", "must be an object");
    } else {
      for (const auto& member : v->get_object()) {
        const std::string key(member.key());
        if (!member.value().is_string()) {
          errors.push_back({"/headers/" + key, "must be a string"});
        } else if (key.empty() || key.find_first_of(":\r\n ") != std::string::npos ||
                   member.value().get_string().find_first_of("\r\n") != json::string::npos) {
          errors.push_back({"/headers/" + key, "is not a valid header"});
        } else {
          spec.headers.emplace_back(key, std::string(member.value().get_string()));
        }
      }
    }
  }
  spec.auth = ParseAuthMember(*o, errors);
  if (auto text = f.String("template", false)) {
    auto compiled = PayloadTemplate::Compile(*text);
    if (!compiled.ok()) {
      f.Fail("template", compiled.status().message());
    } else {
      spec.template_text = *text;
    }
  }
  spec.batch = static_cast<int>(f.Number("batch", 1, 1000, true).value_or(1));
  spec.max_attempts = static_cast<int>(f.Number("max_attempts", 1, 100, true).value_or(8));
  auto secret = f.String("secret", false);
  auto secret_env = f.String("secret_env", false);
  if (secret && secret_env) f.Fail("secret", "give either \"secret\" or \"secret_env\"");
  if (secret && secret->empty()) f.Fail("secret", "must not be empty");
  spec.secret.value = secret.value_or("");
  spec.secret.env = secret_env.value_or("");
  spec.timeout_s = f.Number("timeout_s", 0.1, 3600, false).value_or(30);
  spec.backoff_s = f.Number("backoff_s", 0.01, 3600, false).value_or(1);
  spec.concurrency = static_cast<int>(f.Number("concurrency", 1, 64, true).value_or(4));
  if (const json::value* v = o->if_contains("rate_limit")) {
    const json::object* rate = v->if_object();
    const json::value* rps = rate != nullptr ? rate->if_contains("requests_per_second") : nullptr;
    if (rate == nullptr || rate->size() != 1 || rps == nullptr) {
      errors.push_back({"/rate_limit", "must be {\"requests_per_second\": N}"});
    } else if (!rps->is_number() || !(rps->to_number<double>() >= 0.001) ||
               rps->to_number<double>() > 100000) {
      errors.push_back({"/rate_limit/requests_per_second", "must be between 0.001 and 100000"});
    } else {
      spec.requests_per_second = rps->to_number<double>();
    }
  }
  if (!errors.empty()) {
    return InvalidArgument("invalid target" + (spec.name.empty() ? "" : " \"" + spec.name + "\""),
                           errors);
  }
  return spec;
}

json::object TargetSpecToJson(const TargetSpec& spec, bool redact) {
  json::object out{{"name", spec.name}, {"url", spec.url}, {"method", spec.method}};
  out["headers"] = PairsToJson(spec.headers);
  out["auth"] = AuthSpecToJson(spec.auth, redact);
  if (spec.template_text) out["template"] = *spec.template_text;
  out["batch"] = spec.batch;
  out["max_attempts"] = spec.max_attempts;
  if (!spec.secret.env.empty()) {
    out["secret_env"] = spec.secret.env;
  } else if (!spec.secret.value.empty()) {
    out["secret"] = redact ? std::string("***") : spec.secret.value;
  }
  out["timeout_s"] = spec.timeout_s;
  if (spec.requests_per_second > 0) {
    out["rate_limit"] = {{"requests_per_second", spec.requests_per_second}};
  }
  out["backoff_s"] = spec.backoff_s;
  out["concurrency"] = spec.concurrency;
  return out;
}

Result<RuleSpec> ParseRuleSpec(const json::value& document) {
  std::vector<FieldError> errors;
  const json::object* o = document.if_object();
  if (o == nullptr) return InvalidArgument("invalid rule", {{"", "must be an object"}});
  Fields f(*o, errors);
  f.RejectUnknown({"name", "query", "target", "enabled", "backfill"});
  RuleSpec spec;
  f.Name(spec.name);
  spec.target = f.String("target", true).value_or("");
  spec.enabled = f.Bool("enabled").value_or(true);
  spec.backfill = f.Bool("backfill").value_or(false);
  const json::value* query = o->if_contains("query");
  if (query == nullptr) {
    f.Fail("query", "is required");
  } else if (!query->is_object()) {
    f.Fail("query", "must be an object");
  } else {
    std::vector<FieldError> inner;
    Fields q(query->get_object(), inner);
    q.RejectUnknown({"q", "source"});
    spec.q = q.String("q", false).value_or("");
    spec.source = q.String("source", false).value_or("");
    for (auto& e : inner) errors.push_back({"/query" + e.pointer, e.reason});
  }
  if (!errors.empty()) {
    return InvalidArgument("invalid rule" + (spec.name.empty() ? "" : " \"" + spec.name + "\""),
                           errors);
  }
  return spec;
}

json::object RuleSpecToJson(const RuleSpec& spec) {
  return {{"name", spec.name},
          {"query", {{"q", spec.q}, {"source", spec.source}}},
          {"target", spec.target},
          {"enabled", spec.enabled},
          {"backfill", spec.backfill}};
}

std::vector<std::string> SplitSources(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string part = list.substr(start, comma == std::string::npos ? comma : comma - start);
    part.erase(0, part.find_first_not_of(' '));
    part.erase(part.find_last_not_of(' ') + 1);
    if (!part.empty()) out.push_back(part);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace octohub::forward
