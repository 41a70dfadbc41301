// Export rows as NDJSON, JSON and CSV (RFC 4180): pure functions on plain values, shared by
// the export stream (exporter.cpp) and tested table by table. Private to api/.
//
// A row is {"source", "id", "updated_at", "fields": {mapped field: value}, "data": the record
// as fetched}. Mapped fields are those of the source's index block that are values, not
// text: the title, each facet, each date and each number, in that order. A facet that
// reaches several values is an array; a date is its text; a number a JSON number; a field
// the record lacks is left out (NDJSON/JSON) or empty (CSV).
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "octohub/core/json_pointer.h"
#include "octohub/core/json_string.h"
#include "octohub/core/source_spec.h"
#include "octohub/core/status.h"

namespace octohub::exporting {

// One mapped field's value in one record.
struct FieldValue {
  enum class Kind { kMissing, kString, kNumber, kArray };
  Kind kind = Kind::kMissing;
  std::string text;  // kString: the text; kNumber: the JSON number; kArray: the JSON array
};

// The mapped fields of one source, compiled once and applied to each record.
class FieldExtractor {
 public:
  // kInvalidArgument when a pointer in the index block does not parse.
  static Result<FieldExtractor> From(const IndexSpec& index);

  const std::vector<std::string>& names() const { return names_; }
  // One value per name. data must be JSON; a record that is not leaves every field missing.
  void Extract(std::string_view data, std::vector<FieldValue>& values);

 private:
  enum class Kind { kTitle, kFacet, kDate, kNumber };
  struct Field {
    Kind kind;
    JsonPointer pointer;
  };
  std::vector<std::string> names_;
  std::vector<Field> fields_;
  simdjson::dom::parser parser_;
  std::string padded_;
};

// The CSV columns of mapped fields across several sources: each source's names in order,
// sources in the order given, a name that is already a column not repeated. A name that
// collides with a fixed column (source, id, updated_at, data, parent_source, parent_id)
// becomes "fields.NAME".
// column_of[s][f] is the column of source s's field f.
struct ColumnLayout {
  std::vector<std::string> columns;
  std::vector<std::vector<std::size_t>> column_of;
};
ColumnLayout LayOutColumns(const std::vector<std::vector<std::string>>& names_per_source);

// A record's data (JSON, as PostgreSQL's json type guarantees) for one line: unchanged
// unless it holds raw line breaks (pretty-printed JSON), which are taken out by minifying.
// The result may point into scratch.
std::string_view OneLineJson(std::string_view data, std::string& scratch);

struct RowView {
  std::string_view source;
  std::string_view id;
  std::string_view updated_at;
  std::string_view data;  // JSON on one line (see OneLineJson)
  // A child source's record: its parent record (empty when the record has none).
  std::string_view parent_source = {};
  std::string_view parent_id = {};
};

// {"source":…,"id":…,"updated_at":…,"fields":{…},"data":…} without a line break; NDJSON
// adds "\n", a JSON array puts ",\n" between rows.
void AppendJsonRow(std::string& out, const RowView& row, const std::vector<std::string>& names,
                   const std::vector<FieldValue>& values);

// Cells a spreadsheet would run as a formula: starting with =, +, -, @, tab or CR (a plain
// number such as -5 excepted).
bool LooksLikeFormula(std::string_view text);

enum class CsvFormulas { kDefuse, kRaw };

// One CSV field per RFC 4180: quoted (quotes doubled) when it holds a comma, a quote, CR or
// LF, or starts or ends with a space. kDefuse writes a cell that looks like a formula with a
// leading ' so that spreadsheets show it as text.
void AppendCsvField(std::string& out, std::string_view text,
                    CsvFormulas formulas = CsvFormulas::kRaw);
// "source,id,updated_at,<columns>,data\r\n".
// with_parent: parent_source and parent_id columns follow updated_at (an export of a child
// source).
void AppendCsvHeader(std::string& out, const std::vector<std::string>& columns,
                     bool with_parent = false);
// One record; values[f] goes to column column_of[f] of the layout's columns.
void AppendCsvRow(std::string& out, const RowView& row, bool with_parent, std::size_t column_count,
                  const std::vector<std::size_t>& column_of, const std::vector<FieldValue>& values,
                  CsvFormulas formulas);

// Splits one line of PostgreSQL's COPY text format into its columns, undoing its escapes
// (\\, \t, \n, \r, \b, \f, \v, octal). false on a malformed line or a NULL (\N).
bool SplitCopyLine(std::string_view line, std::vector<std::string>& columns);

// An ISO 8601 date or date-time as PostgreSQL should read it (a time without an offset is
// UTC; a bare date is its midnight UTC); nullopt when it is not one.
std::optional<std::string> NormalizeTimestamp(std::string_view text);

}  // namespace octohub::exporting
