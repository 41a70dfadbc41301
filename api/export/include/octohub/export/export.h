// Admin export (SPEC §6): the stored records of some or all sources — or exactly the records
// a search matches — as NDJSON, CSV or one JSON array, streamed from PostgreSQL in chunks so
// memory stays flat whatever the size. Used by GET /api/v1/export and `octohub export`.
//
// Rows: {"source", "id", "updated_at", "fields": {mapped field: value}, "data"}; deleted
// records are not exported. Without q, rows come in storage order; with q, in index order.
// CSV columns: source, id, updated_at, then the mapped fields (title, facets, dates, numbers
// of each source in its index block's order, sources by name, each name once), then data.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "octohub/core/body_writer.h"
#include "octohub/core/database.h"
#include "octohub/core/status.h"
#include "octohub/indexer/searcher.h"

namespace octohub::exporting {

enum class ExportFormat { kNdjson, kCsv, kJson };

struct ExportRequest {
  ExportFormat format = ExportFormat::kNdjson;
  std::vector<std::string> sources;  // empty = every source
  std::string q;                     // not blank: exactly the records this search matches
  std::string since;  // ISO 8601 date or date-time; only records updated at or after it
  bool bom = false;   // CSV: start with a UTF-8 byte order mark
  // CSV: cells that look like spreadsheet formulas are written as they are, not prefixed '.
  bool raw_formulas = false;
};

// From ?format=&source=&q=&since=&bom=&formulas= (source: a comma list, repeatable).
// kInvalidArgument naming the parameter for an unknown format, a bad time or an unknown parameter.
Result<ExportRequest> ParseExportParams(
    const std::vector<std::pair<std::string, std::string>>& query);

// The parts of a request, for callers that build one themselves (the CLI): kInvalidArgument
// naming what is wrong.
Result<ExportFormat> ParseExportFormat(std::string_view text);
Result<std::string> ParseExportSince(std::string_view text);  // normalized to UTC
// Appends the names of a comma-separated list.
void AddExportSources(std::vector<std::string>& sources, std::string_view list);

const char* ExportContentType(ExportFormat format);
const char* ExportExtension(ExportFormat format);

// One export, checked before anything is written. Not thread-safe; borrows db and searcher.
class Export {
 public:
  // kNotFound for a source that does not exist, kInvalidArgument for a query that does not
  // parse, kUnavailable when q is given and there is no index yet.
  static Result<std::unique_ptr<Export>> Prepare(const Database& db, indexer::Searcher& searcher,
                                                 ExportRequest request);
  ~Export();

  // Writes every row. kCancelled as soon as out stops taking (the query is cancelled at
  // once); kUnavailable when PostgreSQL fails part-way.
  Status Run(BodyWriter& out);
  std::int64_t rows() const;

 private:
  struct State;
  explicit Export(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace octohub::exporting
