// The HTTP server: REST API, health checks and the web UI, on Pistache.
//
// Reactor threads only parse and route; anything that touches PostgreSQL or the index runs
// on a worker pool, so a slow query never stalls other connections.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "octohub/core/database.h"
#include "octohub/core/status.h"
#include "octohub/indexer/searcher.h"

namespace octohub::api {

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";  // host:port; port 0 picks a free one
  int reactor_threads = 2;
  int worker_threads = 4;
  std::size_t max_body_bytes = 8 * 1024 * 1024;
};

// Borrowed for the server's whole life.
struct ServerDependencies {
  const Database& db;
  indexer::Searcher& searcher;
};

class ApiServer {
 public:
  ApiServer(ServerOptions options, ServerDependencies deps);
  ~ApiServer();

  // Binds and starts serving in background threads. kUnavailable when the address is in use
  // or cannot be bound; kInvalidArgument when it does not parse.
  Status Start();
  std::uint16_t port() const;

  // Stops accepting, lets in-flight requests finish (bounded), and joins every thread.
  void Shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace octohub::api
