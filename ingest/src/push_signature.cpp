// Checking pushed requests' signatures, each scheme as its sender documents it.
#include <sodium.h>

#include <charconv>
#include <string>
#include <vector>

#include "octohub/core/hmac.h"
#include "octohub/ingest/push.h"

namespace octohub::ingest {
namespace {

// Bytes from hex (either case); nullopt for anything else.
std::optional<std::string> FromHex(std::string_view hex) {
  if (hex.empty() || hex.size() % 2 != 0) return std::nullopt;
  std::string out(hex.size() / 2, '\0');
  size_t length = 0;
  if (sodium_hex2bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), hex.data(),
                     hex.size(), nullptr, &length, nullptr) != 0 ||
      length != out.size()) {
    return std::nullopt;
  }
  return out;
}

std::optional<std::string> FromBase64(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::string out(text.size(), '\0');
  size_t length = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &length, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    return std::nullopt;
  }
  out.resize(length);
  return out;
}

// Whether `given` is the MAC, in time that does not depend on where they differ.
bool SameMac(const std::string& mac, const std::optional<std::string>& given) {
  return given && given->size() == mac.size() &&
         sodium_memcmp(mac.data(), given->data(), mac.size()) == 0;
}

const std::string* Header(const std::map<std::string, std::string>& headers,
                          const std::string& name) {
  auto found = headers.find(name);
  return found == headers.end() ? nullptr : &found->second;
}

std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  while (true) {
    const size_t at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// A Unix-seconds timestamp within the tolerance of now, or the reason it is not.
std::optional<std::string> StaleReason(std::string_view timestamp,
                                       std::chrono::system_clock::time_point now) {
  std::int64_t seconds = 0;
  auto [end, error] =
      std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), seconds);
  if (error != std::errc() || end != timestamp.data() + timestamp.size()) {
    return "the signature's timestamp is not a number of seconds";
  }
  const auto at = std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
  if (at < now - kPushTolerance) {
    return "the signature is more than 5 minutes old (a replayed or delayed request)";
  }
  if (at > now + kPushTolerance) return "the signature's timestamp is in the future";
  return std::nullopt;
}

PushCheck Refuse(std::string reason) { return PushCheck{false, std::move(reason), ""}; }

PushCheck CheckGithub(std::string_view secret, const std::map<std::string, std::string>& headers,
                      std::string_view body) {
  const std::string* header = Header(headers, "x-hub-signature-256");
  if (header == nullptr) return Refuse("the X-Hub-Signature-256 header is missing");
  constexpr std::string_view kPrefix = "sha256=";
  const std::string_view value = Trim(*header);
  if (!value.starts_with(kPrefix)) {
    return Refuse("X-Hub-Signature-256 must be sha256=<hex HMAC of the body>");
  }
  if (!SameMac(HmacSha256(secret, body), FromHex(value.substr(kPrefix.size())))) {
    return Refuse("the X-Hub-Signature-256 signature does not match the body and the secret");
  }
  return PushCheck{true, "", ""};
}

PushCheck CheckStripe(std::string_view secret, const std::map<std::string, std::string>& headers,
                      std::string_view body, std::chrono::system_clock::time_point now) {
  const std::string* header = Header(headers, "stripe-signature");
  if (header == nullptr) return Refuse("the Stripe-Signature header is missing");
  std::string_view timestamp;
  std::vector<std::string_view> signatures;
  for (std::string_view part : Split(*header, ',')) {
    part = Trim(part);
    if (part.starts_with("t=")) timestamp = part.substr(2);
    if (part.starts_with("v1=")) signatures.push_back(part.substr(3));
  }
  if (timestamp.empty() || signatures.empty()) {
    return Refuse("Stripe-Signature must carry t=<timestamp> and v1=<signature>");
  }
  std::string signed_text;
  signed_text.reserve(timestamp.size() + 1 + body.size());
  signed_text.append(timestamp).append(".").append(body);
  const std::string mac = HmacSha256(secret, signed_text);
  bool matched = false;
  for (const auto signature : signatures) matched = SameMac(mac, FromHex(signature)) || matched;
  if (!matched)
    return Refuse("the Stripe-Signature signature does not match the body and the secret");
  if (auto stale = StaleReason(timestamp, now)) return Refuse(*stale);
  return PushCheck{true, "", "stripe:" + std::string(timestamp) + ":" + std::string(signatures[0])};
}

PushCheck CheckStandardWebhooks(std::string_view secret,
                                const std::map<std::string, std::string>& headers,
                                std::string_view body, std::chrono::system_clock::time_point now) {
  const std::string* id = Header(headers, "webhook-id");
  const std::string* timestamp = Header(headers, "webhook-timestamp");
  const std::string* signature = Header(headers, "webhook-signature");
  if (id == nullptr || timestamp == nullptr || signature == nullptr) {
    return Refuse("webhook-id, webhook-timestamp and webhook-signature are all required");
  }
  std::string key(secret);
  constexpr std::string_view kPrefix = "whsec_";
  if (secret.starts_with(kPrefix)) {
    auto decoded = FromBase64(secret.substr(kPrefix.size()));
    if (!decoded) return Refuse("the source's whsec_ secret is not base64");
    key = std::move(*decoded);
  }
  std::string signed_text;
  signed_text.reserve(id->size() + timestamp->size() + body.size() + 2);
  signed_text.append(*id).append(".").append(*timestamp).append(".").append(body);
  const std::string mac = HmacSha256(key, signed_text);
  bool matched = false;
  for (std::string_view entry : Split(*signature, ' ')) {
    if (entry.starts_with("v1,")) matched = SameMac(mac, FromBase64(entry.substr(3))) || matched;
  }
  if (!matched) return Refuse("the webhook-signature does not match the body and the secret");
  if (auto stale = StaleReason(*timestamp, now)) return Refuse(*stale);
  return PushCheck{true, "", "webhook:" + *id};
}

PushCheck CheckHmac(std::string_view secret, const std::string& header_name,
                    const std::map<std::string, std::string>& headers, std::string_view body) {
  std::string name = header_name;
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::string* header = Header(headers, name);
  if (header == nullptr) return Refuse("the " + header_name + " header is missing");
  std::string_view value = Trim(*header);
  if (value.starts_with("sha256=")) value.remove_prefix(7);
  if (!SameMac(HmacSha256(secret, body), FromHex(value))) {
    return Refuse("the " + header_name + " signature does not match the body and the secret");
  }
  return PushCheck{true, "", ""};
}

}  // namespace

PushCheck CheckPushSignature(const PushSpec& push, std::string_view secret,
                             const std::map<std::string, std::string>& headers,
                             std::string_view body, std::chrono::system_clock::time_point now) {
  switch (push.signature) {
    case PushSpec::Signature::kGithub:
      return CheckGithub(secret, headers, body);
    case PushSpec::Signature::kStripe:
      return CheckStripe(secret, headers, body, now);
    case PushSpec::Signature::kStandardWebhooks:
      return CheckStandardWebhooks(secret, headers, body, now);
    case PushSpec::Signature::kHmacSha256:
      return CheckHmac(secret, push.header, headers, body);
  }
  return Refuse("unknown signature scheme");
}

}  // namespace octohub::ingest
