// Writes a page of records into PostgreSQL. The stored hashes of the page's ids are read
// first (one indexed lookup); only new and changed records are then sent (COPY into a
// staging table) and written by one INSERT ... ON CONFLICT. Unchanged records are not
// touched, so they keep their change sequence and are neither re-indexed nor re-forwarded,
// and a page with no change writes nothing.
#pragma once

#include <cstdint>
#include <pqxx/transaction>
#include <string>
#include <utility>
#include <vector>

#include "octohub/core/change_feed.h"
#include "octohub/ingest/record_store.h"
#include "page_extractor.h"

namespace octohub::ingest {

// The lookup of what is stored for a page's ids ($1 the source, $2 the ids): exposed so that
// a test can check its plan.
extern const char* const kStoredHashes;

// The parent record a child source's page was fetched for (SPEC §3 for_each).
struct ParentRef {
  std::string source;
  std::string id;
};

// Runs inside the caller's transaction; the caller commits. Throws pqxx exceptions.
WriteCounts WriteRecords(pqxx::work& tx, const std::string& source,
                         const std::vector<ExtractedRecord>& records,
                         const ParentRef* parent = nullptr);

// For full_refresh runs: remembers, on this connection, the ids of a page.
void RememberSeen(pqxx::work& tx, const std::vector<ExtractedRecord>& records);
// Starts a full pass: forgets the ids remembered on this connection.
void ForgetSeen(pqxx::work& tx);
// Before marking: how many stored, not deleted records of the source the pass did not see,
// and how many there are.
std::pair<std::int64_t, std::int64_t> CountUnseen(pqxx::work& tx, const std::string& source);
// After a complete full pass: marks every stored record of the source that the pass did not
// see as deleted (with a new change sequence, so the index drops it). Returns how many.
std::int64_t MarkUnseenDeleted(pqxx::work& tx, const std::string& source);

}  // namespace octohub::ingest
