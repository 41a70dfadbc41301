// Schema migrations: the numbered files of sql/ (compiled in), applied in order, each in its
// own transaction, recorded in schema_migrations. Concurrent callers serialize on an advisory
// lock, so two processes starting at once apply each migration exactly once.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "octohub/core/database.h"
#include "octohub/core/embedded_file.h"
#include "octohub/core/status.h"

namespace octohub::hub {

struct Migration {
  int version = 0;
  std::string name;  // file name without the number and extension
  std::string_view sql;
  std::string checksum;
};

// Parses "NNN_name.sql" files into migrations sorted by version. Pure.
Result<std::vector<Migration>> LoadMigrations(const std::vector<EmbeddedFile>& files);

// Applies what is missing; returns how many were applied. Fails when an applied migration's
// text has changed since, or when the database has migrations this binary does not know.
Result<int> ApplyMigrations(const Database& db, const std::vector<Migration>& migrations);

}  // namespace octohub::hub
