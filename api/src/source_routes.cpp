// /api/v1/sources and /api/v1/runs (SPEC §3, §6). Secrets are never returned.
#include <boost/json.hpp>

#include "octohub/core/secrets.h"
#include "octohub/ingest/ingest.h"
#include "octohub/ingest/preview.h"
#include "routes.h"

namespace octohub::api {
namespace json = boost::json;
namespace {

json::object SummaryToJson(const ingest::SourceSummary& summary) {
  json::object out = SourceSpecToJson(summary.spec, true);
  out["record_count"] = summary.records;  // "records" is the spec's JSON Pointer
  out["last_run"] = summary.last_run ? json::value(ingest::RunToJson(*summary.last_run)) : nullptr;
  out["next_run_at"] = summary.next_run_at ? json::value(*summary.next_run_at) : nullptr;
  return out;
}

// The source in the body, validated; for PUT the name comes from the path when absent.
std::optional<Reply> ReadSource(const RequestView& request, const std::string* path_name,
                                SourceSpec& spec) {
  json::value body;
  if (auto bad = ParseBody(request, true, body)) return bad;
  if (path_name != nullptr && body.is_object()) {
    auto& fields = body.as_object();
    if (!fields.contains("name")) fields["name"] = *path_name;
    if (fields["name"] != json::value(*path_name)) {
      return ProblemReply(422, "the name in the body differs from the one in the path",
                          {{"/name", "must be \"" + *path_name + "\" (as in the path)"}});
    }
  }
  auto parsed = ParseSourceSpec(body);
  if (!parsed.ok()) return ReplyForStatus(parsed.status());
  spec = std::move(*parsed);
  return std::nullopt;
}

Reply Described(const ServerDependencies& deps, const std::string& name, int status) {
  auto summary = ingest::SourceRegistry(deps.db).Describe(name);
  if (!summary.ok()) return ReplyForStatus(summary.status());
  Reply reply = JsonReply(status, SummaryToJson(*summary));
  if (status == 201) reply.headers.emplace_back("Location", "/api/v1/sources/" + name);
  return reply;
}

Reply ListSources(const ServerDependencies& deps) {
  auto sources = ingest::SourceRegistry(deps.db).List();
  if (!sources.ok()) return ReplyForStatus(sources.status());
  json::array out;
  for (const auto& summary : *sources) out.push_back(SummaryToJson(summary));
  return JsonReply(200, json::object{{"sources", std::move(out)}});
}

Reply CreateSource(const ServerDependencies& deps, const RequestView& request) {
  SourceSpec spec;
  if (auto bad = ReadSource(request, nullptr, spec)) return *bad;
  Status created = ingest::SourceRegistry(deps.db).Create(spec);
  if (!created.ok()) return ReplyForStatus(created);
  return Described(deps, spec.name, 201);
}

Reply PutSource(const ServerDependencies& deps, const RequestView& request) {
  SourceSpec spec;
  if (auto bad = ReadSource(request, &request.path_params[0], spec)) return *bad;
  auto applied = ingest::SourceRegistry(deps.db).Apply(spec);
  if (!applied.ok()) return ReplyForStatus(applied.status());
  return Described(deps, spec.name,
                   *applied == ingest::SourceRegistry::Applied::kCreated ? 201 : 200);
}

Reply DeleteSource(const ServerDependencies& deps, const RequestView& request) {
  Status deleted = ingest::SourceRegistry(deps.db).Delete(request.path_params[0]);
  if (!deleted.ok()) return ReplyForStatus(deleted);
  return Reply{204, "application/json", "", {}};
}

Reply StartRun(const ServerDependencies& deps, const RequestView& request) {
  auto run = ingest::RunQueue(deps.db).Enqueue(request.path_params[0], "manual");
  if (!run.ok()) return ReplyForStatus(run.status());
  Reply reply = JsonReply(202, ingest::RunToJson(*run));
  reply.headers.emplace_back("Location", "/api/v1/runs/" + std::to_string(run->id));
  return reply;
}

Reply ListRuns(const ServerDependencies& deps, const RequestView& request) {
  int limit = 50;
  for (const auto& [name, value] : request.query) {
    if (name != "limit") continue;
    auto parsed = ParseIntParam(name, value, 1, 1000);
    if (!parsed.ok()) return ReplyForStatus(parsed.status());
    limit = *parsed;
  }
  const std::string& source = request.path_params[0];
  auto exists = ingest::SourceRegistry(deps.db).Get(source);
  if (!exists.ok()) return ReplyForStatus(exists.status());
  auto runs = ingest::RunQueue(deps.db).ListForSource(source, limit);
  if (!runs.ok()) return ReplyForStatus(runs.status());
  json::array out;
  for (const auto& run : *runs) out.push_back(ingest::RunToJson(run));
  return JsonReply(200, json::object{{"runs", std::move(out)}});
}

// Previews fetching at once; more get 429. A preview fetches a few pages from someone
// else's API, which may be slow: it runs on a thread of its own, not a request worker.
constexpr int kMaxPreviews = 4;

// A preview and what it needs while its reply streams; members go in reverse order, so the
// preview is gone before the fetcher it uses, and the slot is given back last.
struct PreviewJob {
  std::shared_ptr<JobSlot> slot;
  std::unique_ptr<ingest::HttpFetcher> fetcher;
  std::unique_ptr<ingest::SourcePreview> preview;
};

// POST /api/v1/sources/preview?pages=N: a source tried without saving it (SPEC §3). What
// refuses the preview as a whole is answered with its status here; the pages are fetched
// while the reply streams.
Reply StartPreview(const ServerDependencies& deps, const std::shared_ptr<std::atomic<int>>& active,
                   const RequestView& request) {
  ingest::PreviewOptions options;
  for (const auto& [key, value] : request.query) {
    if (key != "pages") continue;
    auto pages = ParseIntParam(key, value, 1, 10);
    if (!pages.ok()) return ReplyForStatus(pages.status());
    options.pages = *pages;
  }
  json::value body;
  if (auto bad = ParseBody(request, true, body)) return *bad;
  // A draft need not be named yet.
  if (body.is_object() && !body.as_object().contains("name")) body.as_object()["name"] = "preview";
  auto spec = ParseSourceSpec(body);
  if (!spec.ok()) return ReplyForStatus(spec.status());
  std::vector<FieldError> secrets;
  CheckAuthSecretEnv(spec->auth, "/auth", secrets);
  if (!secrets.empty()) return ReplyForStatus(InvalidArgument("invalid source", secrets));
  auto slot = JobSlot::TryTake(active, kMaxPreviews);
  if (!slot) {
    return BusyReply(std::to_string(kMaxPreviews) +
                     " previews are fetching already; try again shortly");
  }
  auto job = std::make_shared<PreviewJob>();
  job->slot = std::move(slot);
  job->fetcher = ingest::MakeCurlFetcher();
  auto prepared = ingest::SourcePreview::Prepare(deps.db, *spec, *job->fetcher, options);
  if (!prepared.ok()) return ReplyForStatus(prepared.status());
  job->preview = std::move(*prepared);
  Reply reply{200, "application/json", "", {{"Cache-Control", "no-store"}}};
  reply.stream = [job](BodyWriter& out) {
    if (!out.Write(json::serialize(job->preview->Run()))) {
      return Status(StatusCode::kCancelled, "the client stopped waiting for the preview");
    }
    return Status::Ok();
  };
  return reply;
}

Reply GetRun(const ServerDependencies& deps, const RequestView& request) {
  auto id = ParseIdParam(request.path_params[0]);
  if (!id) return ProblemReply(404, "no run " + request.path_params[0]);
  auto run = ingest::RunQueue(deps.db).Get(*id);
  if (!run.ok()) return ReplyForStatus(run.status());
  return JsonReply(200, ingest::RunToJson(*run));
}

}  // namespace

void AddSourceRoutes(RouteTable& table) {
  auto add = [&table](const char* method, const char* pattern, Role role,
                      RouteTable::DepsHandler handler) {
    table.Add(method, pattern, role, handler);
  };
  add("GET", "/api/v1/sources", Role::kWrite,
      [](const ServerDependencies& d, const RequestView&) { return ListSources(d); });
  add("POST", "/api/v1/sources", Role::kWrite, CreateSource);
  table.Add("POST", "/api/v1/sources/preview", Role::kWrite,
            [&deps = table.deps(), active = std::make_shared<std::atomic<int>>(0)](
                const RequestView& r) { return StartPreview(deps, active, r); });
  add("GET", "/api/v1/sources/{name}", Role::kWrite,
      [](const ServerDependencies& d, const RequestView& r) {
        return Described(d, r.path_params[0], 200);
      });
  add("PUT", "/api/v1/sources/{name}", Role::kWrite, PutSource);
  add("DELETE", "/api/v1/sources/{name}", Role::kAdmin, DeleteSource);
  add("POST", "/api/v1/sources/{name}/runs", Role::kWrite, StartRun);
  add("GET", "/api/v1/sources/{name}/runs", Role::kWrite, ListRuns);
  add("GET", "/api/v1/runs/{id}", Role::kWrite, GetRun);
}

}  // namespace octohub::api
