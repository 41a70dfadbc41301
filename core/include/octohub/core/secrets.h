// Secrets that sources and targets take from the environment ("…_env": "VAR"). Only variables
// whose names begin with the secret prefix may be named: a key allowed to write a source must
// not be able to make the server send its other variables (DATABASE_URL, say) upstream.
#pragma once

#include <string>
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

}  // namespace octohub
