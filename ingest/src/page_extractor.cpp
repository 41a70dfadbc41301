#include "page_extractor.h"

#include <unordered_map>

#include "octohub/core/content_hash.h"
#include "octohub/core/json_limits.h"

namespace octohub::ingest {
namespace {

const char* TypeName(simdjson::dom::element_type type) {
  switch (type) {
    case simdjson::dom::element_type::ARRAY:
      return "an array";
    case simdjson::dom::element_type::OBJECT:
      return "an object";
    case simdjson::dom::element_type::STRING:
      return "a string";
    case simdjson::dom::element_type::NULL_VALUE:
      return "null";
    case simdjson::dom::element_type::BOOL:
      return "a boolean";
    default:
      return "a number";
  }
}

}  // namespace

bool CursorGreater(const std::string& a, const std::string& b) {
  char* end_a = nullptr;
  char* end_b = nullptr;
  double x = std::strtod(a.c_str(), &end_a);
  double y = std::strtod(b.c_str(), &end_b);
  if (!a.empty() && !b.empty() && *end_a == '\0' && *end_b == '\0') return x > y;
  return a > b;
}

namespace {

std::optional<std::string> TextAt(const std::optional<JsonPointer>& pointer,
                                  simdjson::dom::element root) {
  if (!pointer) return std::nullopt;
  auto value = pointer->Find(root);
  if (!value) return std::nullopt;
  std::string text = ScalarText(*value);
  if (text.empty()) return std::nullopt;
  return text;
}

}  // namespace

std::string BodyExcerpt(std::string_view body, size_t max_bytes) {
  std::string out;
  for (unsigned char c : body.substr(0, max_bytes)) out += (c >= 0x20 && c < 0x7f) ? char(c) : ' ';
  if (body.size() > max_bytes) out += "…";
  return out;
}

Result<PageExtractor> PageExtractor::ForSpec(const SourceSpec& spec) {
  PageExtractor extractor;
  auto parse = [](const std::string& text) { return JsonPointer::Parse(text); };
  auto records = parse(spec.records);
  if (!records.ok()) return records.status().WithContext("records");
  extractor.records_ = *records;
  auto optional = [&](const std::string& text, std::optional<JsonPointer>& out) -> Status {
    if (text.empty()) return Status::Ok();
    auto pointer = parse(text);
    if (!pointer.ok()) return pointer.status();
    out = *pointer;
    return Status::Ok();
  };
  if (spec.id) {
    auto id = parse(*spec.id);
    if (!id.ok()) return id.status().WithContext("id");
    extractor.id_ = *id;
  }
  if (Status s = optional(spec.pagination.cursor_path, extractor.cursor_path_); !s.ok()) return s;
  if (Status s = optional(spec.pagination.next_path, extractor.next_path_); !s.ok()) return s;
  if (spec.incremental) {
    if (Status s = optional(spec.incremental->cursor, extractor.incremental_); !s.ok()) return s;
  }
  return extractor;
}

namespace {

static_assert(kMaxJsonDepth == 64 && kMaxRecordIdBytes == 512, "the skip reasons name them");

// Whether `element` nests more than `levels` objects and arrays (itself counted as one).
bool DeeperThan(simdjson::dom::element element, int levels) {
  if (levels == 0) return element.is_object() || element.is_array();
  simdjson::dom::array array;
  simdjson::dom::object object;
  if (element.get_array().get(array) == simdjson::SUCCESS) {
    for (simdjson::dom::element child : array) {
      if (DeeperThan(child, levels - 1)) return true;
    }
  } else if (element.get_object().get(object) == simdjson::SUCCESS) {
    for (auto field : object) {
      if (DeeperThan(field.value, levels - 1)) return true;
    }
  }
  return false;
}

}  // namespace

Result<ExtractedPage> PageExtractor::Extract(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return InvalidArgument("the response body is empty");
  }
  if (!simdjson::validate_utf8(body.data(), body.size())) {
    return InvalidArgument("the response body is not valid UTF-8");
  }
  simdjson::dom::element root;
  if (auto error = parser_->parse(body.data(), body.size()).get(root)) {
    return InvalidArgument(std::string("the response is not valid JSON (") +
                           simdjson::error_message(error) + "): " + BodyExcerpt(body));
  }
  auto found = records_.Find(root);
  if (!found) {
    return InvalidArgument("the response has nothing at the records pointer \"" + records_.text() +
                           "\": " + BodyExcerpt(body));
  }
  simdjson::dom::element records = *found;
  if (!records.is_array()) {
    return InvalidArgument("the records pointer \"" + records_.text() + "\" holds " +
                           TypeName(records.type()) + ", not an array");
  }

  ExtractedPage page;
  page.next_cursor = TextAt(cursor_path_, root);
  page.next_url = TextAt(next_path_, root);
  std::unordered_map<std::string, size_t> position;
  simdjson::dom::array array;
  if (records.get_array().get(array) != simdjson::SUCCESS) return Internal("records vanished");
  auto skip = [&page](const char* reason) {
    ++page.skipped;
    ++page.skipped_because[reason];
  };
  for (simdjson::dom::element element : array) {
    ++page.array_size;
    if (!element.is_object()) {
      skip("not an object");
      continue;
    }
    if (DeeperThan(element, kMaxJsonDepth)) {
      skip("nested deeper than 64 levels");
      continue;
    }
    ExtractedRecord record;
    if (id_) {
      auto id = TextAt(id_, element);
      if (!id) {
        skip("no id at the id pointer");
        continue;
      }
      if (id->size() > kMaxRecordIdBytes) {
        skip("an id over 512 bytes");
        continue;
      }
      if (id->find('\0') != std::string::npos) {
        skip("a NUL character in its id");
        continue;
      }
      record.id = std::move(*id);
    }
    record.json = simdjson::minify(element);
    record.content_hash = ContentHash(record.json);
    if (!id_) record.id = record.content_hash;
    if (auto cursor = TextAt(incremental_, element)) {
      if (!page.max_incremental || CursorGreater(*cursor, *page.max_incremental)) {
        page.max_incremental = std::move(*cursor);
      }
    }
    auto [it, inserted] = position.emplace(record.id, page.records.size());
    if (inserted) {
      page.records.push_back(std::move(record));
    } else {
      page.records[it->second] = std::move(record);
    }
  }
  return page;
}

}  // namespace octohub::ingest
