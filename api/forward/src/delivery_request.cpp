#include <strings.h>

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include "octohub/core/secrets.h"
#include "octohub/forward/forwarding.h"

namespace octohub::forward {
Result<DeliveryRequest> BuildDeliveryRequest(const TargetSpec& spec, std::int64_t delivery_id,
                                             std::string_view body) {
  DeliveryRequest out;
  out.url = spec.url;
  out.headers.push_back("Expect:");  // no 100-continue round trip before the body
  bool typed = false;
  for (const auto& [name, value] : spec.headers) {
    out.headers.push_back(name + ": " + value);
    typed = typed || strcasecmp(name.c_str(), "content-type") == 0;
  }
  if (!typed) out.headers.push_back("Content-Type: application/json");
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

}  // namespace octohub::forward
