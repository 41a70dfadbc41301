// A real HTTP/1.1 server on 127.0.0.1 for tests, answering with a lambda. Keep-alive is
// supported; every request it served is recorded. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace octohub::testing {

struct TestRequest {
  std::string method;
  std::string target;                          // path and query, as sent
  std::string path;                            // without the query
  std::map<std::string, std::string> query;    // decoded
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

struct TestResponse {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers = {{"Content-Type", "application/json"}};
  bool reset = false;  // drop the connection instead of answering (fault injection)
};

class HttpTestServer {
 public:
  using Handler = std::function<TestResponse(const TestRequest&)>;

  // Listens on `host` (any loopback address: all of 127.0.0.0/8 reaches this machine).
  explicit HttpTestServer(Handler handler, std::string host = "127.0.0.1");
  ~HttpTestServer();

  std::uint16_t port() const;
  std::string url(const std::string& path) const;  // "http://HOST:PORT" + path
  std::vector<TestRequest> requests() const;
  int connections_accepted() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace octohub::testing
