#include "octohub/forward/delivery_request.h"

#include <sodium.h>
#include <strings.h>

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include "octohub/core/retry.h"
#include "octohub/core/secrets.h"
#include "octohub/forward/specs.h"

namespace octohub::forward {
Result<DeliveryRequest> BuildDeliveryRequest(const TargetSpec& spec, std::int64_t delivery_id,
                                             std::string_view body) {
  DeliveryRequest out;
  out.url = spec.url;
  out.headers.emplace_back("Expect:");  // no 100-continue round trip before the body
  bool typed = false;
  for (const auto& [name, value] : spec.headers) {
    out.headers.push_back(name + ": " + value);
    typed = typed || strcasecmp(name.c_str(), "content-type") == 0;
  }
  if (!typed) out.headers.emplace_back("Content-Type: application/json");
  out.headers.push_back("Idempotency-Key: " + std::to_string(delivery_id));
  if (!spec.secret.value.empty() || !spec.secret.env.empty()) {
    auto secret = RevealSecret(spec.secret, "/secret");
    if (!secret.ok()) return secret.status();
    out.headers.push_back("X-Octohub-Signature: " + SignatureHeader(*secret, body));
  }
  auto credentials = RevealCredentials(spec.auth);
  if (!credentials.ok()) return credentials.status();
  for (const auto& [name, value] : credentials->headers) out.headers.push_back(name + ": " + value);
  for (const auto& [name, value] : credentials->query) {
    out.url += (out.url.find('?') == std::string::npos ? "?" : "&") +
               boost::urls::encode(name, boost::urls::unreserved_chars) + "=" +
               boost::urls::encode(value, boost::urls::unreserved_chars);
  }
  out.basic = std::move(credentials->basic);
  return out;
}

std::string SignatureHeader(std::string_view secret, std::string_view body) {
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(secret.data()),
                              secret.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(body.data()),
                                body.size());
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_final(&state, mac);
  static const char* kHex = "0123456789abcdef";
  std::string out = "sha256=";
  for (unsigned char byte : mac) {
    out += kHex[byte >> 4];
    out += kHex[byte & 15];
  }
  return out;
}

std::chrono::milliseconds RetryDelay(int attempts, double backoff_s, double jitter01) {
  return BackoffDelay(attempts,
                      std::chrono::milliseconds(static_cast<std::int64_t>(backoff_s * 1000)),
                      std::chrono::minutes(5), jitter01);
}

}  // namespace octohub::forward
