#include "routes.h"

#include "octohub/core/document.h"

namespace octohub::api {
namespace json = boost::json;
namespace {

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

// The web UI: a fixed set of files, so each gets its own route and everything else is 404.
void AddWebRoutes(RouteTable& table) {
  const StaticAssets& assets = table.assets();
  auto paths = assets.Paths();
  if (assets.Find("/") != nullptr) paths.emplace_back("/");
  for (const auto& path : paths) {
    table.AddInline("GET", path, [&assets](const RequestView& r) { return Asset(assets, r); });
  }
}

}  // namespace

std::shared_ptr<JobSlot> JobSlot::TryTake(const std::shared_ptr<std::atomic<int>>& active,
                                          int limit) {
  if (active->fetch_add(1) >= limit) {
    active->fetch_sub(1);
    return nullptr;
  }
  return std::shared_ptr<JobSlot>(new JobSlot(active));
}

JobSlot::JobSlot(std::shared_ptr<std::atomic<int>> active) : active_(std::move(active)) {}

JobSlot::~JobSlot() { active_->fetch_sub(1); }

Reply BusyReply(const std::string& detail) {
  Reply busy = ProblemReply(429, detail);
  busy.headers.emplace_back("Retry-After", "10");
  return busy;
}

void RouteTable::Add(const char* method, std::string pattern, Role role, DepsHandler handler) {
  routes_.push_back({method, std::move(pattern),
                     [deps = &deps_, handler](const RequestView& r) { return handler(*deps, r); },
                     true, role});
}

void RouteTable::Add(const char* method, std::string pattern, Role role,
                     std::function<Reply(const RequestView&)> handler) {
  routes_.push_back({method, std::move(pattern), std::move(handler), true, role});
}

void RouteTable::AddInline(const char* method, std::string pattern,
                           std::function<Reply(const RequestView&)> handler) {
  routes_.push_back({method, std::move(pattern), std::move(handler), false, Role::kPublic});
}

std::vector<Route> BuildRoutes(const ServerDependencies& deps, KeyStore& keys,
                               const StaticAssets& assets, int max_exports, SearchLog* search_log) {
  RouteTable table(deps, keys, assets, max_exports, search_log);
  AddHealthRoutes(table);
  AddSearchRoutes(table);
  AddRecordRoutes(table);
  AddKeyRoutes(table);
  AddSourceRoutes(table);
  AddHookRoutes(table);
  AddForwardingRoutes(table);
  AddExportRoutes(table);
  AddDocsRoutes(table);
  AddWebRoutes(table);
  return table.Take();
}

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
  auto parsed = ParseDocument(request.body, format);
  if (!parsed.ok()) {
    // A syntax error is 400; a well-formed document refused for what it holds is 422.
    if (!parsed.status().field_errors().empty()) return ReplyForStatus(parsed.status());
    return ProblemReply(400, parsed.status().message());
  }
  out = std::move(*parsed);
  return std::nullopt;
}

}  // namespace octohub::api
