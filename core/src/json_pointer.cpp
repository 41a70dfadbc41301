#include "octohub/core/json_pointer.h"

#include <charconv>

namespace octohub {
namespace {

constexpr std::string_view kWildcard = "*";

bool ParseIndex(const std::string& token, size_t& index) {
  if (token.empty() || (token.size() > 1 && token[0] == '0')) return false;
  auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), index);
  return error == std::errc() && end == token.data() + token.size();
}

void VisitFrom(simdjson::dom::element node, const std::vector<std::string>& tokens, size_t depth,
               bool wildcards, const std::function<void(simdjson::dom::element)>& visit) {
  if (depth == tokens.size()) {
    visit(node);
    return;
  }
  const std::string& token = tokens[depth];
  if (node.is_object()) {
    simdjson::dom::element child;
    if (node.get_object().value_unsafe().at_key(token).get(child) == simdjson::SUCCESS) {
      VisitFrom(child, tokens, depth + 1, wildcards, visit);
    }
  } else if (node.is_array()) {
    simdjson::dom::array array = node.get_array().value_unsafe();
    if (wildcards && token == kWildcard) {
      for (simdjson::dom::element child : array) {
        VisitFrom(child, tokens, depth + 1, wildcards, visit);
      }
      return;
    }
    size_t index = 0;
    simdjson::dom::element child;
    if (ParseIndex(token, index) && array.at(index).get(child) == simdjson::SUCCESS) {
      VisitFrom(child, tokens, depth + 1, wildcards, visit);
    }
  }
}

}  // namespace

Result<JsonPointer> JsonPointer::Parse(std::string_view text, bool allow_wildcard) {
  JsonPointer pointer;
  pointer.text_ = std::string(text);
  if (text.empty()) return pointer;
  if (text[0] != '/') return InvalidArgument("a JSON Pointer starts with \"/\" (or is empty)");
  std::string token;
  for (size_t i = 1; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '/') {
      if (allow_wildcard && token == kWildcard) pointer.has_wildcard_ = true;
      pointer.tokens_.push_back(std::move(token));
      token.clear();
    } else if (text[i] == '~') {
      if (i + 1 >= text.size() || (text[i + 1] != '0' && text[i + 1] != '1')) {
        return InvalidArgument("\"~\" in a JSON Pointer must be followed by 0 or 1");
      }
      token += text[++i] == '0' ? '~' : '/';
    } else {
      token += text[i];
    }
  }
  return pointer;
}

void JsonPointer::Visit(simdjson::dom::element root,
                        const std::function<void(simdjson::dom::element)>& visit) const {
  VisitFrom(root, tokens_, 0, has_wildcard_, visit);
}

std::optional<simdjson::dom::element> JsonPointer::Find(simdjson::dom::element root) const {
  std::optional<simdjson::dom::element> found;
  Visit(root, [&](simdjson::dom::element value) {
    if (!found) found = value;
  });
  return found;
}

std::string ScalarText(simdjson::dom::element value) {
  switch (value.type()) {
    case simdjson::dom::element_type::STRING:
      return std::string(value.get_string().value_unsafe());
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
    case simdjson::dom::element_type::DOUBLE:
    case simdjson::dom::element_type::BOOL:
      return simdjson::minify(value);
    default:
      return {};
  }
}

}  // namespace octohub
