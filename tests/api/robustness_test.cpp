// Bad input and misbehaving clients: every bad request gets its 4xx as problem+json, and
// the server keeps answering everyone else (SPEC §6, "No input yields a 500 or a crash").
#include <sys/resource.h>

#include <algorithm>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <iostream>
#include <memory>
#include <thread>

#include "raw_client.h"
#include "running_server.h"

using namespace std::chrono_literals;
using octohub::api::Role;
using octohub::testing::Client;
using octohub::testing::RawConnection;
using octohub::testing::RunningServer;
using octohub::testing::ServerOptions;
using octohub::testing::StatusOf;

namespace {

void CheckProblem(long status, const std::string& headers, const std::string& body) {
  CHECK_THAT(headers, Catch::Contains("Content-Type: application/problem+json"));
  boost::json::error_code ec;
  auto problem = boost::json::parse(body, ec);
  REQUIRE(!ec);
  CHECK(problem.at("status").as_int64() == status);
  CHECK(!problem.at("detail").as_string().empty());
}

void CheckHealthy(const RunningServer& s) {
  auto health = Client().Get(s.url("/healthz"));
  CHECK(health.status == 200);
}

double Milliseconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

}  // namespace

TEST_CASE("bad bodies get their 4xx as problem+json and the server stays up", "[pg][http]") {
  RunningServer s(1 << 20, false);
  const std::string admin = s.Auth(Role::kAdmin);
  const std::string json = "Content-Type: application/json";
  struct Case {
    const char* name;
    std::string method, path, body;
    std::vector<std::string> headers;
    long status;
  };
  const std::vector<Case> cases = {
      {"malformed JSON", "POST", "/api/v1/sources", "{\"name\": ", {json}, 400},
      {"wrong type", "POST", "/api/v1/keys", R"({"role": 5})", {json}, 422},
      {"unknown field",
       "POST",
       "/api/v1/keys",
       R"({"role": "read", "colour": "red"})",
       {json},
       422},
      {"not an object", "POST", "/api/v1/keys", "[1, 2]", {json}, 422},
      {"empty body", "POST", "/api/v1/keys", "", {json}, 400},
      {"empty source", "PUT", "/api/v1/sources/issues", "", {json}, 400},
      {"invalid UTF-8",
       "POST",
       "/api/v1/keys",
       "{\"role\": \"read\", \"name\": \"\xff\xfe\"}",
       {json},
       400},
      {"another media type",
       "POST",
       "/api/v1/keys",
       "role=read",
       {"Content-Type: text/plain"},
       415},
      {"source with wrong types",
       "POST",
       "/api/v1/sources",
       R"({"name": 7, "url": [], "records": 1})",
       {json},
       422},
      {"10 MB body", "POST", "/api/v1/sources", std::string(10 << 20, '{'), {json}, 413},
      {"100 kB header",
       "GET",
       "/api/v1/search",
       "",
       {"X-Padding: " + std::string(100 << 10, 'a')},
       431},
      {"unknown route", "GET", "/api/v1/nothing/here", "", {}, 404},
      {"wrong method", "PATCH", "/api/v1/sources", "", {}, 405},
      {"bad %-escape", "GET", "/api/v1/search?q=%ZZ", "", {}, 400},
      {"query not UTF-8", "GET", "/api/v1/search?q=%C3%28", "", {}, 400},
  };
  for (const auto& c : cases) {
    auto headers = c.headers;
    headers.push_back(admin);
    const auto started = std::chrono::steady_clock::now();
    auto response = Client().Get(s.url(c.path), headers, c.method, c.body);
    INFO(c.name << " -> " << response.status << " " << response.body.substr(0, 300));
    CHECK(response.status == c.status);
    CheckProblem(response.status, response.headers, response.body);
    CHECK(Milliseconds(std::chrono::steady_clock::now() - started) < 3000);
    if (c.status == 405) CHECK_THAT(response.headers, Catch::Contains("Allow: GET, POST"));
    CheckHealthy(s);
  }
}

TEST_CASE("paths that try to leave the web UI are 404 problems", "[pg][http]") {
  RunningServer s;
  for (const std::string path :
       {"/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc%2fpasswd",
        "/docs/../../../etc/passwd", "/app.js/../../etc/passwd", "/%2E%2E%5C%2E%2E%5Cetc%5Cpasswd",
        "/index.html%00.js", "/docs/%2e%2e/redoc.standalone.js"}) {
    RawConnection raw(s.server->port());
    REQUIRE(raw.connected());
    REQUIRE(raw.Send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n"));
    std::string response = raw.ReadResponse(2s);
    INFO(path << " -> " << response.substr(0, 200));
    CHECK(StatusOf(response) == 404);
    CHECK_THAT(response, Catch::Contains("application/problem+json"));
    CHECK_THAT(response, !Catch::Contains("root:"));
    CheckHealthy(s);
  }
}

TEST_CASE("a malformed request line is a 400 problem", "[pg][http]") {
  RunningServer s;
  for (const std::string request : {"GARBAGE\r\n\r\n", "GET /healthz HTTP/9\r\n\r\n",
                                    "GET /healthz HTTP/1.1\r\nNo colon here\r\n\r\n"}) {
    RawConnection raw(s.server->port());
    REQUIRE(raw.Send(request));
    std::string response = raw.ReadResponse(2s);
    INFO(request << " -> " << response);
    CHECK(StatusOf(response) >= 400);
    CHECK(StatusOf(response) < 500);
    CHECK_THAT(response, Catch::Contains("application/problem+json"));
    CheckHealthy(s);
  }
}

TEST_CASE("4xx details are sentences for the client, never database or library internals",
          "[pg][http]") {
  RunningServer s;
  Client client;
  const std::string admin = s.Auth(Role::kAdmin);
  const std::string json = "Content-Type: application/json";
  struct Call {
    const char* method;
    const char* path;
    const char* body;
  };
  for (const Call& call : {
           Call{"GET", "/api/v1/sources/%FF%FE", ""},
           Call{"PUT", "/api/v1/sources/%C3%28",
                R"({"url": "http://127.0.0.1:9/", "records": ""})"},
           Call{"DELETE", "/api/v1/sources/%FF", ""},
           Call{"POST", "/api/v1/sources/%FF/runs", ""},
           Call{"GET", "/api/v1/records/%FF/%FE", ""},
           Call{"GET", "/api/v1/targets/%FF", ""},
           Call{"GET", "/api/v1/rules/%E2%82", ""},
           Call{"GET", "/api/v1/runs/99999999999999999999999", ""},
           Call{"GET", "/api/v1/runs/-1", ""},
           Call{"GET", "/api/v1/deliveries/1e9", ""},
           Call{"POST", "/api/v1/deliveries/18446744073709551616/retry", ""},
           Call{"GET", "/api/v1/search?q=%FF", ""},
           Call{"GET", "/api/v1/search?page=99999999999999999999", ""},
           Call{"GET", "/api/v1/search?filter.%FF=x", ""},
           Call{"GET", "/api/v1/keys?x=%FF", ""},
           Call{"POST", "/api/v1/sources",
                R"({"name": "a\u0000b", "url": "http://h/", "records": ""})"},
       }) {
    auto response = client.Get(s.url(call.path), {admin, json}, call.method, call.body);
    INFO(call.method << " " << call.path << " -> " << response.status << " " << response.body);
    CHECK(response.status >= 400);
    CHECK(response.status < 500);
    for (const char* internal : {"ERROR", "pqxx", "basic_string", "stoull", "stoll", "stoi",
                                 "std::", "_M_", "sqlstate", "SQL", "byte sequence", "0x"}) {
      CHECK_THAT(response.body, !Catch::Contains(internal));
    }
  }
  CheckHealthy(s);
}

TEST_CASE("request smuggling building blocks are refused and the connection closed", "[pg][http]") {
  RunningServer s;
  const std::string start = "POST /api/v1/sources HTTP/1.1\r\nHost: h\r\n";
  for (const auto& [headers, status] : std::vector<std::pair<std::string, int>>{
           {"Content-Length: 2\r\nContent-Length: 40\r\n", 400},
           {"Content-Length: +2\r\n", 400},
           {"Transfer-Encoding : chunked\r\n", 400},
           {"Transfer-Encoding: chunked\r\nContent-Length: 2\r\n", 400},
           {"Transfer-Encoding: gzip, chunked\r\n", 501}}) {
    RawConnection raw(s.server->port());
    // A second request hides in what the first one's body would be under another reading.
    REQUIRE(raw.Send(start + headers + "\r\n{}GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n"));
    const std::string response = raw.Read(3s);  // to the end: the server closes
    INFO(headers << " -> " << response);
    CHECK(StatusOf(response) == status);
    CHECK_THAT(response,
               Catch::Contains("application/problem+json") && Catch::Contains("Connection: Close"));
    CHECK(response.find("HTTP/1.1", 1) == std::string::npos);  // one answer only
    CHECK(raw.ReadSome(100ms).empty());
    CheckHealthy(s);
  }
}

TEST_CASE("pipelined requests get the first answer and a close, never silence", "[pg][http]") {
  RunningServer s;
  RawConnection raw(s.server->port());
  const std::string one = "GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n";
  REQUIRE(raw.Send(one + one + one));
  const auto sent = std::chrono::steady_clock::now();
  const std::string response = raw.Read(5s);
  INFO(response);
  CHECK(std::chrono::steady_clock::now() - sent < 3s);  // closed, not left hanging
  CHECK(StatusOf(response) == 200);
  CHECK_THAT(response, Catch::Contains("Connection: Close"));
  // Requests one at a time on one connection are all answered, as before.
  RawConnection kept(s.server->port());
  for (int i = 0; i < 3; ++i) {
    REQUIRE(kept.Send(one));
    CHECK(StatusOf(kept.ReadResponse(2s)) == 200);
  }
}

TEST_CASE("a 50 MB body is refused as soon as its headers arrive", "[pg][http]") {
  RunningServer s(8 << 20);
  RawConnection raw(s.server->port());
  const auto started = std::chrono::steady_clock::now();
  REQUIRE(
      raw.Send("POST /api/v1/sources HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               "Content-Length: 52428800\r\n\r\n" +
               std::string(64 << 10, ' ')));
  // The client keeps sending while the answer comes back.
  std::string response;
  for (int i = 0; i < 200 && response.find("\r\n\r\n") == std::string::npos; ++i) {
    raw.Send(std::string(64 << 10, ' '));
    response += raw.ReadSome(10ms);
  }
  response += raw.ReadResponse(1s);
  const double ms = Milliseconds(std::chrono::steady_clock::now() - started);
  INFO(response);
  CHECK(StatusOf(response) == 413);
  CHECK_THAT(response, Catch::Contains("application/problem+json"));
  CHECK(ms < 2000);
  // curl's way: a 50 MB upload, stopped by the early answer.
  auto big = Client().Get(s.url("/api/v1/sources"), {"Content-Type: application/json"}, "POST",
                          std::string(50 << 20, ' '));
  CHECK(big.status == 413);
  CheckHealthy(s);
}

TEST_CASE("slowloris clients are cut off while others are served", "[pg][http]") {
  RunningServer s([](ServerOptions& o) { o.http.header_timeout = 1s; });
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 50; ++i) {
    slow.push_back(std::make_unique<RawConnection>(s.server->port()));
    REQUIRE(slow.back()->Send("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
  }
  Client client;
  double worst = 0;
  const auto started = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - started < 3s) {
    for (auto& c : slow) c->Send("X-Slow: 1\r\n");  // a header line now and then, never the end
    auto t0 = std::chrono::steady_clock::now();
    CHECK(client.Get(s.url("/healthz")).status == 200);
    worst = std::max(worst, Milliseconds(std::chrono::steady_clock::now() - t0));
    std::this_thread::sleep_for(100ms);
  }
  CHECK(worst < 500);
  // Past the header timeout each slow client got a 408 problem and its connection closed.
  int timed_out = 0;
  for (auto& c : slow) {
    std::string rest = c->ReadResponse(3s);
    if (StatusOf(rest) == 408 || c->closed() || rest.empty()) ++timed_out;
  }
  CHECK(timed_out == 50);
  CheckHealthy(s);
}

TEST_CASE("2,000 idle connections do not keep others out", "[pg][http]") {
  rlimit limit{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &limit) == 0);
  if (limit.rlim_cur < 8192) {
    limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 8192);
    REQUIRE(setrlimit(RLIMIT_NOFILE, &limit) == 0);
  }
  REQUIRE(limit.rlim_cur >= 4200);  // both ends of every connection live in this process
  // Connections that never send a request are answered 408 and closed after the header
  // timeout; this test wants them all open at once.
  RunningServer s([](ServerOptions& o) {
    o.http.header_timeout = 60s;
    o.public_read = true;
  });
  std::vector<std::unique_ptr<RawConnection>> idle;
  const auto opening = std::chrono::steady_clock::now();
  for (int i = 0; i < 2000; ++i) {
    idle.push_back(std::make_unique<RawConnection>(s.server->port()));
    REQUIRE(idle.back()->connected());
  }
  const double open_ms = Milliseconds(std::chrono::steady_clock::now() - opening);
  Client client;
  double worst = 0;
  for (int i = 0; i < 20; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    CHECK(client.Get(s.url("/api/v1/search?q=x")).status == 200);
    worst = std::max(worst, Milliseconds(std::chrono::steady_clock::now() - t0));
  }
  std::cerr << "2,000 idle connections opened in " << open_ms
            << " ms; searches beside them took at most " << worst << " ms\n";
  CHECK(worst < 500);
  // A few of the idle ones wake up and are served too.
  for (int i = 0; i < 2000; i += 400) {
    REQUIRE(idle[i]->Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    CHECK(StatusOf(idle[i]->ReadResponse(2s)) == 200);
  }
}
