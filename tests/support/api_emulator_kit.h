// What the API emulators (api_emulators*.cpp) share: the deterministic records they serve, the
// ApiModel interface each API implements, and small request/response helpers. Private to
// tests/support; tests include api_emulators.h.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api_emulators.h"
#include "http_test_server.h"

namespace octohub::testing::emulation {

namespace json = boost::json;

// One deterministic record; every emulator maps these into its own API's shape. Titles,
// bodies and states vary with the number, and some carry commas, quotes and line breaks.
struct SampleRecord {
  int number = 0;  // 1-based position
  std::string title;
  std::string body;
  std::string state;  // "open" or "closed"
  std::int64_t updated_epoch = 0;
  std::string updated_at;  // RFC 3339 UTC form of updated_epoch
  int comments = 0;
};
std::vector<SampleRecord> SampleRecords(int count);

// The server half of an emulator. Handle is called from the server's connection threads:
// implementations guard any mutable state with a mutex of their own.
class ApiModel {
 public:
  virtual ~ApiModel() = default;
  virtual TestResponse Handle(const TestRequest& request) = 0;
  // The source document that harvests this API at base_url ("http://127.0.0.1:PORT").
  virtual json::object Source(const std::string& base_url) const = 0;
  virtual std::set<std::string> ExpectedIds() const = 0;
};

// An ApiModel served on its own loopback server.
class HostedEmulator final : public ApiEmulator {
 public:
  HostedEmulator(std::string name, std::string documentation, std::shared_ptr<ApiModel> model);

  std::string name() const override { return name_; }
  std::string documentation() const override { return documentation_; }
  std::string SourceDocument() const override;
  std::set<std::string> ExpectedIds() const override { return model_->ExpectedIds(); }
  const HttpTestServer& server() const override { return server_; }

 private:
  std::string name_;
  std::string documentation_;
  std::shared_ptr<ApiModel> model_;
  HttpTestServer server_;  // last: its threads stop before the members above go away
};

template <typename Model>
std::unique_ptr<ApiEmulator> Host(std::string name, std::string documentation) {
  return std::make_unique<HostedEmulator>(std::move(name), std::move(documentation),
                                          std::make_shared<Model>());
}

// Responses.
TestResponse JsonResponse(int status, const json::value& body,
                          std::string content_type = "application/json; charset=utf-8");
TestResponse TextResponse(int status, std::string body, std::string content_type);
void SetHeader(TestResponse& response, std::string name, std::string value);
// RFC 8288: <url>; rel="name", … in the order given.
std::string LinkHeader(const std::vector<std::pair<std::string, std::string>>& rel_urls);

// Requests.
std::string HeaderOf(const TestRequest& request, const std::string& lower_case_name);
std::optional<std::string> QueryOf(const TestRequest& request, const std::string& name);
std::optional<std::string> BearerToken(const TestRequest& request);  // "Authorization: Bearer x"
struct Credentials {
  std::string user;
  std::string password;
};
std::optional<Credentials> BasicCredentials(const TestRequest& request);
// The scheme, host and port the client reached, from its Host header.
std::string BaseUrl(const TestRequest& request);
// A whole decimal integer, or nothing (no sign games, no trailing text).
std::optional<std::int64_t> ParseInteger(std::string_view text);
std::optional<json::value> ParseJson(std::string_view text);
// application/x-www-form-urlencoded, "+" as space.
std::map<std::string, std::string> ParseForm(std::string_view body);

// Values.
std::string PercentEncode(std::string_view text);  // for a query-string name or value
// url (any query dropped) with params as its query string, each percent-encoded.
std::string WithQuery(const std::string& url,
                      const std::vector<std::pair<std::string, std::string>>& params);
std::string Base64(std::string_view bytes);
std::optional<std::string> FromBase64(std::string_view text);
// Opaque page tokens for URLs: base64url without padding, so no character needs escaping.
std::string UrlToken(std::string_view text);
std::optional<std::string> FromUrlToken(std::string token);
// A position carried in a token, accepted only if the token is exactly one this server made.
std::optional<std::int64_t> PositionIn(const std::string& token, const std::string& prefix,
                                       std::int64_t limit);
std::vector<std::string> SplitCommas(std::string_view text);
std::string Padded(std::int64_t number, int width);  // zero-padded decimal
std::string Rfc3339(std::int64_t epoch_seconds);
std::string Uuid(int number, int salt);  // a stable version-4-shaped UUID
std::int64_t NowEpochSeconds();
// Text and numbers for the "index" member of a source.
json::object IndexFields(std::string title, std::vector<std::string> text,
                         std::vector<std::pair<std::string, std::string>> facets,
                         std::vector<std::pair<std::string, std::string>> dates,
                         std::vector<std::pair<std::string, std::string>> numbers);

// Factories, one per emulator (grouped by file: rest, web, body, files).
std::unique_ptr<ApiEmulator> MakeGithubRestEmulator();
std::unique_ptr<ApiEmulator> MakeStripeEmulator();
std::unique_ptr<ApiEmulator> MakeSlackEmulator();
std::unique_ptr<ApiEmulator> MakeJiraEmulator();
std::unique_ptr<ApiEmulator> MakeHubspotEmulator();
std::unique_ptr<ApiEmulator> MakeZendeskEmulator();
std::unique_ptr<ApiEmulator> MakeRedditEmulator();
std::unique_ptr<ApiEmulator> MakeTwitterEmulator();
std::unique_ptr<ApiEmulator> MakeShopifyEmulator();
std::unique_ptr<ApiEmulator> MakeWordpressEmulator();
std::unique_ptr<ApiEmulator> MakeJsonApiEmulator();
std::unique_ptr<ApiEmulator> MakeODataEmulator();
std::unique_ptr<ApiEmulator> MakeNotionEmulator();
std::unique_ptr<ApiEmulator> MakeGithubGraphqlEmulator();
std::unique_ptr<ApiEmulator> MakeElasticsearchEmulator();
std::unique_ptr<ApiEmulator> MakeNdjsonEmulator();
std::unique_ptr<ApiEmulator> MakeCsvEmulator();

}  // namespace octohub::testing::emulation
