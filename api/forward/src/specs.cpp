// Targets and rules as documents: validation with JSON Pointers, canonical JSON.
#include "octohub/forward/specs.h"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "octohub/core/document_checker.h"
#include "octohub/core/json_pointer.h"
#include "octohub/core/retry.h"
#include "octohub/forward/delivery_request.h"
#include "octohub/forward/payload.h"

namespace octohub::forward {
namespace json = boost::json;
namespace {

// "retry_schedule": ["5s", "1m", …]; problems are reported at their entries.
std::optional<RetrySchedule> ParseRetrySchedule(const json::value& value,
                                                std::vector<FieldError>& errors) {
  const json::array* entries = value.if_array();
  if (entries == nullptr || entries->empty()) {
    errors.push_back(
        {"/retry_schedule", "must be a list of waits such as [\"5s\", \"1m\", \"1h\"]"});
    return std::nullopt;
  }
  if (entries->size() > kMaxRetryScheduleEntries) {
    errors.push_back(
        {"/retry_schedule", "has " + std::to_string(entries->size()) + " waits; at most " +
                                std::to_string(kMaxRetryScheduleEntries) + " are allowed"});
    return std::nullopt;
  }
  RetrySchedule schedule;
  std::chrono::milliseconds total{0};
  bool ok = true;
  for (size_t i = 0; i < entries->size(); ++i) {
    const json::string* text = (*entries)[i].if_string();
    auto wait = text != nullptr ? ParseDuration(*text) : std::nullopt;
    if (!wait) {
      errors.push_back({"/retry_schedule/" + std::to_string(i),
                        "must be a wait longer than zero such as \"250ms\", \"5s\", \"10m\", "
                        "\"2h\" or \"1d\""});
      ok = false;
      continue;
    }
    schedule.push_back(*wait);
    total += *wait;
  }
  if (ok && total > kMaxRetrySpan) {
    errors.push_back({"/retry_schedule",
                      "adds up to " + FormatDuration(total) + "; all retries must fit in 30 days"});
    return std::nullopt;
  }
  if (!ok) return std::nullopt;
  return schedule;
}

// The schedule of the older "backoff_s": doubling from it, at most 300 s apart.
RetrySchedule DoublingSchedule(double backoff_s, int retries) {
  RetrySchedule schedule;
  double wait_ms = backoff_s * 1000;
  for (int i = 0; i < retries; ++i) {
    schedule.emplace_back(static_cast<std::int64_t>(std::min(wait_ms, 300'000.0)));
    wait_ms *= 2;
  }
  return schedule;
}

}  // namespace

const RetrySchedule& DefaultRetrySchedule() {
  using std::chrono::hours, std::chrono::minutes, std::chrono::seconds;
  static const RetrySchedule schedule{seconds(5), seconds(30), minutes(2), minutes(10), minutes(30),
                                      hours(1),   hours(2),    hours(4),   hours(8),    hours(8)};
  return schedule;
}

Result<TargetSpec> ParseTargetSpec(const json::value& document) {
  DocumentChecker f;
  std::vector<FieldError>& errors = f.errors;
  const json::object* o = document.if_object();
  if (o == nullptr) return InvalidArgument("invalid target", {{"", "must be an object"}});
  f.RejectUnknown(*o, "",
                  {"name", "url", "method", "headers", "auth", "template", "batch", "max_attempts",
                   "secret", "secret_env", "timeout_s", "rate_limit", "backoff_s", "concurrency",
                   "retry_schedule", "pause_after"});
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
  const auto max_attempts = f.Integer(*o, "max_attempts", "", 1, 100);
  const json::value* schedule = o->if_contains("retry_schedule");
  const auto backoff_s = f.Number(*o, "backoff_s", "", 0.01, 3600);
  if (schedule != nullptr && backoff_s) {
    f.Fail("/backoff_s", "give either \"retry_schedule\" or the older \"backoff_s\"");
  } else if (schedule != nullptr) {
    if (auto parsed = ParseRetrySchedule(*schedule, errors)) spec.retry_schedule = *parsed;
  } else if (backoff_s) {
    // Retries doubling from backoff_s, as many as max_attempts allows (7 when not given).
    spec.retry_schedule =
        DoublingSchedule(*backoff_s, static_cast<int>(max_attempts.value_or(8)) - 1);
  }
  spec.max_attempts = static_cast<int>(
      max_attempts.value_or(static_cast<std::int64_t>(spec.retry_schedule.size()) + 1));
  if (auto text = f.String(*o, "pause_after", "", false)) {
    if (auto wait = ParseDuration(*text)) {
      spec.pause_after = *wait;
    } else {
      f.Fail("/pause_after",
             "must be a duration longer than zero such as \"30m\", \"24h\" or \"3d\"");
    }
  }
  auto secret = f.String(*o, "secret", "", false);
  auto secret_env = f.String(*o, "secret_env", "", false);
  if (secret && secret_env) f.Fail("/secret", "give either \"secret\" or \"secret_env\"");
  if (secret && secret->empty()) f.Fail("/secret", "must not be empty");
  if (secret && !StandardWebhookSignature(*secret, "", 0, "").ok()) {
    f.Fail("/secret", "starts with whsec_ but the rest is not base64");
  }
  spec.secret.value = secret.value_or("");
  spec.secret.env = secret_env.value_or("");
  spec.timeout_s = f.Number(*o, "timeout_s", "", 0.1, 3600).value_or(30);
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
  json::array schedule;
  for (const auto wait : spec.retry_schedule) schedule.emplace_back(FormatDuration(wait));
  out["retry_schedule"] = std::move(schedule);
  out["pause_after"] = FormatDuration(spec.pause_after);
  out["concurrency"] = spec.concurrency;
  return out;
}

Result<RuleSpec> ParseRuleSpec(const json::value& document) {
  DocumentChecker f;
  const json::object* o = document.if_object();
  if (o == nullptr) return InvalidArgument("invalid rule", {{"", "must be an object"}});
  f.RejectUnknown(*o, "", {"name", "query", "target", "enabled", "backfill", "changed"});
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
  if (const json::value* changed = o->if_contains("changed")) {
    const json::array* pointers = changed->if_array();
    if (pointers == nullptr || pointers->empty() || pointers->size() > kMaxChangedPointers) {
      f.Fail("/changed", "must list 1 to " + std::to_string(kMaxChangedPointers) +
                             " JSON Pointers to watch, such as [\"/state\"]");
    } else {
      for (size_t i = 0; i < pointers->size(); ++i) {
        const json::string* text = (*pointers)[i].if_string();
        auto parsed = text != nullptr ? JsonPointer::Parse(std::string(*text))
                                      : Result<JsonPointer>(InvalidArgument("not a string"));
        if (text == nullptr || text->empty() || !parsed.ok()) {
          f.Fail("/changed/" + std::to_string(i),
                 "must be a JSON Pointer to a field, such as \"/state\" or \"/assignee/login\"");
        } else {
          spec.changed.emplace_back(*text);
        }
      }
    }
  }
  const std::vector<FieldError>& errors = f.errors;
  if (!errors.empty()) {
    return InvalidArgument("invalid rule" + (spec.name.empty() ? "" : " \"" + spec.name + "\""),
                           errors);
  }
  return spec;
}

json::object RuleSpecToJson(const RuleSpec& spec) {
  json::object out{{"name", spec.name},
                   {"query", {{"q", spec.q}, {"source", spec.source}}},
                   {"target", spec.target},
                   {"enabled", spec.enabled},
                   {"backfill", spec.backfill}};
  if (!spec.changed.empty()) {
    json::array changed;
    for (const auto& pointer : spec.changed) changed.emplace_back(pointer);
    out["changed"] = std::move(changed);
  }
  return out;
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
