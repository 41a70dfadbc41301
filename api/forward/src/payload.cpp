// Request bodies for targets: Mustache templates over records, batches. Pure.
#include "octohub/forward/payload.h"

#include <strings.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <ctime>
#include <deque>
#include <kainjow/mustache.hpp>

#include "octohub/core/json_limits.h"
#include "octohub/core/json_pointer.h"
#include "octohub/forward/specs.h"

namespace octohub::forward {
namespace json = boost::json;
namespace mustache = kainjow::mustache;
namespace {

// Pointer values are renamed "@/x" in the text Mustache sees: "{{/x}}" would be a section end.
constexpr char kValueMark = '@';
// The previous version's values: "previous/state" is /state of the version before.
constexpr std::string_view kPreviousPrefix = "previous/";

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

// A name a template may use, or the reason it may not.
std::optional<std::string> CheckName(const std::string& name) {
  if (name == "." || name == "source" || name == "id" || name == "record" || name == "changes" ||
      name == "previous") {
    return std::nullopt;
  }
  if (name.starts_with(kPreviousPrefix)) return CheckName(name.substr(kPreviousPrefix.size() - 1));
  if (!name.empty() && name[0] == '/') {
    auto pointer = JsonPointer::Parse(name);
    if (!pointer.ok())
      return "\"" + name + "\" is not a JSON Pointer: " + pointer.status().message();
    return std::nullopt;
  }
  return "unknown name \"" + name +
         "\": use a JSON Pointer such as /title, or source, id, record, previous/title, "
         "previous or changes";
}

// Rewrites pointer values and checks every name; the reason (with the tag's offset) if bad.
Result<std::string> Rewrite(const std::string& text) {
  std::string out;
  std::vector<std::string> open;  // section names, innermost last
  size_t at = 0;
  auto fail = [](size_t offset, const std::string& why) -> Status {
    return InvalidArgument("template, at character " + std::to_string(offset) + ": " + why);
  };
  while (at < text.size()) {
    size_t tag = text.find("{{", at);
    if (tag == std::string::npos) {
      out.append(text, at, std::string::npos);
      break;
    }
    out.append(text, at, tag - at);
    const bool triple = text.compare(tag, 3, "{{{") == 0;
    const std::string close = triple ? "}}}" : "}}";
    size_t end = text.find(close, tag + close.size());
    if (end == std::string::npos)
      return fail(tag, "the tag is never closed with \"" + close + "\"");
    std::string content =
        Trim(std::string_view(text).substr(tag + close.size(), end - tag - close.size()));
    at = end + close.size();
    if (triple) {
      if (auto bad = CheckName(content)) return fail(tag, *bad);
      out += "{{{" + (content[0] == '/' ? kValueMark + content : content) + "}}}";
      continue;
    }
    const char kind = content.empty() ? '\0' : content[0];
    if (kind == '!') {
      out += "{{" + content + "}}";
    } else if (kind == '=' || kind == '>') {
      return fail(
          tag, kind == '=' ? "changing delimiters is not supported" : "partials are not supported");
    } else if (kind == '#' || kind == '^') {
      std::string name = Trim(content.substr(1));
      if (auto bad = CheckName(name)) return fail(tag, *bad);
      open.push_back(name);
      out += "{{" + std::string(1, kind) + name + "}}";
    } else if (kind == '&') {
      std::string name = Trim(content.substr(1));
      if (auto bad = CheckName(name)) return fail(tag, *bad);
      out += "{{&" + (name[0] == '/' ? kValueMark + name : name) + "}}";
    } else if (kind == '/') {
      std::string name = Trim(content.substr(1));
      if (!open.empty() && open.back() == name) {
        open.pop_back();
        out += "{{/" + name + "}}";
      } else {
        if (auto bad = CheckName(content)) return fail(tag, *bad);
        out += "{{" + (kValueMark + content) + "}}";
      }
    } else {
      if (content.empty()) return fail(tag, "empty tag");
      if (auto bad = CheckName(content)) return fail(tag, *bad);
      out += "{{" + content + "}}";
    }
  }
  if (!open.empty()) {
    return InvalidArgument("template: the section \"" + open.back() +
                           "\" is never closed (with {{/" + open.back() + "}})");
  }
  return out;
}

// Text escaped to sit inside a JSON string.
std::string JsonEscape(const std::string& s) {
  std::string quoted = json::serialize(json::value(s));
  return quoted.substr(1, quoted.size() - 2);
}

// Resolves names against one record; the data it hands out lives as long as the context.
class RecordContext : public mustache::basic_context<std::string> {
 public:
  RecordContext(const json::value& record, std::string_view source, std::string_view id,
                const json::value* previous = nullptr, std::string changes = "{}")
      : record_(record),
        source_(source),
        id_(id),
        previous_(previous),
        changes_(std::move(changes)) {}

  void push(const mustache::data* data) override { stack_.push_back(data); }
  void pop() override { stack_.pop_back(); }

  const mustache::data* get(const std::string& name) const override {
    if (name == ".") return stack_.empty() ? nullptr : stack_.back();
    if (name == "source") return Keep(mustache::data(source_));
    if (name == "id") return Keep(mustache::data(id_));
    if (name == "record") return Keep(mustache::data(json::serialize(record_)));
    if (name == "changes") return Keep(mustache::data(changes_));
    if (name == "previous") {
      return previous_ == nullptr ? nullptr : Keep(mustache::data(json::serialize(*previous_)));
    }
    const bool value = !name.empty() && name[0] == kValueMark;
    std::string pointer = value ? name.substr(1) : name;
    const json::value* document = &record_;
    if (pointer.starts_with(kPreviousPrefix)) {
      if (previous_ == nullptr) return nullptr;  // a new record has no previous values
      document = previous_;
      pointer.erase(0, kPreviousPrefix.size() - 1);
    }
    json::error_code ec;
    const json::value* found = document->find_pointer(pointer, ec);
    if (found == nullptr || found->is_null()) return nullptr;
    if (found->is_string()) return Keep(mustache::data(std::string(found->get_string())));
    if (!value) {  // a section: false and [] are falsy, everything else renders it once
      if (found->is_bool()) return Keep(mustache::data(found->get_bool()));
      if (found->is_array() && found->get_array().empty()) {
        return Keep(mustache::data(mustache::data::type::list));
      }
    }
    return Keep(mustache::data(json::serialize(*found)));
  }
  const mustache::data* get_partial(const std::string&) const override { return nullptr; }

 private:
  const mustache::data* Keep(mustache::data data) const {
    kept_.push_back(std::move(data));
    return &kept_.back();
  }

  const json::value& record_;
  std::string source_;
  std::string id_;
  const json::value* previous_;
  std::string changes_;
  std::vector<const mustache::data*> stack_;
  mutable std::deque<mustache::data> kept_;  // stable addresses
};

}  // namespace

Result<PayloadTemplate> PayloadTemplate::Compile(const std::string& text) {
  auto rewritten = Rewrite(text);
  if (!rewritten.ok()) return rewritten.status();
  mustache::mustache compiled(*rewritten);
  if (!compiled.is_valid()) return InvalidArgument("template: " + compiled.error_message());
  PayloadTemplate out;
  out.text_ = text;
  out.rewritten_ = std::move(*rewritten);
  return out;
}

Result<std::string> PayloadTemplate::Render(std::string_view source, std::string_view id,
                                            std::string_view record) const {
  return Render(ForwardRecord{std::string(source), std::string(id), std::string(record)});
}

Result<std::string> PayloadTemplate::Render(const ForwardRecord& forwarded) const {
  const std::string_view source = forwarded.source;
  const std::string_view id = forwarded.id;
  const std::string_view record = forwarded.data;
  json::value previous;
  if (forwarded.previous) {
    json::error_code previous_ec;
    previous = ParseJson(*forwarded.previous, previous_ec);
    if (previous_ec) previous = nullptr;  // unreadable: as if there were none
  }
  json::error_code ec;
  json::value parsed = ParseJson(record, ec);
  if (ec) {
    return InvalidArgument(
        "the record " + std::string(source) + "/" + std::string(id) +
        (ec == json::error::too_deep
             ? " is nested deeper than " + std::to_string(kMaxJsonDepth) + " levels"
             : std::string(" is not JSON")));
  }
  mustache::mustache compiled(rewritten_);
  compiled.set_custom_escape(JsonEscape);
  RecordContext context(parsed, source, id, forwarded.previous ? &previous : nullptr,
                        forwarded.changes);
  std::string out = compiled.render(context);
  if (!compiled.is_valid()) return InvalidArgument("template: " + compiled.error_message());
  return out;
}

bool SendsJson(const TargetSpec& spec) {
  std::string type = "application/json";  // what the forwarder sends when no header says
  for (const auto& [name, value] : spec.headers) {
    if (strcasecmp(name.c_str(), "content-type") == 0) type = value.substr(0, value.find(';'));
  }
  while (!type.empty() && type.back() == ' ') type.pop_back();
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return type == "application/json" || type.ends_with("+json");
}

Result<std::string> RenderRecord(const TargetSpec& spec, const PayloadTemplate* compiled,
                                 const ForwardRecord& record) {
  if (compiled == nullptr) return record.data;
  auto rendered = compiled->Render(record);
  if (!rendered.ok()) return rendered.status();
  if (spec.batch > 1 || SendsJson(spec)) {
    json::error_code ec;
    ParseJson(*rendered, ec);
    if (ec) {
      return InvalidArgument("the template rendered " + record.source + "/" + record.id +
                             " as something that is not JSON, which " +
                             (spec.batch > 1 ? std::string("a batch needs")
                                             : std::string("the target's Content-Type promises")) +
                             " (a value with quotes in a triple-mustache {{{…}}}?)");
    }
  }
  return rendered;
}

std::string JoinBatch(const TargetSpec& spec, std::vector<std::string> parts) {
  if (spec.batch == 1 && parts.size() == 1) return std::move(parts.front());
  std::string body = "[";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) body += ',';
    body += parts[i];
  }
  body += ']';
  return body;
}

Result<std::string> BuildBody(const TargetSpec& spec, const PayloadTemplate* compiled,
                              const std::vector<ForwardRecord>& records) {
  if (records.empty()) return InvalidArgument("no records to send");
  if (records.size() > static_cast<size_t>(spec.batch)) {
    return InvalidArgument("more records than the target's batch of " + std::to_string(spec.batch));
  }
  std::vector<std::string> parts;
  for (const auto& record : records) {
    auto rendered = RenderRecord(spec, compiled, record);
    if (!rendered.ok()) return rendered.status();
    parts.push_back(std::move(*rendered));
  }
  return JoinBatch(spec, std::move(parts));
}

}  // namespace octohub::forward
