#include "source_client.h"

#include <thread>

#include "octohub/core/log.h"
#include "page_extractor.h"

namespace octohub::ingest {
namespace {

// A source has at most this many rate-limit waits in a row for one request: an API that
// never stops asking to wait is an error, not a reason to wait forever.
constexpr int kMaxWaitsInARow = 20;

std::string Seconds(Millis wait) { return std::to_string((wait.count() + 999) / 1000) + " s"; }

Status Cancelled() { return Status(StatusCode::kCancelled, "stopped"); }

}  // namespace

bool SleepUnlessStopped(Millis wait, const std::stop_token& stop) {
  const auto until = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < until) {
    if (stop.stop_requested()) return false;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        Millis(100), until - std::chrono::steady_clock::now()));
  }
  return !stop.stop_requested();
}

SourceClient::SourceClient(const SourceSpec& spec, HttpFetcher& fetcher, const RetryPolicy& retry,
                           std::stop_token stop, ClientHooks hooks, boost::json::object log_fields)
    : spec_(spec),
      fetcher_(fetcher),
      retry_(retry),
      stop_(std::move(stop)),
      hooks_(std::move(hooks)),
      log_fields_(std::move(log_fields)),
      limiter_(spec.requests_per_second) {}

Result<std::unique_ptr<SourceClient>> SourceClient::Open(const SourceSpec& spec,
                                                         HttpFetcher& fetcher,
                                                         const RetryPolicy& retry,
                                                         std::stop_token stop, ClientHooks hooks,
                                                         boost::json::object log_fields) {
  std::unique_ptr<SourceClient> client(new SourceClient(spec, fetcher, retry, std::move(stop),
                                                        std::move(hooks), std::move(log_fields)));
  HttpRequest& request = client->base_;
  request.method = spec.method;
  request.timeout_s = spec.timeout_s;
  request.headers = spec.headers;
  if (spec.body) request.headers.emplace_back("Content-Type", "application/json");
  request.stop = client->stop_;  // a stop does not wait for a slow upstream
  request.credentials_origin = UrlOrigin(spec.url);
  // Secrets are read now, not when the source was saved; each one read is hidden from then on.
  auto credentials = RevealCredentials(spec.auth);
  if (!credentials.ok()) return credentials.status();
  for (const auto& secret : credentials->secrets) client->scrubber_.AddValue(secret);
  if (spec.auth.type == AuthSpec::Type::kQuery) client->scrubber_.AddQueryParam(spec.auth.name);
  request.credential_headers = std::move(credentials->headers);
  request.basic_auth = std::move(credentials->basic);
  client->credential_query_ = std::move(credentials->query);
  if (credentials->oauth2) {
    SourceClient* self = client.get();
    client->oauth2_ = std::make_unique<OAuth2Client>(
        spec.auth.oauth2, std::move(*credentials->oauth2),
        [self](const HttpRequest& token_request) -> Result<HttpResponse> {
          HttpRequest sent = token_request;
          sent.timeout_s = self->spec_.timeout_s;
          sent.stop = self->stop_;
          return self->FetchOnce(sent, "the token endpoint " + self->spec_.auth.oauth2.token_url);
        },
        [self](const std::string& token) { self->scrubber_.AddValue(token); });
  }
  return client;
}

Status SourceClient::WaitForRateLimit(Millis wait, const std::string& what) {
  const Millis most(static_cast<std::int64_t>(spec_.max_wait_s * 1000));
  if (wait > most) {
    return Unavailable(what + ": the API's rate limit asks to wait " + Seconds(wait) +
                       ", longer than max_wait_s (" + Seconds(most) + ")");
  }
  boost::json::object fields = log_fields_;
  fields["wait_ms"] = wait.count();
  fields["request"] = scrubber_.Scrub(what);
  log::Info("fetch.rate_limited", std::move(fields));
  hooks_.waiting(wait);
  const auto until = std::chrono::steady_clock::now() + wait;
  Status outcome;
  while (std::chrono::steady_clock::now() < until) {
    const auto left = std::chrono::ceil<Millis>(until - std::chrono::steady_clock::now());
    if (!SleepUnlessStopped(std::min(left, Millis(1000)), stop_)) {
      outcome = Cancelled();
      break;
    }
    if (outcome = hooks_.keep_alive(); !outcome.ok()) break;
  }
  hooks_.waiting(std::nullopt);
  return outcome;
}

// One request, retrying what is worth retrying, within the source's rate limit; rate-limit
// answers are waited out, not counted as failed attempts. 401 and 403 go back to the caller.
Result<HttpResponse> SourceClient::FetchOnce(const HttpRequest& request, const std::string& what) {
  int waits = 0;
  for (int attempt = 1;; ++attempt) {
    if (Status s = hooks_.keep_alive(); !s.ok()) return s;
    if (!SleepUnlessStopped(limiter_.Reserve(RateLimiter::Clock::now()), stop_)) {
      return Cancelled();
    }
    auto outcome = fetcher_.Fetch(request);
    if (!outcome.ok() && outcome.status().code() == StatusCode::kCancelled) return Cancelled();
    if (outcome.ok() && outcome->status >= 200 && outcome->status <= 299) return outcome;
    if (outcome.ok()) {
      if (auto wait = RateLimitWait(*outcome, std::chrono::system_clock::now())) {
        if (++waits > kMaxWaitsInARow) {
          return Unavailable(what + ": the API still asks to wait after " +
                             std::to_string(kMaxWaitsInARow) + " waits for its rate limit");
        }
        if (Status s = WaitForRateLimit(*wait, what); !s.ok()) return s;
        --attempt;  // a wait asked for is not a failed attempt
        continue;
      }
      if (outcome->status == 401 || outcome->status == 403) return outcome;
    }
    const std::string tries =
        attempt == 1 ? "" : " (after " + std::to_string(attempt) + " attempts)";
    if (!IsRetryable(outcome)) {
      if (!outcome.ok()) return outcome.status().WithContext(what + tries);
      return outcome;  // a refusal: the caller words it
    }
    if (attempt >= retry_.max_attempts) {
      if (!outcome.ok()) return outcome.status().WithContext(what + tries);
      return Unavailable(what + ": the upstream answered HTTP " + std::to_string(outcome->status) +
                         tries + ": " + BodyExcerpt(outcome->body));
    }
    std::optional<Millis> retry_after;
    if (outcome.ok()) {
      if (auto header = outcome->Header("retry-after")) {
        retry_after = ParseRetryAfter(*header, std::chrono::system_clock::now());
      }
    }
    const Millis delay = RetryDelay(retry_, attempt, retry_after, random_);
    boost::json::object fields = log_fields_;
    fields["request"] = scrubber_.Scrub(what);
    fields["attempt"] = attempt;
    fields["delay_ms"] = delay.count();
    fields["reason"] = outcome.ok() ? "HTTP " + std::to_string(outcome->status)
                                    : scrubber_.Scrub(outcome.status().message());
    log::Warn("fetch.retry", std::move(fields));
    if (!SleepUnlessStopped(delay, stop_)) return Cancelled();
  }
}

Result<HttpResponse> SourceClient::Fetch(HttpRequest request, const std::string& what) {
  for (int round = 0;; ++round) {
    if (oauth2_) {
      auto token = oauth2_->Token();
      if (!token.ok()) return token.status();
      request.credential_headers = {{"Authorization", "Bearer " + *token}};
    }
    auto response = FetchOnce(request, what);
    if (!response.ok()) return response;
    if (response->status >= 200 && response->status <= 299) return response;
    // A token may expire early or be revoked: one more try with a new one, unless the
    // refused token had just been issued.
    if (oauth2_ && response->status == 401 && round == 0 && !oauth2_->just_fetched()) {
      oauth2_->Invalidate();
      continue;
    }
    return Unavailable(what + ": the upstream answered HTTP " + std::to_string(response->status) +
                       (response->status == 401 ? " (the credentials were refused)" : "") + ": " +
                       BodyExcerpt(response->body));
  }
}

}  // namespace octohub::ingest
