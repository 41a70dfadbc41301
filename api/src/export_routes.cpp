// GET /api/v1/export (admin): parameters are checked and the export prepared on a worker;
// the body is streamed afterwards by the HTTP layer. At most max_exports run at once.
#include <ctime>

#include "octohub/export/export.h"
#include "routes.h"

namespace octohub::api {
namespace {

using exporting::Export;
using exporting::ExportExtension;
using exporting::ExportFormat;
using exporting::ParseExportParams;

std::string FileName(ExportFormat format) {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &utc);
  return std::string("octohub-export-") + stamp + "." + ExportExtension(format);
}

Reply StartExport(const ServerDependencies& deps, const std::shared_ptr<std::atomic<int>>& active,
                  int max_exports, const RequestView& request) {
  auto parsed = ParseExportParams(request.query);
  if (!parsed.ok()) return ReplyForStatus(parsed.status());
  auto slot = JobSlot::TryTake(active, max_exports);
  if (!slot) {
    return BusyReply(std::to_string(max_exports) +
                     " exports are running already; try again shortly");
  }
  const ExportFormat format = parsed->format;
  auto prepared = Export::Prepare(deps.db, deps.searcher, std::move(*parsed));
  if (!prepared.ok()) return ReplyForStatus(prepared.status());
  std::shared_ptr<Export> run = std::move(*prepared);
  Reply reply{200, ExportContentType(format), "", {}};
  reply.headers.emplace_back("Content-Disposition",
                             "attachment; filename=\"" + FileName(format) + "\"");
  reply.headers.emplace_back("Cache-Control", "no-store");
  reply.stream = [run, slot](BodyWriter& out) { return run->Run(out); };
  return reply;
}

}  // namespace

void AddExportRoutes(RouteTable& table) {
  auto active = std::make_shared<std::atomic<int>>(0);
  table.Add("GET", "/api/v1/export", Role::kAdmin,
            [&deps = table.deps(), active, max_exports = table.max_exports()](
                const RequestView& r) { return StartExport(deps, active, max_exports, r); });
}

}  // namespace octohub::api
