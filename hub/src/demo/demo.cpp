// `octohub demo`: serve with public reading, plus sample APIs on loopback over real text
// from this machine (demo_apis.h), each registered as a source and harvested at once.
#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <iostream>

#include "commands.h"
#include "demo_apis.h"
#include "demo_forwarding.h"
#include "octohub/api/http.h"
#include "octohub/core/log.h"
#include "octohub/ingest/ingest.h"

namespace octohub::hub {
namespace json = boost::json;

int RunDemo(GlobalOptions options) {
  const auto started = std::chrono::steady_clock::now();
  options.public_read = true;
  std::vector<DemoSource> sources = BuildDemoSources(ReadDemoMaterial());
  if (sources.empty()) {
    return Fail(FailedPrecondition(
        "the demo serves this machine's Debian package index, changelogs and manual pages, "
        "but found none of them; run `sudo apt-get update` first"));
  }
  // Every source is harvested at once, so that each is searchable early.
  options.ingest_workers = std::max(options.ingest_workers, static_cast<int>(sources.size()));

  std::vector<api::Route> routes;
  for (const auto& source : sources) {
    routes.insert(routes.end(), source.routes.begin(), source.routes.end());
  }
  // Failed builds are forwarded to an inbox beside the sample APIs, when there is a queue.
  const bool forwarding = std::any_of(sources.begin(), sources.end(),
                                      [](const DemoSource& s) { return s.name == "build-queue"; });
  if (forwarding) {
    for (auto& route : DemoInboxRoutes()) routes.push_back(std::move(route));
  }
  api::HttpServer sample_apis({.listen = "127.0.0.1:0", .reactor_threads = 1, .worker_threads = 1},
                              std::move(routes));
  if (Status s = sample_apis.Start(); !s.ok()) return Fail(s);
  const std::string base = "http://127.0.0.1:" + std::to_string(sample_apis.port());

  return RunServe(options, [&](const Database& db, const std::string& address) -> Status {
    ingest::SourceRegistry registry(db);
    ingest::RunQueue queue(db);
    // The rule first: what the first harvests find then counts as new.
    if (forwarding) {
      if (Status s = ApplyDemoForwarding(db, base); !s.ok()) return s;
    }
    for (const auto& source : sources) {
      auto spec = ParseSourceSpec(json::parse(SpecFor(source, base)));
      if (!spec.ok()) return spec.status().WithContext("demo source " + source.name);
      if (auto applied = registry.Apply(*spec); !applied.ok()) return applied.status();
    }
    for (const auto& source : sources) {
      if (auto run = queue.Enqueue(source.name, "manual"); !run.ok()) return run.status();
    }
    std::cerr << "\noctohub demo: harvesting " << sources.size() << " sample APIs served on "
              << base << ":\n";
    for (const auto& source : sources) {
      std::cerr << "  " << source.name << ": " << source.summary;
      if (source.records > 0) std::cerr << ", " << source.records << " records";
      std::cerr << "\n";
    }
    std::cerr << "\n  Open http://" << address << "/ and search, for example:\n"
              << "    security fix            (across every source)\n"
              << "    \"command line\" json     (a phrase and a word)\n"
              << "    section:python          (a facet; also urgency:high, license:GPL-2+)\n"
              << "    released:2023-01-01..2023-12-31 security   (a date range)\n"
              << "    title:postgres*         (a prefix in titles)\n"
              << "  Or over REST:\n"
              << "    curl 'http://" << address
              << "/api/v1/search?q=compiler&facets=section,license'\n"
              << "    curl 'http://" << address
              << "/api/v1/search?q=status:failed&source=build-queue&sort=-changed'\n"
              << "  The build queue changes every few seconds and is harvested every 30 s:\n"
              << "    octohub sources list --data-dir " << options.data_dir.string() << "\n";
    if (forwarding) {
      std::cerr << "  The rule " << kDemoRule << " forwards every build that fails to the target "
                << kDemoTarget << "; see what arrived, or the deliveries in the UI's Admin view:\n"
                << "    curl " << base << "/inbox\n";
    }
    std::cerr << "  Stop with Ctrl-C.\n\n";
    log::Info(
        "demo.ready",
        {{"sources", sources.size()},
         {"seconds",
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()}});
    return Status::Ok();
  });
}

}  // namespace octohub::hub
