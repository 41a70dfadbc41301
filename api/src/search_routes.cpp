// GET /api/v1/search and GET /api/v1/fields (SPEC §4).
#include <boost/json.hpp>

#include "octohub/api/search.h"
#include "routes.h"

namespace octohub::api {
namespace json = boost::json;
namespace {

Reply Search(const ServerDependencies& deps, const RequestView& request) {
  auto params = ParseSearchParams(request.query);
  if (!params.ok()) return ReplyForStatus(params.status());
  auto response = deps.searcher.Search(*params);
  if (!response.ok()) return ReplyForStatus(response.status());
  return JsonReply(200, SearchResponseToJson(*response));
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

}  // namespace

json::object SearchResponseToJson(const indexer::SearchResponse& response) {
  json::array hits;
  for (const auto& hit : response.hits) {
    hits.push_back(json::object{{"source", hit.source},
                                {"id", hit.id},
                                {"score", hit.score},
                                {"title", hit.title},
                                {"snippet", hit.snippet},
                                {"updated_at", hit.updated_at},
                                {"fields", hit.fields}});
  }
  return {{"query", response.query},
          {"total", response.total},
          {"total_exact", response.total_exact},
          {"took_ms", response.took_ms},
          {"page", response.page},
          {"per_page", response.per_page},
          {"hits", std::move(hits)},
          {"facets", response.facets},
          {"suggestion",
           response.suggestion ? json::value(*response.suggestion) : json::value(nullptr)}};
}

void AddSearchRoutes(RouteTable& table) {
  table.Add("GET", "/api/v1/search", Role::kRead, Search);
  table.Add("GET", "/api/v1/fields", Role::kRead,
            [](const ServerDependencies& deps, const RequestView&) { return Fields(deps); });
}

}  // namespace octohub::api
