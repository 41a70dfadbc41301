// Loopback emulators of real public APIs, for integration tests of harvesting (SPEC §3).
//
// Each emulator answers like the API it copies — its paging, its auth, its limits and its
// error bodies, as the API's public documentation describes them — and knows the source
// document that harvests it and the ids Octohub must end up storing. Requests the real API
// refuses get the real status and error shape, so a harvester that cuts corners fails here as
// it would in production.
//
// Every emulator owns a fresh HttpTestServer on 127.0.0.1 and is thread-safe: the server may
// call it from several connection threads. Data is deterministic; secrets in the source
// documents are literal test values (no environment needed).
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "http_test_server.h"

namespace octohub::testing {

// One emulated API: a server answering like the real one, the source document that harvests
// it (per SPEC §3), and the ids Octohub must end up storing.
class ApiEmulator {
 public:
  virtual ~ApiEmulator() = default;
  virtual std::string name() const = 0;                   // "stripe"; also the source's name
  virtual std::string documentation() const = 0;          // URL of the public doc followed
  virtual std::string SourceDocument() const = 0;         // JSON text, url pointing at server()
  virtual std::set<std::string> ExpectedIds() const = 0;  // ids as Octohub stores them
  virtual const HttpTestServer& server() const = 0;
};

// Every emulator below, each on a fresh server.
std::vector<std::unique_ptr<ApiEmulator>> MakeApiEmulators();
// One emulator by name ("github_rest", "stripe", …, "parent_child"); nullptr if unknown.
std::unique_ptr<ApiEmulator> MakeApiEmulator(const std::string& name);

namespace emulation {
class OAuth2Api;
class ParentChildApi;
}  // namespace emulation

// "oauth2": an RFC 6749 §4.4 client-credentials token endpoint (POST /oauth/token) beside a
// paged resource API that takes the tokens as RFC 6750 bearer tokens. Tokens expire after
// 2 s, and the source's rate limit stretches the harvest past that, so a harvester must renew.
class OAuth2Emulator final : public ApiEmulator {
 public:
  OAuth2Emulator();
  ~OAuth2Emulator() override;

  std::string name() const override;
  std::string documentation() const override;
  std::string SourceDocument() const override;
  std::set<std::string> ExpectedIds() const override;
  const HttpTestServer& server() const override;

  int tokens_issued() const;             // successful token answers
  int expired_token_rejections() const;  // 401s for a token that had expired

 private:
  std::shared_ptr<emulation::OAuth2Api> api_;
  HttpTestServer server_;  // last: stops before api_ goes away
};

// "parent_child": GET /repos lists a few repositories; GET /repos/{owner}/{repo}/issues pages
// each one's issues (some have none). Two sources harvest it: the parent (SourceDocument) and a
// child that runs once per parent record (ChildSourceDocument).
class ParentChildEmulator final : public ApiEmulator {
 public:
  ParentChildEmulator();
  ~ParentChildEmulator() override;

  std::string name() const override;
  std::string documentation() const override;
  std::string SourceDocument() const override;         // the parent, named "parent_child"
  std::set<std::string> ExpectedIds() const override;  // the child's: "<repo id>/<number>"
  const HttpTestServer& server() const override;

  std::string ChildSourceDocument() const;  // "parent_child_issues", for_each the parent
  std::set<std::string> ParentIds() const;

 private:
  std::shared_ptr<emulation::ParentChildApi> api_;
  HttpTestServer server_;  // last: stops before api_ goes away
};

}  // namespace octohub::testing
