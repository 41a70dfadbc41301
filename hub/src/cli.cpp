#include "octohub/hub/cli.h"

#include <CLI/CLI.hpp>

#include "commands.h"
#include "octohub/core/log.h"
#include "octohub/core/network_guard.h"
#include "octohub/core/secrets.h"
#include "options.h"

namespace octohub::hub {

int RunCli(int argc, char** argv) {
  CLI::App app{
      "Octohub: harvest HTTP/JSON APIs into PostgreSQL, search them, forward what you find."};
  app.set_version_flag("--version", "octohub 0.1.0");
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the verb
  GlobalOptions options;
  AddGlobalOptions(app, options);
  int code = 0;

  auto* serve = app.add_subcommand("serve", "run the API, web UI, ingest workers and indexer");
  serve->callback([&] { code = RunServe(options); });

  auto* demo =
      app.add_subcommand("demo", "serve plus a sample API of real text, with public reading");
  demo->callback([&] { code = RunDemo(options); });

  auto* migrate = app.add_subcommand("migrate", "apply database migrations and exit");
  migrate->callback([&] { code = RunMigrate(options); });

  auto* sources = app.add_subcommand("sources", "manage sources");
  sources->require_subcommand(1);
  std::vector<std::string> files;
  auto* apply = sources->add_subcommand("apply", "create or replace sources from JSON/YAML files");
  apply->add_option("files", files, "source files")->required()->check(CLI::ExistingFile);
  apply->callback([&] { code = RunSourcesApply(options, files); });
  bool as_json = false;
  std::string preview_file;
  int preview_pages = 3;
  auto* preview = sources->add_subcommand(
      "preview", "fetch the first pages of a source file without saving anything");
  preview->add_option("file", preview_file, "source file (JSON or YAML)")
      ->required()
      ->check(CLI::ExistingFile);
  preview->add_option("--pages", preview_pages, "pages to fetch (1-10)")->check(CLI::Range(1, 10));
  preview->add_flag("--json", as_json, "print the preview as JSON");
  preview->callback(
      [&] { code = RunSourcesPreview(options, preview_file, preview_pages, as_json); });
  auto* list = sources->add_subcommand("list", "list sources with their last and next run");
  list->add_flag("--json", as_json, "print JSON");
  list->callback([&] { code = RunSourcesList(options, as_json); });
  std::string source_name;
  bool wait = false;
  auto* run = sources->add_subcommand("run", "start a run of a source now");
  run->add_option("name", source_name, "source name")->required();
  run->add_flag("--wait", wait, "wait for the run to finish; exit 1 if it fails");
  run->add_flag("--json", as_json, "print the run as JSON");
  run->callback([&] { code = RunSourcesRun(options, source_name, wait, as_json); });

  // Targets and rules: apply validates every file before saving anything, like sources.
  std::vector<std::string> forwarding_files;
  auto* targets = app.add_subcommand("targets", "manage forwarding targets");
  targets->require_subcommand(1);
  auto* targets_apply = targets->add_subcommand("apply", "create or replace targets from files");
  targets_apply->add_option("files", forwarding_files, "target files (JSON or YAML)")
      ->required()
      ->check(CLI::ExistingFile);
  targets_apply->callback([&] { code = RunTargetsApply(options, forwarding_files); });
  auto* targets_list = targets->add_subcommand("list", "list targets (secrets hidden)");
  targets_list->add_flag("--json", as_json, "print JSON");
  targets_list->callback([&] { code = RunTargetsList(options, as_json); });
  auto* rules = app.add_subcommand("rules", "manage forwarding rules");
  rules->require_subcommand(1);
  auto* rules_apply = rules->add_subcommand("apply", "create or replace rules from files");
  rules_apply->add_option("files", forwarding_files, "rule files (JSON or YAML)")
      ->required()
      ->check(CLI::ExistingFile);
  rules_apply->callback([&] { code = RunRulesApply(options, forwarding_files); });
  auto* rules_list = rules->add_subcommand("list", "list rules");
  rules_list->add_flag("--json", as_json, "print JSON");
  rules_list->callback([&] { code = RunRulesList(options, as_json); });

  SearchCommand search_command;
  auto* search = app.add_subcommand("search", "search every source");
  search->add_option("query", search_command.query, "Xapian query syntax; empty = everything");
  search->add_option("--source", search_command.sources, "only these sources")->delimiter(',');
  search->add_option("--page", search_command.page, "page, from 1")->check(CLI::Range(1, 100000));
  search->add_option("--per-page", search_command.per_page, "hits per page")
      ->check(CLI::Range(1, 100));
  search->add_flag("--prefix", search_command.prefix, "treat the last word as a prefix");
  search->add_flag("--exact-total", search_command.exact_total, "count the whole match set");
  search
      ->add_option("--typos", search_command.typos,
                   "typo tolerance: auto (1 edit from 5 characters, 2 from 9), 0, 1 or 2")
      ->check(CLI::IsMember({"auto", "0", "1", "2"}));
  search->add_option("--facets", search_command.facets, "count these facet fields")->delimiter(',');
  search->add_option("--filter", search_command.filters,
                     "FIELD=VALUE, exact facet filter (repeatable)");
  search->add_option("--sort", search_command.sort,
                     "relevance, FIELD or -FIELD (a date or number)");
  search->add_flag("--json", search_command.as_json, "print the API's JSON response");
  search->callback([&] { code = RunSearch(options, search_command); });

  ExportCommand export_command;
  auto* exporter = app.add_subcommand("export", "write records as NDJSON, CSV or JSON");
  exporter->add_option("--format", export_command.format, "ndjson, csv or json")
      ->check(CLI::IsMember({"ndjson", "csv", "json"}))
      ->capture_default_str();
  exporter->add_option("--source", export_command.sources, "only these sources")->delimiter(',');
  exporter->add_option("--query,--q", export_command.query,
                       "only the records this search matches (Xapian query syntax)");
  exporter->add_option("--since", export_command.since,
                       "only records updated at or after this ISO 8601 time");
  exporter->add_option("--out,--output", export_command.output, "file to write (default stdout)");
  exporter->add_flag("--bom", export_command.bom, "CSV: start with a UTF-8 byte order mark");
  exporter->add_flag("--raw-formulas", export_command.raw_formulas,
                     "CSV: write cells that start like a spreadsheet formula (=, +, -, @) as "
                     "they are, without the protecting leading '");
  exporter->callback([&] { code = RunExport(options, export_command); });

  auto* keys = app.add_subcommand("keys", "manage API keys");
  keys->require_subcommand(1);
  std::string key_role, key_name = "key";
  auto* create_key = keys->add_subcommand("create", "create an API key and print it (once)");
  create_key->add_option("--role", key_role, "read, write or admin")
      ->required()
      ->check(CLI::IsMember({"read", "write", "admin"}));
  create_key->add_option("--name", key_name, "what the key is for")->capture_default_str();
  create_key->callback([&] { code = RunKeysCreate(options, key_role, key_name); });

  auto* reindex = app.add_subcommand("reindex", "rebuild the search index from PostgreSQL");
  reindex->callback([&] { code = RunReindex(options); });

  auto* shard_server = app.add_subcommand(
      "shard-server",
      "serve one index shard to the index and api roles of other machines (--listen "
      "host:port, --data-dir D; they name it with --index-remote)");
  shard_server->callback([&] { code = RunShardServer(options); });

  app.parse_complete_callback([&] {
    log::SetLevel(options.log_level);
    SetSecretEnvPrefix(options.secret_env_prefix);
    // Both lists were checked as the options were read.
    InstallNetworkGuard(std::make_shared<const NetworkGuard>(
        *NetworkGuard::Make(options.deny_networks, options.allow_networks)));
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return code;
}

}  // namespace octohub::hub
