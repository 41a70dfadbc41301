// Stores records outside a run exactly as a harvest stores them: content hash, change
// sequence, the index and rules notified, unchanged records left untouched.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "octohub/core/database.h"
#include "octohub/core/status.h"

namespace octohub::ingest {

struct RecordToStore {
  std::string id;
  std::string json;  // the record's JSON text, stored as given
};

struct WriteCounts {
  std::int64_t inserted = 0;
  std::int64_t updated = 0;
  std::int64_t unchanged = 0;
};

// One transaction; a later record with an id already in `records` wins, as in a page. The
// source must exist (kFailedPrecondition otherwise).
Result<WriteCounts> StoreRecords(const Database& db, const std::string& source,
                                 const std::vector<RecordToStore>& records);

}  // namespace octohub::ingest
