// An ApiServer on a fresh database and index, and a libcurl client, for API tests.
#pragma once

#include <curl/curl.h>

#include <catch2/catch.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "octohub/api/keys.h"
#include "octohub/api/server.h"
#include "octohub/indexer/indexer.h"
#include "temp_dir.h"
#include "test_database.h"

namespace octohub::testing {

using api::ApiServer;
using api::KeyStore;
using api::Role;
using api::ServerOptions;
using octohub::Metrics;

struct Response {
  long status = 0;
  std::string body;
  std::string headers;
  long new_connections = 0;
};

// A libcurl client that keeps its connection between requests, as a plain `curl` would.
class Client {
 public:
  Client() : curl_(curl_easy_init()) {}
  ~Client() { curl_easy_cleanup(curl_); }

  Response Get(const std::string& url, const std::vector<std::string>& headers = {},
               const std::string& method = "GET", const std::string& body = "") {
    Response response;
    curl_easy_reset(curl_);  // no body or header of an earlier request; keeps the connection
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &Append);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &response.body);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, &Append);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &response.headers);
    if (!body.empty()) {
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    }
    curl_slist* list = nullptr;
    for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, list);
    CURLcode code = curl_easy_perform(curl_);
    curl_slist_free_all(list);
    REQUIRE(code == CURLE_OK);
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &response.status);
    curl_easy_getinfo(curl_, CURLINFO_NUM_CONNECTS, &response.new_connections);
    return response;
  }

 private:
  static size_t Append(char* data, size_t size, size_t count, void* out) {
    static_cast<std::string*>(out)->append(data, size * count);
    return size * count;
  }
  CURL* curl_;
};

struct RunningServer {
  TestDatabase database;
  Metrics metrics;
  TempDir dir;
  // Two shards, as on a 2-core machine: every test of the API runs on a split index.
  octohub::indexer::IndexFollower follower{database.db(), dir / "index",
                                           octohub::indexer::FollowerOptions{.shards = 2}};
  std::unique_ptr<octohub::indexer::Searcher> searcher =
      octohub::indexer::OpenSearcher(dir / "index");
  std::unique_ptr<ApiServer> server;

  explicit RunningServer(std::size_t max_body = 1 << 20, bool public_read = true,
                         int max_exports = 4)
      : RunningServer([&](ServerOptions& options) {
          options.http.max_body_bytes = max_body;
          options.public_read = public_read;
          options.max_exports = max_exports;
        }) {}
  // Options as the test sets them, on 127.0.0.1 and a free port.
  explicit RunningServer(const std::function<void(ServerOptions&)>& configure) {
    REQUIRE(follower.Open().ok());
    ServerOptions options;
    options.http.listen = "127.0.0.1:0";
    configure(options);
    server = std::make_unique<ApiServer>(
        options, octohub::api::ServerDependencies{database.db(), *searcher, metrics});
    REQUIRE(server->Start().ok());
  }
  // A new key of this role, as "Authorization: Bearer <key>".
  std::string Auth(Role role) const {
    auto created = KeyStore(database.db()).Create(role, "test");
    REQUIRE(created.ok());
    return "Authorization: Bearer " + created->secret;
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server->port()) + path;
  }
};

}  // namespace octohub::testing
