// An index split into shards answers exactly as one database does, keeps an exact checkpoint
// across shards, and can be split anew without a moment of empty answers.
#include <signal.h>
#include <sys/resource.h>
#include <xapian.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <fstream>
#include <set>
#include <sstream>

#include "octohub/indexer/indexer.h"
#include "octohub/indexer/searcher.h"
#include "octohub/ingest/ingest.h"
#include "seed_records.h"
#include "temp_dir.h"
#include "test_database.h"

using octohub::indexer::FollowerOptions;
using octohub::indexer::IndexFollower;
using octohub::indexer::OpenSearcher;
using octohub::indexer::RebuildIndex;
using octohub::indexer::Searcher;
using octohub::indexer::SearchRequest;
using octohub::indexer::SearchResponse;
using octohub::testing::TempDir;
using octohub::testing::TestDatabase;
namespace json = boost::json;

namespace {

constexpr const char* kSpec = R"({"name": "tickets", "url": "http://127.0.0.1:9/",
  "records": "", "id": "/id",
  "index": {"title": "/title", "text": ["/body"],
            "facets": {"state": "/state", "labels": "/labels/*"},
            "dates": {"opened": "/opened"}, "numbers": {"votes": "/votes"}}})";

const std::vector<std::string> kWords = {
    "kernel", "network", "printer", "backup",   "archive", "encrypt", "display", "window",
    "server", "client",  "socket",  "database", "index",   "search",  "export",  "import"};
const std::vector<std::string> kStates = {"open", "closed", "triage", "blocked"};

// The same ticket every time for the same n: words, states and dates vary with it.
json::object Ticket(int n) {
  auto word = [&](int k) { return kWords[static_cast<size_t>((n * 7 + k * 3) % 16)]; };
  json::array labels;
  for (int k = 0; k <= n % 3; ++k) labels.emplace_back(kWords[static_cast<size_t>((n + k) % 5)]);
  char opened[32];
  std::snprintf(opened, sizeof(opened), "2024-%02d-%02dT10:00:00Z", 1 + n % 12, 1 + n % 28);
  return {{"id", std::to_string(n)},
          {"title", word(0) + " " + word(1) + (n % 9 == 0 ? " fails to start" : "")},
          {"body", "the " + word(2) + " and the " + word(3) + " stopped after " + word(4) +
                       (n % 4 == 0 ? "; command line output attached" : "")},
          {"state", kStates[static_cast<size_t>(n % 4)]},
          {"labels", labels},
          {"opened", opened},
          {"votes", n % 17}};
}

// Everything a client sees of an answer, as text: two answers are alike when these are equal.
std::string Describe(const SearchResponse& response) {
  std::ostringstream out;
  out << "total " << response.total << (response.total_exact ? " exact" : " estimated") << "\n";
  for (const auto& hit : response.hits) {
    out << hit.source << "/" << hit.id << " " << hit.score << " [" << hit.title << "] "
        << hit.snippet << " " << json::serialize(hit.fields) << "\n";
  }
  out << "facets " << json::serialize(response.facets) << "\n";
  out << "suggestion " << response.suggestion.value_or("-") << "\n";
  return out.str();
}

std::string Answer(Searcher& searcher, const SearchRequest& request) {
  auto response = searcher.Search(request);
  if (!response.ok()) return "error " + response.status().ToString();
  return Describe(*response);
}

std::set<std::string> Matches(Searcher& searcher, const SearchRequest& request) {
  std::set<std::string> found;
  auto status = searcher.ForEachMatch(request, [&](const std::string& s, const std::string& id) {
    found.insert(s + "/" + id);
    return true;
  });
  REQUIRE(status.ok());
  return found;
}

// How many documents the whole index matches, counted exactly.
std::int64_t Total(Searcher& searcher) {
  SearchRequest everything;
  everything.exact_total = true;
  auto all = searcher.Search(everything);
  REQUIRE(all.ok());
  return all->total;
}

std::vector<SearchRequest> QueryMix() {
  std::vector<SearchRequest> mix;
  auto add = [&](const std::string& q, auto&& adjust) {
    SearchRequest request;
    request.q = q;
    request.exact_total = true;
    adjust(request);
    mix.push_back(request);
  };
  auto as_is = [](SearchRequest&) {};
  for (const char* q : {"", "kernel", "printer backup", "\"command line\"", "server OR client",
                        "kernel NOT network", "title:socket", "fails", "databse", "kernal",
                        "serch index", "zzzqqq", "encrypt*"}) {
    add(q, as_is);
  }
  add("arch", [](SearchRequest& r) { r.prefix = true; });
  add("windo", [](SearchRequest& r) {
    r.prefix = true;
    r.typos = 0;
  });
  add("", [](SearchRequest& r) { r.facets = {"state", "labels"}; });
  add("display", [](SearchRequest& r) {
    r.facets = {"state"};
    r.filters = {{"state", "open"}, {"state", "blocked"}};
  });
  add("", [](SearchRequest& r) { r.sort = "-opened"; });
  add("server", [](SearchRequest& r) { r.sort = "votes"; });
  add("opened:2024-03-01..2024-06-30", as_is);
  add("votes:3..9 export", as_is);
  for (int page = 1; page <= 4; ++page) {
    add("the", [page](SearchRequest& r) {
      r.page = page;
      r.per_page = 7;
    });
  }
  return mix;
}

struct Index {
  TempDir dir;
  std::unique_ptr<IndexFollower> follower;
  std::unique_ptr<Searcher> searcher;

  Index(const TestDatabase& database, int shards) {
    FollowerOptions options;
    options.shards = shards;
    options.batch_size = 97;  // batches that end anywhere
    follower = std::make_unique<IndexFollower>(database.db(), dir / "index", options);
    REQUIRE(follower->Open().ok());
    Follow();
    searcher = OpenSearcher(dir / "index");
  }
  void Follow() const {
    auto indexed = follower->CatchUp();
    INFO(indexed.status().ToString());
    REQUIRE(indexed.ok());
  }
};

// Tickets 1…count in PostgreSQL, and a follower that has indexed them into `shards` shards.
struct FollowedTickets {
  TestDatabase database;
  TempDir dir;
  std::unique_ptr<IndexFollower> follower;

  FollowedTickets(int count, int shards) {
    octohub::testing::SeedSource(database.db(), kSpec);
    octohub::testing::SeedRecords(database.db(), "tickets", count, Ticket);
    follower = Follow(shards);
  }
  std::unique_ptr<IndexFollower> Follow(int shards) const {
    FollowerOptions options;
    options.shards = shards;
    auto opened = std::make_unique<IndexFollower>(database.db(), dir / "index", options);
    REQUIRE(opened->Open().ok());
    REQUIRE(opened->CatchUp().ok());
    return opened;
  }
};

}  // namespace

TEST_CASE("an index in 4 shards answers every query exactly as one database does", "[pg]") {
  TestDatabase database;
  octohub::testing::SeedSource(database.db(), kSpec);
  octohub::testing::SeedRecords(database.db(), "tickets", 600, Ticket);
  Index one(database, 1);
  Index four(database, 4);

  auto stats = four.searcher->ReadStats();
  REQUIRE(stats.ok());
  REQUIRE(stats->shards.size() == 4);
  std::int64_t sum = 0;
  for (const auto& shard : stats->shards) {
    CHECK(shard.documents > 100);  // spread, not piled into one
    CHECK(shard.checkpoint == stats->checkpoint);
    sum += shard.documents;
  }
  CHECK(sum == 600);
  auto single = one.searcher->ReadStats();
  REQUIRE(single.ok());
  CHECK(single->sources == stats->sources);
  CHECK(single->fields == stats->fields);
  CHECK(single->checkpoint == stats->checkpoint);

  for (const auto& request : QueryMix()) {
    INFO("q=" << request.q << " page " << request.page << " sort " << request.sort);
    const std::string expected = Answer(*one.searcher, request);
    CHECK(expected.rfind("error", 0) != 0);
    CHECK(Answer(*four.searcher, request) == expected);
    CHECK(Matches(*four.searcher, request) == Matches(*one.searcher, request));
  }

  // Changes and deletions reach the shard holding each record, and answers stay alike.
  octohub::testing::SeedRecords(database.db(), "tickets", 40, [](int n) {
    json::object changed = Ticket(n * 5);
    changed["body"] = "rewritten as a quasar report";
    return changed;
  });
  {
    octohub::testing::SeedRecord(database.db(), "tickets", "601", R"({"id": "601",
      "title": "quasar telescope", "body": "new", "state": "open"})");
  }
  one.Follow();
  four.Follow();
  for (const char* q : {"quasar", "kernel", ""}) {
    SearchRequest request;
    request.q = q;
    request.exact_total = true;
    request.facets = {"state", "labels"};
    INFO(q);
    CHECK(Answer(*four.searcher, request) == Answer(*one.searcher, request));
  }
}

TEST_CASE("a shard behind the others after a crash is caught up and nothing is doubled", "[pg]") {
  FollowedTickets tickets(300, 3);
  const TestDatabase& database = tickets.database;
  const TempDir& dir = tickets.dir;
  const std::int64_t checkpoint = tickets.follower->checkpoint();
  tickets.follower.reset();
  // As if the process died after shards 0 and 2 committed a batch and before shard 1 did:
  // shard 1 lacks its last documents and records an older checkpoint.
  {
    Xapian::WritableDatabase shard((dir / "index" / "shards" / "01").string(), Xapian::DB_OPEN);
    std::vector<Xapian::docid> last;
    for (auto it = shard.postlist_begin(""); it != shard.postlist_end(""); ++it) {
      last.push_back(*it);
    }
    REQUIRE(last.size() > 20);
    for (size_t i = last.size() - 20; i < last.size(); ++i) shard.delete_document(last[i]);
    shard.set_metadata("octohub.checkpoint", std::to_string(checkpoint - 150));
    shard.commit();
  }
  FollowerOptions options;
  options.shards = 3;
  IndexFollower follower(database.db(), dir / "index", options);
  REQUIRE(follower.Open().ok());
  CHECK(follower.checkpoint() == checkpoint - 150);  // the lowest shard's
  auto searcher = OpenSearcher(dir / "index");
  auto before = searcher->ReadStats();
  REQUIRE(before.ok());
  CHECK(before->documents == 280);
  CHECK(before->checkpoint == checkpoint - 150);

  REQUIRE(follower.CatchUp().ok());
  auto after = searcher->ReadStats();
  REQUIRE(after.ok());
  CHECK(after->documents == 300);
  CHECK(after->checkpoint == checkpoint);
  CHECK(Total(*searcher) == 300);
}

TEST_CASE("a new number of shards is built while the old split answers, then swapped in", "[pg]") {
  TestDatabase database;
  octohub::testing::SeedSource(database.db(), kSpec);
  octohub::testing::SeedRecords(database.db(), "tickets", 200, Ticket);
  TempDir dir;
  SearchRequest everything;
  everything.q = "the";
  everything.exact_total = true;
  everything.facets = {"state"};
  std::string answer;
  {
    FollowerOptions two;
    two.shards = 2;
    IndexFollower follower(database.db(), dir / "index", two);
    REQUIRE(follower.Open().ok());
    REQUIRE(follower.CatchUp().ok());
    answer = Answer(*OpenSearcher(dir / "index"), everything);
  }
  FollowerOptions three;
  three.shards = 3;
  three.batch_size = 50;
  std::vector<std::int64_t> commits;
  three.on_commit = [&](std::int64_t checkpoint) { commits.push_back(checkpoint); };
  IndexFollower follower(database.db(), dir / "index", three);
  REQUIRE(follower.Open().ok());
  CHECK(follower.shards() == 3);
  // Until the new split has caught up, searches see the old one, whole.
  auto searcher = OpenSearcher(dir / "index");
  CHECK(Answer(*searcher, everything) == answer);
  auto stats = searcher->ReadStats();
  REQUIRE(stats.ok());
  CHECK(stats->shards.size() == 2);

  // A source deleted meanwhile is gone from the new split too.
  octohub::testing::SeedSource(database.db(), R"({"name": "other", "url": "http://127.0.0.1:9/",
      "records": "", "id": "/id", "index": {"title": "/title"}})");
  octohub::testing::SeedRecord(database.db(), "other", "x", R"({"id": "x", "title": "the x"})");
  REQUIRE(octohub::ingest::SourceRegistry(database.db()).Delete("other").ok());
  REQUIRE(follower.CatchUp().ok());
  // Rules hear of the new split once, when it answers searches: not of each rebuilt batch.
  REQUIRE(commits.size() == 1);
  stats = searcher->ReadStats();
  REQUIRE(stats.ok());
  CHECK(stats->shards.size() == 3);
  CHECK(commits.front() == stats->checkpoint);
  CHECK(Answer(*searcher, everything) == answer);

  // And it goes on following.
  octohub::testing::SeedRecord(database.db(), "tickets", "900",
                               R"({"id": "900", "title": "the late one", "state": "open"})");
  REQUIRE(follower.CatchUp().ok());
  CHECK(commits.size() == 2);
  auto late = searcher->Search(everything);
  REQUIRE(late.ok());
  CHECK(late->total == 201);
  // The old generation's files are gone once nothing can be using them any more.
  auto rebuilt = RebuildIndex(database.db(), dir / "index", 3);
  REQUIRE(rebuilt.ok());
  int generations = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir / "index")) {
    generations += entry.path().filename().string().rfind("gen-", 0) == 0 ? 1 : 0;
  }
  CHECK(generations == 2);  // the current one and the one it replaced
}

TEST_CASE("reindex builds every shard and the follower goes on with them", "[pg]") {
  FollowedTickets tickets(120, 2);
  const TestDatabase& database = tickets.database;
  const TempDir& dir = tickets.dir;
  IndexFollower& follower = *tickets.follower;
  auto rebuilt = RebuildIndex(database.db(), dir / "index", 4);
  INFO(rebuilt.status().ToString());
  REQUIRE(rebuilt.ok());
  CHECK(*rebuilt == 120);
  octohub::testing::SeedRecord(database.db(), "tickets", "121",
                               R"({"id": "121", "title": "after the rebuild"})");
  REQUIRE(follower.CatchUp().ok());
  CHECK(follower.shards() == 4);
  auto searcher = OpenSearcher(dir / "index");
  auto stats = searcher->ReadStats();
  REQUIRE(stats.ok());
  CHECK(stats->shards.size() == 4);
  CHECK(stats->documents == 121);
  SearchRequest request;
  request.q = "rebuild";
  auto found = searcher->Search(request);
  REQUIRE(found.ok());
  REQUIRE(found->hits.size() == 1);
  CHECK(found->hits[0].id == "121");
}

TEST_CASE("a shard directory removed while serving is named in the errors and reindex repairs it",
          "[pg]") {
  FollowedTickets tickets(100, 2);
  const TestDatabase& database = tickets.database;
  const TempDir& dir = tickets.dir;
  IndexFollower& follower = *tickets.follower;
  REQUIRE(OpenSearcher(dir / "index")->Ready());

  std::filesystem::remove_all(dir / "index" / "gen-000001" / "shard-01");
  octohub::testing::SeedRecord(database.db(), "tickets", "101",
                               R"({"id": "101", "title": "written after the loss"})");
  auto failed = follower.CatchUp();
  REQUIRE_FALSE(failed.ok());
  CHECK_THAT(failed.status().message(),
             Catch::Contains("shard-01") && Catch::Contains("octohub reindex"));
  auto searcher = OpenSearcher(dir / "index");
  CHECK_FALSE(searcher->Ready());
  SearchRequest request;
  request.q = "kernel";
  auto refused = searcher->Search(request);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == octohub::StatusCode::kUnavailable);
  CHECK_THAT(refused.status().message(), Catch::Contains("octohub reindex"));
  // Tried again, it fails the same way rather than writing half an index.
  CHECK_FALSE(follower.CatchUp().ok());

  auto rebuilt = RebuildIndex(database.db(), dir / "index", 2);
  INFO(rebuilt.status().ToString());
  REQUIRE(rebuilt.ok());
  auto resumed = follower.CatchUp();
  INFO(resumed.status().ToString());
  REQUIRE(resumed.ok());
  CHECK(searcher->Ready());
  CHECK(Total(*searcher) == 101);
}

TEST_CASE("a commit the disk cannot take leaves the checkpoint where it was and loses nothing",
          "[pg]") {
  FollowedTickets tickets(100, 2);
  const TestDatabase& database = tickets.database;
  const TempDir& dir = tickets.dir;
  IndexFollower& follower = *tickets.follower;
  const std::int64_t before = follower.checkpoint();
  octohub::testing::SeedRecords(database.db(), "tickets", 400, [](int n) {
    json::object ticket = Ticket(n + 1000);
    ticket["id"] = std::to_string(n + 1000);
    return ticket;
  });

  // A full disk, as far as this process can tell: no file may grow past its present size.
  std::uintmax_t largest = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir / "index")) {
    if (entry.is_regular_file()) largest = std::max(largest, entry.file_size());
  }
  rlimit original{};
  REQUIRE(getrlimit(RLIMIT_FSIZE, &original) == 0);
  auto* previous_handler = signal(SIGXFSZ, SIG_IGN);  // a write fails with EFBIG instead
  rlimit full = original;
  full.rlim_cur = static_cast<rlim_t>(largest);
  REQUIRE(setrlimit(RLIMIT_FSIZE, &full) == 0);
  auto failed = follower.CatchUp();
  REQUIRE(setrlimit(RLIMIT_FSIZE, &original) == 0);
  signal(SIGXFSZ, previous_handler);
  REQUIRE_FALSE(failed.ok());
  CHECK(follower.checkpoint() == before);
  auto searcher = OpenSearcher(dir / "index");
  auto stats = searcher->ReadStats();
  REQUIRE(stats.ok());
  CHECK(stats->checkpoint == before);

  // Space again: the whole batch is written, nothing missing or doubled.
  auto resumed = follower.CatchUp();
  INFO(resumed.status().ToString());
  REQUIRE(resumed.ok());
  CHECK(Total(*searcher) == 500);
  CHECK(follower.checkpoint() > before);
}

TEST_CASE("a shard damaged while stopped is named when the index opens and reindex repairs it",
          "[pg]") {
  FollowedTickets tickets(60, 2);
  const TempDir& dir = tickets.dir;
  tickets.follower.reset();
  {
    std::ofstream junk(dir / "index" / "gen-000001" / "shard-00" / "iamglass",
                       std::ios::binary | std::ios::trunc);
    junk << "not a glass version file";
  }
  FollowerOptions options;
  options.shards = 2;
  IndexFollower follower(tickets.database.db(), dir / "index", options);
  auto opened = follower.Open();
  REQUIRE_FALSE(opened.ok());
  CHECK_THAT(opened.message(),
             Catch::Contains("missing or damaged") && Catch::Contains("octohub reindex"));
  auto searcher = OpenSearcher(dir / "index");
  SearchRequest request;
  request.q = "kernel";
  auto refused = searcher->Search(request);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == octohub::StatusCode::kUnavailable);
  CHECK_THAT(refused.status().message(), Catch::Contains("octohub reindex"));

  REQUIRE(RebuildIndex(tickets.database.db(), dir / "index", 2).ok());
  REQUIRE(follower.Open().ok());
  REQUIRE(follower.CatchUp().ok());
  CHECK(Total(*searcher) == 60);
}
