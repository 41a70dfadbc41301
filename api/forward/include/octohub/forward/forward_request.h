// POST /api/v1/forwards: pushing chosen records, or the matches of a query, to a target once.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "octohub/core/database.h"
#include "octohub/core/status.h"
#include "octohub/forward/enqueue.h"
#include "octohub/indexer/searcher.h"

namespace octohub::forward {

inline constexpr std::int64_t kMaxForwardRecords = 10000;
inline constexpr std::int64_t kDefaultForwardQueryLimit = 1000;

struct ForwardQuery {
  std::string q;
  std::string source;  // a comma list; empty: every source
  std::int64_t limit = kDefaultForwardQueryLimit;
};

struct ForwardRequest {
  std::string target;
  std::vector<RecordKey> records;     // when chosen
  std::optional<ForwardQuery> query;  // or the matches of this
};

// Reads {"target", "records": [{"source", "id"}…]} or {"target", "query": {"q", "source"},
// "limit"}. Pure; kInvalidArgument with a pointer for every problem found.
Result<ForwardRequest> ParseForwardRequest(const boost::json::object& body);

// Finds the target and the records (a query's matches, looked up now), writes the deliveries
// and commits: once this returns, they survive anything. An unknown target, a missing record
// or a query the index cannot take is kInvalidArgument with its pointer.
Result<Enqueued> Forward(const Database& db, indexer::Searcher& searcher,
                         const ForwardRequest& request);

}  // namespace octohub::forward
