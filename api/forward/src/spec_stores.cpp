// Targets and rules in PostgreSQL, and saving a rule (with its backfill).
#include "octohub/forward/spec_stores.h"

#include <boost/json.hpp>

#include "octohub/core/change_feed.h"
#include "octohub/core/secrets.h"
#include "octohub/forward/enqueue.h"
#include "octohub/forward/specs.h"

namespace octohub::forward {
namespace json = boost::json;
namespace {

Result<Saved> SaveSpec(pqxx::work& tx, const char* table, const std::string& name,
                       const json::object& doc, bool create_only) {
  auto existing = tx.exec_params(
      std::string("SELECT spec::text FROM ") + table + " WHERE name = $1 FOR UPDATE", name);
  if (!existing.empty()) {
    if (create_only) {
      return Status(StatusCode::kAlreadyExists,
                    std::string(table == std::string("targets") ? "a target" : "a rule") +
                        " named \"" + name + "\" exists");
    }
    if (json::parse(existing[0][0].as<std::string>()) == json::value(doc)) return Saved::kUnchanged;
    return Saved::kUpdated;
  }
  return Saved::kCreated;
}

}  // namespace

// Targets.

Result<Saved> TargetStore::Save(const TargetSpec& spec, bool create_only) {
  // Secrets may name only the server's secret variables; checked wherever a target is saved.
  std::vector<FieldError> errors;
  CheckAuthSecretEnv(spec.auth, "/auth", errors);
  CheckSecretEnv(spec.secret, "/secret_env", errors);
  if (!errors.empty()) {
    return InvalidArgument("invalid target \"" + spec.name + "\"", std::move(errors));
  }
  return WithConnection(db_, "saving the target", [&](pqxx::connection& c) -> Result<Saved> {
    pqxx::work tx(c);
    const json::object doc = TargetSpecToJson(spec, false);
    auto saved = SaveSpec(tx, "targets", spec.name, doc, create_only);
    if (!saved.ok() || *saved == Saved::kUnchanged) return saved;
    tx.exec_params(
        "INSERT INTO targets (name, spec) VALUES ($1, $2::jsonb) ON CONFLICT (name) DO UPDATE "
        "SET spec = excluded.spec, updated_at = now()",
        spec.name, json::serialize(doc));
    tx.commit();
    return saved;
  });
}

Result<TargetSpec> TargetStore::Get(const std::string& name) {
  return WithConnection(db_, "reading the target", [&](pqxx::connection& c) -> Result<TargetSpec> {
    pqxx::read_transaction tx(c);
    auto rows = tx.exec_params("SELECT spec::text FROM targets WHERE name = $1", name);
    if (rows.empty()) return NotFound("no target named \"" + name + "\"");
    return ParseTargetSpec(json::parse(rows[0][0].as<std::string>()));
  });
}

Result<std::vector<TargetSpec>> TargetStore::List() {
  return WithConnection(
      db_, "listing targets", [&](pqxx::connection& c) -> Result<std::vector<TargetSpec>> {
        pqxx::read_transaction tx(c);
        std::vector<TargetSpec> out;
        for (const auto& row : tx.exec("SELECT spec::text FROM targets ORDER BY name")) {
          auto spec = ParseTargetSpec(json::parse(row[0].as<std::string>()));
          if (spec.ok()) out.push_back(std::move(*spec));
        }
        return out;
      });
}

Status TargetStore::Delete(const std::string& name) {
  return WithConnection(db_, "deleting the target", [&](pqxx::connection& c) -> Status {
    pqxx::work tx(c);
    auto rules = tx.exec_params("SELECT name FROM rules WHERE target = $1 ORDER BY name", name);
    if (!rules.empty()) {
      return FailedPrecondition("the rule \"" + rules[0][0].as<std::string>() +
                                "\" forwards to this target: delete or change it first");
    }
    // Its deliveries go with it (ON DELETE CASCADE).
    if (tx.exec_params("DELETE FROM targets WHERE name = $1", name).affected_rows() == 0) {
      return NotFound("no target named \"" + name + "\"");
    }
    tx.commit();
    return Status::Ok();
  });
}

// Rules.

Result<Saved> RuleStore::Save(const RuleSpec& spec, bool create_only) {
  return WithConnection(db_, "saving the rule", [&](pqxx::connection& c) -> Result<Saved> {
    pqxx::work tx(c);
    if (tx.exec_params("SELECT 1 FROM targets WHERE name = $1", spec.target).empty()) {
      return InvalidArgument("invalid rule \"" + spec.name + "\"",
                             {{"/target", "no target named \"" + spec.target + "\""}});
    }
    const json::object doc = RuleSpecToJson(spec);
    auto saved = SaveSpec(tx, "rules", spec.name, doc, create_only);
    if (!saved.ok() || *saved == Saved::kUnchanged) return saved;
    LockChangeFeed(tx);
    const std::int64_t from = LastChangeSeq(tx);
    tx.exec_params(
        "INSERT INTO rules (name, spec, target, enabled, from_seq) VALUES ($1, $2::jsonb, $3, $4, "
        "$5) ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, target = excluded.target, "
        "enabled = excluded.enabled, from_seq = excluded.from_seq, updated_at = now()",
        spec.name, json::serialize(doc), spec.target, spec.enabled, from);
    tx.commit();
    return saved;
  });
}

Result<StoredRule> RuleStore::Get(const std::string& name) {
  return WithConnection(db_, "reading the rule", [&](pqxx::connection& c) -> Result<StoredRule> {
    pqxx::read_transaction tx(c);
    auto rows = tx.exec_params("SELECT spec::text, from_seq FROM rules WHERE name = $1", name);
    if (rows.empty()) return NotFound("no rule named \"" + name + "\"");
    auto spec = ParseRuleSpec(json::parse(rows[0][0].as<std::string>()));
    if (!spec.ok()) return spec.status();
    return StoredRule{*spec, rows[0][1].as<std::int64_t>()};
  });
}

Result<std::vector<StoredRule>> RuleStore::List() {
  return WithConnection(
      db_, "listing rules", [&](pqxx::connection& c) -> Result<std::vector<StoredRule>> {
        pqxx::read_transaction tx(c);
        std::vector<StoredRule> out;
        for (const auto& row : tx.exec("SELECT spec::text, from_seq FROM rules ORDER BY name")) {
          auto spec = ParseRuleSpec(json::parse(row[0].as<std::string>()));
          if (spec.ok()) out.push_back({*spec, row[1].as<std::int64_t>()});
        }
        return out;
      });
}

Status RuleStore::Delete(const std::string& name) {
  return WithConnection(db_, "deleting the rule", [&](pqxx::connection& c) -> Status {
    pqxx::work tx(c);
    if (tx.exec_params("DELETE FROM rules WHERE name = $1", name).affected_rows() == 0) {
      return NotFound("no rule named \"" + name + "\"");
    }
    tx.commit();
    return Status::Ok();
  });
}

Result<RuleSaved> SaveRule(const Database& db, indexer::Searcher& searcher, const RuleSpec& spec,
                           bool create_only) {
  constexpr std::int64_t kMaxBackfill = 100000;
  const auto sources = SplitSources(spec.source);
  // The query must be one a search accepts (checked when there is an index to check it on).
  auto probe = MatchingRecords(searcher, spec.q, sources, 1);
  if (!probe.ok() && probe.status().code() == StatusCode::kInvalidArgument) {
    return InvalidArgument("invalid rule \"" + spec.name + "\"",
                           {{"/query/q", probe.status().message()}});
  }
  auto target = TargetStore(db).Get(spec.target);
  if (!target.ok()) {
    if (target.status().code() != StatusCode::kNotFound) return target.status();
    return InvalidArgument("invalid rule \"" + spec.name + "\"",
                           {{"/target", "no target named \"" + spec.target + "\""}});
  }
  auto saved = RuleStore(db).Save(spec, create_only);
  if (!saved.ok()) return saved.status();
  RuleSaved out;
  out.saved = *saved;
  if (!spec.backfill || !spec.enabled || *saved == Saved::kUnchanged) return out;
  auto matches = MatchingRecords(searcher, spec.q, sources, kMaxBackfill);
  if (!matches.ok()) return matches.status().WithContext("backfilling the rule");
  auto enqueued =
      WithConnection(db, "backfilling the rule", [&](pqxx::connection& c) -> Result<Enqueued> {
        pqxx::work tx(c);
        auto done = EnqueueRuleMatches(tx, spec.name, *target, *matches);
        if (done.ok()) tx.commit();
        return done;
      });
  if (!enqueued.ok()) return enqueued.status();
  if (enqueued->forward_id > 0) out.forward_id = enqueued->forward_id;
  out.deliveries = enqueued->deliveries;
  out.records = enqueued->records;
  return out;
}

}  // namespace octohub::forward
