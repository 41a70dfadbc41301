// GET /api/v1/export (admin): parameters are checked and the export prepared on a worker;
// the body is streamed afterwards by the HTTP layer. At most max_exports run at once.
#include <atomic>
#include <ctime>

#include "octohub/export/export.h"
#include "routes.h"

namespace octohub::api {
namespace {

using exporting::Export;
using exporting::ExportExtension;
using exporting::ExportFormat;
using exporting::ParseExportParams;

// Held for as long as an export runs, by the reply that streams it.
class ExportSlot {
 public:
  static std::shared_ptr<ExportSlot> TryTake(const std::shared_ptr<std::atomic<int>>& active,
                                             int limit) {
    if (active->fetch_add(1) >= limit) {
      active->fetch_sub(1);
      return nullptr;
    }
    return std::shared_ptr<ExportSlot>(new ExportSlot(active));
  }
  ~ExportSlot() { active_->fetch_sub(1); }

 private:
  explicit ExportSlot(std::shared_ptr<std::atomic<int>> active) : active_(std::move(active)) {}
  std::shared_ptr<std::atomic<int>> active_;
};

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
  auto slot = ExportSlot::TryTake(active, max_exports);
  if (!slot) {
    Reply busy = ProblemReply(
        429, std::to_string(max_exports) + " exports are running already; try again shortly");
    busy.headers.emplace_back("Retry-After", "10");
    return busy;
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
