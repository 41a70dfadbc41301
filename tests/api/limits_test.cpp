// Request rate limits, CORS, the access log, and a client that reads a large answer slowly.
#include <fcntl.h>
#include <sys/resource.h>

#include <algorithm>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include "rate_limiter.h"
#include "raw_client.h"
#include "running_server.h"

using namespace std::chrono_literals;
using octohub::api::RateLimiter;
using octohub::api::Role;
using octohub::testing::Client;
using octohub::testing::RawConnection;
using octohub::testing::RunningServer;
using octohub::testing::ServerOptions;
using octohub::testing::StatusOf;
using octohub::testing::TempDir;

TEST_CASE("token buckets allow the burst, then the rate", "[unit]") {
  RateLimiter limiter(2, 3);
  auto t = RateLimiter::Clock::now();
  for (int i = 0; i < 3; ++i) CHECK(limiter.Take("a", t) == 0);
  double wait = limiter.Take("a", t);
  CHECK(wait == Approx(0.5));
  CHECK(limiter.Take("b", t) == 0);  // buckets are separate
  CHECK(limiter.Take("a", t + 500ms) == 0);
  CHECK(limiter.Take("a", t + 500ms) > 0);
  CHECK(limiter.Take("a", t + 10s) == 0);  // refilled, up to the burst
  RateLimiter off(0, 0);
  for (int i = 0; i < 1000; ++i) REQUIRE(off.Take("a", t) == 0);
}

TEST_CASE("a key over its request rate gets 429 with Retry-After, other keys do not",
          "[pg][http]") {
  RunningServer s([](ServerOptions& o) {
    o.rate_limit = 0.5;
    o.rate_burst = 3;
    o.public_read = true;
  });
  Client client;
  const std::string first = s.Auth(Role::kRead), second = s.Auth(Role::kRead);
  for (int i = 0; i < 3; ++i) CHECK(client.Get(s.url("/api/v1/search"), {first}).status == 200);
  auto limited = client.Get(s.url("/api/v1/search"), {first});
  CHECK(limited.status == 429);
  CHECK_THAT(limited.headers, Catch::Contains("Retry-After: 2"));
  CHECK_THAT(limited.headers, Catch::Contains("application/problem+json"));
  CHECK(client.Get(s.url("/api/v1/search"), {second}).status == 200);
  // Anonymous reads share one bucket per address.
  for (int i = 0; i < 3; ++i) CHECK(client.Get(s.url("/api/v1/search")).status == 200);
  CHECK(client.Get(s.url("/api/v1/search")).status == 429);
  // Probes are never limited.
  for (int i = 0; i < 10; ++i) CHECK(client.Get(s.url("/healthz")).status == 200);
}

TEST_CASE("CORS is off by default", "[pg][http]") {
  RunningServer s;
  Client client;
  auto response = client.Get(s.url("/healthz"), {"Origin: https://app.example"});
  CHECK_THAT(response.headers, !Catch::Contains("Access-Control-Allow-Origin"));
  auto preflight =
      client.Get(s.url("/api/v1/search"),
                 {"Origin: https://app.example", "Access-Control-Request-Method: GET"}, "OPTIONS");
  CHECK(preflight.status == 405);
}

TEST_CASE("CORS answers allowed origins, preflights included, and varies on Origin", "[pg][http]") {
  RunningServer s([](ServerOptions& o) {
    o.http.cors_origins = {"https://app.example"};
    o.public_read = true;
  });
  Client client;
  auto allowed = client.Get(s.url("/api/v1/search"), {"Origin: https://app.example"});
  CHECK(allowed.status == 200);
  CHECK_THAT(allowed.headers, Catch::Contains("Access-Control-Allow-Origin: https://app.example"));
  CHECK_THAT(allowed.headers, Catch::Contains("Vary: Origin"));
  auto other = client.Get(s.url("/api/v1/search"), {"Origin: https://evil.example"});
  CHECK(other.status == 200);
  CHECK_THAT(other.headers, !Catch::Contains("Access-Control-Allow-Origin"));
  CHECK_THAT(other.headers, Catch::Contains("Vary: Origin"));

  auto preflight = client.Get(s.url("/api/v1/sources"),
                              {"Origin: https://app.example", "Access-Control-Request-Method: POST",
                               "Access-Control-Request-Headers: authorization, content-type"},
                              "OPTIONS");
  CHECK(preflight.status == 204);
  CHECK_THAT(preflight.headers,
             Catch::Contains("Access-Control-Allow-Origin: https://app.example"));
  CHECK_THAT(preflight.headers, Catch::Contains("Access-Control-Allow-Methods: POST, GET"));
  CHECK_THAT(preflight.headers, Catch::Contains("Authorization, Content-Type"));
  auto refused = client.Get(s.url("/api/v1/sources"),
                            {"Origin: https://evil.example", "Access-Control-Request-Method: POST"},
                            "OPTIONS");
  CHECK(refused.status == 403);
  CHECK_THAT(refused.headers, Catch::Contains("application/problem+json"));
  auto unknown =
      client.Get(s.url("/nowhere"),
                 {"Origin: https://app.example", "Access-Control-Request-Method: GET"}, "OPTIONS");
  CHECK(unknown.status == 404);
}

TEST_CASE("the access log has one JSON line per request with route and key name, never the key",
          "[pg][http]") {
  TempDir dir;
  const std::string log_path = (dir / "stderr.log").string();
  RunningServer s(1 << 20, false);
  const std::string auth = s.Auth(Role::kRead);
  const std::string secret = auth.substr(auth.find("Bearer ") + 7);
  {
    // Logs go to stderr: point it at a file while the requests run.
    std::fflush(stderr);
    int saved = ::dup(2);
    int file = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(file, 2);
    Client client;
    client.Get(s.url("/api/v1/records/issues/42?x=1"), {auth});
    client.Get(s.url("/healthz"));
    std::this_thread::sleep_for(100ms);
    std::fflush(stderr);
    ::dup2(saved, 2);
    ::close(file);
    ::close(saved);
  }
  std::ifstream in(log_path);
  std::string line;
  int requests = 0;
  bool saw_record = false;
  while (std::getline(in, line)) {
    CHECK_THAT(line, !Catch::Contains(secret));
    if (line.find("\"http.request\"") == std::string::npos) continue;
    ++requests;
    auto entry = boost::json::parse(line).as_object();
    CHECK(entry.contains("latency_ms"));
    CHECK(entry.contains("status"));
    if (entry.at("route") == "/api/v1/records/{source}/{id}") {
      saw_record = true;
      CHECK(entry.at("method") == "GET");
      CHECK(entry.at("status") == 404);
      CHECK(entry.at("key") == "test");
    }
  }
  CHECK(requests == 2);
  CHECK(saw_record);
}

TEST_CASE("a client reading a large answer at 10 kB/s does not hold up the others", "[pg][http]") {
  // A send timeout far shorter than the download: a client that reads, however slowly, keeps
  // its connection.
  RunningServer s([](ServerOptions& o) {
    o.public_read = true;
    o.http.send_timeout = 1s;
  });
  Client client;
  auto measure = [&](int n) {
    std::vector<double> ms;
    for (int i = 0; i < n; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      CHECK(client.Get(s.url("/healthz")).status == 200);
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      std::this_thread::sleep_for(20ms);
    }
    std::sort(ms.begin(), ms.end());
    return std::pair{ms[ms.size() / 2], ms.back()};
  };
  auto cpu_seconds = [] {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
           (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  };
  auto [base_p50, base_max] = measure(50);

  // Two slow readers of the 1.1 MB Redoc bundle, each reading 1 kB every 100 ms.
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 2; ++i) {
    slow.push_back(std::make_unique<RawConnection>(s.server->port(), 4096));
    REQUIRE(slow.back()->Send("GET /docs/redoc.standalone.js HTTP/1.1\r\nHost: x\r\n\r\n"));
  }
  std::atomic<bool> stop{false};
  std::size_t received = 0;
  std::thread reader([&] {
    while (!stop) {
      for (auto& c : slow) {
        char buffer[1024];
        ssize_t n = ::recv(c->fd(), buffer, sizeof buffer, MSG_DONTWAIT);
        if (n > 0) received += static_cast<std::size_t>(n);
      }
      std::this_thread::sleep_for(100ms);
    }
  });
  std::this_thread::sleep_for(300ms);
  const double cpu_before = cpu_seconds();
  const auto wall_before = std::chrono::steady_clock::now();
  auto [slow_p50, slow_max] = measure(100);
  const double cpu_share =
      (cpu_seconds() - cpu_before) /
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_before).count();
  stop = true;
  reader.join();
  for (auto& c : slow) {
    char byte;
    CHECK(::recv(c->fd(), &byte, 1, MSG_DONTWAIT | MSG_PEEK) != 0);  // 0: closed by the server
  }
  std::cerr << "slow readers: /healthz p50 " << base_p50 << " ms, max " << base_max
            << " ms alone; p50 " << slow_p50 << " ms, max " << slow_max
            << " ms with 2 clients reading at 10 kB/s (" << received << " bytes read; process CPU "
            << cpu_share * 100 << "% of a core)\n";
  CHECK(slow_p50 < 20);
  CHECK(slow_max < 500);
  CHECK(cpu_share < 0.5);  // no reactor thread spins on the slow sockets
}

TEST_CASE("a client that stops reading its answer is disconnected after the send timeout",
          "[pg][http]") {
  RunningServer s([](ServerOptions& o) { o.http.send_timeout = 1s; });
  RawConnection stalled(s.server->port(), 4096);
  REQUIRE(stalled.Send("GET /docs/redoc.standalone.js HTTP/1.1\r\nHost: x\r\n\r\n"));
  Client client;
  const auto started = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(300ms);
  CHECK(client.Get(s.url("/healthz")).status == 200);
  // Reading now gets what the kernel had queued, then the end of the connection (which a
  // keep-alive connection would not have).
  std::this_thread::sleep_for(2500ms);
  while (!stalled.ReadSome(2s).empty()) {
  }
  CHECK(stalled.closed());
  CHECK(std::chrono::steady_clock::now() - started < 10s);
  CHECK(client.Get(s.url("/healthz")).status == 200);
}
