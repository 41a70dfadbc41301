// Targets and rules in PostgreSQL. Each store is cheap, holds no connection and is
// thread-safe (each call opens its own connection).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "octohub/core/database.h"
#include "octohub/forward/specs.h"
#include "octohub/indexer/searcher.h"

namespace octohub::forward {

enum class Saved { kCreated, kUpdated, kUnchanged };

class TargetStore {
 public:
  explicit TargetStore(const Database& db) : db_(db) {}
  Result<Saved> Save(const TargetSpec& spec, bool create_only);
  Result<TargetSpec> Get(const std::string& name);
  Result<std::vector<TargetSpec>> List();
  Status Delete(const std::string& name);  // kFailedPrecondition while a rule uses it

 private:
  const Database& db_;
};

struct StoredRule {
  RuleSpec spec;
  std::int64_t from_seq = 0;
};

class RuleStore {
 public:
  explicit RuleStore(const Database& db) : db_(db) {}
  // A changed rule starts over from now: it forwards what changes after this save.
  Result<Saved> Save(const RuleSpec& spec, bool create_only);
  Result<StoredRule> Get(const std::string& name);
  Result<std::vector<StoredRule>> List();
  Status Delete(const std::string& name);

 private:
  const Database& db_;
};

struct RuleSaved {
  Saved saved = Saved::kUnchanged;
  std::optional<std::int64_t> forward_id;  // a backfill's forward, when it forwarded anything
  std::int64_t deliveries = 0;
  std::int64_t records = 0;
};
// Validates a rule against the index (its query must parse as a search's would: 422 at
// /query/q) and the targets (/target), saves it, and with backfill forwards every record that
// matches now (at most 100,000).
Result<RuleSaved> SaveRule(const Database& db, indexer::Searcher& searcher, const RuleSpec& spec,
                           bool create_only);

}  // namespace octohub::forward
