// Records (or a rule's new matches) become deliveries in the outbox.
#include "octohub/forward/enqueue.h"

#include <boost/json.hpp>

#include "octohub/core/change_feed.h"
#include "octohub/core/pg_array.h"
#include "octohub/forward/payload.h"
#include "octohub/forward/specs.h"

namespace octohub::forward {
namespace json = boost::json;
namespace {

constexpr const char* kRecordsByKey = R"(
  SELECT k.ord, r.data::text FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(source, id, ord)
  LEFT JOIN records r ON r.source = k.source AND r.id = k.id AND NOT r.deleted
  ORDER BY k.ord)";

}  // namespace

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

}  // namespace octohub::forward
