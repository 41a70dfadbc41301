// `octohub demo`: serve with public reading, plus a sample API on loopback that pages
// through this machine's Debian package index, registered as a source and harvested at once.
#include <boost/json.hpp>
#include <charconv>
#include <iostream>

#include "commands.h"
#include "octohub/api/http_server.h"
#include "octohub/core/log.h"
#include "octohub/ingest/ingest.h"
#include "package_catalog.h"

namespace octohub::hub {
namespace json = boost::json;
namespace {

constexpr int kDefaultPageSize = 250;

// GET /packages?page=N&per_page=M -> {"page": N, "items": [...]}; an empty page ends it.
api::Reply PackagesPage(const std::vector<std::string>& records, const api::RequestView& request) {
  int page = 1, per_page = kDefaultPageSize;
  for (const auto& [name, value] : request.query) {
    int parsed = 0;
    auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), parsed);
    if (error != std::errc() || end != value.data() + value.size() || parsed < 1) continue;
    if (name == "page") page = parsed;
    if (name == "per_page") per_page = std::min(parsed, 1000);
  }
  std::string body = "{\"page\":" + std::to_string(page) + ",\"items\":[";
  const size_t first = static_cast<size_t>(page - 1) * per_page;
  for (size_t i = first; i < records.size() && i < first + per_page; ++i) {
    if (i != first) body += ',';
    body += records[i];
  }
  body += "]}";
  return api::Reply{200, "application/json", std::move(body), {}};
}

SourceSpec PackagesSource(std::uint16_t port) {
  auto spec = ParseSourceSpec(json::parse(R"({
    "name": "debian-packages",
    "url": "http://127.0.0.1:)" + std::to_string(port) +
                                          R"(/packages",
    "records": "/items",
    "id": "/id",
    "pagination": {"type": "page", "param": "page", "size_param": "per_page", "size": 500},
    "index": {
      "title": "/name",
      "text": ["/summary", "/maintainer", "/tags/*", "/depends/*", "/homepage"],
      "facets": {"section": "/section", "priority": "/priority"},
      "numbers": {"installed_size_kb": "/installed_size_kb"}
    }
  })"));
  return *spec;  // a fixed document: valid by construction, and tested
}

}  // namespace

int RunDemo(GlobalOptions options) {
  options.public_read = true;
  auto catalog = ReadPackageCatalog();
  if (!catalog.ok()) return Fail(catalog.status());
  std::vector<std::string> records;
  records.reserve(catalog->size());
  for (const auto& package : *catalog) records.push_back(json::serialize(package));

  api::HttpServer sample_api(
      {.listen = "127.0.0.1:0", .reactor_threads = 1, .worker_threads = 1},
      {{"GET", "/packages",
        [&records](const api::RequestView& r) { return PackagesPage(records, r); }, false}});
  if (Status s = sample_api.Start(); !s.ok()) return Fail(s);

  return RunServe(options, [&](const Database& db, const std::string& address) -> Status {
    const SourceSpec spec = PackagesSource(sample_api.port());
    auto applied = ingest::SourceRegistry(db).Apply(spec);
    if (!applied.ok()) return applied.status();
    auto run = ingest::RunQueue(db).Enqueue(spec.name, "manual");
    if (!run.ok()) return run.status();
    std::cerr << "\noctohub demo: " << records.size() << " Debian packages are being harvested "
              << "from a sample API on 127.0.0.1:" << sample_api.port() << ".\n"
              << "  Open http://" << address << "/ and search, e.g. \"rust compiler\", "
              << "\"title:python*\" or \"image AND NOT gtk\".\n"
              << "  Or: curl 'http://" << address << "/api/v1/search?q=postgres'\n"
              << "  Stop with Ctrl-C.\n\n";
    return Status::Ok();
  });
}

}  // namespace octohub::hub
