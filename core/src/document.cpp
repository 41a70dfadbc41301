#include "octohub/core/document.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <boost/json.hpp>
#include <optional>
#include <sstream>

#include "octohub/core/json_limits.h"

namespace octohub {
namespace json = boost::json;
namespace {

std::string Position(std::string_view text, size_t offset) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

Result<json::value> ParseJsonDocument(std::string_view text) {
  json::stream_parser parser({}, JsonParseOptions());
  json::error_code ec;
  size_t used = parser.write_some(text.data(), text.size(), ec);
  if (!ec) {
    // Whatever follows the document must be whitespace.
    size_t rest = text.find_first_not_of(" \t\r\n", used);
    if (rest != std::string_view::npos) {
      return InvalidArgument("invalid JSON at " + Position(text, rest) +
                             ": text after the document");
    }
    parser.finish(ec);
  }
  if (ec) return InvalidArgument("invalid JSON at " + Position(text, used) + ": " + ec.message());
  return parser.release();
}

json::value FromYaml(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      json::object out;
      for (const auto& item : node) out[item.first.as<std::string>()] = FromYaml(item.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      json::array out;
      for (const auto& item : node) out.push_back(FromYaml(item));
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string& text = node.Scalar();
      if (node.Tag() != "?") return json::value(text);  // quoted: always a string
      if (text == "true" || text == "True" || text == "TRUE") return true;
      if (text == "false" || text == "False" || text == "FALSE") return false;
      if (text == "null" || text == "Null" || text == "NULL" || text == "~") return nullptr;
      // Plain scalars that read as JSON numbers are numbers.
      json::error_code ec;
      json::value number = json::parse(text, ec);
      if (!ec && number.is_number()) return number;
      return json::value(text);
    }
    default:
      return nullptr;
  }
}

// Reads a YAML document's events before it is loaded. Aliases are refused: a few hundred bytes
// of nested aliases expand to millions of values. So is nesting deeper than JSON may be.
class YamlGuard final : public YAML::EventHandler {
 public:
  std::optional<std::string> problem;

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    Refuse(mark, "YAML aliases (*name) are not accepted: write the value out in full");
  }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Enter(mark);
  }
  void OnSequenceEnd() override { --depth_; }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Enter(mark);
  }
  void OnMapEnd() override { --depth_; }

 private:
  void Enter(const YAML::Mark& mark) {
    if (++depth_ > kMaxJsonDepth) {
      Refuse(mark,
             "the document is nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    }
  }
  void Refuse(const YAML::Mark& mark, const std::string& why) {
    if (!problem) {
      problem = why + " (line " + std::to_string(mark.line + 1) + ", column " +
                std::to_string(mark.column + 1) + ")";
    }
  }
  int depth_ = 0;
};

}  // namespace

Result<json::value> ParseDocument(std::string_view text, std::string_view format) {
  if (format.empty()) {
    size_t first = text.find_first_not_of(" \t\r\n");
    format = (first != std::string_view::npos && (text[first] == '{' || text[first] == '['))
                 ? "json"
                 : "yaml";
  }
  if (format == "json") return ParseJsonDocument(text);
  try {
    YamlGuard guard;
    std::istringstream events{std::string(text)};
    YAML::Parser(events).HandleNextDocument(guard);
    // Valid YAML that is refused: a problem with the document (422), not a syntax error.
    if (guard.problem) return InvalidArgument(*guard.problem, {{"", *guard.problem}});
    YAML::Node node = YAML::Load(std::string(text));
    if (!node.IsMap() && !node.IsSequence()) {
      return InvalidArgument("the document is neither a JSON object nor a YAML mapping");
    }
    return FromYaml(node);
  } catch (const YAML::Exception& e) {
    return InvalidArgument("invalid YAML at line " + std::to_string(e.mark.line + 1) + ", column " +
                           std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
}

}  // namespace octohub
