// The Octohub API server: REST API, health checks and the web UI (SPEC §4-§7).
#pragma once

#include <cstdint>
#include <memory>

#include "octohub/api/http.h"
#include "octohub/api/keys.h"
#include "octohub/core/database.h"
#include "octohub/core/status.h"
#include "octohub/indexer/indexer.h"
#include "octohub/indexer/searcher.h"

namespace octohub::ingest {
class PushReceiver;
}  // namespace octohub::ingest

namespace octohub::api {

struct ServerOptions {
  HttpServerOptions http;
  bool public_read = false;  // anonymous clients may use the read endpoints
  // Requests a second per API key, and per client address for anonymous public_read
  // requests, in bursts of up to rate_burst (0: max(1, rate)); 0 turns the limit off. Over it:
  // 429 with Retry-After. Health, metrics, docs and the web UI are not limited.
  double rate_limit = 0;
  double rate_burst = 0;
  int max_exports = 4;  // exports running at once; more get 429 with Retry-After
  // Days searches are kept for analytics (SPEC §4); 0 keeps none.
  int analytics_days = 30;
  // Wrong keys an address may send a minute (and at once); beyond, its requests with a key get
  // 429 with Retry-After before the key is looked up. 0 turns the limit off.
  double auth_failures_per_minute = 20;
};

// Borrowed for the server's whole life.
struct ServerDependencies {
  const Database& db;
  indexer::Searcher& searcher;
  Metrics& metrics;  // served at /metrics; the HTTP layer records into it
  // The index writer of this process, if it has one: /readyz reports it failing.
  const indexer::IndexFollower* follower = nullptr;
  // Takes pushed records (POST /api/v1/hooks/{source}); the server makes its own when null.
  ingest::PushReceiver* push = nullptr;
};

class ApiServer {
 public:
  ApiServer(ServerOptions options, ServerDependencies deps);
  ~ApiServer();

  Status Start();  // see HttpServer::Start
  std::uint16_t port() const;
  void Shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace octohub::api
