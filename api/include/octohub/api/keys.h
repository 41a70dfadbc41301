// API keys: created once and shown once, stored as SHA-256 hashes, each with a role.
// Thread-safe; lookups are cached for a few seconds, so a revoked key stops working within
// kKeyCacheSeconds.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "octohub/api/http.h"
#include "octohub/core/database.h"
#include "octohub/core/status.h"

namespace octohub::api {

inline constexpr int kKeyCacheSeconds = 5;

std::optional<Role> ParseRole(std::string_view name);
const char* RoleName(Role role);

struct ApiKey {
  std::int64_t id = 0;
  std::string name;
  Role role = Role::kRead;
  std::string created_at;
  std::optional<std::string> last_used_at;
};
boost::json::object ApiKeyToJson(const ApiKey& key);  // never contains the key itself

class KeyStore {
 public:
  explicit KeyStore(const Database& db) : db_(db) {}

  struct Created {
    ApiKey key;
    std::string secret;  // "ohk_…": the only time it exists outside the caller's hands
  };
  Result<Created> Create(Role role, const std::string& name);
  Result<std::vector<ApiKey>> List();
  Status Revoke(std::int64_t id);  // kNotFound for an unknown or already revoked key
  Result<bool> HasActiveKeys();

  // The key presented as a bearer token; nullopt when unknown or revoked.
  Result<std::optional<ApiKey>> Authenticate(std::string_view secret);

 private:
  const Database& db_;
  std::mutex mutex_;
  struct Cached {
    std::optional<ApiKey> key;
    std::chrono::steady_clock::time_point expires;
  };
  std::map<std::string, Cached, std::less<>> cache_;  // by key hash
};

}  // namespace octohub::api
