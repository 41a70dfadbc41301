// An OAuth 2.0 client-credentials API with short-lived tokens (OAuth2Emulator).
#include <chrono>
#include <map>
#include <mutex>

#include "api_emulator_kit.h"

namespace octohub::testing {
namespace emulation {

// ---------------------------------------------------------------------------------------------
// OAuth 2.0: a client-credentials token endpoint (RFC 6749 §4.4, client authenticated by HTTP
// Basic or in the body, §2.3.1) and a resource API taking bearer tokens (RFC 6750), with
// 2-second tokens.
class OAuth2Api final : public ApiModel {
 public:
  OAuth2Api() : records_(SampleRecords(kCount)) {}

  TestResponse Handle(const TestRequest& request) override {
    if (request.path == "/oauth/token") return Token(request);
    if (request.path == "/v1/records") return Records(request);
    return JsonResponse(404, {{"error", "not_found"}});
  }

  json::object Source(const std::string& base_url) const override {
    return {{"url", base_url + "/v1/records"},
            {"auth",
             {{"type", "oauth2"},
              {"token_url", base_url + "/oauth/token"},
              {"client_id", kClientId},
              {"client_secret", kClientSecret},
              {"scope", kScope}}},
            {"records", "/data"},
            {"id", "/id"},
            {"pagination",
             {{"type", "page"},
              {"param", "page"},
              {"start", 1},
              {"size_param", "per_page"},
              {"size", 20},
              {"pages_path", "/meta/total_pages"}}},
            // Ten pages at three a second outlast a two-second token.
            {"rate_limit", {{"requests_per_second", 3}, {"max_wait_s", 30}}},
            {"index", IndexFields("/title", {"/body"}, {{"status", "/status"}},
                                  {{"updated", "/updated_at"}}, {{"priority", "/priority"}})}};
  }

  std::set<std::string> ExpectedIds() const override {
    std::set<std::string> ids;
    for (const auto& r : records_) ids.insert("rec_" + Padded(r.number, 4));
    return ids;
  }

  int tokens_issued() const {
    std::lock_guard lock(mutex_);
    return tokens_issued_;
  }
  int expired_token_rejections() const {
    std::lock_guard lock(mutex_);
    return expired_rejections_;
  }

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr int kCount = 200;
  static constexpr int kTokenLifetimeSeconds = 2;
  static constexpr const char* kClientId = "octohub-emulator-client";
  static constexpr const char* kClientSecret = "emu-client-secret-9f8e7d6c";
  static constexpr const char* kScope = "records:read";

  // RFC 6749 §5.2 error answers; invalid_client after Basic auth is a 401 with a challenge.
  static TestResponse TokenError(int status, const std::string& error,
                                 const std::string& description) {
    TestResponse response =
        JsonResponse(status, {{"error", error}, {"error_description", description}});
    SetHeader(response, "Cache-Control", "no-store");
    SetHeader(response, "Pragma", "no-cache");
    if (status == 401) SetHeader(response, "WWW-Authenticate", "Basic realm=\"emulator\"");
    return response;
  }

  TestResponse Token(const TestRequest& request) {
    if (request.method != "POST") {
      return TokenError(405, "invalid_request", "the token endpoint takes POST only");
    }
    if (HeaderOf(request, "content-type").rfind("application/x-www-form-urlencoded", 0) != 0) {
      return TokenError(400, "invalid_request",
                        "the token request must be application/x-www-form-urlencoded");
    }
    auto form = ParseForm(request.body);
    std::optional<Credentials> client;
    if (auto basic = BasicCredentials(request)) {
      // Basic credentials are form-encoded before base64 (RFC 6749 §2.3.1).
      auto decoded = ParseForm("id=" + basic->user + "&secret=" + basic->password);
      client = Credentials{decoded["id"], decoded["secret"]};
    }
    if (form.count("client_id") || form.count("client_secret")) {
      if (client) {
        return TokenError(400, "invalid_request", "use one client authentication method, not two");
      }
      client = Credentials{form["client_id"], form["client_secret"]};
    }
    if (!client || client->user != kClientId || client->password != kClientSecret) {
      return TokenError(401, "invalid_client", "client authentication failed");
    }
    if (!form.count("grant_type"))
      return TokenError(400, "invalid_request", "grant_type is missing");
    if (form["grant_type"] != "client_credentials") {
      return TokenError(400, "unsupported_grant_type",
                        "this server grants client_credentials only");
    }
    if (form.count("scope") && form["scope"] != kScope) {
      return TokenError(400, "invalid_scope", "the only scope is " + std::string(kScope));
    }
    std::string token;
    {
      std::lock_guard lock(mutex_);
      ++tokens_issued_;
      token = "emu-at-" + Padded(tokens_issued_, 6) + "-" + Uuid(tokens_issued_, 41).substr(0, 8);
      expiry_[token] = Clock::now() + std::chrono::seconds(kTokenLifetimeSeconds);
    }
    TestResponse response = JsonResponse(200, {{"access_token", token},
                                               {"token_type", "Bearer"},
                                               {"expires_in", kTokenLifetimeSeconds},
                                               {"scope", kScope}});
    SetHeader(response, "Cache-Control", "no-store");
    SetHeader(response, "Pragma", "no-cache");
    return response;
  }

  TestResponse Records(const TestRequest& request) {
    auto token = BearerToken(request);
    if (!token) {
      // No credentials at all: a bare challenge, without an error code (RFC 6750 §3.1).
      TestResponse response = JsonResponse(401, {{"message", "an access token is required"}});
      SetHeader(response, "WWW-Authenticate", "Bearer realm=\"emulator\"");
      return response;
    }
    {
      std::lock_guard lock(mutex_);
      auto it = expiry_.find(*token);
      const bool expired = it != expiry_.end() && Clock::now() >= it->second;
      if (it == expiry_.end() || expired) {
        if (expired) ++expired_rejections_;
        const std::string why =
            expired ? "The access token expired" : "The access token is unknown";
        TestResponse response =
            JsonResponse(401, {{"error", "invalid_token"}, {"error_description", why}});
        SetHeader(response, "WWW-Authenticate",
                  "Bearer realm=\"emulator\", error=\"invalid_token\", error_description=\"" + why +
                      "\"");
        return response;
      }
    }
    std::int64_t page = 1;
    std::int64_t per_page = 10;
    for (auto [name, target, max] : {std::tuple{"page", &page, std::int64_t{1000000}},
                                     std::tuple{"per_page", &per_page, std::int64_t{20}}}) {
      if (auto text = QueryOf(request, name)) {
        auto parsed = ParseInteger(*text);
        if (!parsed || *parsed < 1 || *parsed > max) {
          return JsonResponse(400,
                              {{"error", "invalid_request"},
                               {"error_description",
                                std::string(name) + " must be from 1 to " + std::to_string(max)}});
        }
        *target = *parsed;
      }
    }
    json::array data;
    for (std::int64_t i = (page - 1) * per_page;
         i < std::min<std::int64_t>(page * per_page, kCount); ++i) {
      const SampleRecord& r = records_[i];
      data.push_back({{"id", "rec_" + Padded(r.number, 4)},
                      {"title", r.title},
                      {"body", r.body},
                      {"status", r.state},
                      {"updated_at", r.updated_at},
                      {"priority", r.number % 5}});
    }
    return JsonResponse(200, {{"data", std::move(data)},
                              {"meta",
                               {{"page", page},
                                {"per_page", per_page},
                                {"total", kCount},
                                {"total_pages", (kCount + per_page - 1) / per_page}}}});
  }

  const std::vector<SampleRecord> records_;
  mutable std::mutex mutex_;
  std::map<std::string, Clock::time_point> expiry_;  // every token issued, by value
  int tokens_issued_ = 0;
  int expired_rejections_ = 0;
};

}  // namespace emulation

OAuth2Emulator::OAuth2Emulator()
    : api_(std::make_shared<emulation::OAuth2Api>()),
      server_([api = api_](const TestRequest& request) { return api->Handle(request); }) {}

OAuth2Emulator::~OAuth2Emulator() = default;

std::string OAuth2Emulator::name() const { return "oauth2"; }

std::string OAuth2Emulator::documentation() const {
  return "https://datatracker.ietf.org/doc/html/rfc6749#section-4.4";
}

std::string OAuth2Emulator::SourceDocument() const {
  boost::json::object source = api_->Source(server_.url(""));
  source["name"] = name();
  return boost::json::serialize(source);
}

std::set<std::string> OAuth2Emulator::ExpectedIds() const { return api_->ExpectedIds(); }

const HttpTestServer& OAuth2Emulator::server() const { return server_; }

int OAuth2Emulator::tokens_issued() const { return api_->tokens_issued(); }

int OAuth2Emulator::expired_token_rejections() const { return api_->expired_token_rejections(); }

}  // namespace octohub::testing
