#include "routes.h"

#include <boost/json.hpp>
#include <pqxx/pqxx>

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

Reply Ready(const ServerDependencies& deps) {
  Status database =
      WithConnection(deps.db, "checking PostgreSQL", [](pqxx::connection& c) -> Status {
        pqxx::nontransaction(c).exec1("SELECT 1");
        return Status::Ok();
      });
  const bool index = deps.searcher.Ready();
  if (database.ok() && index) {
    return JsonReply(200, {{"status", "ready"}, {"postgres", "ok"}, {"index", "ok"}});
  }
  std::string detail = database.ok() ? "" : database.message();
  if (!index) detail += std::string(detail.empty() ? "" : "; ") + "the search index is not open";
  return ProblemReply(503, detail);
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

}  // namespace

std::vector<Route> BuildRoutes(const ServerDependencies& deps, const StaticAssets& assets) {
  std::vector<Route> routes;
  routes.push_back({"GET", "/healthz",
                    [](const RequestView&) {
                      return JsonReply(200, {{"status", "ok"}});
                    },
                    false});
  routes.push_back({"GET", "/readyz", [&deps](const RequestView&) { return Ready(deps); }});
  routes.push_back(
      {"GET", "/api/v1/search", [&deps](const RequestView& r) { return Search(deps, r); }});
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
