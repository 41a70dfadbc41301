// RFC 6901 JSON Pointers, with one extension for index mappings: a "*" token walks every
// element of an array ("/labels/*/name"). Pure; thread-safe.
#pragma once

#include <simdjson.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "octohub/core/status.h"

namespace octohub {

class JsonPointer {
 public:
  JsonPointer() = default;  // "" = the whole document

  // Fails on text that is neither empty nor starts with "/", or on a bad "~" escape.
  // "*" is a wildcard only when allow_wildcard; otherwise it names a member called "*".
  static Result<JsonPointer> Parse(std::string_view text, bool allow_wildcard = false);

  const std::vector<std::string>& tokens() const { return tokens_; }
  bool has_wildcard() const { return has_wildcard_; }
  const std::string& text() const { return text_; }

  // Calls visit for every value the pointer reaches (none when a step is missing; several
  // only through wildcards). Array steps accept decimal indices.
  void Visit(simdjson::dom::element root,
             const std::function<void(simdjson::dom::element)>& visit) const;

  // The first value reached, if any.
  std::optional<simdjson::dom::element> Find(simdjson::dom::element root) const;

 private:
  std::string text_;
  std::vector<std::string> tokens_;
  bool has_wildcard_ = false;
};

// Text of a scalar for indexing and ids: strings as is, numbers and booleans as written in
// JSON, null and containers as empty (the caller decides whether that is an error).
std::string ScalarText(simdjson::dom::element value);

}  // namespace octohub
