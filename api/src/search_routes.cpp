// GET /api/v1/search, GET /api/v1/fields and GET /api/v1/analytics/searches (SPEC §4).
#include <algorithm>
#include <boost/json.hpp>
#include <optional>

#include "octohub/api/search.h"
#include "octohub/core/timestamp.h"
#include "routes.h"

namespace octohub::api {
namespace json = boost::json;
namespace {

// A search, noted for analytics unless it has no words or says analytics=false (the web UI's
// extra count requests do: they are not searches anybody typed).
Reply Search(const ServerDependencies& deps, SearchLog* log, const RequestView& request) {
  auto params = ParseSearchParams(request.query);
  if (!params.ok()) return ReplyForStatus(params.status());
  auto response = deps.searcher.Search(*params);
  if (!response.ok()) return ReplyForStatus(response.status());
  const bool noted = std::none_of(request.query.begin(), request.query.end(), [](const auto& p) {
    return p.first == "analytics" && p.second == "false";
  });
  if (log != nullptr && noted && params->q.find_first_not_of(" \t\r\n") != std::string::npos) {
    log->Record(params->q, response->total, response->took_ms);
  }
  return JsonReply(200, SearchResponseToJson(*response));
}

// GET /api/v1/analytics/searches?since=&limit= (admin): what people search for.
Reply SearchAnalytics(const ServerDependencies& deps, int keep_days, const RequestView& request) {
  std::optional<std::string> since;
  int limit = 20;
  for (const auto& [name, value] : request.query) {
    if (name == "since") {
      if (!ParseTimestamp(value)) {
        return ProblemReply(400, "since must be a day (2026-12-01) or an RFC 3339 time");
      }
      since = value;
    } else if (name == "limit") {
      auto parsed = ParseIntParam(name, value, 1, 100);
      if (!parsed.ok()) return ReplyForStatus(parsed.status());
      limit = *parsed;
    }
  }
  auto report = SearchLog::Report(deps.db, since, keep_days, limit);
  if (!report.ok()) return ReplyForStatus(report.status());
  return JsonReply(200, *report);
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
  table.Add("GET", "/api/v1/search", Role::kRead,
            [&deps = table.deps(), log = table.search_log()](const RequestView& r) {
              return Search(deps, log, r);
            });
  table.Add("GET", "/api/v1/analytics/searches", Role::kAdmin,
            [&deps = table.deps(), log = table.search_log()](const RequestView& r) {
              return SearchAnalytics(deps, log != nullptr ? log->keep_days() : 0, r);
            });
  table.Add("GET", "/api/v1/fields", Role::kRead,
            [](const ServerDependencies& deps, const RequestView&) { return Fields(deps); });
}

}  // namespace octohub::api
