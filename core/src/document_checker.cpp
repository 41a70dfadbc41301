#include "octohub/core/document_checker.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <regex>

#include "octohub/core/json_pointer.h"

namespace octohub {
namespace json = boost::json;

std::string EscapePointerToken(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

json::object NamedValuesToJson(const NamedValues& pairs) {
  json::object out;
  for (const auto& [k, v] : pairs) out[k] = v;
  return out;
}

void DocumentChecker::Fail(const std::string& at, std::string reason) {
  errors.push_back({at, std::move(reason)});
}

const json::object* DocumentChecker::Object(const json::value& v, const std::string& at) {
  if (const auto* o = v.if_object()) return o;
  Fail(at, "must be an object");
  return nullptr;
}

void DocumentChecker::RejectUnknown(const json::object& o, const std::string& at,
                                    std::initializer_list<std::string_view> known) {
  for (const auto& member : o) {
    if (std::find(known.begin(), known.end(), member.key()) == known.end()) {
      Fail(at + "/" + EscapePointerToken(member.key()), "unknown field");
    }
  }
}

std::optional<std::string> DocumentChecker::String(const json::object& o, std::string_view key,
                                                   const std::string& at, bool required) {
  const json::value* v = o.if_contains(key);
  const std::string here = at + "/" + EscapePointerToken(key);
  if (v == nullptr) {
    if (required) Fail(here, "is required");
    return std::nullopt;
  }
  if (!v->is_string()) {
    Fail(here, "must be a string");
    return std::nullopt;
  }
  return std::string(v->get_string());
}

std::optional<double> DocumentChecker::Number(const json::object& o, std::string_view key,
                                              const std::string& at, double min, double max) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  const std::string here = at + "/" + EscapePointerToken(key);
  if (!v->is_number()) {
    Fail(here, "must be a number");
    return std::nullopt;
  }
  const double d = v->to_number<double>();
  if (!(d >= min && d <= max)) {
    Fail(here, "must be between " + json::serialize(json::value(min)) + " and " +
                   json::serialize(json::value(max)));
    return std::nullopt;
  }
  return d;
}

std::optional<std::int64_t> DocumentChecker::Integer(const json::object& o, std::string_view key,
                                                     const std::string& at, std::int64_t min,
                                                     std::int64_t max) {
  auto d = Number(o, key, at, static_cast<double>(min), static_cast<double>(max));
  if (!d) return std::nullopt;
  if (std::floor(*d) != *d) {
    Fail(at + "/" + EscapePointerToken(key), "must be an integer");
    return std::nullopt;
  }
  return static_cast<std::int64_t>(*d);
}

std::optional<bool> DocumentChecker::Bool(const json::object& o, std::string_view key,
                                          const std::string& at) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_bool()) {
    Fail(at + "/" + EscapePointerToken(key), "must be true or false");
    return std::nullopt;
  }
  return v->get_bool();
}

std::string DocumentChecker::Pointer(const json::object& o, std::string_view key,
                                     const std::string& at, bool required, bool wildcard) {
  auto text = String(o, key, at, required);
  if (!text) return {};
  auto parsed = JsonPointer::Parse(*text, wildcard);
  if (!parsed.ok()) {
    Fail(at + "/" + EscapePointerToken(key), parsed.status().message());
    return {};
  }
  return *text;
}

NamedValues DocumentChecker::Pairs(const json::object& o, std::string_view key,
                                   const std::string& at) {
  NamedValues out;
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return out;
  const std::string here = at + "/" + EscapePointerToken(key);
  const json::object* members = Object(*v, here);
  if (members == nullptr) return out;
  for (const auto& member : *members) {
    const json::value& value = member.value();
    if (value.is_string()) {
      out.emplace_back(member.key(), std::string(value.get_string()));
    } else if (value.is_number() || value.is_bool()) {
      out.emplace_back(member.key(), json::serialize(value));
    } else {
      Fail(here + "/" + EscapePointerToken(member.key()), "must be a string, number or boolean");
    }
  }
  return out;
}

Secret DocumentChecker::SecretField(const json::object& o, const std::string& key,
                                    const std::string& at, bool required) {
  Secret secret;
  auto literal = String(o, key, at, false);
  auto env = String(o, key + "_env", at, false);
  if (literal && env) Fail(at + "/" + key, "give either \"" + key + "\" or \"" + key + "_env\"");
  if (required && !literal && !env && !o.contains(key) && !o.contains(key + "_env")) {
    Fail(at + "/" + key, "is required (or \"" + key + "_env\" naming an environment variable)");
  }
  if (literal) secret.value = *literal;
  if (env) secret.env = *env;
  return secret;
}

std::string DocumentChecker::Name(const json::object& o, const std::string& at) {
  static const std::regex kNamePattern("[a-z0-9_-]{1,64}");
  std::string name = String(o, "name", at, true).value_or("");
  if (o.contains("name") && o.at("name").is_string() && !std::regex_match(name, kNamePattern)) {
    Fail(at + "/name", "must be 1-64 characters of a-z, 0-9, _ and -");
  }
  return name;
}

}  // namespace octohub
