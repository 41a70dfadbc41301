// The verbs of the octohub program. Each returns the process exit code. Private to hub/.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "octohub/core/database.h"
#include "octohub/core/status.h"
#include "options.h"

namespace octohub::hub {

// on_ready runs once everything is up, with the database and the API's host:port.
using ServeReadyHook = std::function<Status(const Database& db, const std::string& address)>;
int RunServe(const GlobalOptions& options, const ServeReadyHook& on_ready = nullptr);
int RunDemo(GlobalOptions options);
int RunMigrate(const GlobalOptions& options);
int RunSourcesApply(const GlobalOptions& options, const std::vector<std::string>& files);
// Fetches the first pages of the source in FILE without saving anything (SPEC §3 preview).
int RunSourcesPreview(const GlobalOptions& options, const std::string& file, int pages,
                      bool as_json);
int RunSourcesList(const GlobalOptions& options, bool as_json);
int RunSourcesRun(const GlobalOptions& options, const std::string& name, bool wait, bool as_json);
int RunTargetsApply(const GlobalOptions& options, const std::vector<std::string>& files);
int RunTargetsList(const GlobalOptions& options, bool as_json);
int RunRulesApply(const GlobalOptions& options, const std::vector<std::string>& files);
int RunRulesList(const GlobalOptions& options, bool as_json);

struct SearchCommand {
  std::string query;
  std::vector<std::string> sources;
  int page = 1;
  int per_page = 20;
  bool prefix = false;
  bool exact_total = false;
  std::string typos = "auto";
  std::vector<std::string> facets;
  std::vector<std::string> filters;  // FIELD=VALUE
  std::string sort;
  bool as_json = false;
};
int RunSearch(const GlobalOptions& options, const SearchCommand& command);
int RunReindex(const GlobalOptions& options);
int RunShardServer(const GlobalOptions& options);

struct ExportCommand {
  std::string format = "ndjson";
  std::vector<std::string> sources;
  std::string query;
  std::string since;
  std::string output;  // empty or "-": stdout
  bool bom = false;
  bool raw_formulas = false;
};
int RunExport(const GlobalOptions& options, const ExportCommand& command);
int RunKeysCreate(const GlobalOptions& options, const std::string& role, const std::string& name);

// Prints a failure for a person on stderr (and as a log line) and returns exit code 1.
int Fail(const Status& status);

}  // namespace octohub::hub
