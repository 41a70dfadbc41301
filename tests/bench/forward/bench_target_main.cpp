// A target API for tests/bench/forward/run.sh: answers every POST at once (keep-alive), and
// GET /count with how many requests and bytes it has taken. POST /down makes it answer 503
// until POST /up (an outage and the recovery). Prints "port N" when ready.
#include <signal.h>

#include <atomic>
#include <boost/json.hpp>
#include <iostream>

#include "octohub/api/http.h"

int main() {
  using octohub::api::Reply;
  using octohub::api::RequestView;
  std::atomic<std::int64_t> requests{0}, bytes{0};
  std::atomic<bool> down{false};
  std::vector<octohub::api::Route> routes;
  routes.push_back({"POST", "/in",
                    [&](const RequestView& request) {
                      if (down) return Reply{503, "text/plain", "down", {}};
                      ++requests;
                      bytes += static_cast<std::int64_t>(request.body.size());
                      return Reply{200, "application/json", "{}", {}};
                    },
                    false});
  for (const bool state : {true, false}) {
    routes.push_back({"POST", state ? "/down" : "/up",
                      [&down, state](const RequestView&) {
                        down = state;
                        return Reply{204, "text/plain", "", {}};
                      },
                      false});
  }
  routes.push_back({"GET", "/count",
                    [&](const RequestView&) {
                      return octohub::api::JsonReply(
                          200, {{"requests", requests.load()}, {"bytes", bytes.load()}});
                    },
                    false});
  octohub::api::HttpServerOptions options;
  options.listen = "127.0.0.1:0";
  options.reactor_threads = 2;
  options.max_body_bytes = 64 * 1024 * 1024;
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  octohub::api::HttpServer server(options, std::move(routes));
  if (auto started = server.Start(); !started.ok()) {
    std::cerr << started.ToString() << "\n";
    return 1;
  }
  std::cout << "port " << server.port() << std::endl;
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  server.Shutdown();
  return 0;
}
