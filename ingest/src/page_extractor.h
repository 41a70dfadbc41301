// Turns one fetched page into records. Pure: no I/O; one extractor per thread (it keeps a
// reusable simdjson parser).
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "octohub/core/json_pointer.h"
#include "octohub/core/source_spec.h"
#include "octohub/core/status.h"

namespace octohub::ingest {

// The longest id a record may have, in bytes: longer ones cannot be indexed by PostgreSQL.
inline constexpr std::size_t kMaxRecordIdBytes = 512;

struct ExtractedRecord {
  std::string id;
  std::string json;  // the record, minified, keys in the order fetched
  std::string content_hash;
};

struct ExtractedPage {
  std::vector<ExtractedRecord> records;  // unique ids; a later duplicate in the page wins
  // Elements in the records array, lines of NDJSON, rows of CSV (0 = empty page).
  std::int64_t array_size = 0;
  std::int64_t skipped = 0;  // elements not stored, for the reasons below
  std::map<std::string, std::int64_t> skipped_because;  // reason → elements
  // cursor pagination (from cursor_path, or cursor_record_path in the last record): as text
  // for a query parameter, and as JSON for a request body, where it keeps its type.
  std::optional<std::string> next_cursor;
  std::optional<std::string> next_cursor_json;
  std::optional<std::string> next_url;         // next_url pagination
  std::optional<std::string> max_incremental;  // largest incremental cursor value seen
  // Stop conditions read from the page (absent when the source names none or the page has
  // no usable value there).
  std::optional<bool> more;
  std::optional<bool> done;
  std::optional<std::int64_t> total;
  std::optional<std::int64_t> total_pages;
  bool more_absent = false;                // more_path named but the page has no boolean there
  std::vector<std::string> duplicate_ids;  // ids that came twice in the page
};

class PageExtractor {
 public:
  // Fails (kInvalidArgument) when the spec's pointers do not parse; ParseSourceSpec has
  // already checked them, so this only guards against corrupted stored specs.
  static Result<PageExtractor> ForSpec(const SourceSpec& spec);

  // A page that is not valid UTF-8, not in the source's format (JSON, NDJSON, CSV),
  // truncated, or has no array where the records should be fails as a whole with a reason
  // that quotes the start of the body. A single bad record (not an object, no usable id, an
  // id over kMaxRecordIdBytes or holding NUL, nested deeper than kMaxJsonDepth; an NDJSON line
  // that is not JSON; a CSV row with the wrong number of fields) is skipped and counted with
  // its reason.
  Result<ExtractedPage> Extract(std::string_view body);

 private:
  PageExtractor() = default;

  Result<ExtractedPage> ExtractJson(std::string_view body, const JsonPointer& records);
  Result<ExtractedPage> ExtractNdjson(std::string_view body);
  // One element of the records: skipped with its reason, or added to the page.
  void AddRecord(simdjson::dom::element element, ExtractedPage& page,
                 std::unordered_map<std::string, size_t>& position);
  void ReadStopSignals(simdjson::dom::element root, ExtractedPage& page) const;

  SourceSpec::Format format_ = SourceSpec::Format::kJson;
  JsonPointer records_;
  std::optional<JsonPointer> id_;
  std::optional<JsonPointer> cursor_path_;
  std::optional<JsonPointer> cursor_record_path_;
  std::optional<JsonPointer> next_path_;
  std::optional<JsonPointer> incremental_;
  std::optional<JsonPointer> more_path_;
  std::optional<JsonPointer> done_path_;
  std::optional<JsonPointer> total_path_;
  std::optional<JsonPointer> pages_path_;
  std::unique_ptr<simdjson::dom::parser> parser_ = std::make_unique<simdjson::dom::parser>();
};

// Orders incremental cursor values: numerically when both are numbers, else as text
// (RFC 3339 timestamps order correctly as text).
bool CursorGreater(const std::string& a, const std::string& b);

// "Found …" description of a body for error messages: its first bytes, printable.
std::string BodyExcerpt(std::string_view body, size_t max_bytes = 160);

}  // namespace octohub::ingest
