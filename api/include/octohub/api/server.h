// The Octohub API server: REST API, health checks and the web UI (SPEC §4-§7).
#pragma once

#include <cstdint>
#include <memory>

#include "octohub/api/http_server.h"
#include "octohub/api/keys.h"
#include "octohub/core/database.h"
#include "octohub/core/status.h"
#include "octohub/indexer/searcher.h"

namespace octohub::api {

struct ServerOptions {
  HttpServerOptions http;
  bool public_read = false;  // anonymous clients may use the read endpoints
  int max_exports = 4;       // exports running at once; more get 429 with Retry-After
};

// Borrowed for the server's whole life.
struct ServerDependencies {
  const Database& db;
  indexer::Searcher& searcher;
  Metrics& metrics;  // served at /metrics; the HTTP layer records into it
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
