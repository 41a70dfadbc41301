#include "octohub/api/keys.h"

#include <sodium.h>

#include <pqxx/pqxx>

#include "octohub/core/log.h"

namespace octohub::api {
namespace {

constexpr const char* kKeyPrefix = "ohk_";
constexpr const char* kKeyColumns =
    "id, name, role, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
    "to_char(last_used_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')";

std::string Sha256Hex(std::string_view text) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
  return hex;
}

ApiKey ReadKey(const pqxx::row& row) {
  ApiKey key;
  key.id = row[0].as<std::int64_t>();
  key.name = row[1].as<std::string>();
  key.role = ParseRole(row[2].as<std::string>()).value_or(Role::kRead);
  key.created_at = row[3].as<std::string>();
  if (!row[4].is_null()) key.last_used_at = row[4].as<std::string>();
  return key;
}

}  // namespace

std::optional<Role> ParseRole(std::string_view name) {
  if (name == "read") return Role::kRead;
  if (name == "write") return Role::kWrite;
  if (name == "admin") return Role::kAdmin;
  return std::nullopt;
}

const char* RoleName(Role role) {
  switch (role) {
    case Role::kPublic:
      return "public";
    case Role::kRead:
      return "read";
    case Role::kWrite:
      return "write";
    case Role::kAdmin:
      return "admin";
  }
  return "read";
}

boost::json::object ApiKeyToJson(const ApiKey& key) {
  return {{"id", key.id},
          {"name", key.name},
          {"role", RoleName(key.role)},
          {"created_at", key.created_at},
          {"last_used_at", key.last_used_at ? boost::json::value(*key.last_used_at) : nullptr}};
}

Result<KeyStore::Created> KeyStore::Create(Role role, const std::string& name) {
  if (sodium_init() < 0) return Internal("libsodium could not be initialised");
  unsigned char random[32];
  randombytes_buf(random, sizeof(random));
  char encoded[sodium_base64_ENCODED_LEN(sizeof(random), sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(encoded, sizeof(encoded), random, sizeof(random),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  const std::string secret = std::string(kKeyPrefix) + encoded;
  return WithConnection(db_, "creating an API key", [&](pqxx::connection& c) -> Result<Created> {
    pqxx::work tx(c);
    auto row = tx.exec_params1(std::string("INSERT INTO api_keys (name, role, key_hash) "
                                           "VALUES ($1, $2, $3) RETURNING ") +
                                   kKeyColumns,
                               name, RoleName(role), Sha256Hex(secret));
    tx.commit();
    return Created{ReadKey(row), secret};
  });
}

Result<std::vector<ApiKey>> KeyStore::List() {
  return WithConnection(
      db_, "listing API keys", [&](pqxx::connection& c) -> Result<std::vector<ApiKey>> {
        pqxx::read_transaction tx(c);
        std::vector<ApiKey> keys;
        for (const auto& row : tx.exec(std::string("SELECT ") + kKeyColumns +
                                       " FROM api_keys WHERE revoked_at IS NULL ORDER BY id")) {
          keys.push_back(ReadKey(row));
        }
        return keys;
      });
}

Status KeyStore::Revoke(std::int64_t id) {
  Status status = WithConnection(db_, "revoking an API key", [&](pqxx::connection& c) -> Status {
    pqxx::work tx(c);
    auto result = tx.exec_params0(
        "UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", id);
    tx.commit();
    if (result.affected_rows() == 0) return NotFound("no API key " + std::to_string(id));
    return Status::Ok();
  });
  if (status.ok()) {
    std::lock_guard lock(mutex_);
    cache_.clear();  // revocation takes effect here at once
  }
  return status;
}

Result<bool> KeyStore::HasActiveKeys() {
  return WithConnection(db_, "counting API keys", [&](pqxx::connection& c) -> Result<bool> {
    pqxx::read_transaction tx(c);
    return !tx.exec("SELECT 1 FROM api_keys WHERE revoked_at IS NULL LIMIT 1").empty();
  });
}

Result<std::optional<ApiKey>> KeyStore::Authenticate(std::string_view secret) {
  const std::string hash = Sha256Hex(secret);
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    auto it = cache_.find(hash);
    if (it != cache_.end() && it->second.expires > now) return it->second.key;
    if (cache_.size() > 10000) cache_.clear();  // bounded, whatever strangers send
  }
  // A read: a stranger's wrong key costs no write. A key found has its use recorded, at most
  // once per cache period; a database that refuses the write does not refuse the key.
  auto found = WithConnection(
      db_, "checking an API key", [&](pqxx::connection& c) -> Result<std::optional<ApiKey>> {
        pqxx::nontransaction tx(c);
        auto rows = tx.exec_params(std::string("SELECT ") + kKeyColumns +
                                       " FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
                                   hash);
        if (rows.empty()) return std::optional<ApiKey>();
        ApiKey key = ReadKey(rows[0]);
        try {
          tx.exec_params0("UPDATE api_keys SET last_used_at = now() WHERE id = $1", key.id);
        } catch (const pqxx::sql_error& e) {
          log::Warn("keys.last_used_not_recorded", {{"key", key.name}, {"reason", e.what()}});
        }
        return std::optional<ApiKey>(key);
      });
  if (!found.ok()) return found.status();
  std::lock_guard lock(mutex_);
  cache_[hash] = Cached{*found, now + std::chrono::seconds(kKeyCacheSeconds)};
  return found;
}

}  // namespace octohub::api
