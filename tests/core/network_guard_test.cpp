#include "octohub/core/network_guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <catch2/catch.hpp>
#include <cstring>

using octohub::Network;
using octohub::NetworkGuard;

namespace {

// An IPv4 or IPv6 socket address, as libcurl hands it over before connecting.
sockaddr_storage Address(const std::string& ip, std::uint16_t port = 80) {
  sockaddr_storage storage{};
  if (ip.find(':') != std::string::npos) {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    REQUIRE(inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1);
  } else {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    REQUIRE(inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1);
  }
  return storage;
}

std::optional<std::string> Refusal(const NetworkGuard& guard, const std::string& ip,
                                   std::uint16_t port = 80) {
  const sockaddr_storage address = Address(ip, port);
  return guard.Refusal(reinterpret_cast<const sockaddr*>(&address));
}

NetworkGuard Guard(const char* deny, const char* allow = "") {
  auto guard = NetworkGuard::Make(deny, allow);
  INFO(guard.status().ToString());
  REQUIRE(guard.ok());
  return *guard;
}

}  // namespace

TEST_CASE("the default guard refuses the cloud metadata services and nothing else", "[unit]") {
  NetworkGuard guard = Guard(octohub::kDefaultDeniedNetworks);
  CHECK_THAT(Refusal(guard, "169.254.169.254").value_or(""),
             Catch::Contains("169.254.169.254 is in the denied network 169.254.0.0/16"));
  CHECK(Refusal(guard, "100.100.100.200"));
  CHECK(Refusal(guard, "fe80::1"));
  // The same metadata address written as IPv4-mapped IPv6.
  CHECK(Refusal(guard, "::ffff:169.254.169.254"));
  CHECK_FALSE(Refusal(guard, "100.100.100.201"));
  CHECK_FALSE(Refusal(guard, "93.184.216.34"));
  CHECK_FALSE(Refusal(guard, "127.0.0.1"));
  CHECK_FALSE(Refusal(guard, "2001:db8::1"));
}

TEST_CASE("allowed networks are exceptions to the denied ones", "[unit]") {
  NetworkGuard guard = Guard("10.0.0.0/8, 127.0.0.2/32", "10.1.2.0/24");
  CHECK(Refusal(guard, "10.9.9.9"));
  CHECK_FALSE(Refusal(guard, "10.1.2.3"));
  CHECK(Refusal(guard, "127.0.0.2"));
  CHECK_FALSE(Refusal(guard, "127.0.0.3"));
}

TEST_CASE("this process's own ports are refused on every local address, whatever is allowed",
          "[unit]") {
  NetworkGuard guard = Guard("", "0.0.0.0/0,::/0");
  guard.RefuseLocalPort(8080, "Octohub's own HTTP listener");
  CHECK_THAT(Refusal(guard, "127.0.0.1", 8080).value_or(""),
             Catch::Contains("port 8080 is Octohub's own HTTP listener"));
  CHECK(Refusal(guard, "127.0.0.5", 8080));
  CHECK(Refusal(guard, "::1", 8080));
  CHECK(Refusal(guard, "0.0.0.0", 8080));
  CHECK_FALSE(Refusal(guard, "127.0.0.1", 8081));
  CHECK_FALSE(Refusal(guard, "93.184.216.34", 8080));  // not this machine
}

TEST_CASE("networks are CIDRs or bare addresses, and anything else is refused by name", "[unit]") {
  auto single = Network::Parse("192.0.2.7");
  REQUIRE(single.ok());
  CHECK(single->prefix == 128);
  for (const char* bad :
       {"192.0.2.0/33", "fe80::/129", "300.1.1.1", "10.0.0.0/", "10.0.0.0/x", "example.com"}) {
    INFO(bad);
    CHECK_FALSE(Network::Parse(bad).ok());
  }
  auto refused = NetworkGuard::Make("10.0.0.0/8,nonsense", "");
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.status().message(),
             Catch::Contains("--deny-networks") && Catch::Contains("\"nonsense\""));
  CHECK(NetworkGuard::Make("0.0.0.0/0", "").ok());
}
