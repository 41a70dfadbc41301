// The route table of the API. Private to api/.
#pragma once

#include <atomic>
#include <boost/json/value.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "octohub/api/keys.h"
#include "octohub/api/server.h"
#include "search_log.h"
#include "search_params.h"
#include "static_assets.h"

namespace octohub::api {

// The one way routes are added: every resource's file adds its own to this table.
class RouteTable {
 public:
  using DepsHandler = Reply (*)(const ServerDependencies&, const RequestView&);

  RouteTable(const ServerDependencies& deps, KeyStore& keys, const StaticAssets& assets,
             int max_exports, SearchLog* search_log)
      : deps_(deps),
        keys_(keys),
        assets_(assets),
        max_exports_(max_exports),
        search_log_(search_log) {}

  // A route whose handler may block (PostgreSQL, the index): it runs on a worker thread, for
  // callers with at least `role`.
  void Add(const char* method, std::string pattern, Role role, DepsHandler handler);
  void Add(const char* method, std::string pattern, Role role,
           std::function<Reply(const RequestView&)> handler);
  // A public route answered on the reactor thread: its handler must not block.
  void AddInline(const char* method, std::string pattern,
                 std::function<Reply(const RequestView&)> handler);

  const ServerDependencies& deps() const { return deps_; }
  KeyStore& keys() const { return keys_; }
  const StaticAssets& assets() const { return assets_; }
  int max_exports() const { return max_exports_; }
  SearchLog* search_log() const { return search_log_; }  // null: analytics are off
  std::vector<Route> Take() { return std::move(routes_); }

 private:
  const ServerDependencies& deps_;
  KeyStore& keys_;
  const StaticAssets& assets_;
  int max_exports_;
  SearchLog* search_log_;
  std::vector<Route> routes_;
};

// Every route of the API, in one table.
std::vector<Route> BuildRoutes(const ServerDependencies& deps, KeyStore& keys,
                               const StaticAssets& assets, int max_exports, SearchLog* search_log);

// /healthz, /readyz, /metrics.
void AddHealthRoutes(RouteTable& table);
// /api/v1/search, /api/v1/fields, /api/v1/analytics/searches.
void AddSearchRoutes(RouteTable& table);
// /api/v1/records/{source}/{id}.
void AddRecordRoutes(RouteTable& table);
// /api/v1/keys.
void AddKeyRoutes(RouteTable& table);
// /api/v1/sources and /api/v1/runs.
void AddSourceRoutes(RouteTable& table);
// POST /api/v1/hooks/{source}: pushed records, authenticated by their signature.
void AddHookRoutes(RouteTable& table);
// /api/v1/targets, /api/v1/rules, /api/v1/forwards and /api/v1/deliveries.
void AddForwardingRoutes(RouteTable& table);
// /api/v1/export, with at most max_exports running at once.
void AddExportRoutes(RouteTable& table);
// /api/v1/openapi.json, /docs and the renderer it loads.
void AddDocsRoutes(RouteTable& table);

// A place among at most `limit` jobs of one kind that outlive their request (exports, source
// previews), held by the streamed reply for as long as the job runs.
class JobSlot {
 public:
  // nullptr when `limit` jobs hold places already.
  static std::shared_ptr<JobSlot> TryTake(const std::shared_ptr<std::atomic<int>>& active,
                                          int limit);
  ~JobSlot();
  JobSlot(const JobSlot&) = delete;
  JobSlot& operator=(const JobSlot&) = delete;

 private:
  explicit JobSlot(std::shared_ptr<std::atomic<int>> active);
  std::shared_ptr<std::atomic<int>> active_;
};

// 429 with Retry-After, for a job refused because its kind has no place left.
Reply BusyReply(const std::string& detail);

// A JSON (or, for sources, YAML) request body; the reply to send when it is unusable:
// 415 for another media type, 400 for a body that does not parse.
std::optional<Reply> ParseBody(const RequestView& request, bool yaml_allowed,
                               boost::json::value& out);

}  // namespace octohub::api
