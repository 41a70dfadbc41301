// Pushed requests' signatures, each made as its sender makes it (with openssl, not with the
// code under test), and every way one can be wrong.
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "octohub/core/source_spec.h"
#include "octohub/ingest/push.h"
#include "openssl_hmac.h"

using octohub::ParseSourceSpec;
using octohub::PushSpec;
using octohub::ingest::CheckPushSignature;
using octohub::testing::OpensslHmac;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

using Headers = std::map<std::string, std::string>;
const std::string kBody = R"({"id": 7, "state": "closed"})";
const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1800000000));

PushSpec Push(PushSpec::Signature signature, std::string header = "") {
  PushSpec push;
  push.signature = signature;
  push.header = std::move(header);
  return push;
}

bool Accepted(const PushSpec& push, const std::string& secret, const Headers& headers,
              const std::string& body = kBody, std::chrono::system_clock::time_point now = kNow) {
  auto check = CheckPushSignature(push, secret, headers, body, now);
  INFO(check.reason);
  return check.accepted;
}

}  // namespace

TEST_CASE("GitHub pushes are checked by X-Hub-Signature-256", "[unit]") {
  const auto push = Push(PushSpec::Signature::kGithub);
  const std::string good = "sha256=" + OpensslHmac("It's a Secret to Everybody", kBody);
  CHECK(Accepted(push, "It's a Secret to Everybody", {{"x-hub-signature-256", good}}));
  CHECK_FALSE(Accepted(push, "another secret", {{"x-hub-signature-256", good}}));
  CHECK_FALSE(
      Accepted(push, "It's a Secret to Everybody", {{"x-hub-signature-256", good}}, kBody + " "));
  CHECK_FALSE(Accepted(push, "It's a Secret to Everybody", {}));
  CHECK_FALSE(Accepted(push, "It's a Secret to Everybody",
                       {{"x-hub-signature-256", good.substr(7)}}));  // no sha256=
  CHECK_FALSE(Accepted(push, "It's a Secret to Everybody",
                       {{"x-hub-signature-256", "sha256=zz" + good.substr(9)}}));
  auto missing = CheckPushSignature(push, "s", {}, kBody, kNow);
  CHECK(missing.reason == "the X-Hub-Signature-256 header is missing");
}

TEST_CASE("Stripe pushes are checked by Stripe-Signature within five minutes, once", "[unit]") {
  const auto push = Push(PushSpec::Signature::kStripe);
  const std::string secret = "whsec_test_stripe_secret";  // Stripe keys with the text as is
  auto header = [&](std::chrono::system_clock::time_point at, const std::string& body = kBody) {
    const std::string t = std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count());
    return "t=" + t + ",v1=" + OpensslHmac(secret, t + "." + body) + ",v0=deadbeef";
  };
  CHECK(Accepted(push, secret, {{"stripe-signature", header(kNow)}}));
  CHECK(Accepted(push, secret, {{"stripe-signature", header(kNow - 299s)}}));
  CHECK_FALSE(Accepted(push, secret, {{"stripe-signature", header(kNow - 301s)}}));
  CHECK_FALSE(Accepted(push, secret, {{"stripe-signature", header(kNow + 400s)}}));
  CHECK_FALSE(Accepted(push, "whsec_other", {{"stripe-signature", header(kNow)}}));
  CHECK_FALSE(Accepted(push, secret, {{"stripe-signature", header(kNow, "{}")}}));
  CHECK_FALSE(Accepted(push, secret, {{"stripe-signature", "v1=abc"}}));
  CHECK_FALSE(Accepted(push, secret, {}));
  // Two requests with the same signed timestamp and signature repeat one replay key.
  auto first = CheckPushSignature(push, secret, {{"stripe-signature", header(kNow)}}, kBody, kNow);
  auto again =
      CheckPushSignature(push, secret, {{"stripe-signature", header(kNow)}}, kBody, kNow + 10s);
  CHECK_FALSE(first.replay_key.empty());
  CHECK(first.replay_key == again.replay_key);
  auto stale =
      CheckPushSignature(push, secret, {{"stripe-signature", header(kNow - 600s)}}, kBody, kNow);
  CHECK_THAT(stale.reason, Catch::Contains("more than 5 minutes old"));
}

TEST_CASE("Standard Webhooks pushes are checked with the whsec_ secret's bytes", "[unit]") {
  const auto push = Push(PushSpec::Signature::kStandardWebhooks);
  // whsec_ then base64 of "octohub test key"; openssl takes the key as hex.
  const std::string secret = "whsec_b2N0b2h1YiB0ZXN0IGtleQ==";
  const std::string key_hex = "6f63746f6875622074657374206b6579";
  auto headers = [&](const std::string& id, std::chrono::system_clock::time_point at) {
    const std::string t = std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count());
    return Headers{
        {"webhook-id", id},
        {"webhook-timestamp", t},
        {"webhook-signature",
         "v1,bm90IGl0 v1," + OpensslHmac(key_hex, id + "." + t + "." + kBody, true, true)}};
  };
  CHECK(Accepted(push, secret, headers("msg_1", kNow)));
  CHECK_FALSE(Accepted(push, secret, headers("msg_1", kNow - 301s)));
  CHECK_FALSE(Accepted(push, "whsec_b3RoZXIga2V5", headers("msg_1", kNow)));
  auto wrong_id = headers("msg_1", kNow);
  wrong_id["webhook-id"] = "msg_2";
  CHECK_FALSE(Accepted(push, secret, wrong_id));
  auto no_id = headers("msg_1", kNow);
  no_id.erase("webhook-id");
  CHECK_FALSE(Accepted(push, secret, no_id));
  CHECK(CheckPushSignature(push, secret, headers("msg_1", kNow), kBody, kNow).replay_key ==
        "webhook:msg_1");
}

TEST_CASE("a generic push is checked by a hex HMAC in the header the source names", "[unit]") {
  const auto push = Push(PushSpec::Signature::kHmacSha256, "X-Signature");
  const std::string hex = OpensslHmac("k3y", kBody);
  CHECK(Accepted(push, "k3y", {{"x-signature", hex}}));
  CHECK(Accepted(push, "k3y", {{"x-signature", "sha256=" + hex}}));
  std::string upper = hex;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(Accepted(push, "k3y", {{"x-signature", upper}}));
  CHECK_FALSE(Accepted(push, "k3y", {{"x-other", hex}}));
  CHECK_FALSE(Accepted(push, "k3y", {{"x-signature", hex.substr(2)}}));
  CHECK(CheckPushSignature(push, "k3y", {{"x-signature", hex}}, kBody, kNow).replay_key.empty());
}

TEST_CASE("a source's push settings are validated with pointers and never shown", "[unit]") {
  auto parse = [](const std::string& members) {
    return ParseSourceSpec(
        json::parse(R"({"name": "hooked", "records": "/items", "id": "/id", )" + members + "}"));
  };
  auto only_push = parse(R"("push": {"signature": "github", "secret": "s3cr3t"})");
  REQUIRE(only_push.ok());
  CHECK(only_push->url.empty());
  const std::string shown = json::serialize(octohub::SourceSpecToJson(*only_push, true));
  CHECK(shown.find("s3cr3t") == std::string::npos);
  auto again = ParseSourceSpec(octohub::SourceSpecToJson(*only_push, false));
  REQUIRE(again.ok());
  CHECK(*again == *only_push);
  auto pointers = [&](const std::string& members) {
    auto spec = parse(members);
    std::string out;
    if (!spec.ok()) {
      for (const auto& e : spec.status().field_errors()) out += e.pointer + " ";
    }
    return out;
  };
  CHECK(pointers(R"("push": {"signature": "gitlab", "secret": "s"})") == "/push/signature ");
  CHECK(pointers(R"("push": {"signature": "github"})") == "/push/secret ");
  CHECK(pointers(R"("push": {"signature": "hmac-sha256", "secret": "s"})") == "/push/header ");
  CHECK(pointers(R"("push": {"signature": "github", "secret": "s", "header": "X"})") ==
        "/push/header ");
  CHECK(pointers(R"("push": {"signature": "github", "secret": "s"}, "schedule": "every 5m")") ==
        "/schedule ");
  CHECK(pointers(R"("schedule": "every 5m")") == "/url ");  // no push: a url is required
}
