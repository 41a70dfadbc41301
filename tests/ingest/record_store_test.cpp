// StoreRecords: records stored outside a run get the same hash, sequence and notification
// path as a harvested page.
#include "octohub/ingest/record_store.h"

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "octohub/core/change_feed.h"
#include "record_writer.h"
#include "seed_records.h"
#include "test_database.h"

using octohub::StatusCode;
using octohub::ingest::StoreRecords;
using octohub::testing::TestDatabase;

TEST_CASE("stored records count as new, changed or unchanged, the last of an id winning", "[pg]") {
  TestDatabase database;
  octohub::testing::SeedSource(database.db(), R"({"name": "notes", "url": "http://x/"})");
  pqxx::connection listener(database.conninfo());
  bool notified = false;
  octohub::ChannelWakeup wakeup(listener, octohub::kRecordsChannel, notified);

  auto first = StoreRecords(database.db(), "notes",
                            {{"a", R"({"v":1})"}, {"b", R"({"v":1})"}, {"a", R"({"v":2})"}});
  REQUIRE(first.ok());
  CHECK(first->inserted == 2);
  CHECK(database.Scalar("SELECT data::text FROM records WHERE id = 'a'") == R"({"v":2})");
  listener.await_notification(5, 0);
  CHECK(notified);
  const std::string seq_b = database.Scalar("SELECT change_seq FROM records WHERE id = 'b'");

  auto second = StoreRecords(database.db(), "notes", {{"a", R"({"v":3})"}, {"b", R"({"v":1})"}});
  REQUIRE(second.ok());
  CHECK(second->updated == 1);
  CHECK(second->unchanged == 1);
  CHECK(database.Scalar("SELECT change_seq FROM records WHERE id = 'b'") == seq_b);
  CHECK(database.Scalar("SELECT count(*) FROM records") == "2");
}

TEST_CASE("records of a source that does not exist are refused and nothing is stored", "[pg]") {
  TestDatabase database;
  auto stored = StoreRecords(database.db(), "ghost", {{"a", "{}"}});
  REQUIRE_FALSE(stored.ok());
  CHECK(stored.status().code() == StatusCode::kFailedPrecondition);
  CHECK(database.Scalar("SELECT count(*) FROM records") == "0");
}

TEST_CASE("a page's lookup probes the primary key even before the table is analysed", "[pg]") {
  // Left to itself the planner hashes the whole table for a page's thousand ids: every page
  // of a harvest would then cost more than the one before.
  TestDatabase database;
  octohub::testing::SeedSource(database.db(), R"({"name": "packages", "url": "http://x/"})");
  auto store = [&](int from, int to) {
    std::vector<octohub::ingest::RecordToStore> records;
    for (int i = from; i < to; ++i) {
      records.push_back({"package-" + std::to_string(i),
                         R"({"summary": "a package with a description of some length"})"});
    }
    REQUIRE(StoreRecords(database.db(), "packages", records).ok());
  };
  // Analysed early, as autovacuum does once the first pages are in, then filled further.
  store(0, 500);
  database.Scalar("ANALYZE records");
  for (int from = 500; from < 20000; from += 1000) store(from, from + 1000);
  std::string ids = "{";
  for (int i = 0; i < 1000; ++i) ids += (i ? ",package-" : "package-") + std::to_string(i * 7);
  ids += "}";
  pqxx::connection c(database.conninfo());
  pqxx::work tx(c);
  std::string plan;
  for (const auto& row :
       tx.exec_params(std::string("EXPLAIN ") + octohub::ingest::kStoredHashes, "packages", ids)) {
    plan += row[0].as<std::string>() + "\n";
  }
  INFO(plan);
  CHECK_THAT(plan, Catch::Contains("Index") && !Catch::Contains("Seq Scan on records"));
}
