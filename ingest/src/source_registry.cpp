#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "octohub/core/schedule.h"
#include "octohub/core/secrets.h"
#include "octohub/ingest/ingest.h"
#include "record_writer.h"
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
  SELECT s.spec::text, s.name, coalesce(s.spec->>'schedule', ''),
         (SELECT count(*) FROM records r WHERE r.source = s.name AND NOT r.deleted),
         )" OCTOHUB_RFC3339("s.next_run_at") R"(, last.*
  FROM sources s
  LEFT JOIN LATERAL (SELECT )") + kRunColumns +
                                 R"( FROM runs WHERE runs.source = s.name
                     ORDER BY id DESC LIMIT 1) last ON true
  WHERE $1::text IS NULL OR s.name = $1
  ORDER BY s.name)";

// When a newly saved schedule first runs (seconds since the epoch), or none.
Result<std::optional<double>> FirstRun(const SourceSpec& spec) {
  if (spec.schedule.empty() || spec.schedule == kAfterParentSchedule) {
    return std::optional<double>();  // manual, or queued when the parent's run succeeds
  }
  auto schedule = Schedule::Parse(spec.schedule);
  if (!schedule.ok()) return schedule.status();
  return std::optional<double>(EpochSeconds(schedule->FirstRun(std::chrono::system_clock::now())));
}

Result<SourceSpec> SpecFromText(const std::string& name, const std::string& text) {
  json::error_code ec;
  json::value stored = json::parse(text, ec);
  if (ec) return Internal("the stored source \"" + name + "\" is not JSON");
  auto spec = ParseSourceSpec(stored);
  if (!spec.ok()) {
    return Internal("the stored source \"" + name + "\" is invalid: " + spec.status().ToString());
  }
  return spec;
}

Result<std::vector<SourceSummary>> Summaries(const Database& db, std::optional<std::string> name) {
  return WithConnection(db, "listing sources",
                        [&](pqxx::connection& c) -> Result<std::vector<SourceSummary>> {
                          pqxx::read_transaction tx(c);
                          std::vector<SourceSummary> out;
                          for (const auto& row : tx.exec_params(kListSources, name)) {
                            SourceSummary summary;
                            summary.name = row[1].as<std::string>();
                            auto spec = SpecFromText(summary.name, row[0].as<std::string>());
                            if (!spec.ok()) return spec.status();
                            summary.spec = std::move(*spec);
                            summary.schedule = row[2].as<std::string>();
                            summary.records = row[3].as<std::int64_t>();
                            if (!row[4].is_null()) summary.next_run_at = row[4].as<std::string>();
                            if (!row[5].is_null()) summary.last_run = ReadRun(row, 5);
                            out.push_back(std::move(summary));
                          }
                          return out;
                        });
}

// Secrets may name only the server's secret variables; checked wherever a source is saved.
Status CheckSecretNames(const SourceSpec& spec) {
  std::vector<FieldError> errors;
  CheckAuthSecretEnv(spec.auth, "/auth", errors);
  if (spec.push) CheckSecretEnv(spec.push->secret, "/push/secret_env", errors);
  if (errors.empty()) return Status::Ok();
  return InvalidArgument("invalid source \"" + spec.name + "\"", std::move(errors));
}

// A child's parent must exist, and following parents up must never come back to the child.
Status CheckParent(pqxx::transaction_base& tx, const SourceSpec& spec) {
  if (!spec.for_each) return Status::Ok();
  std::string parent = spec.for_each->source;
  for (int depth = 0; depth < 64; ++depth) {
    auto rows = tx.exec_params(
        "SELECT spec->'for_each'->>'source' FROM sources WHERE name = $1 FOR SHARE", parent);
    if (rows.empty()) {
      if (depth == 0) {
        return InvalidArgument("invalid source \"" + spec.name + "\"",
                               {{"/for_each/source", "there is no source named \"" + parent +
                                                         "\" (create the parent first)"}});
      }
      return Status::Ok();
    }
    if (rows[0][0].is_null()) return Status::Ok();
    parent = rows[0][0].as<std::string>();
    if (parent == spec.name) {
      return InvalidArgument(
          "invalid source \"" + spec.name + "\"",
          {{"/for_each/source", "\"" + spec.for_each->source + "\" runs for each record of \"" +
                                    spec.name + "\" already: a cycle"}});
    }
  }
  return Status::Ok();
}

}  // namespace

Result<SourceRegistry::Applied> SourceRegistry::Apply(const SourceSpec& spec) {
  if (Status names = CheckSecretNames(spec); !names.ok()) return names;
  return WithConnection(db_, "saving a source", [&](pqxx::connection& c) -> Result<Applied> {
    auto first_run = FirstRun(spec);
    if (!first_run.ok()) return first_run.status();
    pqxx::work tx(c);
    if (Status parent = CheckParent(tx, spec); !parent.ok()) return parent;
    const std::string document = json::serialize(SourceSpecToJson(spec, false));
    auto before = tx.exec_params(
        "SELECT spec->'index' IS DISTINCT FROM ($2::jsonb)->'index' FROM sources "
        "WHERE name = $1 FOR UPDATE",
        spec.name, document);
    auto rows = tx.exec_params(kUpsertSource, spec.name, document, *first_run);
    // A new index mapping applies to what is stored too: renumber the source's records, and
    // the indexer maps each of them again.
    if (!before.empty() && before[0][0].as<bool>()) {
      LockChangeFeed(tx);
      tx.exec_params0(
          "UPDATE records SET change_seq = nextval('record_change_seq') WHERE source = $1",
          spec.name);
      tx.exec_params("SELECT pg_notify($1, $2)", kRecordsChannel, spec.name);
    }
    tx.commit();
    if (rows.empty()) return Applied::kUnchanged;
    return rows[0][0].as<bool>() ? Applied::kCreated : Applied::kUpdated;
  });
}

Status SourceRegistry::Create(const SourceSpec& spec) {
  if (Status names = CheckSecretNames(spec); !names.ok()) return names;
  auto first_run = FirstRun(spec);
  if (!first_run.ok()) return first_run.status();
  return WithConnection(db_, "creating a source", [&](pqxx::connection& c) -> Status {
    pqxx::work tx(c);
    if (Status parent = CheckParent(tx, spec); !parent.ok()) return parent;
    auto inserted = tx.exec_params(
        "INSERT INTO sources (name, spec, next_run_at) VALUES ($1, $2::jsonb, to_timestamp($3)) "
        "ON CONFLICT (name) DO NOTHING RETURNING 1",
        spec.name, json::serialize(SourceSpecToJson(spec, false)), *first_run);
    tx.commit();
    if (inserted.empty()) {
      return Status(StatusCode::kAlreadyExists, "a source named \"" + spec.name + "\" exists");
    }
    return Status::Ok();
  });
}

Result<SourceSpec> SourceRegistry::Get(const std::string& name) {
  return WithConnection(db_, "reading a source", [&](pqxx::connection& c) -> Result<SourceSpec> {
    pqxx::read_transaction tx(c);
    auto rows = tx.exec_params("SELECT spec::text FROM sources WHERE name = $1", name);
    if (rows.empty()) return NotFound("no source named \"" + name + "\"");
    return SpecFromText(name, rows[0][0].as<std::string>());
  });
}

Result<SourceSummary> SourceRegistry::Describe(const std::string& name) {
  auto found = Summaries(db_, name);
  if (!found.ok()) return found.status();
  if (found->empty()) return NotFound("no source named \"" + name + "\"");
  return std::move(found->front());
}

Result<std::vector<SourceSummary>> SourceRegistry::List() { return Summaries(db_, std::nullopt); }

Status SourceRegistry::Delete(const std::string& name) {
  return WithConnection(db_, "deleting a source", [&](pqxx::connection& c) -> Status {
    pqxx::work tx(c);
    auto children = tx.exec_params(
        "SELECT string_agg(name, ', ' ORDER BY name) FROM sources "
        "WHERE spec->'for_each'->>'source' = $1",
        name);
    if (!children[0][0].is_null()) {
      return FailedPrecondition("\"" + name + "\" is the parent of " +
                                children[0][0].as<std::string>() +
                                ": delete or change those sources first");
    }
    LockChangeFeed(tx);
    auto deleted = tx.exec_params0("DELETE FROM sources WHERE name = $1", name);
    if (deleted.affected_rows() == 0) return NotFound("no source named \"" + name + "\"");
    tx.exec_params0("DELETE FROM records WHERE source = $1", name);
    tx.exec_params0(
        "INSERT INTO source_tombstones (source, change_seq) VALUES ($1, "
        "nextval('record_change_seq'))",
        name);
    tx.exec_params("SELECT pg_notify($1, $2)", kRecordsChannel, name);
    tx.commit();
    return Status::Ok();
  });
}

constexpr const char* kReadRecordName = "octohub_read_record";
constexpr const char* kReadRecord =
    "SELECT data::text, content_hash::text, " OCTOHUB_RFC3339("fetched_at") ", " OCTOHUB_RFC3339(
        "updated_at") ", deleted, parent_source, parent_id FROM records "
                      "WHERE source = $1 AND id = $2";

Result<StoredRecord> ReadRecord(const Database& db, const std::string& source,
                                const std::string& id) {
  return WithConnection(db, "reading a record", [&](pqxx::connection& c) -> Result<StoredRecord> {
    // Prepared once per connection (the API's connections are kept): planned once, not per read.
    c.prepare(kReadRecordName, kReadRecord);
    pqxx::nontransaction tx(c);  // one statement: one round trip, no BEGIN/COMMIT
    auto rows = tx.exec_prepared(kReadRecordName, source, id);
    if (rows.empty()) return NotFound("no record \"" + id + "\" in source \"" + source + "\"");
    const auto& row = rows[0];
    StoredRecord record{source,
                        id,
                        row[0].as<std::string>(),
                        row[1].as<std::string>(),
                        row[2].as<std::string>(),
                        row[3].as<std::string>(),
                        row[4].as<bool>()};
    if (!row[5].is_null()) {
      record.parent = {row[5].as<std::string>(), row[6].as<std::string>()};
    }
    return record;
  });
}

}  // namespace octohub::ingest
