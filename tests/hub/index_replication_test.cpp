#include "index_replication.h"

#include <catch2/catch.hpp>

using octohub::hub::FindProgram;
using octohub::hub::ParseHostPort;
using octohub::hub::ReplicaClientCommand;
using octohub::hub::ReplicationServerCommand;

TEST_CASE("a replication address is host:port with a port in range", "[unit]") {
  auto parsed = ParseHostPort("10.0.0.5:7010", "replication-listen");
  REQUIRE(parsed.ok());
  CHECK(parsed->host == "10.0.0.5");
  CHECK(parsed->port == 7010);
  for (const char* bad : {"7010", ":7010", "host:", "host:0", "host:65536", "host:70x", ""}) {
    auto refused = ParseHostPort(bad, "index-replica-of");
    CHECK_FALSE(refused.ok());
    CHECK_THAT(refused.status().message(), Catch::Contains("--index-replica-of"));
  }
}

TEST_CASE("the writer serves its whole index directory, a replica copies each shard by name",
          "[unit]") {
  auto server = ReplicationServerCommand("/usr/bin/xapian-replicate-server", {"0.0.0.0", 7010},
                                         "/data/index");
  CHECK(server == std::vector<std::string>{"/usr/bin/xapian-replicate-server",
                                           "--interface=0.0.0.0", "--port=7010", "/data/index"});
  auto client = ReplicaClientCommand("/usr/bin/xapian-replicate", {"writer", 7010}, "shards/01",
                                     "/r/index", 2);
  CHECK(client.front() == "/usr/bin/xapian-replicate");
  CHECK(client.back() == "/r/index/shards/01");
  CHECK(std::count(client.begin(), client.end(), "--master=shards/01") == 1);
  CHECK(std::count(client.begin(), client.end(), "--interval=2") == 1);
  CHECK(std::count(client.begin(), client.end(), "--host=writer") == 1);
}

TEST_CASE("a missing replication program is named with its package", "[unit]") {
  auto missing = FindProgram("no-such-program-octohub", "xapian-tools");
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.status().message(), Catch::Contains("xapian-tools"));
  CHECK(FindProgram("sh", "dash").ok());
}

TEST_CASE("binding replication to a public address or to every interface is warned about",
          "[unit]") {
  using octohub::hub::PublicBindWarning;
  for (const char* quiet :
       {"127.0.0.1", "10.1.2.3", "172.20.0.9", "192.168.1.1", "::1", "fd00::5", "localhost"}) {
    INFO(quiet);
    CHECK_FALSE(PublicBindWarning(quiet, "index replication"));
  }
  for (const char* loud : {"0.0.0.0", "::", "203.0.113.7", "2001:db8::1", "172.32.0.1"}) {
    INFO(loud);
    auto warning = PublicBindWarning(loud, "index shard");
    REQUIRE(warning);
    CHECK_THAT(*warning,
               Catch::Contains("index shard port has no authentication") && Catch::Contains(loud));
  }
}
