// A validator for the subset of JSON Schema (2020-12) that api/openapi/*.json uses: $ref to
// "#/...", type (one or a list), enum, const, properties, required, additionalProperties,
// items, oneOf, anyOf, allOf, minimum, maximum, exclusiveMinimum/Maximum, minLength, maxLength,
// minItems, maxItems, pattern.
// Any other keyword is an error, so a schema cannot silently go unchecked.
#pragma once

#include <boost/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace octohub::testing {

class JsonSchemaValidator {
 public:
  explicit JsonSchemaValidator(const boost::json::value& root) : root_(root) {}

  // Every violation, as "pointer: reason"; empty when the value is valid.
  std::vector<std::string> Validate(const boost::json::value& schema,
                                    const boost::json::value& value) const {
    std::vector<std::string> errors;
    Check(schema, value, "", errors);
    return errors;
  }

  // The value a "#/a/b" reference points at.
  const boost::json::value& Resolve(const std::string& ref) const {
    if (ref.rfind("#/", 0) != 0) throw std::runtime_error("only local $ref: " + ref);
    boost::system::error_code ec;
    const boost::json::value* at = root_.find_pointer(ref.substr(1), ec);
    if (at == nullptr) throw std::runtime_error("unresolved $ref " + ref);
    return *at;
  }

 private:
  static bool HasType(const boost::json::value& v, std::string_view type) {
    if (type == "null") return v.is_null();
    if (type == "boolean") return v.is_bool();
    if (type == "string") return v.is_string();
    if (type == "object") return v.is_object();
    if (type == "array") return v.is_array();
    if (type == "integer") return v.is_int64() || v.is_uint64();
    if (type == "number") return v.is_number();
    throw std::runtime_error("unknown type " + std::string(type));
  }

  static double Number(const boost::json::value& v) { return v.to_number<double>(); }

  void Check(const boost::json::value& schema_value, const boost::json::value& v,
             const std::string& at, std::vector<std::string>& errors) const {
    if (schema_value.is_bool()) {
      if (!schema_value.as_bool()) errors.push_back(at + ": not allowed");
      return;
    }
    const auto& schema = schema_value.as_object();
    static const std::set<std::string, std::less<>> kAnnotations = {
        "description", "examples", "example", "format", "default", "title", "deprecated"};
    for (const auto& [keyword, arg] : schema) {
      if (kAnnotations.count(keyword)) continue;
      if (keyword == "$ref") {
        Check(Resolve(std::string(arg.as_string())), v, at, errors);
      } else if (keyword == "type") {
        bool ok = false;
        if (arg.is_string()) {
          ok = HasType(v, arg.as_string());
        } else {
          for (const auto& t : arg.as_array()) ok = ok || HasType(v, t.as_string());
        }
        if (!ok) errors.push_back(at + ": is not of type " + boost::json::serialize(arg));
      } else if (keyword == "enum") {
        bool ok = false;
        for (const auto& option : arg.as_array()) ok = ok || option == v;
        if (!ok) errors.push_back(at + ": is not one of " + boost::json::serialize(arg));
      } else if (keyword == "const") {
        if (arg != v) errors.push_back(at + ": is not " + boost::json::serialize(arg));
      } else if (keyword == "required") {
        if (!v.is_object()) continue;
        for (const auto& name : arg.as_array()) {
          if (!v.as_object().contains(name.as_string())) {
            errors.push_back(at + ": lacks \"" + std::string(name.as_string()) + "\"");
          }
        }
      } else if (keyword == "properties") {
        if (!v.is_object()) continue;
        for (const auto& [name, sub] : arg.as_object()) {
          if (const auto* member = v.as_object().if_contains(name)) {
            Check(sub, *member, at + "/" + std::string(name), errors);
          }
        }
      } else if (keyword == "additionalProperties") {
        if (!v.is_object()) continue;
        const auto* known = schema.if_contains("properties");
        for (const auto& [name, member] : v.as_object()) {
          if (known != nullptr && known->as_object().contains(name)) continue;
          if (arg.is_bool() && !arg.as_bool()) {
            errors.push_back(at + ": unexpected member \"" + std::string(name) + "\"");
          } else {
            Check(arg, member, at + "/" + std::string(name), errors);
          }
        }
      } else if (keyword == "items") {
        if (!v.is_array()) continue;
        for (std::size_t i = 0; i < v.as_array().size(); ++i) {
          Check(arg, v.as_array()[i], at + "/" + std::to_string(i), errors);
        }
      } else if (keyword == "oneOf" || keyword == "anyOf") {
        int matched = 0;
        for (const auto& option : arg.as_array()) {
          std::vector<std::string> sub;
          Check(option, v, at, sub);
          if (sub.empty()) ++matched;
        }
        if (keyword == "oneOf" ? matched != 1 : matched == 0) {
          errors.push_back(at + ": matches " + std::to_string(matched) + " schemas of " +
                           std::string(keyword));
        }
      } else if (keyword == "allOf") {
        for (const auto& part : arg.as_array()) Check(part, v, at, errors);
      } else if (keyword == "minimum" || keyword == "maximum" || keyword == "exclusiveMinimum" ||
                 keyword == "exclusiveMaximum") {
        if (!v.is_number()) continue;
        double x = Number(v), limit = Number(arg);
        bool ok = keyword == "minimum"            ? x >= limit
                  : keyword == "maximum"          ? x <= limit
                  : keyword == "exclusiveMinimum" ? x > limit
                                                  : x < limit;
        if (!ok) errors.push_back(at + ": violates " + std::string(keyword));
      } else if (keyword == "minLength" || keyword == "maxLength") {
        if (!v.is_string()) continue;
        auto n = static_cast<std::int64_t>(v.as_string().size());
        if (keyword == "minLength" ? n < arg.as_int64() : n > arg.as_int64()) {
          errors.push_back(at + ": violates " + std::string(keyword));
        }
      } else if (keyword == "minItems" || keyword == "maxItems") {
        if (!v.is_array()) continue;
        auto n = static_cast<std::int64_t>(v.as_array().size());
        if (keyword == "minItems" ? n < arg.as_int64() : n > arg.as_int64()) {
          errors.push_back(at + ": violates " + std::string(keyword));
        }
      } else if (keyword == "pattern") {
        if (!v.is_string()) continue;
        if (!std::regex_search(std::string(v.as_string()),
                               std::regex(std::string(arg.as_string())))) {
          errors.push_back(at + ": does not match " + std::string(arg.as_string()));
        }
      } else {
        throw std::runtime_error("the validator does not know the keyword " + std::string(keyword) +
                                 " (at " + at + ")");
      }
    }
  }

  const boost::json::value& root_;
};

}  // namespace octohub::testing
