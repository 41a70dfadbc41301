// Records (or a rule's new matches) become deliveries in the outbox.
#include "octohub/forward/enqueue.h"

#include <boost/json.hpp>
#include <map>
#include <set>

#include "octohub/core/change_feed.h"
#include "octohub/core/pg_array.h"
#include "octohub/forward/payload.h"
#include "octohub/forward/specs.h"

namespace octohub::forward {
namespace json = boost::json;
namespace {

constexpr const char* kRecordsByKey = R"(
  SELECT k.ord, r.data::text, r.previous_data::text FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(source, id, ord)
  LEFT JOIN records r ON r.source = k.source AND r.id = k.id AND NOT r.deleted
  ORDER BY k.ord)";

// A record as delivery_heads names it: "source<US>id".
std::string HeadKey(const std::string& source, const std::string& id) {
  return source + '\x1f' + id;
}

// The last delivery made to the target for each of these records, locked so that concurrent
// forwards of the same record chain one after the other.
std::map<std::string, std::int64_t> LockHeads(pqxx::work& tx, const std::string& target,
                                              const std::set<std::string>& keys) {
  std::map<std::string, std::int64_t> heads;
  if (keys.empty()) return heads;
  for (const auto& row : tx.exec_params(
           "SELECT record_key, last_delivery FROM delivery_heads "
           "WHERE target = $1 AND record_key = ANY($2::text[]) ORDER BY record_key FOR UPDATE",
           target, PgTextArray(std::vector<std::string>(keys.begin(), keys.end())))) {
    heads[row[0].as<std::string>()] = row[1].as<std::int64_t>();
  }
  return heads;
}

}  // namespace

std::optional<std::string> WatchedChanges(const ForwardRecord& record,
                                          const std::vector<std::string>& pointers) {
  json::error_code ec;
  const json::value now = json::parse(record.data, ec);
  if (ec) return std::nullopt;
  json::value before;  // null: a new record, whose every value is new
  if (record.previous) {
    before = json::parse(*record.previous, ec);
    if (ec) before = nullptr;
  }
  json::object changes;
  for (const auto& pointer : pointers) {
    json::error_code missing;
    const json::value* to = now.find_pointer(pointer, missing);
    const json::value* from = before.is_null() ? nullptr : before.find_pointer(pointer, missing);
    const bool same = (to == nullptr || to->is_null()) ? (from == nullptr || from->is_null())
                                                       : (from != nullptr && *from == *to);
    if (same) continue;
    changes[pointer] = {{"from", from != nullptr ? *from : json::value(nullptr)},
                        {"to", to != nullptr ? *to : json::value(nullptr)}};
  }
  if (changes.empty()) return std::nullopt;
  return json::serialize(changes);
}

Result<Enqueued> EnqueueRecords(pqxx::work& tx, const TargetSpec& target,
                                const std::vector<RecordKey>& keys,
                                const std::optional<std::string>& rule, bool skip_missing,
                                const std::vector<std::string>& changed) {
  std::vector<std::string> sources, ids;
  for (const auto& [source, id] : keys) {
    sources.push_back(source);
    ids.push_back(id);
  }
  std::vector<ForwardRecord> records;
  std::vector<FieldError> missing;
  std::int64_t unchanged = 0;
  for (const auto& row : tx.exec_params(kRecordsByKey, PgTextArray(sources), PgTextArray(ids))) {
    const auto index = row[0].as<std::size_t>() - 1;
    if (row[1].is_null()) {
      missing.push_back({"/records/" + std::to_string(index),
                         "no record " + keys[index].first + "/" + keys[index].second});
      continue;
    }
    ForwardRecord record{keys[index].first, keys[index].second, row[1].as<std::string>()};
    if (!row[2].is_null()) record.previous = row[2].as<std::string>();
    if (!changed.empty()) {
      auto changes = WatchedChanges(record, changed);
      if (!changes) {
        ++unchanged;
        continue;
      }
      record.changes = std::move(*changes);
    }
    records.push_back(std::move(record));
  }
  if (!missing.empty() && !skip_missing) {
    if (missing.size() > 20) missing.resize(20);
    return InvalidArgument("some records do not exist", missing);
  }
  Enqueued out;
  out.unchanged = unchanged;
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
    std::string refs;
    std::vector<std::string> keys;  // its records, as delivery_heads names them
    std::string body;
    std::optional<std::string> dead_reason;
  };
  std::vector<Row> rows;
  std::vector<ForwardRecord> batch;
  std::vector<std::string> parts;
  auto close_batch = [&] {
    json::array refs;
    for (const auto& r : batch) refs.push_back({{"source", r.source}, {"id", r.id}});
    std::vector<std::string> keys;
    keys.reserve(batch.size());
    for (const auto& r : batch) keys.push_back(HeadKey(r.source, r.id));
    rows.push_back({json::serialize(refs), std::move(keys), JoinBatch(target, std::move(parts)),
                    std::nullopt});
    batch.clear();
    parts.clear();
  };
  for (auto& record : records) {
    auto rendered = RenderRecord(target, compiled ? &*compiled : nullptr, record);
    if (!rendered.ok()) {
      json::array refs{json::object{{"source", record.source}, {"id", record.id}}};
      rows.push_back({json::serialize(refs), {}, "", rendered.status().message()});
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
  // Each delivery waits for the ones made before it of its records to this target: their
  // ids are known before the rows are written, so the chain is written with them.
  std::set<std::string> record_keys;
  for (const auto& row : rows) record_keys.insert(row.keys.begin(), row.keys.end());
  std::map<std::string, std::int64_t> heads = LockHeads(tx, target.name, record_keys);
  std::vector<std::int64_t> delivery_ids;
  delivery_ids.reserve(rows.size());
  for (const auto& row :
       tx.exec_params("SELECT nextval(pg_get_serial_sequence('deliveries', 'id')) "
                      "FROM generate_series(1, $1)",
                      static_cast<std::int64_t>(rows.size()))) {
    delivery_ids.push_back(row[0].as<std::int64_t>());
  }
  pqxx::stream_to copy(tx, "deliveries",
                       std::vector<std::string>{"id", "forward_id", "target", "records",
                                                "after_ids", "body", "status", "last_error"});
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& row = rows[i];
    std::vector<std::int64_t> after;
    for (const auto& key : row.keys) {
      auto head = heads.find(key);
      if (head != heads.end()) after.push_back(head->second);
      heads[key] = delivery_ids[i];
    }
    copy << std::make_tuple(delivery_ids[i], out.forward_id, target.name, row.refs,
                            PgIntArray(after), row.body, row.dead_reason ? "dead" : "pending",
                            row.dead_reason);
  }
  out.deliveries = static_cast<std::int64_t>(rows.size());
  copy.complete();
  if (!record_keys.empty()) {
    std::vector<std::string> head_keys;
    std::vector<std::int64_t> head_ids;
    for (const auto& key : record_keys) {
      head_keys.push_back(key);
      head_ids.push_back(heads.at(key));
    }
    tx.exec_params0(
        "INSERT INTO delivery_heads (target, record_key, last_delivery) "
        "SELECT $1, k, d FROM unnest($2::text[], $3::bigint[]) AS u(k, d) "
        "ON CONFLICT (target, record_key) DO UPDATE SET last_delivery = excluded.last_delivery",
        target.name, PgTextArray(head_keys), PgIntArray(head_ids));
  }
  out.records = static_cast<std::int64_t>(records.size());
  tx.exec_params("SELECT pg_notify($1, $2)", kDeliveriesChannel, target.name);
  return out;
}

Result<Enqueued> EnqueueRuleMatches(pqxx::work& tx, const std::string& rule,
                                    const TargetSpec& target, const std::vector<RecordKey>& keys,
                                    const std::vector<std::string>& changed) {
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
  return EnqueueRecords(tx, target, fresh, rule, true, changed);
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

}  // namespace octohub::forward
