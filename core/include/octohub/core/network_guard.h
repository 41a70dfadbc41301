// Which addresses outgoing requests (sources, targets, token URLs) may connect to: not the
// denied networks (cloud metadata services by default) unless allowed again, and never this
// process's own HTTP listener or embedded PostgreSQL. Checked on the address actually
// connected to, so DNS names and redirects cannot get around it.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "octohub/core/status.h"

namespace octohub {

inline constexpr const char* kDefaultDeniedNetworks = "169.254.0.0/16,fe80::/10,100.100.100.200/32";

// An IPv4 or IPv6 network in CIDR notation ("10.0.0.0/8", "::1/128"; a bare address is /32
// or /128). IPv4 is held as IPv4-mapped IPv6, so one comparison serves both.
struct Network {
  std::array<std::uint8_t, 16> bytes{};
  int prefix = 128;
  std::string text;  // as written

  static Result<Network> Parse(std::string_view text);
  bool Contains(const std::array<std::uint8_t, 16>& address) const;
};

class NetworkGuard {
 public:
  // Comma-separated CIDR lists; an entry that is not one is an error naming it.
  static Result<NetworkGuard> Make(std::string_view deny, std::string_view allow);

  // Refuses `port` on every address of this machine (loopback, unspecified and each
  // interface's): `what` names it in the reason ("Octohub's own HTTP listener").
  void RefuseLocalPort(std::uint16_t port, std::string what);

  // Why connecting to `address` is refused, or nullopt when it is allowed.
  std::optional<std::string> Refusal(const sockaddr* address) const;

 private:
  struct LocalPort {
    std::uint16_t port;
    std::string what;
  };
  std::vector<Network> deny_, allow_;
  std::vector<LocalPort> local_ports_;
  std::vector<std::array<std::uint8_t, 16>> local_addresses_;
};

// Whether `address` is loopback or in a private range (RFC 1918, 100.64.0.0/10, link-local,
// fc00::/7): not reachable from the internet by itself. The unspecified address (0.0.0.0, ::)
// is not: it means every interface.
bool IsPrivateAddress(const sockaddr* address);

// The guard every outgoing connection of this process is checked against; the defaults until
// one is installed. Safe to call from any thread.
void InstallNetworkGuard(std::shared_ptr<const NetworkGuard> guard);
std::shared_ptr<const NetworkGuard> CurrentNetworkGuard();

}  // namespace octohub
