#include "record_writer.h"

#include <pqxx/pqxx>

namespace octohub::ingest {
namespace {

constexpr const char* kCreateStaging = R"(
  CREATE TEMP TABLE IF NOT EXISTS ingest_staging (
    id text NOT NULL, data text NOT NULL, content_hash uuid NOT NULL
  ) ON COMMIT DELETE ROWS)";

// Change sequences must become visible in the order they are handed out, or the indexer
// could move its checkpoint past a sequence whose transaction has not committed yet. Writers
// therefore take this transaction-level lock just before numbering and hold it to commit.
constexpr const char* kLockChangeFeed = "SELECT pg_advisory_xact_lock(7022136337812264771)";

constexpr const char* kUpsert = R"(
  WITH changed AS (
    SELECT s.id, s.data, s.content_hash, r.id IS NULL AS is_new
    FROM ingest_staging s
    LEFT JOIN records r ON r.source = $1 AND r.id = s.id
    WHERE r.id IS NULL OR r.content_hash <> s.content_hash OR r.deleted
    ORDER BY s.id
  ), written AS (
    INSERT INTO records AS r
      (source, id, data, content_hash, change_seq, fetched_at, updated_at, deleted)
    SELECT $1, id, data::json, content_hash, nextval('record_change_seq'), now(), now(), false
    FROM changed
    ON CONFLICT (source, id) DO UPDATE SET
      data = excluded.data, content_hash = excluded.content_hash,
      change_seq = excluded.change_seq, fetched_at = excluded.fetched_at,
      updated_at = excluded.updated_at, deleted = false
    RETURNING 1
  )
  SELECT count(*) FILTER (WHERE is_new), count(*) FILTER (WHERE NOT is_new),
         (SELECT count(*) FROM written)
  FROM changed)";

constexpr const char* kCreateSeen =
    "CREATE TEMP TABLE IF NOT EXISTS run_seen (id text PRIMARY KEY)";

constexpr const char* kMarkUnseenDeleted = R"(
  UPDATE records r SET deleted = true, change_seq = nextval('record_change_seq'),
                       updated_at = now()
  WHERE r.source = $1 AND NOT r.deleted
    AND NOT EXISTS (SELECT 1 FROM run_seen s WHERE s.id = r.id))";

}  // namespace

void ForgetSeen(pqxx::work& tx) {
  tx.exec0(kCreateSeen);
  tx.exec0("TRUNCATE run_seen");
}

void RememberSeen(pqxx::work& tx) {
  tx.exec0(kCreateSeen);
  tx.exec0(kCreateStaging);
  tx.exec0("INSERT INTO run_seen SELECT id FROM ingest_staging ON CONFLICT DO NOTHING");
}

std::int64_t MarkUnseenDeleted(pqxx::work& tx, const std::string& source) {
  tx.exec0(kCreateSeen);
  tx.exec(kLockChangeFeed);
  auto result = tx.exec_params0(kMarkUnseenDeleted, source);
  const auto deleted = static_cast<std::int64_t>(result.affected_rows());
  if (deleted > 0) tx.exec_params("SELECT pg_notify($1, $2)", kRecordsChannel, source);
  return deleted;
}

WriteCounts WriteRecords(pqxx::work& tx, const std::string& source,
                         const std::vector<ExtractedRecord>& records) {
  WriteCounts counts;
  if (records.empty()) return counts;
  tx.exec0(kCreateStaging);
  {
    pqxx::stream_to copy(tx, "ingest_staging",
                         std::vector<std::string>{"id", "data", "content_hash"});
    for (const auto& record : records) {
      copy << std::make_tuple(record.id, record.json, record.content_hash);
    }
    copy.complete();
  }
  tx.exec(kLockChangeFeed);
  auto row = tx.exec_params1(kUpsert, source);
  counts.inserted = row[0].as<std::int64_t>();
  counts.updated = row[1].as<std::int64_t>();
  counts.unchanged = static_cast<std::int64_t>(records.size()) - counts.inserted - counts.updated;
  if (counts.inserted + counts.updated > 0) {
    tx.exec_params("SELECT pg_notify($1, $2)", kRecordsChannel, source);
  }
  return counts;
}

}  // namespace octohub::ingest
