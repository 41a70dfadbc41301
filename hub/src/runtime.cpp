#include "runtime.h"

#include "octohub/core/log.h"
#include "octohub/core/network_guard.h"
#include "octohub/hub/migrations.h"
#include "octohub/sql/migrations.h"

namespace octohub::hub {

Result<std::unique_ptr<Runtime>> Runtime::Open(const GlobalOptions& options) {
  std::unique_ptr<Runtime> runtime(new Runtime());
  std::string conninfo = options.database_url;
  if (conninfo.empty()) {
    EmbeddedPostgresOptions pg;
    pg.cluster_dir = options.cluster_dir();
    pg.bin_dir = options.postgres_bin;
    auto postgres = EmbeddedPostgres::Start(pg);
    if (!postgres.ok()) return postgres.status().WithContext("embedded PostgreSQL");
    runtime->postgres_ = std::move(*postgres);
    conninfo = runtime->postgres_->conninfo();
    // Whatever this process harvests or forwards must not reach its own database.
    auto guard = std::make_shared<NetworkGuard>(*CurrentNetworkGuard());
    guard->RefuseLocalPort(static_cast<std::uint16_t>(runtime->postgres_->port()),
                           "Octohub's own PostgreSQL");
    InstallNetworkGuard(std::move(guard));
  }
  runtime->db_ = std::make_unique<Database>(conninfo);
  auto migrations = LoadMigrations(sql::Migrations());
  if (!migrations.ok()) return migrations.status();
  auto applied = ApplyMigrations(*runtime->db_, *migrations);
  if (!applied.ok()) return applied.status();
  return runtime;
}

Status Runtime::Close() { return postgres_ ? postgres_->Stop() : Status::Ok(); }

}  // namespace octohub::hub
