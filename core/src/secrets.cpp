#include "octohub/core/secrets.h"

#include <algorithm>
#include <cstdlib>

namespace octohub {
namespace {

std::string& Prefix() {
  static std::string prefix = kDefaultSecretEnvPrefix;
  return prefix;
}

std::string PrefixRule() {
  return "must name an environment variable whose name begins with " + SecretEnvPrefix() +
         " (see --secret-env-prefix)";
}

}  // namespace

void SetSecretEnvPrefix(std::string prefix) {
  if (!prefix.empty()) Prefix() = std::move(prefix);
}

const std::string& SecretEnvPrefix() { return Prefix(); }

void CheckSecretEnv(const Secret& secret, const std::string& pointer,
                    std::vector<FieldError>& errors) {
  if (secret.env.empty() || secret.env.starts_with(SecretEnvPrefix())) return;
  errors.push_back({pointer, PrefixRule()});
}

void CheckAuthSecretEnv(const AuthSpec& auth, const std::string& at,
                        std::vector<FieldError>& errors) {
  CheckSecretEnv(auth.token, at + "/token_env", errors);
  CheckSecretEnv(auth.username, at + "/username_env", errors);
  CheckSecretEnv(auth.password, at + "/password_env", errors);
  CheckSecretEnv(auth.value, at + "/value_env", errors);
  CheckSecretEnv(auth.oauth2.client_secret, at + "/client_secret_env", errors);
  CheckSecretEnv(auth.oauth2.refresh_token, at + "/refresh_token_env", errors);
}

Result<std::string> RevealSecret(const Secret& secret, const std::string& where) {
  if (secret.env.empty()) return secret.value;
  if (!secret.env.starts_with(SecretEnvPrefix())) {
    return FailedPrecondition(where + ": the environment variable " + secret.env +
                              " may not be read: secrets come only from variables whose names "
                              "begin with " +
                              SecretEnvPrefix() + " (see --secret-env-prefix)");
  }
  const char* value = std::getenv(secret.env.c_str());
  if (value == nullptr) {
    return FailedPrecondition("the environment variable " + secret.env + " (for " + where +
                              ") is not set");
  }
  return std::string(value);
}

Result<Credentials> RevealCredentials(const AuthSpec& auth) {
  Credentials out;
  auto reveal = [&out](const Secret& secret, const char* where) -> Result<std::string> {
    auto value = RevealSecret(secret, where);
    if (value.ok()) out.secrets.push_back(*value);
    return value;
  };
  switch (auth.type) {
    case AuthSpec::Type::kNone:
      break;
    case AuthSpec::Type::kBearer: {
      auto token = reveal(auth.token, "/auth/token");
      if (!token.ok()) return token.status();
      out.headers.emplace_back("Authorization", "Bearer " + *token);
      break;
    }
    case AuthSpec::Type::kBasic: {
      auto user = RevealSecret(auth.username, "/auth/username");  // a name, not hidden
      if (!user.ok()) return user.status();
      auto password = reveal(auth.password, "/auth/password");
      if (!password.ok()) return password.status();
      out.basic = {*user, *password};
      break;
    }
    case AuthSpec::Type::kHeader:
    case AuthSpec::Type::kQuery: {
      auto value = reveal(auth.value, "/auth/value");
      if (!value.ok()) return value.status();
      (auth.type == AuthSpec::Type::kHeader ? out.headers : out.query)
          .emplace_back(auth.name, *value);
      break;
    }
    case AuthSpec::Type::kOAuth2: {
      auto client_secret = reveal(auth.oauth2.client_secret, "/auth/client_secret");
      if (!client_secret.ok()) return client_secret.status();
      Credentials::OAuth2Secrets secrets{*client_secret, ""};
      if (auth.oauth2.grant == OAuth2Spec::Grant::kRefreshToken) {
        auto refresh = reveal(auth.oauth2.refresh_token, "/auth/refresh_token");
        if (!refresh.ok()) return refresh.status();
        secrets.refresh_token = *refresh;
      }
      out.oauth2 = std::move(secrets);
      break;
    }
  }
  return out;
}

void SecretScrubber::AddValue(const std::string& value) {
  if (value.size() < 3) return;
  // Kept longest first, so that a value that contains another is hidden whole.
  auto at = std::find_if(values_.begin(), values_.end(),
                         [&](const std::string& kept) { return kept.size() < value.size(); });
  values_.insert(at, value);
}

void SecretScrubber::AddQueryParam(const std::string& name) {
  if (!name.empty()) query_params_.push_back(name);
}

std::string SecretScrubber::Scrub(std::string text) const {
  for (const auto& value : values_) {
    for (std::size_t at = text.find(value); at != std::string::npos;
         at = text.find(value, at + 3)) {
      text.replace(at, value.size(), "***");
    }
  }
  // "?name=value" and "&name=value", the value however it was encoded.
  for (const auto& name : query_params_) {
    const std::string key = name + "=";
    for (std::size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + 1)) {
      if (at == 0 || (text[at - 1] != '?' && text[at - 1] != '&')) continue;
      const std::size_t begin = at + key.size();
      const std::size_t end = text.find_first_of("&#\"' )\n\t", begin);
      text.replace(begin, (end == std::string::npos ? text.size() : end) - begin, "***");
    }
  }
  // "scheme://userinfo@": everything between "://" and an "@" before the next "/".
  for (std::size_t at = text.find("://"); at != std::string::npos; at = text.find("://", at + 3)) {
    const std::size_t begin = at + 3;
    const std::size_t authority_end = text.find_first_of("/?#\"' \n\t", begin);
    const std::size_t sign =
        text.rfind('@', authority_end == std::string::npos ? std::string::npos : authority_end - 1);
    if (sign == std::string::npos || sign < begin) continue;
    if (authority_end != std::string::npos && sign >= authority_end) continue;
    text.replace(begin, sign - begin, "***");
  }
  return text;
}

std::string RedactUrl(const std::string& url, const std::string& query_param) {
  SecretScrubber scrubber;
  scrubber.AddQueryParam(query_param);
  return scrubber.Scrub(url);
}

}  // namespace octohub
