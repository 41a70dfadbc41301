// Access tokens for an oauth2 source: RFC 6749 §4.4 (client credentials) or §6 (refresh
// token). A token is fetched before the first request, reused until shortly before it
// expires, and fetched again when it has expired or the API answered 401. One per run; not
// thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "octohub/core/secrets.h"
#include "octohub/core/source_spec.h"
#include "octohub/core/status.h"
#include "octohub/ingest/http_fetcher.h"

namespace octohub::ingest {

class OAuth2Client {
 public:
  using Clock = std::chrono::steady_clock;
  // send: how a request reaches the token endpoint (the run's retrying fetch). Every token
  // received is handed to on_token, so that it can be hidden in what the run reports.
  OAuth2Client(OAuth2Spec spec, Credentials::OAuth2Secrets secrets,
               std::function<Result<HttpResponse>(const HttpRequest&)> send,
               std::function<void(const std::string&)> on_token);

  // The token to send, fetching one when there is none or it has expired. A refusal by the
  // token endpoint names the endpoint and the error code it gave, never a secret.
  Result<std::string> Token(Clock::time_point now = Clock::now());
  // The API refused the token in hand: the next Token() fetches another.
  void Invalidate() { token_.reset(); }
  // Whether the token in hand was fetched for the request being sent (a 401 with a token
  // that fresh is not a matter of expiry).
  bool just_fetched() const { return just_fetched_; }

 private:
  Result<std::string> Fetch(Clock::time_point now);

  OAuth2Spec spec_;
  Credentials::OAuth2Secrets secrets_;
  std::function<Result<HttpResponse>(const HttpRequest&)> send_;
  std::function<void(const std::string&)> on_token_;
  std::optional<std::string> token_;
  std::optional<Clock::time_point> expires_;  // none: until the API refuses it
  bool just_fetched_ = false;
};

// The body of a token request, form-encoded (RFC 6749 Appendix B).
std::string TokenRequestBody(const OAuth2Spec& spec, const Credentials::OAuth2Secrets& secrets);

}  // namespace octohub::ingest
