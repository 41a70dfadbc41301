#include "octohub/core/network_guard.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstring>

namespace octohub {
namespace {

using Bytes = std::array<std::uint8_t, 16>;

Bytes MappedV4(const in_addr& v4) {
  Bytes bytes{};
  bytes[10] = bytes[11] = 0xff;
  std::memcpy(bytes.data() + 12, &v4, 4);
  return bytes;
}

bool IsMappedV4(const Bytes& bytes) {
  return std::all_of(bytes.begin(), bytes.begin() + 10, [](auto b) { return b == 0; }) &&
         bytes[10] == 0xff && bytes[11] == 0xff;
}

// The address and port of a socket address, or nullopt for a family other than IP.
std::optional<std::pair<Bytes, std::uint16_t>> Endpoint(const sockaddr* address) {
  if (address == nullptr) return std::nullopt;
  if (address->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    return std::pair{MappedV4(v4->sin_addr), ntohs(v4->sin_port)};
  }
  if (address->sa_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    Bytes bytes{};
    std::memcpy(bytes.data(), &v6->sin6_addr, 16);
    return std::pair{bytes, ntohs(v6->sin6_port)};
  }
  return std::nullopt;
}

std::string AddressText(const Bytes& bytes) {
  char text[INET6_ADDRSTRLEN] = {};
  if (IsMappedV4(bytes)) {
    inet_ntop(AF_INET, bytes.data() + 12, text, sizeof(text));
  } else {
    inet_ntop(AF_INET6, bytes.data(), text, sizeof(text));
  }
  return text;
}

bool IsLoopbackOrUnspecified(const Bytes& bytes) {
  if (IsMappedV4(bytes))
    return bytes[12] == 127 || (bytes[12] | bytes[13] | bytes[14] | bytes[15]) == 0;
  const bool zero_head = std::all_of(bytes.begin(), bytes.end() - 1, [](auto b) { return b == 0; });
  return zero_head && (bytes[15] == 0 || bytes[15] == 1);  // :: and ::1
}

Result<std::vector<Network>> ParseList(std::string_view list, const char* option) {
  std::vector<Network> networks;
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    std::string_view entry = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    while (!entry.empty() && entry.front() == ' ') entry.remove_prefix(1);
    while (!entry.empty() && entry.back() == ' ') entry.remove_suffix(1);
    if (entry.empty()) continue;
    auto network = Network::Parse(entry);
    if (!network.ok()) {
      return InvalidArgument(std::string(option) + ": " + network.status().message());
    }
    networks.push_back(std::move(*network));
  }
  return networks;
}

std::atomic<std::shared_ptr<const NetworkGuard>> installed;

}  // namespace

Result<Network> Network::Parse(std::string_view text) {
  const auto invalid = [&] {
    return InvalidArgument("\"" + std::string(text) +
                           "\" is not a network such as 10.0.0.0/8 or fd00::/8");
  };
  const std::size_t slash = text.find('/');
  const std::string address(text.substr(0, slash));
  Network network;
  network.text = std::string(text);
  int max_prefix = 0;
  if (address.find(':') != std::string::npos) {
    in6_addr v6{};
    if (inet_pton(AF_INET6, address.c_str(), &v6) != 1) return invalid();
    std::memcpy(network.bytes.data(), &v6, 16);
    max_prefix = 128;
  } else {
    in_addr v4{};
    if (inet_pton(AF_INET, address.c_str(), &v4) != 1) return invalid();
    network.bytes = MappedV4(v4);
    max_prefix = 32;
  }
  int prefix = max_prefix;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() ||
        prefix < 0 || prefix > max_prefix) {
      return invalid();
    }
  }
  network.prefix = max_prefix == 32 ? prefix + 96 : prefix;
  return network;
}

bool Network::Contains(const Bytes& address) const {
  int bits = prefix;
  for (std::size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    const std::uint8_t mask = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - bits));
    if ((address[i] & mask) != (bytes[i] & mask)) return false;
  }
  return true;
}

Result<NetworkGuard> NetworkGuard::Make(std::string_view deny, std::string_view allow) {
  NetworkGuard guard;
  auto denied = ParseList(deny, "--deny-networks");
  if (!denied.ok()) return denied.status();
  auto allowed = ParseList(allow, "--allow-networks");
  if (!allowed.ok()) return allowed.status();
  guard.deny_ = std::move(*denied);
  guard.allow_ = std::move(*allowed);
  return guard;
}

void NetworkGuard::RefuseLocalPort(std::uint16_t port, std::string what) {
  local_ports_.push_back({port, std::move(what)});
  if (!local_addresses_.empty()) return;
  ifaddrs* interfaces = nullptr;
  if (getifaddrs(&interfaces) != 0) return;
  for (const ifaddrs* i = interfaces; i != nullptr; i = i->ifa_next) {
    if (auto endpoint = Endpoint(i->ifa_addr)) local_addresses_.push_back(endpoint->first);
  }
  freeifaddrs(interfaces);
}

std::optional<std::string> NetworkGuard::Refusal(const sockaddr* address) const {
  auto endpoint = Endpoint(address);
  if (!endpoint) return std::nullopt;
  const auto& [bytes, port] = *endpoint;
  for (const auto& local : local_ports_) {
    if (port != local.port) continue;
    if (IsLoopbackOrUnspecified(bytes) ||
        std::find(local_addresses_.begin(), local_addresses_.end(), bytes) !=
            local_addresses_.end()) {
      return AddressText(bytes) + " port " + std::to_string(port) + " is " + local.what +
             ", which sources and targets may not reach";
    }
  }
  for (const auto& network : allow_) {
    if (network.Contains(bytes)) return std::nullopt;
  }
  for (const auto& network : deny_) {
    if (network.Contains(bytes)) {
      return AddressText(bytes) + " is in the denied network " + network.text +
             " (--deny-networks; --allow-networks makes exceptions)";
    }
  }
  return std::nullopt;
}

bool IsPrivateAddress(const sockaddr* address) {
  static const std::vector<Network> kPrivate = [] {
    std::vector<Network> out;
    for (const char* text :
         {"127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
          "169.254.0.0/16", "::1/128", "fc00::/7", "fe80::/10"}) {
      out.push_back(*Network::Parse(text));
    }
    return out;
  }();
  auto endpoint = Endpoint(address);
  if (!endpoint) return false;
  return std::any_of(kPrivate.begin(), kPrivate.end(),
                     [&](const Network& network) { return network.Contains(endpoint->first); });
}

void InstallNetworkGuard(std::shared_ptr<const NetworkGuard> guard) {
  installed.store(std::move(guard));
}

std::shared_ptr<const NetworkGuard> CurrentNetworkGuard() {
  auto guard = installed.load();
  if (guard) return guard;
  static const auto defaults =
      std::make_shared<const NetworkGuard>(*NetworkGuard::Make(kDefaultDeniedNetworks, ""));
  return defaults;
}

}  // namespace octohub
