#include "page_extractor.h"

#include <unordered_map>

#include "csv_reader.h"
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
  const PaginationSpec& p = spec.pagination;
  for (auto [text, out] : {std::pair{&p.cursor_path, &extractor.cursor_path_},
                           {&p.cursor_record_path, &extractor.cursor_record_path_},
                           {&p.next_path, &extractor.next_path_},
                           {&p.more_path, &extractor.more_path_},
                           {&p.done_path, &extractor.done_path_},
                           {&p.total_path, &extractor.total_path_},
                           {&p.pages_path, &extractor.pages_path_}}) {
    if (Status s = optional(*text, *out); !s.ok()) return s;
  }
  extractor.format_ = spec.format;
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

namespace {

// A cursor value as text and as JSON; null, "" and absent are no cursor.
void SetCursor(simdjson::dom::element value, ExtractedPage& page) {
  if (value.is_null()) return;
  if (value.is_string()) {
    std::string_view text = value.get_string().value_unsafe();
    if (text.empty()) return;
    page.next_cursor = std::string(text);
  } else if (value.is_array() || value.is_object()) {
    page.next_cursor = simdjson::minify(value);
  } else {
    page.next_cursor = ScalarText(value);
  }
  page.next_cursor_json = simdjson::minify(value);
}

std::optional<bool> BoolAt(const std::optional<JsonPointer>& pointer, simdjson::dom::element root) {
  if (!pointer) return std::nullopt;
  auto value = pointer->Find(root);
  if (!value || !value->is_bool()) return std::nullopt;
  return value->get_bool().value_unsafe();
}

// A count given as a number or as digits in a string.
std::optional<std::int64_t> CountAt(const std::optional<JsonPointer>& pointer,
                                    simdjson::dom::element root) {
  if (!pointer) return std::nullopt;
  auto value = pointer->Find(root);
  if (!value) return std::nullopt;
  const std::string text = ScalarText(*value);
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos ||
      text.size() > 18) {
    return std::nullopt;
  }
  return std::stoll(text);
}

}  // namespace

void PageExtractor::ReadStopSignals(simdjson::dom::element root, ExtractedPage& page) const {
  if (cursor_path_) {
    if (auto cursor = cursor_path_->Find(root)) SetCursor(*cursor, page);
  }
  page.next_url = TextAt(next_path_, root);
  page.more = BoolAt(more_path_, root);
  page.more_absent = more_path_.has_value() && !page.more.has_value();
  page.done = BoolAt(done_path_, root);
  page.total = CountAt(total_path_, root);
  page.total_pages = CountAt(pages_path_, root);
}

void PageExtractor::AddRecord(simdjson::dom::element element, ExtractedPage& page,
                              std::unordered_map<std::string, size_t>& position) {
  auto skip = [&page](const char* reason) {
    ++page.skipped;
    ++page.skipped_because[reason];
  };
  ++page.array_size;
  if (!element.is_object()) {
    skip("not an object");
    return;
  }
  // The last record as fetched carries the next cursor (Stripe's starting_after), whether
  // or not it can be stored.
  if (cursor_record_path_) {
    page.next_cursor.reset();
    page.next_cursor_json.reset();
    if (auto cursor = cursor_record_path_->Find(element)) SetCursor(*cursor, page);
  }
  if (DeeperThan(element, kMaxJsonDepth)) {
    skip("nested deeper than 64 levels");
    return;
  }
  ExtractedRecord record;
  if (id_) {
    auto id = TextAt(id_, element);
    if (!id) {
      skip("no id at the id pointer");
      return;
    }
    if (id->size() > kMaxRecordIdBytes) {
      skip("an id over 512 bytes");
      return;
    }
    if (id->find('\0') != std::string::npos) {
      skip("a NUL character in its id");
      return;
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
    page.duplicate_ids.push_back(record.id);
    page.records[it->second] = std::move(record);
  }
}

Result<ExtractedPage> PageExtractor::Extract(std::string_view body) {
  if (!simdjson::validate_utf8(body.data(), body.size())) {
    return InvalidArgument("the response body is not valid UTF-8");
  }
  switch (format_) {
    case SourceSpec::Format::kNdjson:
      return ExtractNdjson(body);
    case SourceSpec::Format::kCsv: {
      auto table = CsvToJsonArray(body);
      if (!table.ok()) return table.status();
      auto page = ExtractJson(table->array, JsonPointer());
      if (!page.ok()) return page.status();
      if (table->ragged > 0) {
        page->array_size += table->ragged;
        page->skipped += table->ragged;
        page->skipped_because["a CSV row with more or fewer fields than the header"] +=
            table->ragged;
      }
      return page;
    }
    case SourceSpec::Format::kJson:
      break;
  }
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return InvalidArgument("the response body is empty");
  }
  return ExtractJson(body, records_);
}

Result<ExtractedPage> PageExtractor::ExtractJson(std::string_view body,
                                                 const JsonPointer& records_at) {
  simdjson::dom::element root;
  if (auto error = parser_->parse(body.data(), body.size()).get(root)) {
    return InvalidArgument(std::string("the response is not valid JSON (") +
                           simdjson::error_message(error) + "): " + BodyExcerpt(body));
  }
  auto found = records_at.Find(root);
  if (!found) {
    return InvalidArgument("the response has nothing at the records pointer \"" +
                           records_at.text() + "\": " + BodyExcerpt(body));
  }
  simdjson::dom::element records = *found;
  if (!records.is_array()) {
    return InvalidArgument("the records pointer \"" + records_at.text() + "\" holds " +
                           TypeName(records.type()) + ", not an array");
  }
  ExtractedPage page;
  ReadStopSignals(root, page);
  std::unordered_map<std::string, size_t> position;
  simdjson::dom::array array;
  if (records.get_array().get(array) != simdjson::SUCCESS) return Internal("records vanished");
  for (simdjson::dom::element element : array) AddRecord(element, page, position);
  return page;
}

Result<ExtractedPage> PageExtractor::ExtractNdjson(std::string_view body) {
  ExtractedPage page;
  std::unordered_map<std::string, size_t> position;
  while (!body.empty()) {
    const size_t end = body.find('\n');
    std::string_view line = body.substr(0, end);
    body = end == std::string_view::npos ? std::string_view() : body.substr(end + 1);
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    simdjson::dom::element element;
    if (parser_->parse(line.data(), line.size()).get(element) != simdjson::SUCCESS) {
      ++page.array_size;
      ++page.skipped;
      ++page.skipped_because["a line that is not JSON"];
      continue;
    }
    AddRecord(element, page, position);
  }
  return page;
}

}  // namespace octohub::ingest
