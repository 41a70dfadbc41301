// What every verb needs: PostgreSQL (the embedded cluster or --database-url), migrated.
// Private to hub/.
#pragma once

#include <memory>

#include "octohub/core/database.h"
#include "octohub/hub/embedded_postgres.h"
#include "options.h"

namespace octohub::hub {

class Runtime {
 public:
  static Result<std::unique_ptr<Runtime>> Open(const GlobalOptions& options);

  const Database& db() const { return *db_; }

  // Stops the embedded cluster if this process started it.
  Status Close();

 private:
  std::unique_ptr<EmbeddedPostgres> postgres_;
  std::unique_ptr<Database> db_;
};

}  // namespace octohub::hub
