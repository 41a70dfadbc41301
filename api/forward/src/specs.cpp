// Targets and rules as documents: validation with JSON Pointers, canonical JSON.
#include "octohub/forward/specs.h"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "octohub/core/document_checker.h"
#include "octohub/forward/payload.h"

namespace octohub::forward {
namespace json = boost::json;

Result<TargetSpec> ParseTargetSpec(const json::value& document) {
  DocumentChecker f;
  std::vector<FieldError>& errors = f.errors;
  const json::object* o = document.if_object();
  if (o == nullptr) return InvalidArgument("invalid target", {{"", "must be an object"}});
  f.RejectUnknown(*o, "",
                  {"name", "url", "method", "headers", "auth", "template", "batch", "max_attempts",
                   "secret", "secret_env", "timeout_s", "rate_limit", "backoff_s", "concurrency"});
  TargetSpec spec;
  spec.name = f.Name(*o, "");
  spec.url = f.String(*o, "url", "", true).value_or("");
  if (!spec.url.empty()) {
    auto url = boost::urls::parse_absolute_uri(spec.url);
    if (!url || (url->scheme() != "http" && url->scheme() != "https") || url->host().empty()) {
      f.Fail("/url", "must be an absolute http:// or https:// URL");
    }
  }
  spec.method = f.String(*o, "method", "", false).value_or("POST");
  if (spec.method != "POST" && spec.method != "PUT" && spec.method != "PATCH") {
    f.Fail("/method", "must be POST, PUT or PATCH");
  }
  if (const json::value* v = o->if_contains("headers")) {
    if (!v->is_object()) {
      f.Fail("/headers", "must be an object");
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
  if (auto text = f.String(*o, "template", "", false)) {
    auto compiled = PayloadTemplate::Compile(*text);
    if (!compiled.ok()) {
      f.Fail("/template", compiled.status().message());
    } else {
      spec.template_text = *text;
    }
  }
  spec.batch = static_cast<int>(f.Integer(*o, "batch", "", 1, 1000).value_or(1));
  spec.max_attempts = static_cast<int>(f.Integer(*o, "max_attempts", "", 1, 100).value_or(8));
  auto secret = f.String(*o, "secret", "", false);
  auto secret_env = f.String(*o, "secret_env", "", false);
  if (secret && secret_env) f.Fail("/secret", "give either \"secret\" or \"secret_env\"");
  if (secret && secret->empty()) f.Fail("/secret", "must not be empty");
  spec.secret.value = secret.value_or("");
  spec.secret.env = secret_env.value_or("");
  spec.timeout_s = f.Number(*o, "timeout_s", "", 0.1, 3600).value_or(30);
  spec.backoff_s = f.Number(*o, "backoff_s", "", 0.01, 3600).value_or(1);
  spec.concurrency = static_cast<int>(f.Integer(*o, "concurrency", "", 1, 64).value_or(4));
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
  out["headers"] = NamedValuesToJson(spec.headers);
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
  DocumentChecker f;
  const json::object* o = document.if_object();
  if (o == nullptr) return InvalidArgument("invalid rule", {{"", "must be an object"}});
  f.RejectUnknown(*o, "", {"name", "query", "target", "enabled", "backfill"});
  RuleSpec spec;
  spec.name = f.Name(*o, "");
  spec.target = f.String(*o, "target", "", true).value_or("");
  spec.enabled = f.Bool(*o, "enabled", "").value_or(true);
  spec.backfill = f.Bool(*o, "backfill", "").value_or(false);
  const json::value* query = o->if_contains("query");
  if (query == nullptr) {
    f.Fail("/query", "is required");
  } else if (const json::object* q = f.Object(*query, "/query")) {
    f.RejectUnknown(*q, "/query", {"q", "source"});
    spec.q = f.String(*q, "q", "/query", false).value_or("");
    spec.source = f.String(*q, "source", "/query", false).value_or("");
  }
  const std::vector<FieldError>& errors = f.errors;
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
