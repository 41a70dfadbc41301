// POST /api/v1/hooks/{source}: pushed records over real HTTP, signed as GitHub and Stripe sign
// them (with openssl), and every bad request refused with nothing stored.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "octohub/ingest/ingest.h"
#include "openssl_hmac.h"
#include "running_server.h"

namespace json = boost::json;
using octohub::testing::Client;
using octohub::testing::OpensslHmac;
using octohub::testing::Role;
using octohub::testing::RunningServer;

namespace {

const std::string kJson = "Content-Type: application/json";

// A server with a GitHub-signed source "gh" (pages of /items, ids at /id), a Stripe-signed
// source "stripe" (one event a push, ids at /id) and a polled source "polled".
struct Hooks {
  RunningServer api;
  Client client;

  Hooks() {
    Create(R"({"name": "gh", "records": "/items", "id": "/id",
               "push": {"signature": "github", "secret": "gh-secret"},
               "index": {"title": "/title"}})");
    Create(R"({"name": "stripe", "records": "/items", "id": "/id",
               "push": {"signature": "stripe", "secret": "whsec_stripe"},
               "index": {"title": "/type"}})");
    Create(R"({"name": "polled", "url": "http://127.0.0.1:9/x", "records": "", "id": "/id"})");
  }
  void Create(const std::string& text) {
    auto spec = octohub::ParseSourceSpec(json::parse(text));
    INFO(spec.status().ToString());
    REQUIRE(spec.ok());
    REQUIRE(octohub::ingest::SourceRegistry(api.database.db()).Create(*spec).ok());
  }
  octohub::testing::Response Push(const std::string& source, const std::string& body,
                                  std::vector<std::string> headers) {
    headers.push_back(kJson);
    return client.Get(api.url("/api/v1/hooks/" + source), headers, "POST", body);
  }
  octohub::testing::Response PushGithub(const std::string& body) {
    return Push("gh", body, {"X-Hub-Signature-256: sha256=" + OpensslHmac("gh-secret", body)});
  }
  std::string StripeHeader(const std::string& body, std::int64_t at) {
    const std::string t = std::to_string(at);
    return "Stripe-Signature: t=" + t + ",v1=" + OpensslHmac("whsec_stripe", t + "." + body);
  }
  std::int64_t Records(const std::string& source) {
    return std::stoll(
        api.database.Scalar("SELECT count(*) FROM records WHERE source = '" + source + "'"));
  }
};

std::int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

TEST_CASE("a signed push is stored like a harvested page and answered 202 once committed",
          "[pg][http]") {
  Hooks h;
  auto page = h.PushGithub(R"({"items": [{"id": 1, "title": "one"}, {"id": 2, "title": "two"}]})");
  INFO(page.body);
  REQUIRE(page.status == 202);
  CHECK(json::parse(page.body).at("records") == 2);
  CHECK(h.Records("gh") == 2);
  // One record alone, then a changed version of it: a new change sequence, as a harvest's.
  const std::string before =
      h.api.database.Scalar("SELECT change_seq FROM records WHERE source = 'gh' AND id = '1'");
  REQUIRE(h.PushGithub(R"({"id": 1, "title": "one, changed"})").status == 202);
  CHECK(h.api.database.Scalar("SELECT data->>'title' FROM records WHERE id = '1'") ==
        "one, changed");
  CHECK(std::stoll(h.api.database.Scalar(
            "SELECT change_seq FROM records WHERE source = 'gh' AND id = '1'")) >
        std::stoll(before));
  // The same again changes nothing.
  const std::string after =
      h.api.database.Scalar("SELECT change_seq FROM records WHERE source = 'gh' AND id = '1'");
  REQUIRE(h.PushGithub(R"({"id": 1, "title": "one, changed"})").status == 202);
  CHECK(h.api.database.Scalar("SELECT change_seq FROM records WHERE source = 'gh' AND id = '1'") ==
        after);
  // Indexed and found like any record.
  REQUIRE(h.api.follower.CatchUp().ok());
  auto found =
      h.client.Get(h.api.url("/api/v1/search?q=changed&source=gh"), {h.api.Auth(Role::kRead)});
  REQUIRE(found.status == 200);
  CHECK(json::parse(found.body).at("total") == 1);
  // The minute's pushes are one run in the history (two if a minute began meanwhile).
  auto runs = h.client.Get(h.api.url("/api/v1/sources/gh/runs"), {h.api.Auth(Role::kWrite)});
  REQUIRE(runs.status == 200);
  const json::value history = json::parse(runs.body);
  const auto& list = history.at("runs").as_array();
  REQUIRE(!list.empty());
  CHECK(list.size() <= 2);
  std::int64_t seen = 0;
  for (const auto& entry : list) {
    CHECK(entry.at("trigger") == "push");
    CHECK(entry.at("status") == "succeeded");
    seen += entry.at("records_seen").as_int64();
  }
  CHECK(seen == 4);
}

TEST_CASE("bad pushes are refused with the right status and store nothing", "[pg][http]") {
  Hooks h;
  const std::string body = R"({"id": 5, "title": "five"})";
  const std::string good = "X-Hub-Signature-256: sha256=" + OpensslHmac("gh-secret", body);
  auto status = [&](const octohub::testing::Response& r) {
    INFO(r.body);
    return r.status;
  };
  CHECK(status(h.Push("gh", body, {"X-Hub-Signature-256: sha256=" + OpensslHmac("wrong", body)})) ==
        401);
  CHECK(status(h.Push("gh", body, {})) == 401);
  CHECK(status(h.Push("gh", R"({"id": 6, "title": "five"})", {good})) == 401);  // altered
  CHECK(status(h.Push("nope", body, {good})) == 404);
  CHECK(status(h.Push("polled", body, {good})) == 404);
  const std::string broken = R"({"id": 5, "title": )";
  CHECK(status(h.PushGithub(broken)) == 400);
  const std::string no_id = R"({"items": [{"id": 8}, {"title": "no id"}]})";
  auto missing_id = h.PushGithub(no_id);
  CHECK(status(missing_id) == 422);
  CHECK_THAT(missing_id.body, Catch::Contains("/id"));
  // Over the body limit: refused before anything is read into a record.
  const std::string huge = R"({"id": 9, "title": ")" + std::string(11 << 20, 'x') + "\"}";
  CHECK(status(h.PushGithub(huge)) == 413);
  // Stripe: a stale signature, then a replay of a good one.
  const std::string event = R"({"id": "evt_1", "type": "invoice.paid"})";
  CHECK(status(h.Push("stripe", event, {h.StripeHeader(event, Now() - 600)})) == 401);
  const std::string fresh = h.StripeHeader(event, Now());
  CHECK(status(h.Push("stripe", event, {fresh})) == 202);
  CHECK(status(h.Push("stripe", event, {fresh})) == 409);
  CHECK(h.Records("gh") == 0);
  CHECK(h.Records("stripe") == 1);
  CHECK(h.Records("polled") == 0);
}

TEST_CASE("a push-only source has nothing to poll, and a deleted one takes no push", "[pg][http]") {
  Hooks h;
  auto write = h.api.Auth(Role::kWrite);
  auto run = h.client.Get(h.api.url("/api/v1/sources/gh/runs"), {write}, "POST");
  CHECK(run.status == 409);
  CHECK_THAT(run.body, Catch::Contains("only receives pushes"));
  REQUIRE(h.PushGithub(R"({"id": 1, "title": "one"})").status == 202);
  REQUIRE(octohub::ingest::SourceRegistry(h.api.database.db()).Delete("gh").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // past the settings cache
  CHECK(h.PushGithub(R"({"id": 2, "title": "two"})").status == 404);
  CHECK(h.Records("gh") == 0);
  // Created again: pushes are taken again, from nothing.
  h.Create(R"({"name": "gh", "records": "/items", "id": "/id",
               "push": {"signature": "github", "secret": "gh-secret"}})");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  CHECK(h.PushGithub(R"({"id": 3, "title": "three"})").status == 202);
  CHECK(h.Records("gh") == 1);
}
