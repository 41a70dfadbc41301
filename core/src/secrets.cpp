#include "octohub/core/secrets.h"

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

}  // namespace octohub
