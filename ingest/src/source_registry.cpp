#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "octohub/core/schedule.h"
#include "octohub/ingest/ingest.h"
#include "runs.h"

namespace octohub::ingest {
namespace json = boost::json;
namespace {

// A changed schedule restarts the timetable; any other change keeps the next run.
constexpr const char* kUpsertSource = R"(
  INSERT INTO sources AS s (name, spec, next_run_at) VALUES ($1, $2::jsonb, to_timestamp($3))
  ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, updated_at = now(),
    next_run_at = CASE WHEN s.spec->'schedule' IS DISTINCT FROM excluded.spec->'schedule'
                       THEN excluded.next_run_at ELSE s.next_run_at END
    WHERE s.spec IS DISTINCT FROM excluded.spec
  RETURNING (xmax = 0) AS created)";

const std::string kListSources = std::string(R"(
  SELECT s.name, coalesce(s.spec->>'schedule', ''),
         (SELECT count(*) FROM records r WHERE r.source = s.name AND NOT r.deleted),
         )" OCTOHUB_RFC3339("s.next_run_at") R"(, last.*
  FROM sources s
  LEFT JOIN LATERAL (SELECT )") + kRunColumns +
                                 R"( FROM runs WHERE runs.source = s.name
                     ORDER BY id DESC LIMIT 1) last ON true
  ORDER BY s.name)";

}  // namespace

Result<SourceRegistry::Applied> SourceRegistry::Apply(const SourceSpec& spec) {
  return WithConnection(db_, "saving a source", [&](pqxx::connection& c) -> Result<Applied> {
    std::optional<double> first_run;
    if (!spec.schedule.empty()) {
      auto schedule = Schedule::Parse(spec.schedule);
      if (!schedule.ok()) return schedule.status();
      first_run = EpochSeconds(schedule->FirstRun(std::chrono::system_clock::now()));
    }
    pqxx::work tx(c);
    auto rows = tx.exec_params(kUpsertSource, spec.name,
                               json::serialize(SourceSpecToJson(spec, false)), first_run);
    tx.commit();
    if (rows.empty()) return Applied::kUnchanged;
    return rows[0][0].as<bool>() ? Applied::kCreated : Applied::kUpdated;
  });
}

Result<SourceSpec> SourceRegistry::Get(const std::string& name) {
  return WithConnection(db_, "reading a source", [&](pqxx::connection& c) -> Result<SourceSpec> {
    pqxx::read_transaction tx(c);
    auto rows = tx.exec_params("SELECT spec::text FROM sources WHERE name = $1", name);
    if (rows.empty()) return NotFound("no source named \"" + name + "\"");
    json::error_code ec;
    json::value stored = json::parse(rows[0][0].as<std::string>(), ec);
    if (ec) return Internal("the stored source \"" + name + "\" is not JSON");
    auto spec = ParseSourceSpec(stored);
    if (!spec.ok())
      return Internal("the stored source \"" + name + "\" is invalid: " + spec.status().ToString());
    return spec;
  });
}

Result<std::vector<SourceSummary>> SourceRegistry::List() {
  return WithConnection(db_, "listing sources",
                        [&](pqxx::connection& c) -> Result<std::vector<SourceSummary>> {
                          pqxx::read_transaction tx(c);
                          std::vector<SourceSummary> out;
                          for (const auto& row : tx.exec(kListSources)) {
                            SourceSummary summary;
                            summary.name = row[0].as<std::string>();
                            summary.schedule = row[1].as<std::string>();
                            summary.records = row[2].as<std::int64_t>();
                            if (!row[3].is_null()) summary.next_run_at = row[3].as<std::string>();
                            if (!row[4].is_null()) summary.last_run = ReadRun(row, 4);
                            out.push_back(std::move(summary));
                          }
                          return out;
                        });
}

}  // namespace octohub::ingest
