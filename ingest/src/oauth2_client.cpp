#include "oauth2_client.h"

#include <strings.h>

#include <algorithm>
#include <boost/json.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include "page_extractor.h"

namespace octohub::ingest {
namespace json = boost::json;
namespace {

std::string FormEncode(std::string_view value) {
  return boost::urls::encode(value, boost::urls::unreserved_chars);
}

// "expires_in" as seconds: a number, or digits in a string (some servers quote it).
std::optional<double> ExpiresIn(const json::object& answer) {
  const json::value* value = answer.if_contains("expires_in");
  if (value == nullptr) return std::nullopt;
  if (value->is_number()) return value->to_number<double>();
  if (value->is_string()) {
    const std::string text(value->get_string());
    if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos &&
        text.size() < 10) {
      return std::stod(text);
    }
  }
  return std::nullopt;
}

}  // namespace

std::string TokenRequestBody(const OAuth2Spec& spec, const Credentials::OAuth2Secrets& secrets) {
  std::string body;
  auto add = [&body](std::string_view key, std::string_view value) {
    body += (body.empty() ? "" : "&") + FormEncode(key) + "=" + FormEncode(value);
  };
  if (spec.grant == OAuth2Spec::Grant::kRefreshToken) {
    add("grant_type", "refresh_token");
    add("refresh_token", secrets.refresh_token);
  } else {
    add("grant_type", "client_credentials");
  }
  if (!spec.scope.empty()) add("scope", spec.scope);
  if (spec.client_auth == OAuth2Spec::ClientAuth::kBody) {
    add("client_id", spec.client_id);
    add("client_secret", secrets.client_secret);
  }
  return body;
}

OAuth2Client::OAuth2Client(OAuth2Spec spec, Credentials::OAuth2Secrets secrets,
                           std::function<Result<HttpResponse>(const HttpRequest&)> send,
                           std::function<void(const std::string&)> on_token)
    : spec_(std::move(spec)),
      secrets_(std::move(secrets)),
      send_(std::move(send)),
      on_token_(std::move(on_token)) {}

Result<std::string> OAuth2Client::Token(Clock::time_point now) {
  if (token_ && (!expires_ || now < *expires_)) {
    just_fetched_ = false;
    return *token_;
  }
  return Fetch(now);
}

Result<std::string> OAuth2Client::Fetch(Clock::time_point now) {
  token_.reset();
  HttpRequest request;
  request.method = "POST";
  request.url = spec_.token_url;
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Accept", "application/json"}};
  request.body = TokenRequestBody(spec_, secrets_);
  if (spec_.client_auth == OAuth2Spec::ClientAuth::kBasic) {
    request.basic_auth = std::make_pair(spec_.client_id, secrets_.client_secret);
  }
  const std::string where = "the token endpoint " + spec_.token_url;
  auto response = send_(request);
  if (!response.ok()) return response.status();
  json::error_code ec;
  const json::value answer = json::parse(response->body, ec);
  const json::object* fields = ec ? nullptr : answer.if_object();
  if (response->status < 200 || response->status > 299) {
    // RFC 6749 §5.2: {"error": code, "error_description": text}.
    const json::value* code = fields != nullptr ? fields->if_contains("error") : nullptr;
    const json::value* text =
        fields != nullptr ? fields->if_contains("error_description") : nullptr;
    std::string reason = "HTTP " + std::to_string(response->status);
    if (code != nullptr && code->is_string()) {
      reason += ", " + std::string(code->get_string());
      if (text != nullptr && text->is_string()) {
        reason += " (" + BodyExcerpt(text->get_string(), 200) + ")";
      }
    } else {
      reason += ": " + BodyExcerpt(response->body);
    }
    return FailedPrecondition(where + " refused to issue a token: " + reason);
  }
  if (fields == nullptr) {
    return FailedPrecondition(where + " answered with something that is not a JSON object: " +
                              BodyExcerpt(response->body));
  }
  const json::value* token = fields->if_contains("access_token");
  if (token == nullptr || !token->is_string() || token->get_string().empty()) {
    return FailedPrecondition(where + " answered without an access_token");
  }
  if (const json::value* type = fields->if_contains("token_type")) {
    if (!type->is_string() || strcasecmp(type->get_string().c_str(), "bearer") != 0) {
      return FailedPrecondition(where + " issued a token of type " + json::serialize(*type) +
                                "; only bearer tokens are supported");
    }
  }
  token_ = std::string(token->get_string());
  on_token_(*token_);
  expires_.reset();
  if (auto seconds = ExpiresIn(*fields)) {
    // Renew a little before the end: a request sent with a token about to expire may arrive
    // after it has.
    const double margin = std::min(60.0, *seconds / 10);
    expires_ = now + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(std::max(0.0, *seconds - margin)));
  }
  just_fetched_ = true;
  return *token_;
}

}  // namespace octohub::ingest
