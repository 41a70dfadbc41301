#include "routes.h"

#include <boost/json.hpp>
#include <charconv>
#include <pqxx/pqxx>

#include "octohub/ingest/ingest.h"

namespace octohub::api {
namespace json = boost::json;
namespace {

Reply Search(const ServerDependencies& deps, const RequestView& request) {
  auto params = ParseSearchParams(request.query);
  if (!params.ok()) return ReplyForStatus(params.status());
  auto response = deps.searcher.Search(*params);
  if (!response.ok()) return ReplyForStatus(response.status());
  return JsonReply(200, indexer::SearchResponseToJson(*response));
}

// What the index can be searched by: sources with document counts, and the mapped fields with
// their kinds (facets filter and count; dates and numbers sort and take ranges). The web UI
// builds its source filter, facet list and sort menu from it.
Reply Fields(const ServerDependencies& deps) {
  auto stats = deps.searcher.ReadStats();
  if (!stats.ok()) return ReplyForStatus(stats.status());
  json::array sources, fields;
  for (const auto& [name, documents] : stats->sources) {
    sources.push_back(json::object{{"name", name}, {"documents", documents}});
  }
  for (const auto& [name, kind] : stats->fields) {
    fields.push_back(json::object{{"name", name}, {"kind", kind}});
  }
  return JsonReply(200, json::object{{"documents", stats->documents},
                                     {"sources", std::move(sources)},
                                     {"fields", std::move(fields)}});
}

Reply Record(const ServerDependencies& deps, const RequestView& request) {
  auto record = ingest::ReadRecord(deps.db, request.path_params[0], request.path_params[1]);
  if (!record.ok()) return ReplyForStatus(record.status());
  const std::string etag = "\"" + record->content_hash + (record->deleted ? "-d" : "") + "\"";
  if (request.if_none_match == etag) return Reply{304, "application/json", "", {{"ETag", etag}}};
  // The stored data is JSON already (PostgreSQL's jsonb as text): spliced in, not re-parsed.
  std::string body = json::serialize(json::object{{"source", record->source},
                                                  {"id", record->id},
                                                  {"fetched_at", record->fetched_at},
                                                  {"updated_at", record->updated_at},
                                                  {"deleted", record->deleted}});
  body.pop_back();  // the closing brace
  body += ",\"data\":";
  body += record->data;
  body += '}';
  Reply reply{200, "application/json", std::move(body), {{"ETag", etag}}};
  return reply;
}

Reply Ready(const ServerDependencies& deps) {
  Status database =
      WithConnection(deps.db, "checking PostgreSQL", [](pqxx::connection& c) -> Status {
        pqxx::nontransaction(c).exec1("SELECT 1");
        return Status::Ok();
      });
  const bool index = deps.searcher.Ready();
  const int index_failures = deps.follower ? deps.follower->consecutive_failures() : 0;
  const bool indexing = index_failures < indexer::kIndexFailuresUntilUnready;
  if (database.ok() && index && indexing) {
    return JsonReply(200, {{"status", "ready"}, {"postgres", "ok"}, {"index", "ok"}});
  }
  std::vector<std::string> problems;
  if (!database.ok()) problems.push_back(database.message());
  if (!index) problems.push_back("the search index is not open");
  if (!indexing) {
    problems.push_back("the indexer failed to take in new records " +
                       std::to_string(index_failures) +
                       " times in a row (see the index.catch_up_failed log lines)");
  }
  std::string detail;
  for (const auto& problem : problems) detail += (detail.empty() ? "" : "; ") + problem;
  return ProblemReply(503, detail);
}

// Gauges that describe the index are read when scraped; counters accumulate as things happen.
Reply MetricsText(const ServerDependencies& deps) {
  Metrics& metrics = deps.metrics;
  metrics.Declare("octohub_index_documents", Metrics::Type::kGauge,
                  "documents in the search index");
  metrics.Declare("octohub_index_lag_records", Metrics::Type::kGauge,
                  "records changed in PostgreSQL that the index has not taken in yet");
  metrics.Declare("octohub_deliveries_total", Metrics::Type::kCounter,
                  "deliveries to targets, by target and status");
  metrics.Declare("octohub_delivery_queue_depth", Metrics::Type::kGauge,
                  "deliveries waiting to be sent, by target");
  if (auto stats = deps.searcher.ReadStats(); stats.ok()) {
    metrics.Set("octohub_index_documents", {}, static_cast<double>(stats->documents));
    auto lag = WithConnection(
        deps.db, "measuring index lag", [&](pqxx::connection& c) -> Result<std::int64_t> {
          pqxx::read_transaction tx(c);
          return tx
              .exec_params1("SELECT count(*) FROM records WHERE change_seq > $1",
                            stats->checkpoint)[0]
              .as<std::int64_t>();
        });
    if (lag.ok()) metrics.Set("octohub_index_lag_records", {}, static_cast<double>(*lag));
  }
  return Reply{200, "text/plain; version=0.0.4; charset=utf-8", metrics.Render(), {}};
}

Reply Asset(const StaticAssets& assets, const RequestView& request) {
  const StaticAsset* asset = assets.Find(request.path);
  if (asset == nullptr) return ProblemReply(404, "no such page: " + request.path);
  Reply reply{200, asset->content_type, std::string(asset->content), {{"ETag", asset->etag}}};
  if (request.if_none_match == asset->etag) {
    reply.status = 304;
    reply.body.clear();
  }
  reply.headers.emplace_back("Cache-Control", "no-cache");
  return reply;
}

Reply CreateKey(KeyStore& keys, const RequestView& request) {
  json::value body;
  if (auto bad = ParseBody(request, false, body)) return *bad;
  std::vector<FieldError> errors;
  const json::object* fields = body.if_object();
  if (fields == nullptr)
    return ProblemReply(422, "the body must be a JSON object", {{"", "must be an object"}});
  std::optional<Role> role;
  const json::value* role_value = fields->if_contains("role");
  if (role_value == nullptr || !role_value->is_string() ||
      !(role = ParseRole(role_value->get_string()))) {
    errors.push_back({"/role", "must be read, write or admin"});
  }
  std::string name = "key";
  if (const json::value* n = fields->if_contains("name")) {
    if (!n->is_string() || n->get_string().empty() || n->get_string().size() > 100) {
      errors.push_back({"/name", "must be a string of 1-100 characters"});
    } else {
      name = std::string(n->get_string());
    }
  }
  for (const auto& member : *fields) {
    if (member.key() != "role" && member.key() != "name") {
      errors.push_back({"/" + std::string(member.key()), "unknown field"});
    }
  }
  if (!errors.empty()) return ProblemReply(422, "invalid key request", errors);
  auto created = keys.Create(*role, name);
  if (!created.ok()) return ReplyForStatus(created.status());
  json::object out = ApiKeyToJson(created->key);
  out["key"] = created->secret;
  Reply reply = JsonReply(201, out);
  reply.headers.emplace_back("Location", "/api/v1/keys/" + std::to_string(created->key.id));
  return reply;
}

Reply ListKeys(KeyStore& keys) {
  auto list = keys.List();
  if (!list.ok()) return ReplyForStatus(list.status());
  json::array out;
  for (const auto& key : *list) out.push_back(ApiKeyToJson(key));
  return JsonReply(200, json::object{{"keys", std::move(out)}});
}

Reply RevokeKey(KeyStore& keys, const RequestView& request) {
  auto id = ParseIdParam(request.path_params[0]);
  if (!id) return ProblemReply(404, "no API key " + request.path_params[0]);
  Status revoked = keys.Revoke(*id);
  if (!revoked.ok()) return ReplyForStatus(revoked);
  return Reply{204, "application/json", "", {}};
}

}  // namespace

std::optional<Reply> ParseBody(const RequestView& request, bool yaml_allowed, json::value& out) {
  std::string type = request.content_type.substr(0, request.content_type.find(';'));
  std::string format;
  if (type.empty() || type == "application/json" || type.ends_with("+json")) {
    format = "json";
  } else if (yaml_allowed &&
             (type == "application/yaml" || type == "application/x-yaml" || type == "text/yaml")) {
    format = "yaml";
  } else {
    return ProblemReply(415, "send the body as application/json" +
                                 std::string(yaml_allowed ? " or application/yaml" : "") +
                                 ", not " + type);
  }
  if (request.body.empty()) return ProblemReply(400, "the request has no body");
  auto parsed = ingest::ParseDocument(request.body, format);
  if (!parsed.ok()) {
    // A syntax error is 400; a well-formed document refused for what it holds is 422.
    if (!parsed.status().field_errors().empty()) return ReplyForStatus(parsed.status());
    return ProblemReply(400, parsed.status().message());
  }
  out = std::move(*parsed);
  return std::nullopt;
}

std::vector<Route> BuildRoutes(const ServerDependencies& deps, KeyStore& keys,
                               const StaticAssets& assets) {
  std::vector<Route> routes;
  routes.push_back({"GET", "/healthz",
                    [](const RequestView&) {
                      return JsonReply(200, {{"status", "ok"}});
                    },
                    false});
  routes.push_back({"GET", "/readyz", [&deps](const RequestView&) { return Ready(deps); }});
  routes.push_back({"GET", "/metrics", [&deps](const RequestView&) { return MetricsText(deps); }});
  routes.push_back({"GET", "/api/v1/search",
                    [&deps](const RequestView& r) { return Search(deps, r); }, true, Role::kRead});
  routes.push_back({"GET", "/api/v1/fields", [&deps](const RequestView&) { return Fields(deps); },
                    true, Role::kRead});
  routes.push_back({"GET", "/api/v1/records/{source}/{id}",
                    [&deps](const RequestView& r) { return Record(deps, r); }, true, Role::kRead});
  routes.push_back({"GET", "/api/v1/keys", [&keys](const RequestView&) { return ListKeys(keys); },
                    true, Role::kAdmin});
  routes.push_back({"POST", "/api/v1/keys",
                    [&keys](const RequestView& r) { return CreateKey(keys, r); }, true,
                    Role::kAdmin});
  routes.push_back({"DELETE", "/api/v1/keys/{id}",
                    [&keys](const RequestView& r) { return RevokeKey(keys, r); }, true,
                    Role::kAdmin});
  AddSourceRoutes(routes, deps);
  AddDocsRoutes(routes);
  AddForwardingRoutes(routes, deps);
  // The web UI: a fixed set of files, so each gets its own route and everything else is 404.
  auto paths = assets.Paths();
  if (assets.Find("/") != nullptr) paths.push_back("/");
  for (const auto& path : paths) {
    routes.push_back(
        {"GET", path, [&assets](const RequestView& r) { return Asset(assets, r); }, false});
  }
  return routes;
}

}  // namespace octohub::api
