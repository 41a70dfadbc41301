#include <xapian.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <mutex>
#include <pqxx/pqxx>
#include <thread>

#include "octohub/indexer/indexer.h"
#include "octohub/indexer/searcher.h"
#include "octohub/ingest/ingest.h"
#include "seed_records.h"
#include "temp_dir.h"
#include "test_database.h"

using octohub::StatusCode;
using octohub::indexer::FollowerOptions;
using octohub::indexer::IndexFollower;
using octohub::indexer::OpenSearcher;
using octohub::indexer::RebuildIndex;
using octohub::indexer::SearchRequest;
using octohub::testing::TempDir;
using octohub::testing::TestDatabase;

namespace {

// The indexer meets ingest only at the tables: write them as ingest does.
struct Store {
  const TestDatabase& database;

  explicit Store(const TestDatabase& d) : database(d) { AddSource("notes"); }
  void AddSource(const std::string& name) const {
    octohub::testing::SeedSource(database.db(), R"({"name": ")" + name +
                                                    R"(", "url": "http://127.0.0.1:9/",
        "records": "", "id": "/id",
        "index": {"title": "/title", "text": ["/body", "/tags/*"], "facets": {"kind": "/kind"}}})");
  }
  void Exec(const std::string& sql) const {
    pqxx::connection c(database.conninfo());
    pqxx::work tx(c);
    tx.exec(sql);
    tx.exec("SELECT pg_notify('octohub_records', 'notes')");
    tx.commit();
  }
  void Put(const std::string& id, const std::string& title, const std::string& body) const {
    PutIn("notes", id, title, body);
  }
  void PutIn(const std::string& source, const std::string& id, const std::string& title,
             const std::string& body) const {
    octohub::testing::SeedRecords(database.db(), source,
                                  {{{"id", id},
                                    {"title", title},
                                    {"body", body},
                                    {"kind", "memo"},
                                    {"tags", boost::json::array{"red", "blue"}}}});
  }
  void Delete(const std::string& id) const {
    Exec(
        "UPDATE records SET deleted = true, change_seq = nextval('record_change_seq') WHERE id = "
        "'" +
        id + "'");
  }
};

// "source/id" of every hit, sorted.
std::vector<std::string> Hits(octohub::indexer::Searcher& searcher, const std::string& q) {
  SearchRequest request;
  request.q = q;
  request.per_page = 100;
  auto response = searcher.Search(request);
  INFO(response.status().ToString());
  REQUIRE(response.ok());
  std::vector<std::string> hits;
  for (const auto& hit : response->hits) hits.push_back(hit.source + "/" + hit.id);
  std::sort(hits.begin(), hits.end());
  return hits;
}

std::vector<std::string> Ids(octohub::indexer::Searcher& searcher, const std::string& q) {
  SearchRequest request;
  request.q = q;
  auto response = searcher.Search(request);
  INFO(response.status().ToString());
  REQUIRE(response.ok());
  std::vector<std::string> ids;
  for (const auto& hit : response->hits) ids.push_back(hit.id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace

TEST_CASE("records past the checkpoint become searchable with title, text and snippets", "[pg]") {
  TestDatabase database;
  Store store(database);
  TempDir dir;
  store.Put("1", "Lunch plans", "We are eating noodles at noon");
  store.Put("2", "Dinner", "Pizza with friends");
  IndexFollower follower(database.db(), dir / "index");
  REQUIRE(follower.Open().ok());
  auto indexed = follower.CatchUp();
  REQUIRE(indexed.ok());
  CHECK(*indexed == 2);
  CHECK(follower.checkpoint() ==
        std::stoll(database.Scalar("SELECT max(change_seq) FROM records")));
  auto searcher = OpenSearcher(dir / "index");
  CHECK(Ids(*searcher, "noodle") == std::vector<std::string>{"1"});  // stemmed: noodles
  CHECK(Ids(*searcher, "title:dinner") == std::vector<std::string>{"2"});
  CHECK(Ids(*searcher, "blue") == std::vector<std::string>{"1", "2"});  // "/tags/*"
  SearchRequest request;
  request.q = "pizza";
  auto response = searcher->Search(request);
  REQUIRE(response.ok());
  REQUIRE(response->hits.size() == 1);
  CHECK(response->hits[0].title == "Dinner");
  CHECK(response->hits[0].snippet.find("<mark>Pizza</mark>") != std::string::npos);
  CHECK(response->hits[0].fields.at("kind").as_string() == "memo");
}

TEST_CASE("a record with NUL characters in its text is indexed and found", "[pg]") {
  TestDatabase database;
  Store store(database);
  TempDir dir;
  // As ingest stores it: the JSON text keeps the escape.
  octohub::testing::SeedRecord(database.db(), "notes", "n",
                               R"({"id": "n", "title": "zero\u0000byte", "body": "walrus"})");
  store.Put("2", "Dinner", "Pizza with friends");
  IndexFollower follower(database.db(), dir / "index");
  REQUIRE(follower.Open().ok());
  auto indexed = follower.CatchUp();
  INFO(indexed.status().ToString());
  REQUIRE(indexed.ok());
  auto searcher = OpenSearcher(dir / "index");
  CHECK(Ids(*searcher, "walrus") == std::vector<std::string>{"n"});
  CHECK(Ids(*searcher, "pizza") == std::vector<std::string>{"2"});
}

TEST_CASE("a deleted record leaves the index and a changed one is replaced", "[pg]") {
  TestDatabase database;
  Store store(database);
  TempDir dir;
  store.Put("1", "Alpha", "first words");
  store.Put("2", "Beta", "second words");
  IndexFollower follower(database.db(), dir / "index");
  REQUIRE(follower.Open().ok());
  REQUIRE(follower.CatchUp().ok());
  store.Delete("1");
  store.Put("2", "Beta", "rewritten completely");
  REQUIRE(follower.CatchUp().ok());
  auto searcher = OpenSearcher(dir / "index");
  CHECK(Ids(*searcher, "words").empty());
  CHECK(Ids(*searcher, "rewritten") == std::vector<std::string>{"2"});
  CHECK(follower.document_count() == 1);
}

TEST_CASE("a reopened index resumes from its own checkpoint", "[pg]") {
  TestDatabase database;
  Store store(database);
  TempDir dir;
  store.Put("1", "One", "uno");
  {
    IndexFollower follower(database.db(), dir / "index");
    REQUIRE(follower.Open().ok());
    REQUIRE(follower.CatchUp().ok());
  }
  store.Put("2", "Two", "dos");
  IndexFollower follower(database.db(), dir / "index");
  REQUIRE(follower.Open().ok());
  auto indexed = follower.CatchUp();
  REQUIRE(indexed.ok());
  CHECK(*indexed == 1);
  CHECK(follower.document_count() == 2);
}

TEST_CASE("a second writer on the same index is refused", "[pg]") {
  TestDatabase database;
  TempDir dir;
  IndexFollower first(database.db(), dir / "index");
  REQUIRE(first.Open().ok());
  IndexFollower second(database.db(), dir / "index");
  auto opened = second.Open();
  REQUIRE_FALSE(opened.ok());
  CHECK(opened.code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(opened.message(), Catch::Contains("another octohub process"));
}

TEST_CASE("a rebuild swaps in a new generation and the follower continues on it", "[pg]") {
  TestDatabase database;
  Store store(database);
  TempDir dir;
  store.Put("1", "Kept", "apples");
  IndexFollower follower(database.db(), dir / "index");
  REQUIRE(follower.Open().ok());
  REQUIRE(follower.CatchUp().ok());
  auto searcher = OpenSearcher(dir / "index");
  CHECK(Ids(*searcher, "apples").size() == 1);
  auto rebuilt = RebuildIndex(database.db(), dir / "index");
  REQUIRE(rebuilt.ok());
  CHECK(*rebuilt == 1);
  store.Put("2", "Added after", "apples too");
  REQUIRE(follower.CatchUp().ok());
  CHECK(Ids(*searcher, "apples") == std::vector<std::string>{"1", "2"});
}

TEST_CASE("an index built from another database is rebuilt from this one", "[pg]") {
  TestDatabase first_db;
  TestDatabase second_db;
  Store first(first_db);
  Store second(second_db);
  TempDir dir;
  first.Put("1", "From the first", "elsewhere");
  second.Put("9", "From the second", "here");
  {
    IndexFollower follower(first_db.db(), dir / "index");
    REQUIRE(follower.Open().ok());
    REQUIRE(follower.CatchUp().ok());
  }
  IndexFollower follower(second_db.db(), dir / "index");
  REQUIRE(follower.Open().ok());
  REQUIRE(follower.CatchUp().ok());
  auto searcher = OpenSearcher(dir / "index");
  CHECK(Ids(*searcher, "elsewhere").empty());
  CHECK(Ids(*searcher, "here") == std::vector<std::string>{"9"});
}

TEST_CASE("an index written in an older layout is rebuilt when opened, and keeps following",
          "[pg]") {
  TestDatabase database;
  Store store(database);
  TempDir dir;
  store.Put("1", "Written before", "upgrade");
  {
    IndexFollower follower(database.db(), dir / "index");
    REQUIRE(follower.Open().ok());
    REQUIRE(follower.CatchUp().ok());
  }
  {
    // As an earlier version left it: no layout recorded, and a document it would not write.
    Xapian::WritableDatabase db((dir / "index").string(), Xapian::DB_OPEN);
    db.set_metadata("octohub.layout", "");
    Xapian::Document stale;
    stale.add_term("leftover");
    stale.set_data(R"({"source":"s","id":"old","title":"","text":"","updated_at":"","fields":{}})");
    db.add_document(stale);
    db.commit();
  }
  IndexFollower follower(database.db(), dir / "index");
  REQUIRE(follower.Open().ok());
  REQUIRE(follower.CatchUp().ok());
  auto searcher = OpenSearcher(dir / "index");
  CHECK(Ids(*searcher, "leftover").empty());
  CHECK(Ids(*searcher, "upgrade") == std::vector<std::string>{"1"});
  store.Put("2", "Written after", "upgrade");
  REQUIRE(follower.CatchUp().ok());
  CHECK(Ids(*searcher, "upgrade") == std::vector<std::string>{"1", "2"});
}

TEST_CASE("a word indexed after the first search soon has typo neighbours", "[pg]") {
  TestDatabase database;
  Store store(database);
  TempDir dir;
  store.Put("1", "Browsers", "firefox");
  IndexFollower follower(database.db(), dir / "index");
  REQUIRE(follower.Open().ok());
  REQUIRE(follower.CatchUp().ok());
  auto searcher = OpenSearcher(dir / "index");
  CHECK(Ids(*searcher, "firefx") == std::vector<std::string>{"1"});  // the words as of now
  store.Put("2", "Browsers", "chromium");
  REQUIRE(follower.CatchUp().ok());
  CHECK(Ids(*searcher, "chromium") == std::vector<std::string>{"2"});  // exact: at once
  std::vector<std::string> found;
  for (int attempt = 0; attempt < 100 && found.empty(); ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    found = Ids(*searcher, "chromim");
  }
  CHECK(found == std::vector<std::string>{"2"});
}

TEST_CASE("the running follower indexes a notified change promptly", "[pg]") {
  TestDatabase database;
  Store store(database);
  TempDir dir;
  IndexFollower follower(database.db(), dir / "index",
                         {.batch_size = 100, .poll_interval = std::chrono::seconds(30)});
  REQUIRE(follower.Open().ok());
  std::jthread thread([&](std::stop_token stop) { follower.Run(stop); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  store.Put("1", "Fresh", "justarrived");
  auto searcher = OpenSearcher(dir / "index");
  bool found = false;
  // The poll interval is 30 s: only the notification can make this pass.
  for (int i = 0; i < 100 && !found; ++i) {
    found = !Ids(*searcher, "justarrived").empty();
    if (!found) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(found);
}

TEST_CASE("searching before any index exists is Unavailable, invalid UTF-8 is InvalidArgument",
          "[pg]") {
  TempDir dir;
  auto missing = OpenSearcher(dir / "none")->Search(SearchRequest{});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == StatusCode::kUnavailable);
  TestDatabase database;
  IndexFollower follower(database.db(), dir / "index");
  REQUIRE(follower.Open().ok());
  SearchRequest bad;
  bad.q = "caf\xe9";
  auto result = OpenSearcher(dir / "index")->Search(bad);
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("records are mapped again when their source's index block changes", "[pg]") {
  TestDatabase database;
  Store store(database);
  TempDir dir;
  store.Put("1", "Quiet title", "the body mentions zucchini");
  IndexFollower follower(database.db(), dir / "index");
  REQUIRE(follower.Open().ok());
  REQUIRE(follower.CatchUp().ok());
  auto searcher = OpenSearcher(dir / "index");
  CHECK(Ids(*searcher, "zucchini") == std::vector<std::string>{"1"});
  // Apply the same source with the body no longer indexed, as `sources apply` would.
  auto spec = octohub::ingest::SourceRegistry(database.db()).Get("notes");
  REQUIRE(spec.ok());
  spec->index.text = {"/tags/*"};
  REQUIRE(octohub::ingest::SourceRegistry(database.db()).Apply(*spec).ok());
  REQUIRE(follower.CatchUp().ok());
  CHECK(Ids(*searcher, "zucchini").empty());
  CHECK(Ids(*searcher, "red") == std::vector<std::string>{"1"});
}

TEST_CASE("searches run in parallel while the writer commits, without errors", "[pg]") {
  TestDatabase database;
  Store store(database);
  TempDir dir;
  IndexFollower follower(database.db(), dir / "index", {.batch_size = 10});
  REQUIRE(follower.Open().ok());
  auto searcher = OpenSearcher(dir / "index");
  std::atomic<bool> writing{true};
  std::atomic<int> failures{0}, searches{0};
  std::mutex reason_mutex;
  std::string reason;
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      while (writing) {
        SearchRequest request;
        request.q = "word";
        auto result = searcher->Search(request);
        if (!result.ok()) {
          std::lock_guard lock(reason_mutex);
          reason = result.status().ToString();
          ++failures;
        }
        ++searches;
      }
    });
  }
  for (int round = 0; round < 8; ++round) {
    for (int i = 0; i < 25; ++i) {
      store.Put(std::to_string(round * 25 + i), "Title", "a word among words " + std::to_string(i));
    }
    REQUIRE(follower.CatchUp().ok());
  }
  writing = false;
  for (auto& reader : readers) reader.join();
  INFO(reason);
  CHECK(failures == 0);
  CHECK(searches > 8);
  SearchRequest all;
  all.q = "word";
  all.exact_total = true;
  CHECK(searcher->Search(all)->total == 200);
}

// An empty query matches everything; many threads asking it at once must not share any
// Xapian object between them (Xapian's reference counts are not atomic).
TEST_CASE("many threads searching for everything at once all get every document", "[pg]") {
  TestDatabase database;
  Store store(database);
  TempDir dir;
  for (int i = 0; i < 30; ++i) store.Put(std::to_string(i), "Title", "body " + std::to_string(i));
  IndexFollower follower(database.db(), dir / "index");
  REQUIRE(follower.Open().ok());
  REQUIRE(follower.CatchUp().ok());
  auto searcher = OpenSearcher(dir / "index");
  std::atomic<int> wrong{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 8; ++t) {
    readers.emplace_back([&] {
      for (int i = 0; i < 3000; ++i) {
        SearchRequest request;
        request.exact_total = true;
        if (i % 2) request.q = "NOT nothingmatchesthis";  // a pure NOT matches all as well
        auto result = searcher->Search(request);
        if (!result.ok() || result->total != 30) ++wrong;
      }
    });
  }
  for (auto& reader : readers) reader.join();
  CHECK(wrong == 0);
}

TEST_CASE("deleting a source drops exactly its documents and every other source goes on", "[pg]") {
  TestDatabase database;
  Store store(database);
  store.AddSource("other");
  TempDir dir;
  store.Put("1", "Alpha", "shared words");
  store.Put("2", "Beta", "shared words");
  store.PutIn("other", "1", "Gamma", "shared words");
  FollowerOptions options;
  options.shards = GENERATE(1, 3);  // a tombstone reaches every shard
  INFO(options.shards << " shards");
  IndexFollower follower(database.db(), dir / "index", options);
  REQUIRE(follower.Open().ok());
  REQUIRE(follower.CatchUp().ok());
  auto searcher = OpenSearcher(dir / "index");
  REQUIRE(Hits(*searcher, "shared").size() == 3);

  REQUIRE(octohub::ingest::SourceRegistry(database.db()).Delete("notes").ok());
  store.PutIn("other", "2", "Delta", "shared words");
  auto indexed = follower.CatchUp();
  INFO(indexed.status().ToString());
  REQUIRE(indexed.ok());
  CHECK(Hits(*searcher, "shared") == std::vector<std::string>{"other/1", "other/2"});
  CHECK(follower.document_count() == 2);

  // The feed goes on past the deletion: later changes keep arriving.
  store.PutIn("other", "3", "Epsilon", "shared words");
  REQUIRE(follower.CatchUp().ok());
  CHECK(Hits(*searcher, "shared").size() == 3);

  // A rebuild from the tables, tombstone included, holds the same.
  auto rebuilt = RebuildIndex(database.db(), dir / "index", options.shards);
  INFO(rebuilt.status().ToString());
  REQUIRE(rebuilt.ok());
  REQUIRE(follower.CatchUp().ok());
  auto fresh = OpenSearcher(dir / "index");
  CHECK(Hits(*fresh, "shared") == std::vector<std::string>{"other/1", "other/2", "other/3"});
}

TEST_CASE("a source deleted and created again under its name holds only its new records", "[pg]") {
  TestDatabase database;
  Store store(database);
  TempDir dir;
  store.Put("1", "Alpha", "before");
  store.Put("2", "Beta", "before");
  FollowerOptions options;
  options.shards = GENERATE(1, 3);
  INFO(options.shards << " shards");
  IndexFollower follower(database.db(), dir / "index", options);
  REQUIRE(follower.Open().ok());
  REQUIRE(follower.CatchUp().ok());

  // Deleted and re-created before the follower looks again: both in one batch, in order.
  REQUIRE(octohub::ingest::SourceRegistry(database.db()).Delete("notes").ok());
  store.AddSource("notes");
  store.Put("2", "Beta again", "after");
  store.Put("3", "Gamma", "after");
  REQUIRE(follower.CatchUp().ok());
  auto searcher = OpenSearcher(dir / "index");
  CHECK(Hits(*searcher, "before").empty());
  CHECK(Hits(*searcher, "after") == std::vector<std::string>{"notes/2", "notes/3"});
  CHECK(follower.document_count() == 2);

  auto rebuilt = RebuildIndex(database.db(), dir / "index", options.shards);
  REQUIRE(rebuilt.ok());
  auto fresh = OpenSearcher(dir / "index");
  CHECK(Hits(*fresh, "after") == std::vector<std::string>{"notes/2", "notes/3"});
  CHECK(Hits(*fresh, "before").empty());
}

TEST_CASE("a document the index cannot read is an error for its searches, and no reader is lost",
          "[pg]") {
  TestDatabase database;
  Store store(database);
  TempDir dir;
  store.Put("1", "Alpha", "zebra crossing");
  {
    IndexFollower follower(database.db(), dir / "index");
    REQUIRE(follower.Open().ok());
    REQUIRE(follower.CatchUp().ok());
  }
  {
    // As a damaged or foreign index would hold it: data that is not the stored JSON.
    Xapian::WritableDatabase db((dir / "index").string(), Xapian::DB_OPEN);
    Xapian::Document bad;
    bad.add_term("zebra");
    bad.add_term("Zzebra");
    bad.set_data("not json");
    db.add_document(bad);
    db.commit();
  }
  auto searcher = OpenSearcher(dir / "index");
  SearchRequest request;
  request.q = "zebra";
  for (int i = 0; i < 20; ++i) {  // more searches than readers could ever be lost
    auto response = searcher->Search(request);
    REQUIRE_FALSE(response.ok());
    CHECK_THAT(response.status().message(), Catch::Contains("octohub reindex"));
  }
  CHECK(searcher->Ready());
  CHECK(Ids(*searcher, "alpha") == std::vector<std::string>{"1"});
}
