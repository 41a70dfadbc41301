// Deliveries into the outbox: records chosen by hand, by a rule's backfill, or by a query.
#pragma once

#include <cstdint>
#include <optional>
#include <pqxx/transaction>
#include <string>
#include <utility>
#include <vector>

#include "octohub/core/status.h"
#include "octohub/forward/payload.h"
#include "octohub/forward/specs.h"
#include "octohub/indexer/searcher.h"

namespace octohub::forward {

using RecordKey = std::pair<std::string, std::string>;  // source, id

struct Enqueued {
  std::int64_t forward_id = 0;
  std::int64_t deliveries = 0;  // dead ones included
  std::int64_t records = 0;
  std::int64_t dead = 0;       // deliveries dead at once: their record could not be rendered
  std::int64_t unchanged = 0;  // records left out: none of the watched values changed
};

// Writes the deliveries for these records (in order, `batch` per delivery) to the outbox in
// tx and notifies forwarders on commit. A record the target's template cannot render gets a
// dead delivery of its own with the reason. Missing or deleted records are reported as
// kInvalidArgument with pointers "/records/N" into keys unless skip_missing. With `changed`
// (a change-aware rule's pointers), a record is left out unless a value at one of them differs
// from its previous version. Templates see the previous version and the changes either way.
Result<Enqueued> EnqueueRecords(pqxx::work& tx, const TargetSpec& target,
                                const std::vector<RecordKey>& keys,
                                const std::optional<std::string>& rule, bool skip_missing,
                                const std::vector<std::string>& changed = {});

// {"/state": {"from": "open", "to": "closed"}, …} for the pointers whose value differs between
// the record and its previous version (absent and null are alike; a new record's values all
// changed); nullopt when none does.
std::optional<std::string> WatchedChanges(const ForwardRecord& record,
                                          const std::vector<std::string>& pointers);

// Remembers these matches of a rule at the records' current versions and enqueues those the
// rule has not forwarded before (a backfill).
Result<Enqueued> EnqueueRuleMatches(pqxx::work& tx, const std::string& rule,
                                    const TargetSpec& target, const std::vector<RecordKey>& keys,
                                    const std::vector<std::string>& changed = {});

// Every (source, id) matching q/sources in the index, best first, at most limit.
Result<std::vector<RecordKey>> MatchingRecords(indexer::Searcher& searcher, const std::string& q,
                                               const std::vector<std::string>& sources,
                                               std::int64_t limit,
                                               std::vector<RecordKey> among = {});

}  // namespace octohub::forward
