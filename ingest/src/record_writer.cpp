#include "record_writer.h"

#include <pqxx/pqxx>
#include <unordered_map>
#include <unordered_set>

#include "octohub/core/content_hash.h"
#include "octohub/core/pg_array.h"

namespace octohub::ingest {
namespace {

constexpr const char* kCreateStaging = R"(
  CREATE TEMP TABLE IF NOT EXISTS ingest_staging (
    id text NOT NULL, data text NOT NULL, content_hash uuid NOT NULL
  ) ON COMMIT DELETE ROWS)";

// Only records known to be new or changed reach this; the WHERE keeps a record that a
// concurrent writer stored meanwhile with the same content from being renumbered. The version
// replaced is kept as the previous one (a record deleted before counts as new).
constexpr const char* kUpsert = R"(
  INSERT INTO records AS r
    (source, id, data, content_hash, change_seq, fetched_at, updated_at, deleted,
     parent_source, parent_id)
  SELECT $1, id, data::json, content_hash, nextval('record_change_seq'), now(), now(), false,
         $2, $3
  FROM ingest_staging
  ON CONFLICT (source, id) DO UPDATE SET
    data = excluded.data, content_hash = excluded.content_hash,
    previous_data = CASE WHEN r.deleted THEN NULL ELSE r.data END,
    change_seq = excluded.change_seq, fetched_at = excluded.fetched_at,
    updated_at = excluded.updated_at, deleted = false,
    parent_source = excluded.parent_source, parent_id = excluded.parent_id
  WHERE r.content_hash <> excluded.content_hash OR r.deleted)";

constexpr const char* kCreateSeen =
    "CREATE TEMP TABLE IF NOT EXISTS run_seen (id text PRIMARY KEY)";

constexpr const char* kMarkUnseenDeleted = R"(
  UPDATE records r SET deleted = true, change_seq = nextval('record_change_seq'),
                       updated_at = now()
  WHERE r.source = $1 AND NOT r.deleted
    AND NOT EXISTS (SELECT 1 FROM run_seen s WHERE s.id = r.id))";

// The page's ids as a PostgreSQL text[] literal.
std::string IdArray(const std::vector<ExtractedRecord>& records) {
  return PgTextArray(records, [](const ExtractedRecord& r) -> const std::string& { return r.id; });
}

}  // namespace

// What is stored for a page's ids: one primary-key probe per id, no writes. The LIMIT keeps
// the planner from turning the probes into a join: it would hash the whole table for every
// page once the table is large (a harvest then slows with every page: 63,697 small records
// took 42 s instead of 0.7 s).
const char* const kStoredHashes = R"(
  SELECT page.id, replace(r.content_hash::text, '-', ''), r.deleted
  FROM unnest($2::text[]) AS page(id)
  CROSS JOIN LATERAL (SELECT content_hash, deleted FROM records
                      WHERE source = $1 AND id = page.id LIMIT 1) AS r)";

WriteCounts WriteRecords(pqxx::work& tx, const std::string& source,
                         const std::vector<ExtractedRecord>& records, const ParentRef* parent) {
  WriteCounts counts;
  if (records.empty()) return counts;
  struct Stored {
    std::string hash;
    bool deleted;
  };
  // A page is small and the source may hold millions of records: always probe the primary
  // key, once per id. Left to itself, the planner (with no statistics yet on a freshly
  // filled table) filters every stored record of the source instead, on every page.
  tx.exec0(
      "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; "
      "SET LOCAL enable_seqscan = off");
  std::unordered_map<std::string, Stored> stored;
  for (const auto& row : tx.exec_params(kStoredHashes, source, IdArray(records))) {
    stored.emplace(row[0].as<std::string>(), Stored{row[1].as<std::string>(), row[2].as<bool>()});
  }
  tx.exec0("RESET enable_hashjoin; RESET enable_mergejoin; RESET enable_seqscan");
  std::vector<const ExtractedRecord*> changed;
  for (const auto& record : records) {
    auto it = stored.find(record.id);
    if (it == stored.end()) {
      ++counts.inserted;
    } else if (it->second.hash != record.content_hash || it->second.deleted) {
      ++counts.updated;
    } else {
      ++counts.unchanged;
      continue;
    }
    changed.push_back(&record);
  }
  if (changed.empty()) return counts;  // the common case of a re-run: nothing is written

  if (counts.updated == 0) {
    // Only new records (a first run): straight into the table, numbered by its defaults.
    // No other writer adds this source's records meanwhile: a source has one run at a time.
    LockChangeFeed(tx);
    if (parent == nullptr) {
      pqxx::stream_to copy(tx, "records",
                           std::vector<std::string>{"source", "id", "data", "content_hash"});
      for (const ExtractedRecord* record : changed) {
        copy << std::make_tuple(source, record->id, record->json, record->content_hash);
      }
      copy.complete();
    } else {
      pqxx::stream_to copy(tx, "records",
                           std::vector<std::string>{"source", "id", "data", "content_hash",
                                                    "parent_source", "parent_id"});
      for (const ExtractedRecord* record : changed) {
        copy << std::make_tuple(source, record->id, record->json, record->content_hash,
                                parent->source, parent->id);
      }
      copy.complete();
    }
    tx.exec_params("SELECT pg_notify($1, $2)", kRecordsChannel, source);
    return counts;
  }

  tx.exec0(kCreateStaging);
  {
    pqxx::stream_to copy(tx, "ingest_staging",
                         std::vector<std::string>{"id", "data", "content_hash"});
    for (const ExtractedRecord* record : changed) {
      copy << std::make_tuple(record->id, record->json, record->content_hash);
    }
    copy.complete();
  }
  LockChangeFeed(tx);
  tx.exec_params0(kUpsert, source,
                  parent != nullptr ? std::optional<std::string>(parent->source) : std::nullopt,
                  parent != nullptr ? std::optional<std::string>(parent->id) : std::nullopt);
  tx.exec_params("SELECT pg_notify($1, $2)", kRecordsChannel, source);
  return counts;
}

void ForgetSeen(pqxx::work& tx) {
  tx.exec0(kCreateSeen);
  tx.exec0("TRUNCATE run_seen");
}

void RememberSeen(pqxx::work& tx, const std::vector<ExtractedRecord>& records) {
  if (records.empty()) return;
  tx.exec0(kCreateSeen);
  tx.exec_params0("INSERT INTO run_seen SELECT unnest($1::text[]) ON CONFLICT DO NOTHING",
                  IdArray(records));
}

std::pair<std::int64_t, std::int64_t> CountUnseen(pqxx::work& tx, const std::string& source) {
  tx.exec0(kCreateSeen);
  auto row = tx.exec_params1(
      "SELECT count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM run_seen s WHERE s.id = r.id)), "
      "count(*) FROM records r WHERE r.source = $1 AND NOT r.deleted",
      source);
  return {row[0].as<std::int64_t>(), row[1].as<std::int64_t>()};
}

std::int64_t MarkUnseenDeleted(pqxx::work& tx, const std::string& source) {
  tx.exec0(kCreateSeen);
  LockChangeFeed(tx);
  auto result = tx.exec_params0(kMarkUnseenDeleted, source);
  const auto deleted = static_cast<std::int64_t>(result.affected_rows());
  if (deleted > 0) tx.exec_params("SELECT pg_notify($1, $2)", kRecordsChannel, source);
  return deleted;
}

Result<WriteCounts> StoreRecords(const Database& db, const std::string& source,
                                 const std::vector<RecordToStore>& records) {
  std::vector<ExtractedRecord> page;
  page.reserve(records.size());
  std::unordered_set<std::string_view> seen;
  for (std::size_t i = records.size(); i-- > 0;) {  // the last of an id wins
    const RecordToStore& record = records[i];
    if (!seen.insert(record.id).second) continue;
    page.push_back(ExtractedRecord{record.id, record.json, ContentHash(record.json)});
  }
  return WithConnection(db, "storing records", [&](pqxx::connection& c) -> Result<WriteCounts> {
    pqxx::work tx(c);
    if (tx.exec_params("SELECT 1 FROM sources WHERE name = $1", source).empty()) {
      return FailedPrecondition("there is no source named " + source);
    }
    WriteCounts counts = WriteRecords(tx, source, page);
    tx.commit();
    return counts;
  });
}

}  // namespace octohub::ingest
