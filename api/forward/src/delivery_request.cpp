#include "octohub/forward/delivery_request.h"

#include <sodium.h>
#include <strings.h>

#include <algorithm>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <cstring>

#include "octohub/core/hmac.h"
#include "octohub/core/retry.h"
#include "octohub/core/secrets.h"
#include "octohub/forward/specs.h"

namespace octohub::forward {
Result<DeliveryRequest> BuildDeliveryRequest(const TargetSpec& spec, std::int64_t delivery_id,
                                             std::string_view body,
                                             std::chrono::system_clock::time_point now) {
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
    const std::string id = std::to_string(delivery_id);
    const std::int64_t timestamp =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    auto signature = StandardWebhookSignature(*secret, id, timestamp, body);
    if (!signature.ok()) return signature.status();
    out.headers.push_back("webhook-id: " + id);
    out.headers.push_back("webhook-timestamp: " + std::to_string(timestamp));
    out.headers.push_back("webhook-signature: " + *signature);
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
  const std::string mac = HmacSha256(secret, body);
  static const char* kHex = "0123456789abcdef";
  std::string out = "sha256=";
  for (const char c : mac) {
    const auto byte = static_cast<unsigned char>(c);
    out += kHex[byte >> 4];
    out += kHex[byte & 15];
  }
  return out;
}

Result<std::string> StandardWebhookSignature(std::string_view secret, std::string_view id,
                                             std::int64_t timestamp, std::string_view body) {
  std::string key(secret);
  constexpr std::string_view kPrefix = "whsec_";
  if (secret.starts_with(kPrefix)) {
    const std::string_view encoded = secret.substr(kPrefix.size());
    key.assign(encoded.size(), '\0');
    size_t length = 0;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(key.data()), key.size(), encoded.data(),
                          encoded.size(), nullptr, &length, nullptr,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        length == 0) {
      return InvalidArgument(
          "the target's secret starts with whsec_ but the rest is not base64; give the secret "
          "as the receiver's library shows it");
    }
    key.resize(length);
  }
  std::string signed_text;
  signed_text.reserve(id.size() + body.size() + 24);
  signed_text.append(id).append(".").append(std::to_string(timestamp)).append(".").append(body);
  const std::string mac = HmacSha256(key, signed_text);
  std::string encoded(sodium_base64_ENCODED_LEN(mac.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(encoded.data(), encoded.size(),
                    reinterpret_cast<const unsigned char*>(mac.data()), mac.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  encoded.resize(std::strlen(encoded.c_str()));
  return "v1," + encoded;
}

std::chrono::milliseconds RetryDelay(int attempts, const RetrySchedule& schedule, double jitter01) {
  if (schedule.empty()) return std::chrono::milliseconds(0);
  const size_t index =
      std::min(static_cast<size_t>(std::max(attempts, 1) - 1), schedule.size() - 1);
  const double wait = static_cast<double>(schedule[index].count());
  return std::chrono::milliseconds(
      static_cast<std::int64_t>(wait * (1.0 - 0.2 * std::clamp(jitter01, 0.0, 1.0))));
}

}  // namespace octohub::forward
