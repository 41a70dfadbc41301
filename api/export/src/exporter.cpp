#include <boost/json.hpp>
#include <chrono>
#include <ctime>
#include <map>
#include <pqxx/pqxx>

#include "export_format.h"
#include "octohub/core/pg_array.h"
#include "octohub/export/export.h"
#include "octohub/ingest/ingest.h"

namespace octohub::exporting {
namespace {

constexpr const char* kUpdatedAt =
    "to_char(r.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";
// A child record's parent, "" for none (so that COPY's text needs no null marker).
constexpr const char* kParent = "coalesce(r.parent_source, ''), coalesce(r.parent_id, '')";
constexpr std::size_t kMatchBatch = 1000;  // (source, id) pairs looked up at once

std::string_view View(const pqxx::field& field) { return {field.c_str(), field.size()}; }

bool IsBlank(const std::string& text) {
  return text.find_first_not_of(" \t\r\n") == std::string::npos;
}

}  // namespace

Result<ExportFormat> ParseExportFormat(std::string_view text) {
  if (text == "ndjson") return ExportFormat::kNdjson;
  if (text == "csv") return ExportFormat::kCsv;
  if (text == "json") return ExportFormat::kJson;
  return InvalidArgument("format must be ndjson, csv or json, not \"" + std::string(text) + "\"");
}

Result<std::string> ParseExportSince(std::string_view text) {
  auto normalized = NormalizeTimestamp(text);
  if (!normalized) {
    return InvalidArgument(
        "since must be an ISO 8601 date or date-time such as 2024-05-01 "
        "or 2024-05-01T10:00:00Z, not \"" +
        std::string(text) + "\"");
  }
  return *normalized;
}

void AddExportSources(std::vector<std::string>& sources, std::string_view list) {
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    if (comma > start) sources.emplace_back(list.substr(start, comma - start));
    start = comma + 1;
  }
}

Result<ExportRequest> ParseExportParams(
    const std::vector<std::pair<std::string, std::string>>& query) {
  ExportRequest request;
  for (const auto& [name, value] : query) {
    if (name == "format") {
      auto format = ParseExportFormat(value);
      if (!format.ok()) return format.status();
      request.format = *format;
    } else if (name == "source") {
      AddExportSources(request.sources, value);
    } else if (name == "q") {
      request.q = value;
    } else if (name == "since") {
      auto since = ParseExportSince(value);
      if (!since.ok()) return since.status();
      request.since = *since;
    } else if (name == "bom") {
      if (value != "true" && value != "false" && value != "1" && value != "0") {
        return InvalidArgument("bom must be true or false");
      }
      request.bom = value == "true" || value == "1";
    } else if (name == "formulas") {
      if (value != "raw" && value != "defuse") {
        return InvalidArgument("formulas must be defuse (the default) or raw, not \"" + value +
                               "\"");
      }
      request.raw_formulas = value == "raw";
    } else {
      return InvalidArgument("unknown parameter \"" + name +
                             "\" (export takes format, source, q, since, bom and formulas)");
    }
  }
  return request;
}

const char* ExportContentType(ExportFormat format) {
  switch (format) {
    case ExportFormat::kCsv:
      return "text/csv; charset=utf-8; header=present";
    case ExportFormat::kJson:
      return "application/json";
    case ExportFormat::kNdjson:
      break;
  }
  return "application/x-ndjson";
}

const char* ExportExtension(ExportFormat format) {
  switch (format) {
    case ExportFormat::kCsv:
      return "csv";
    case ExportFormat::kJson:
      return "json";
    case ExportFormat::kNdjson:
      break;
  }
  return "ndjson";
}

struct Export::State {
  State(const Database& d, indexer::Searcher& s) : db(d), searcher(s) {}

  const Database& db;
  indexer::Searcher& searcher;
  ExportRequest request;
  std::vector<std::string> sources;  // by name
  std::map<std::string, std::size_t, std::less<>> source_index;
  std::vector<FieldExtractor> extractors;
  ColumnLayout layout;
  bool with_parent = false;  // a child source is exported: CSV gets parent columns
  std::int64_t rows = 0;
  // Reused for every row.
  std::vector<FieldValue> values;
  std::string line;
  std::string scratch;

  // Formats one record and hands it on; false when out stopped taking.
  bool Emit(BodyWriter& out, std::string_view source, std::string_view id,
            std::string_view updated_at, std::string_view data, std::string_view parent_source,
            std::string_view parent_id) {
    auto found = source_index.find(source);
    if (found == source_index.end()) return true;  // a source deleted meanwhile
    const std::size_t s = found->second;
    extractors[s].Extract(data, values);
    line.clear();
    if (request.format == ExportFormat::kCsv) {
      AppendCsvRow(line, {source, id, updated_at, data, parent_source, parent_id}, with_parent,
                   layout.columns.size(), layout.column_of[s], values,
                   request.raw_formulas ? CsvFormulas::kRaw : CsvFormulas::kDefuse);
    } else {
      const std::string_view one_line = OneLineJson(data, scratch);
      if (request.format == ExportFormat::kJson) line += rows == 0 ? "\n" : ",\n";
      AppendJsonRow(line, {source, id, updated_at, one_line, parent_source, parent_id},
                    extractors[s].names(), values);
      if (request.format == ExportFormat::kNdjson) line += '\n';
    }
    ++rows;
    return out.Write(line);
  }

  std::string Filter(pqxx::transaction_base& tx) const {
    std::string where = " WHERE NOT r.deleted AND r.source IN (";
    for (std::size_t i = 0; i < sources.size(); ++i) {
      where += (i ? "," : "") + tx.quote(sources[i]);
    }
    where += ")";
    if (!request.since.empty()) where += " AND r.updated_at >= " + tx.quote(request.since);
    return where;
  }

  // Every record of the sources: COPY (SELECT …) TO STDOUT, read line by line.
  Status StreamAll(BodyWriter& out) {
    auto connection = db.Connect();
    if (!connection.ok()) return connection.status().WithContext("exporting");
    bool stopped = false;
    try {
      pqxx::read_transaction tx(**connection);
      pqxx::stream_from copy(tx, "(SELECT r.source, r.id, " + std::string(kUpdatedAt) +
                                     ", r.data, " + kParent + " FROM records r" + Filter(tx) + ")");
      std::string raw;
      std::vector<std::string> columns;
      while (copy.get_raw_line(raw)) {
        if (!SplitCopyLine(raw, columns) || columns.size() != 6) {
          return Internal("export: an unexpected row from PostgreSQL");
        }
        if (!Emit(out, columns[0], columns[1], columns[2], columns[3], columns[4], columns[5])) {
          stopped = true;
          // Stop the query now rather than reading the rest of it to the end.
          (*connection)->cancel_query();
          break;
        }
      }
      if (!stopped) copy.complete();
    } catch (...) {
      if (!stopped) return StatusFromCurrentException("exporting");
    }
    if (stopped) return Status(StatusCode::kCancelled, "the client stopped reading the export");
    return Status::Ok();
  }

  // Exactly the records the search matches, looked up in PostgreSQL a batch at a time.
  Status StreamMatches(BodyWriter& out) {
    auto connection = db.Connect();
    if (!connection.ok()) return connection.status().WithContext("exporting");
    try {
      pqxx::read_transaction tx(**connection);
      const std::string sql =
          "SELECT r.source, r.id, " + std::string(kUpdatedAt) + ", r.data::text, " + kParent +
          " FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS m(source, id, n)"
          " JOIN records r ON r.source = m.source AND r.id = m.id" +
          Filter(tx) + " ORDER BY m.n";
      std::vector<std::pair<std::string, std::string>> batch;
      bool stopped = false;
      auto flush = [&]() {
        auto rows = tx.exec_params(
            sql,
            PgTextArray(batch, [](const auto& key) -> const std::string& { return key.first; }),
            PgTextArray(batch, [](const auto& key) -> const std::string& { return key.second; }));
        batch.clear();
        for (const auto& row : rows) {
          if (!Emit(out, View(row[0]), View(row[1]), View(row[2]), View(row[3]), View(row[4]),
                    View(row[5]))) {
            stopped = true;
            return false;
          }
        }
        return true;
      };
      indexer::SearchRequest search;
      search.q = request.q;
      search.sources = sources;
      Status enumerated =
          searcher.ForEachMatch(search, [&](const std::string& source, const std::string& id) {
            batch.emplace_back(source, id);
            return batch.size() < kMatchBatch || flush();
          });
      if (enumerated.ok() && !batch.empty()) flush();
      if (stopped) return Status(StatusCode::kCancelled, "the client stopped reading the export");
      return enumerated;
    } catch (...) {
      return StatusFromCurrentException("exporting");
    }
  }
};

Export::Export(std::unique_ptr<State> state) : state_(std::move(state)) {}
Export::~Export() = default;
std::int64_t Export::rows() const { return state_->rows; }

Result<std::unique_ptr<Export>> Export::Prepare(const Database& db, indexer::Searcher& searcher,
                                                ExportRequest request) {
  auto state = std::make_unique<State>(db, searcher);
  // The names, and a check that `since` is a time PostgreSQL accepts (2024-02-30 is not).
  auto names = WithConnection(
      db, "preparing an export", [&](pqxx::connection& c) -> Result<std::vector<std::string>> {
        pqxx::read_transaction tx(c);
        if (!request.since.empty()) {
          try {
            pqxx::subtransaction check(tx);
            check.exec_params("SELECT $1::timestamptz", request.since);
          } catch (const pqxx::data_exception&) {
            return InvalidArgument("since is not a valid date or time: " + request.since);
          }
        }
        std::vector<std::string> out;
        for (const auto& row : tx.exec("SELECT name FROM sources ORDER BY name")) {
          out.push_back(row[0].as<std::string>());
        }
        return out;
      });
  if (!names.ok()) return names.status();
  if (request.sources.empty()) {
    state->sources = *names;
  } else {
    for (const auto& name : request.sources) {
      if (std::find(names->begin(), names->end(), name) == names->end()) {
        return NotFound("no source named \"" + name + "\"");
      }
      if (std::find(state->sources.begin(), state->sources.end(), name) == state->sources.end()) {
        state->sources.push_back(name);
      }
    }
    std::sort(state->sources.begin(), state->sources.end());
  }
  ingest::SourceRegistry registry(db);
  std::vector<std::vector<std::string>> field_names;
  for (const auto& name : state->sources) {
    auto spec = registry.Get(name);
    if (!spec.ok()) return spec.status();
    auto extractor = FieldExtractor::From(spec->index);
    if (!extractor.ok()) return extractor.status().WithContext("source " + name);
    field_names.push_back(extractor->names());
    state->with_parent = state->with_parent || spec->for_each.has_value();
    state->source_index.emplace(name, state->extractors.size());
    state->extractors.push_back(std::move(*extractor));
  }
  state->layout = LayOutColumns(field_names);
  if (!IsBlank(request.q)) {
    // A query that does not parse is refused now, before a byte of the body is written.
    indexer::SearchRequest probe;
    probe.q = request.q;
    probe.sources = state->sources;
    probe.per_page = 1;
    if (auto checked = searcher.Search(probe); !checked.ok()) return checked.status();
  }
  state->request = std::move(request);
  return std::unique_ptr<Export>(new Export(std::move(state)));
}

Status Export::Run(BodyWriter& out) {
  State& s = *state_;
  std::string preamble;
  if (s.request.format == ExportFormat::kCsv) {
    if (s.request.bom) preamble = "\xEF\xBB\xBF";
    AppendCsvHeader(preamble, s.layout.columns, s.with_parent);
  } else if (s.request.format == ExportFormat::kJson) {
    preamble = "[";
  }
  if (!preamble.empty() && !out.Write(preamble)) {
    return Status(StatusCode::kCancelled, "the client stopped reading the export");
  }
  if (!s.sources.empty()) {
    Status streamed = IsBlank(s.request.q) ? s.StreamAll(out) : s.StreamMatches(out);
    if (!streamed.ok()) return streamed;
  }
  if (s.request.format == ExportFormat::kJson && !out.Write(s.rows == 0 ? "]\n" : "\n]\n")) {
    return Status(StatusCode::kCancelled, "the client stopped reading the export");
  }
  return Status::Ok();
}

}  // namespace octohub::exporting
