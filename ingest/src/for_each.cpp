#include "for_each.h"

#include <simdjson.h>

#include <boost/json.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include "octohub/core/json_pointer.h"

namespace octohub::ingest {
namespace json = boost::json;
namespace {

template <class Encode>
std::string Fill(std::string_view text, const NamedValues& values, Encode encode) {
  std::string out(text);
  for (const auto& [name, value] : values) {
    const std::string placeholder = "{" + name + "}";
    const std::string replacement = encode(value);
    for (size_t at = out.find(placeholder); at != std::string::npos;
         at = out.find(placeholder, at + replacement.size())) {
      out.replace(at, placeholder.size(), replacement);
    }
  }
  return out;
}

std::string AsIs(const std::string& value) { return value; }

// A header value may not carry line breaks: they would start another header.
std::string OneLine(const std::string& value) {
  std::string out = value;
  for (char& c : out) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return out;
}

void FillStrings(json::value& value, const NamedValues& values) {
  if (auto* text = value.if_string()) {
    *text = Fill(*text, values, AsIs);
  } else if (auto* array = value.if_array()) {
    for (auto& item : *array) FillStrings(item, values);
  } else if (auto* object = value.if_object()) {
    for (auto& member : *object) FillStrings(member.value(), values);
  }
}

}  // namespace

Result<NamedValues> ParentValues(const ForEachSpec& for_each, std::string_view parent_json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(parent_json.data(), parent_json.size()).get(root) != simdjson::SUCCESS) {
    return Internal("a stored parent record is not JSON");
  }
  NamedValues out;
  for (const auto& [name, pointer_text] : for_each.vars) {
    auto pointer = JsonPointer::Parse(pointer_text);
    if (!pointer.ok()) return pointer.status();
    auto found = pointer->Find(root);
    std::string text = found ? ScalarText(*found) : std::string();
    if (text.empty()) {
      return NotFound("it has no value at " + pointer_text + " for {" + name + "}");
    }
    out.emplace_back(name, std::move(text));
  }
  return out;
}

SourceSpec ExpandForParent(const SourceSpec& child, const NamedValues& values) {
  SourceSpec out = child;
  out.url = Fill(child.url, values, [](const std::string& value) {
    return boost::urls::encode(value, boost::urls::unreserved_chars);
  });
  for (auto& [key, value] : out.query) value = Fill(value, values, AsIs);
  for (auto& [key, value] : out.headers) value = Fill(value, values, OneLine);
  if (out.body) {
    json::error_code ec;
    json::value body = json::parse(*out.body, ec);
    if (!ec) {
      FillStrings(body, values);
      out.body = json::serialize(body);
    }
  }
  return out;
}

}  // namespace octohub::ingest
