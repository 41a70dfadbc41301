// Reads a JSON document (a source, a target, a rule) while collecting every problem with its
// JSON Pointer, so that one answer names them all (SPEC: 422 with a pointer per field).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "octohub/core/source_spec.h"
#include "octohub/core/status.h"

namespace octohub {

// A key as one JSON Pointer reference token ("a/b" -> "a~1b").
std::string EscapePointerToken(std::string_view key);

// {"name": "value", …} in the pairs' order.
boost::json::object NamedValuesToJson(const NamedValues& pairs);

// Every method takes the pointer `at` of the object it reads; a member's problems are
// reported at `at + "/" + key`. Absent optional members are nullopt without a problem.
class DocumentChecker {
 public:
  std::vector<FieldError> errors;

  void Fail(const std::string& at, std::string reason);
  bool ok() const { return errors.empty(); }

  const boost::json::object* Object(const boost::json::value& v, const std::string& at);
  void RejectUnknown(const boost::json::object& o, const std::string& at,
                     std::initializer_list<std::string_view> known);
  std::optional<std::string> String(const boost::json::object& o, std::string_view key,
                                    const std::string& at, bool required);
  std::optional<double> Number(const boost::json::object& o, std::string_view key,
                               const std::string& at, double min, double max);
  std::optional<std::int64_t> Integer(const boost::json::object& o, std::string_view key,
                                      const std::string& at, std::int64_t min, std::int64_t max);
  std::optional<bool> Bool(const boost::json::object& o, std::string_view key,
                           const std::string& at);
  // A JSON Pointer string ("" when absent or invalid); wildcard allows "*" tokens.
  std::string Pointer(const boost::json::object& o, std::string_view key, const std::string& at,
                      bool required, bool wildcard = false);
  // An object of string, number or boolean values, kept in document order.
  NamedValues Pairs(const boost::json::object& o, std::string_view key, const std::string& at);
  // A secret given as "key" or "key_env" (required: one of them must be there).
  Secret SecretField(const boost::json::object& o, const std::string& key, const std::string& at,
                     bool required = true);
  // "name": 1-64 characters of a-z, 0-9, _ and -.
  std::string Name(const boost::json::object& o, const std::string& at);
};

}  // namespace octohub
