#include "commands.h"

#include <fmt/format.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "octohub/api/keys.h"
#include "octohub/api/search.h"
#include "octohub/core/document.h"
#include "octohub/core/log.h"
#include "octohub/core/secrets.h"
#include "octohub/hub/migrations.h"
#include "octohub/indexer/indexer.h"
#include "octohub/indexer/searcher.h"
#include "octohub/ingest/ingest.h"
#include "octohub/ingest/preview.h"
#include "octohub/sql/migrations.h"
#include "process.h"
#include "runtime.h"

namespace octohub::hub {
namespace json = boost::json;
namespace {

// Reads FILE as one source or a list of sources, collecting every problem with its place.
Status LoadSourceFile(const std::string& path, std::vector<SourceSpec>& out) {
  std::ifstream in(path);
  if (!in) return InvalidArgument(path + ": cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  auto ends = [&](std::string_view ext) {
    return path.size() >= ext.size() &&
           path.compare(path.size() - ext.size(), ext.size(), ext) == 0;
  };
  std::string format = ends(".json") ? "json" : (ends(".yaml") || ends(".yml")) ? "yaml" : "";
  auto document = ParseDocument(text.str(), format);
  if (!document.ok()) return document.status().WithContext(path);
  std::vector<FieldError> errors;
  auto add = [&](const json::value& value, const std::string& prefix) {
    auto spec = ParseSourceSpec(value);
    if (spec.ok()) {
      out.push_back(*spec);
      return;
    }
    for (const auto& e : spec.status().field_errors())
      errors.push_back({prefix + e.pointer, e.reason});
    if (spec.status().field_errors().empty()) errors.push_back({prefix, spec.status().message()});
  };
  if (document->is_array()) {
    const auto& items = document->get_array();
    for (size_t i = 0; i < items.size(); ++i) add(items[i], "/" + std::to_string(i));
  } else {
    add(*document, "");
  }
  if (!errors.empty()) return InvalidArgument(path + ": invalid source", errors);
  return Status::Ok();
}

void PrintRun(const ingest::Run& run) {
  std::cout << fmt::format(
      "run {} of {}: {} — {} pages, {} records seen ({} new, {} updated, {} unchanged, {} "
      "skipped), {} bytes{}\n",
      run.id, run.source, run.status, run.pages, run.records_seen, run.records_new,
      run.records_updated, run.records_unchanged, run.records_skipped, run.bytes,
      run.error ? "\n  error: " + *run.error : "");
  for (const auto& warning : run.warnings) {
    std::cout << "  warning (" << warning.code << "): " << warning.detail << "\n";
  }
}

}  // namespace

int Fail(const Status& status) {
  std::cerr << "octohub: " << status.ToString() << "\n";
  return 1;
}

int RunMigrate(const GlobalOptions& options) {
  auto runtime = Runtime::Open(options);  // applies the migrations
  if (!runtime.ok()) return Fail(runtime.status());
  std::cout << "database schema is up to date (" << sql::Migrations().size() << " migrations)\n";
  return (*runtime)->Close().ok() ? 0 : 1;
}

int RunSourcesApply(const GlobalOptions& options, const std::vector<std::string>& files) {
  // Everything is validated before anything is saved: a typo in one file saves nothing.
  std::vector<SourceSpec> specs;
  bool invalid = false;
  for (const auto& file : files) {
    if (Status s = LoadSourceFile(file, specs); !s.ok()) {
      Fail(s);
      invalid = true;
    }
  }
  if (invalid) return 1;
  auto runtime = Runtime::Open(options);
  if (!runtime.ok()) return Fail(runtime.status());
  ingest::SourceRegistry registry((*runtime)->db());
  for (const auto& spec : specs) {
    auto applied = registry.Apply(spec);
    if (!applied.ok()) return Fail(applied.status());
    const char* what = *applied == ingest::SourceRegistry::Applied::kCreated   ? "created"
                       : *applied == ingest::SourceRegistry::Applied::kUpdated ? "updated"
                                                                               : "unchanged";
    std::cout << "source " << spec.name << " " << what << "\n";
  }
  return (*runtime)->Close().ok() ? 0 : 1;
}

int RunSourcesPreview(const GlobalOptions& options, const std::string& file, int pages,
                      bool as_json) {
  std::vector<SourceSpec> specs;
  if (Status s = LoadSourceFile(file, specs); !s.ok()) return Fail(s);
  if (specs.size() != 1) return Fail(InvalidArgument(file + ": preview takes one source"));
  const SourceSpec& spec = specs.front();
  std::vector<FieldError> secrets;
  CheckAuthSecretEnv(spec.auth, "/auth", secrets);
  if (!secrets.empty()) return Fail(InvalidArgument(file + ": invalid source", secrets));
  // Only a child source reads the database (its parent's records).
  std::unique_ptr<Runtime> runtime;
  if (spec.for_each) {
    auto opened = Runtime::Open(options);
    if (!opened.ok()) return Fail(opened.status());
    runtime = std::move(*opened);
  }
  const Database none("");
  auto fetcher = ingest::MakeCurlFetcher();
  ingest::PreviewOptions preview_options;
  preview_options.pages = pages;
  auto preview =
      ingest::PreviewSource(runtime ? runtime->db() : none, spec, *fetcher, preview_options);
  if (runtime && !runtime->Close().ok()) return 1;
  if (!preview.ok()) return Fail(preview.status());
  if (as_json) {
    std::cout << json::serialize(*preview) << "\n";
    return 0;
  }
  int number = 0;
  for (const auto& page : preview->at("pages").as_array()) {
    const auto& p = page.as_object();
    std::cout << fmt::format("page {}: {} → ", ++number, std::string(p.at("url").as_string()));
    if (p.contains("error")) {
      std::cout << "error: " << std::string(p.at("error").as_string()) << "\n";
      continue;
    }
    std::cout << "HTTP " << p.at("status").as_int64() << ", " << p.at("records").as_int64()
              << " records\n";
    if (!p.at("stopped_because").is_null()) {
      std::cout << "  paging stopped: " << std::string(p.at("stopped_because").as_string()) << "\n";
    }
  }
  const auto& records = preview->at("records").as_array();
  std::cout << records.size() << " records shown";
  if (!records.empty()) {
    std::cout << ", ids:";
    for (std::size_t i = 0; i < records.size() && i < 10; ++i) {
      std::cout << " " << std::string(records[i].at("id").as_string());
    }
    if (records.size() > 10) std::cout << " …";
  }
  std::cout << "\n";
  for (const auto& skipped : preview->at("skipped").as_array()) {
    std::cout << "skipped: " << skipped.at("count").as_int64() << " ("
              << std::string(skipped.at("reason").as_string()) << ")\n";
  }
  if (!preview->at("duplicate_ids").as_array().empty()) {
    std::cout << "duplicate ids: " << json::serialize(preview->at("duplicate_ids")) << "\n";
  }
  std::cout << "suggested index: " << json::serialize(preview->at("suggested_index")) << "\n";
  return 0;
}

int RunSourcesList(const GlobalOptions& options, bool as_json) {
  auto runtime = Runtime::Open(options);
  if (!runtime.ok()) return Fail(runtime.status());
  auto sources = ingest::SourceRegistry((*runtime)->db()).List();
  if (!sources.ok()) return Fail(sources.status());
  if (as_json) {
    json::array out;
    for (const auto& s : *sources) {
      out.push_back(
          {{"name", s.name},
           {"schedule", s.schedule.empty() ? json::value(nullptr) : json::value(s.schedule)},
           {"records", s.records},
           {"last_run", s.last_run ? json::value(ingest::RunToJson(*s.last_run)) : nullptr},
           {"next_run_at", s.next_run_at ? json::value(*s.next_run_at) : nullptr}});
    }
    std::cout << json::serialize(out) << "\n";
  } else {
    std::cout << fmt::format("{:<24} {:>10}  {:<28} {:<24} {}\n", "NAME", "RECORDS", "LAST RUN",
                             "NEXT RUN", "SCHEDULE");
    for (const auto& s : *sources) {
      std::string last =
          s.last_run ? s.last_run->status + " " +
                           s.last_run->finished_at.value_or(s.last_run->started_at.value_or(""))
                     : "never";
      std::cout << fmt::format("{:<24} {:>10}  {:<28} {:<24} {}\n", s.name, s.records, last,
                               s.next_run_at.value_or("-"),
                               s.schedule.empty() ? "manual" : s.schedule);
    }
  }
  return (*runtime)->Close().ok() ? 0 : 1;
}

int RunSourcesRun(const GlobalOptions& options, const std::string& name, bool wait, bool as_json) {
  auto runtime = Runtime::Open(options);
  if (!runtime.ok()) return Fail(runtime.status());
  const Database& db = (*runtime)->db();
  ingest::RunQueue queue(db);
  auto run = queue.Enqueue(name, "manual");
  if (!run.ok()) return Fail(run.status());
  ingest::Run result = *run;
  if (wait) {
    // Run it here unless a running `serve` has already claimed it; then wait for that.
    ingest::IngestWorker worker(
        db, ingest::MakeCurlFetcher({.max_body_bytes = options.max_page_bytes}), WorkerId("cli"));
    auto here = worker.RunIfQueued(result.id);
    if (!here.ok()) return Fail(here.status());
    if (*here) result = **here;
    while (!result.finished()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      auto current = queue.Get(result.id);
      if (!current.ok()) return Fail(current.status());
      result = *current;
    }
  }
  if (as_json) {
    std::cout << json::serialize(ingest::RunToJson(result)) << "\n";
  } else {
    PrintRun(result);
  }
  if (!(*runtime)->Close().ok()) return 1;
  return result.status == "failed" || result.status == "cancelled" ? 1 : 0;
}

int RunSearch(const GlobalOptions& options, const SearchCommand& command) {
  auto runtime = Runtime::Open(options);
  if (!runtime.ok()) return Fail(runtime.status());
  {
    // When no `serve` holds the index, bring it up to date first so results are current.
    indexer::IndexFollower follower((*runtime)->db(), options.index_dir());
    if (follower.Open().ok()) {
      auto caught_up = follower.CatchUp();
      if (!caught_up.ok()) return Fail(caught_up.status());
    }
  }
  auto searcher = indexer::OpenSearcher(options.index_dir());
  indexer::SearchRequest request;
  request.q = command.query;
  request.sources = command.sources;
  request.page = command.page;
  request.per_page = command.per_page;
  request.prefix = command.prefix;
  request.exact_total = command.exact_total;
  auto typos = indexer::ParseTypos(command.typos);  // the command line checked it already
  request.typos = typos.ok() ? *typos : -1;
  request.facets = command.facets;
  request.sort = command.sort;
  for (const auto& filter : command.filters) {
    auto equals = filter.find('=');
    if (equals == std::string::npos || equals == 0) {
      return Fail(InvalidArgument("--filter takes FIELD=VALUE, not \"" + filter + "\""));
    }
    request.filters.emplace_back(filter.substr(0, equals), filter.substr(equals + 1));
  }
  auto response = searcher->Search(request);
  if (!response.ok()) return Fail(response.status());
  if (command.as_json) {
    std::cout << json::serialize(api::SearchResponseToJson(*response)) << "\n";
  } else {
    std::cout << fmt::format("{}{} results ({:.1f} ms)\n", response->total_exact ? "" : "about ",
                             response->total, response->took_ms);
    for (const auto& hit : response->hits) {
      std::cout << fmt::format("\n{}/{}  {}\n  {}\n", hit.source, hit.id, hit.title, hit.snippet);
    }
    for (const auto& [facet, counts] : response->facets) {
      std::cout << "\n" << std::string(facet) << ":";
      for (const auto& [value, count] : counts.as_object()) {
        std::cout << fmt::format(" {} ({})", std::string(value), count.as_int64());
      }
      std::cout << "\n";
    }
    if (response->suggestion) {
      // With hits, nothing matched the words as typed: these are typo matches.
      std::cout << (response->hits.empty() ? "\ndid you mean: " : "\nshowing results for: ")
                << *response->suggestion << "\n";
    }
  }
  return (*runtime)->Close().ok() ? 0 : 1;
}

int RunReindex(const GlobalOptions& options) {
  auto runtime = Runtime::Open(options);
  if (!runtime.ok()) return Fail(runtime.status());
  const auto started = std::chrono::steady_clock::now();
  auto indexed = indexer::RebuildIndex((*runtime)->db(), options.index_dir(), options.shard_count(),
                                       options.index_remote);
  if (!indexed.ok()) return Fail(indexed.status());
  std::cout << fmt::format(
      "indexed {} records in {:.1f} s\n", *indexed,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return (*runtime)->Close().ok() ? 0 : 1;
}

int RunKeysCreate(const GlobalOptions& options, const std::string& role, const std::string& name) {
  auto parsed = api::ParseRole(role);
  if (!parsed) return Fail(InvalidArgument("--role must be read, write or admin"));
  auto runtime = Runtime::Open(options);
  if (!runtime.ok()) return Fail(runtime.status());
  auto created = api::KeyStore((*runtime)->db()).Create(*parsed, name);
  if (!created.ok()) return Fail(created.status());
  std::cout << created->secret << "\n";
  std::cerr << "octohub: created " << role << " key \"" << name << "\" (id " << created->key.id
            << "); it is shown only this once\n";
  return (*runtime)->Close().ok() ? 0 : 1;
}

}  // namespace octohub::hub
