// Secrets that sources and targets take from the environment ("…_env": "VAR"). Only variables
// whose names begin with the secret prefix may be named: a key allowed to write a source must
// not be able to make the server send its other variables (DATABASE_URL, say) upstream.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "octohub/core/source_spec.h"
#include "octohub/core/status.h"

namespace octohub {

inline constexpr const char* kDefaultSecretEnvPrefix = "OCTOHUB_SECRET_";

// Set once at start, before other threads (--secret-env-prefix); never empty.
void SetSecretEnvPrefix(std::string prefix);
const std::string& SecretEnvPrefix();

// Adds a problem at `pointer` (the "…_env" member) when the secret names a variable that
// lacks the prefix.
void CheckSecretEnv(const Secret& secret, const std::string& pointer,
                    std::vector<FieldError>& errors);
// The same for every secret of an auth block at `at` ("/auth").
void CheckAuthSecretEnv(const AuthSpec& auth, const std::string& at,
                        std::vector<FieldError>& errors);

// The secret's value: its literal, or the variable it names, read now. A name without the
// prefix (stored before the rule existed) or an unset variable is an error naming `where`.
Result<std::string> RevealSecret(const Secret& secret, const std::string& where);

// An auth block with its secrets read: what a request to the API must carry. Sources and
// targets send the same credentials the same way.
struct Credentials {
  std::vector<std::pair<std::string, std::string>> headers;  // Authorization, or the named one
  std::vector<std::pair<std::string, std::string>> query;    // the auth query parameter
  std::optional<std::pair<std::string, std::string>> basic;  // user name, password
  // oauth2: the client's secrets; the access token itself is fetched when a run starts.
  struct OAuth2Secrets {
    std::string client_secret;
    std::string refresh_token;  // refresh_token grant
  };
  std::optional<OAuth2Secrets> oauth2;
  std::vector<std::string> secrets;  // every value revealed, for SecretScrubber
};

// Reads the secrets of `auth` (at "/auth/…"); the first that cannot be read is the error.
Result<Credentials> RevealCredentials(const AuthSpec& auth);

// Hides secrets in text meant for people (run errors, log lines): the values it was given, the
// value of the source's auth query parameter in any URL, and the user information of any URL
// ("https://user:pass@host" → "https://***@host"). Each becomes "***".
class SecretScrubber {
 public:
  void AddValue(const std::string& value);  // values shorter than 3 bytes only through URLs
  void AddQueryParam(const std::string& name);
  std::string Scrub(std::string text) const;

 private:
  std::vector<std::string> values_;
  std::vector<std::string> query_params_;
};

// A URL as shown to people: user information and the named query parameter's value hidden.
std::string RedactUrl(const std::string& url, const std::string& query_param = "");

}  // namespace octohub
