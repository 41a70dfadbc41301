// How every request to a source's API is sent, by runs and by previews alike: its headers and
// credentials (secrets read now, credentials only to the source's own origin, OAuth2 tokens
// fetched and renewed), its rate limit, retries of what is worth retrying, and rate-limit
// answers waited out. One per run or preview; calls come from one thread at a time.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <stop_token>
#include <string>

#include "oauth2_client.h"
#include "octohub/core/secrets.h"
#include "octohub/core/source_spec.h"
#include "octohub/core/status.h"
#include "octohub/ingest/http_fetcher.h"
#include "octohub/ingest/ingest.h"
#include "retry_policy.h"

namespace octohub::ingest {

// What the owner of the client does while it works.
struct ClientHooks {
  // Before every request and every second of a wait (a run renews its lease); an error stops
  // the request with it.
  std::function<Status()> keep_alive = [] { return Status::Ok(); };
  // A rate-limit wait starts (how long) or ends (nullopt): a run shows it as waiting_until.
  std::function<void(std::optional<Millis>)> waiting = [](std::optional<Millis>) {};
};

class SourceClient {
 public:
  // Reads the source's secrets; fails naming the one that cannot be read. log_fields name
  // the run (or preview) in log lines.
  static Result<std::unique_ptr<SourceClient>> Open(const SourceSpec& spec, HttpFetcher& fetcher,
                                                    const RetryPolicy& retry, std::stop_token stop,
                                                    ClientHooks hooks,
                                                    boost::json::object log_fields);

  // The request every page shares: method, timeout, headers, credentials.
  const HttpRequest& base_request() const { return base_; }
  // The auth query parameter with its secret, for the page planner.
  const NamedValues& credential_query() const { return credential_query_; }
  // Hides the source's secrets (and tokens received) in what is shown to people.
  const SecretScrubber& scrubber() const { return scrubber_; }

  // Sends a page request (what: "page 3 (url)", for messages) with a current token; a
  // non-2xx answer that is not worth retrying is an error quoting the start of the body.
  // kCancelled when stopped.
  Result<HttpResponse> Fetch(HttpRequest request, const std::string& what);

 private:
  SourceClient(const SourceSpec& spec, HttpFetcher& fetcher, const RetryPolicy& retry,
               std::stop_token stop, ClientHooks hooks, boost::json::object log_fields);
  Result<HttpResponse> FetchOnce(const HttpRequest& request, const std::string& what);
  Status WaitForRateLimit(Millis wait, const std::string& what);

  const SourceSpec& spec_;
  HttpFetcher& fetcher_;
  const RetryPolicy& retry_;
  std::stop_token stop_;
  ClientHooks hooks_;
  boost::json::object log_fields_;
  HttpRequest base_;
  NamedValues credential_query_;
  std::unique_ptr<OAuth2Client> oauth2_;
  RateLimiter limiter_;
  SecretScrubber scrubber_;
  std::mt19937_64 random_{std::random_device{}()};  // backoff jitter
};

// Sleeps in short slices so that a stop request is honoured promptly; false if stopped.
bool SleepUnlessStopped(Millis wait, const std::stop_token& stop);

}  // namespace octohub::ingest
