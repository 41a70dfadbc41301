#include "octohub/forward/forwarding_store.h"

#include <boost/json.hpp>

#include "octohub/core/change_feed.h"
#include "octohub/core/pg_array.h"
#include "octohub/core/secrets.h"

namespace octohub::forward {
namespace json = boost::json;
namespace {

constexpr const char* kRecordsByKey = R"(
  SELECT k.ord, r.data::text FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(source, id, ord)
  LEFT JOIN records r ON r.source = k.source AND r.id = k.id AND NOT r.deleted
  ORDER BY k.ord)";

constexpr const char* kClaim = R"(
  WITH due AS (
    SELECT id FROM deliveries
    WHERE status IN ('pending', 'failed') AND next_attempt_at <= now()
      AND (lease_expires_at IS NULL OR lease_expires_at < now())
    ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
  UPDATE deliveries d SET lease_owner = $1, lease_expires_at = now() + make_interval(secs => $3)
  FROM due WHERE d.id = due.id
  RETURNING d.id, d.target, d.body, d.attempts)";

constexpr const char* kRecordSent = R"(
  UPDATE deliveries d SET status = 'sent', attempts = u.attempts, last_status = u.code,
    last_error = NULL, response_excerpt = NULL, sent_at = clock_timestamp(), updated_at = now(),
    lease_owner = NULL, lease_expires_at = NULL
  FROM unnest($2::bigint[], $3::int[], $4::int[]) AS u(id, attempts, code)
  WHERE d.id = u.id AND d.lease_owner = $1)";

constexpr const char* kRecordFailed = R"(
  UPDATE deliveries SET status = $3, attempts = $4, last_status = $5, last_error = $6,
    response_excerpt = $7, next_attempt_at = now() + make_interval(secs => $8),
    updated_at = now(), lease_owner = NULL, lease_expires_at = NULL
  WHERE id = $2 AND lease_owner = $1)";

constexpr const char* kDeliveryColumns = R"(
  d.id, d.forward_id, d.target, f.rule, d.status, d.attempts, d.last_status, d.last_error,
  d.response_excerpt, d.records::text,
  to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
  to_char(d.next_attempt_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
  to_char(d.sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))";

json::value Nullable(const pqxx::field& f) {
  if (f.is_null()) return nullptr;
  return json::value(f.as<std::string>());
}

json::object DeliveryToJson(const pqxx::row& row) {
  return {{"id", row[0].as<std::int64_t>()},
          {"forward_id", row[1].as<std::int64_t>()},
          {"target", row[2].as<std::string>()},
          {"rule", Nullable(row[3])},
          {"status", row[4].as<std::string>()},
          {"attempts", row[5].as<int>()},
          {"last_status", row[6].is_null() ? json::value(nullptr) : json::value(row[6].as<int>())},
          {"last_error", Nullable(row[7])},
          {"response_excerpt", Nullable(row[8])},
          {"records", json::parse(row[9].as<std::string>())},
          {"created_at", row[10].as<std::string>()},
          {"next_attempt_at",
           row[4].as<std::string>() == "pending" || row[4].as<std::string>() == "failed"
               ? Nullable(row[11])
               : json::value(nullptr)},
          {"sent_at", Nullable(row[12])}};
}

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

// ---- targets

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

// ---- rules

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

// ---- enqueueing

Result<Enqueued> EnqueueRecords(pqxx::work& tx, const TargetSpec& target,
                                const std::vector<RecordKey>& keys,
                                const std::optional<std::string>& rule, bool skip_missing) {
  std::vector<std::string> sources, ids;
  for (const auto& [source, id] : keys) {
    sources.push_back(source);
    ids.push_back(id);
  }
  std::vector<ForwardRecord> records;
  std::vector<FieldError> missing;
  for (const auto& row : tx.exec_params(kRecordsByKey, PgTextArray(sources), PgTextArray(ids))) {
    const auto index = row[0].as<std::size_t>() - 1;
    if (row[1].is_null()) {
      missing.push_back({"/records/" + std::to_string(index),
                         "no record " + keys[index].first + "/" + keys[index].second});
      continue;
    }
    records.push_back({keys[index].first, keys[index].second, row[1].as<std::string>()});
  }
  if (!missing.empty() && !skip_missing) {
    if (missing.size() > 20) missing.resize(20);
    return InvalidArgument("some records do not exist", missing);
  }
  Enqueued out;
  if (records.empty()) return out;
  std::optional<PayloadTemplate> compiled;
  if (target.template_text) {
    auto parsed = PayloadTemplate::Compile(*target.template_text);
    if (!parsed.ok()) return parsed.status();
    compiled = std::move(*parsed);
  }
  // Each record is rendered on its own: one the template cannot render (or renders into
  // something its target cannot take) becomes a dead delivery with the reason; the others
  // are batched and sent as usual.
  struct Row {
    std::string refs, body;
    std::optional<std::string> dead_reason;
  };
  std::vector<Row> rows;
  std::vector<ForwardRecord> batch;
  std::vector<std::string> parts;
  auto close_batch = [&] {
    json::array refs;
    for (const auto& r : batch) refs.push_back({{"source", r.source}, {"id", r.id}});
    rows.push_back({json::serialize(refs), JoinBatch(target, std::move(parts)), std::nullopt});
    batch.clear();
    parts.clear();
  };
  for (auto& record : records) {
    auto rendered = RenderRecord(target, compiled ? &*compiled : nullptr, record);
    if (!rendered.ok()) {
      json::array refs{json::object{{"source", record.source}, {"id", record.id}}};
      rows.push_back({json::serialize(refs), "", rendered.status().message()});
      ++out.dead;
      continue;
    }
    batch.push_back(std::move(record));
    parts.push_back(std::move(*rendered));
    if (batch.size() == static_cast<size_t>(target.batch)) close_batch();
  }
  if (!batch.empty()) close_batch();
  out.forward_id =
      tx.exec_params1("INSERT INTO forwards (target, rule) VALUES ($1, $2) RETURNING id",
                      target.name, rule)[0]
          .as<std::int64_t>();
  pqxx::stream_to copy(
      tx, "deliveries",
      std::vector<std::string>{"forward_id", "target", "records", "body", "status", "last_error"});
  for (const auto& row : rows) {
    copy << std::make_tuple(out.forward_id, target.name, row.refs, row.body,
                            row.dead_reason ? "dead" : "pending", row.dead_reason);
  }
  out.deliveries = static_cast<std::int64_t>(rows.size());
  copy.complete();
  out.records = static_cast<std::int64_t>(records.size());
  tx.exec_params("SELECT pg_notify($1, $2)", kDeliveriesChannel, target.name);
  return out;
}

Result<Enqueued> EnqueueRuleMatches(pqxx::work& tx, const std::string& rule,
                                    const TargetSpec& target, const std::vector<RecordKey>& keys) {
  std::vector<std::string> sources, ids;
  for (const auto& [source, id] : keys) {
    sources.push_back(source);
    ids.push_back(id);
  }
  std::vector<RecordKey> fresh;
  for (const auto& row :
       tx.exec_params("INSERT INTO rule_matches (rule, source, id, content_hash) "
                      "SELECT $1, r.source, r.id, r.content_hash "
                      "FROM unnest($2::text[], $3::text[]) AS k(source, id) "
                      "JOIN records r ON r.source = k.source AND r.id = k.id AND NOT r.deleted "
                      "ON CONFLICT DO NOTHING RETURNING source, id",
                      rule, PgTextArray(sources), PgTextArray(ids))) {
    fresh.emplace_back(row[0].as<std::string>(), row[1].as<std::string>());
  }
  if (fresh.empty()) return Enqueued{};
  return EnqueueRecords(tx, target, fresh, rule, true);
}

Result<std::vector<RecordKey>> MatchingRecords(indexer::Searcher& searcher, const std::string& q,
                                               const std::vector<std::string>& sources,
                                               std::int64_t limit, std::vector<RecordKey> among) {
  indexer::SearchRequest request;
  request.q = q;
  request.sources = sources;
  request.ids_only = true;
  request.among = std::move(among);
  request.per_page = static_cast<int>(std::max<std::int64_t>(1, limit));
  auto response = searcher.Search(request);
  if (!response.ok()) return response.status();
  std::vector<RecordKey> out;
  for (auto& hit : response->hits) out.emplace_back(std::move(hit.source), std::move(hit.id));
  return out;
}

// ---- the outbox

Result<std::vector<ClaimedDelivery>> DeliveryOutbox::Claim(pqxx::connection& c,
                                                           const std::string& owner, int limit,
                                                           int lease_s) {
  pqxx::work tx(c);
  std::vector<ClaimedDelivery> out;
  for (const auto& row : tx.exec_params(kClaim, owner, limit, lease_s)) {
    out.push_back({row[0].as<std::int64_t>(), row[1].as<std::string>(), row[2].as<std::string>(),
                   row[3].as<int>()});
  }
  tx.commit();
  return out;
}

Status DeliveryOutbox::Record(pqxx::connection& c, const std::string& owner,
                              const std::vector<DeliveryOutcome>& outcomes) {
  pqxx::work tx(c);
  std::vector<std::int64_t> ids, attempts, codes;
  for (const auto& o : outcomes) {
    if (o.sent) {
      ids.push_back(o.id);
      attempts.push_back(o.attempts);
      codes.push_back(o.http_status);
      continue;
    }
    tx.exec_params(kRecordFailed, owner, o.id, o.dead ? "dead" : "failed", o.attempts,
                   o.http_status > 0 ? std::optional<int>(o.http_status) : std::nullopt, o.error,
                   o.excerpt, static_cast<double>(o.retry_in_ms) / 1000.0);
  }
  if (!ids.empty()) {
    tx.exec_params(kRecordSent, owner, PgIntArray(ids), PgIntArray(attempts), PgIntArray(codes));
  }
  tx.commit();
  return Status::Ok();
}

Status DeliveryOutbox::RenewLeases(pqxx::connection& c, const std::string& owner, int lease_s) {
  pqxx::work tx(c);
  tx.exec_params(
      "UPDATE deliveries SET lease_expires_at = now() + make_interval(secs => $2) "
      "WHERE lease_owner = $1 AND status IN ('pending', 'failed')",
      owner, lease_s);
  tx.commit();
  return Status::Ok();
}

Status DeliveryOutbox::ReleaseLeases(pqxx::connection& c, const std::string& owner) {
  pqxx::work tx(c);
  tx.exec_params(
      "UPDATE deliveries SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = $1",
      owner);
  tx.commit();
  return Status::Ok();
}

Status DeliveryOutbox::ReleaseLeases(pqxx::connection& c, const std::string& owner,
                                     const std::vector<std::int64_t>& ids) {
  pqxx::work tx(c);
  tx.exec_params(
      "UPDATE deliveries SET lease_owner = NULL, lease_expires_at = NULL "
      "WHERE lease_owner = $1 AND id = ANY($2::bigint[])",
      owner, PgIntArray(ids));
  tx.commit();
  return Status::Ok();
}

Result<int> DeliveryOutbox::ExpireLeasesOf(
    const std::function<bool(const std::string& owner)>& is_dead) {
  return WithConnection(
      db_, "expiring dead forwarders' leases", [&](pqxx::connection& c) -> Result<int> {
        pqxx::work tx(c);
        int expired = 0;
        for (const auto& row : tx.exec(
                 "SELECT DISTINCT lease_owner FROM deliveries WHERE lease_owner IS NOT NULL AND "
                 "status IN ('pending', 'failed')")) {
          const std::string owner = row[0].as<std::string>();
          if (!is_dead(owner)) continue;
          expired += static_cast<int>(
              tx.exec_params("UPDATE deliveries SET lease_owner = NULL, lease_expires_at = NULL "
                             "WHERE lease_owner = $1",
                             owner)
                  .affected_rows());
        }
        tx.commit();
        return expired;
      });
}

Result<std::map<std::string, std::int64_t>> DeliveryOutbox::QueueDepth(pqxx::connection& c) {
  pqxx::read_transaction tx(c);
  std::map<std::string, std::int64_t> out;
  for (const auto& row : tx.exec("SELECT name FROM targets")) out[row[0].as<std::string>()] = 0;
  // Through the partial index of due deliveries: the cost follows the queue, not the table.
  for (const auto& row : tx.exec("SELECT target, count(*) FROM deliveries "
                                 "WHERE status IN ('pending', 'failed') GROUP BY target")) {
    out[row[0].as<std::string>()] = row[1].as<std::int64_t>();
  }
  return out;
}

Result<json::object> DeliveryOutbox::List(const ListRequest& request) {
  return WithConnection(
      db_, "listing deliveries", [&](pqxx::connection& c) -> Result<json::object> {
        pqxx::read_transaction tx(c);
        const std::string where =
            " WHERE ($1 = '' OR d.status = $1) AND ($2 = '' OR d.target = $2)";
        auto rows = tx.exec_params(std::string("SELECT ") + kDeliveryColumns +
                                       " FROM deliveries d JOIN forwards f ON f.id = d.forward_id" +
                                       where + " ORDER BY d.id DESC LIMIT $3 OFFSET $4",
                                   request.status, request.target, request.per_page,
                                   static_cast<std::int64_t>(request.page - 1) * request.per_page);
        const auto total = tx.exec_params1("SELECT count(*) FROM deliveries d" + where,
                                           request.status, request.target)[0]
                               .as<std::int64_t>();
        json::array list;
        for (const auto& row : rows) list.push_back(DeliveryToJson(row));
        return json::object{{"deliveries", std::move(list)},
                            {"total", total},
                            {"page", request.page},
                            {"per_page", request.per_page}};
      });
}

Result<json::object> DeliveryOutbox::Get(std::int64_t id) {
  return WithConnection(
      db_, "reading the delivery", [&](pqxx::connection& c) -> Result<json::object> {
        pqxx::read_transaction tx(c);
        auto rows = tx.exec_params(std::string("SELECT ") + kDeliveryColumns +
                                       ", d.body FROM deliveries d JOIN forwards f ON f.id = "
                                       "d.forward_id WHERE d.id = $1",
                                   id);
        if (rows.empty()) return NotFound("no delivery " + std::to_string(id));
        json::object out = DeliveryToJson(rows[0]);
        out["body"] = rows[0][13].as<std::string>();
        return out;
      });
}

Result<json::object> DeliveryOutbox::Retry(std::int64_t id) {
  auto retried = WithConnection(db_, "retrying the delivery", [&](pqxx::connection& c) -> Status {
    pqxx::work tx(c);
    auto rows = tx.exec_params(
        "SELECT status, target, attempts, last_error FROM deliveries WHERE id = $1 FOR UPDATE", id);
    if (rows.empty()) return NotFound("no delivery " + std::to_string(id));
    const std::string status = rows[0][0].as<std::string>();
    if (status == "dead" && rows[0][2].as<int>() == 0) {
      return FailedPrecondition("delivery " + std::to_string(id) +
                                " has nothing to send: " + rows[0][3].as<std::string>("") +
                                ". Fix the target's template and forward the record again");
    }
    if (status != "dead" && status != "failed") {
      return FailedPrecondition("delivery " + std::to_string(id) + " is " + status +
                                "; only failed and dead deliveries can be retried");
    }
    tx.exec_params(
        "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(), "
        "lease_owner = NULL, lease_expires_at = NULL, updated_at = now() WHERE id = $1",
        id);
    tx.exec_params("SELECT pg_notify($1, $2)", kDeliveriesChannel, rows[0][1].as<std::string>());
    tx.commit();
    return Status::Ok();
  });
  if (!retried.ok()) return retried;
  return Get(id);
}

}  // namespace octohub::forward
