// Emulators of APIs paged by opaque tokens in the query or in Link headers: X (Twitter) API
// v2 and Shopify REST Admin.
#include <algorithm>

#include "api_emulator_kit.h"

namespace octohub::testing::emulation {
namespace {

// ---------------------------------------------------------------------------------------------
// X API v2, a user's liked posts: max_results 10–100, pagination_token from meta.next_token
// (absent on the last page). Unknown or out-of-range parameters are refused with a problem.
class TwitterApi final : public ApiModel {
 public:
  TwitterApi() {
    auto records = SampleRecords(kCount);
    for (auto it = records.rbegin(); it != records.rend(); ++it) records_.push_back(*it);
  }

  TestResponse Handle(const TestRequest& request) override {
    if (BearerToken(request) != kToken) {
      return JsonResponse(401,
                          {{"title", "Unauthorized"},
                           {"type", "about:blank"},
                           {"status", 401},
                           {"detail", "Unauthorized"}},
                          "application/problem+json");
    }
    if (request.path != kPath) {
      return Invalid("path", request.path, "The requested resource does not exist.");
    }
    static const std::set<std::string> kParameters = {
        "max_results", "pagination_token", "expansions",   "tweet.fields",
        "user.fields", "media.fields",     "place.fields", "poll.fields"};
    for (const auto& [name, value] : request.query) {
      if (!kParameters.count(name)) {
        return Invalid(name, value,
                       "The query parameter [" + name +
                           "] is not one this endpoint "
                           "accepts.");
      }
    }
    std::int64_t max_results = 100;
    if (auto text = QueryOf(request, "max_results")) {
      auto parsed = ParseInteger(*text);
      if (!parsed || *parsed < 10 || *parsed > 100) {
        return Invalid(
            "max_results", *text,
            "The `max_results` query parameter value [" + *text + "] is not between 10 and 100");
      }
      max_results = *parsed;
    }
    std::set<std::string> fields;
    if (auto text = QueryOf(request, "tweet.fields")) {
      static const std::set<std::string> kFields = {"created_at", "public_metrics", "lang",
                                                    "author_id", "edit_history_tweet_ids"};
      for (const auto& field : SplitCommas(*text)) {
        if (!kFields.count(field)) {
          return Invalid("tweet.fields", field,
                         "The `tweet.fields` query parameter value [" + field +
                             "] is not one of the post fields.");
        }
        fields.insert(field);
      }
    }
    std::int64_t first = 0;
    if (auto token = QueryOf(request, "pagination_token")) {
      auto position = PositionIn(*token, "liked:", kCount);
      if (!position) {
        return Invalid("pagination_token", *token,
                       "The `pagination_token` query parameter value [" + *token +
                           "] is not a token this endpoint issued.");
      }
      first = *position;
    }
    const std::int64_t end = std::min<std::int64_t>(first + max_results, kCount);
    json::array data;
    for (std::int64_t i = first; i < end; ++i) data.push_back(Post(records_[i], fields));
    json::object meta{{"result_count", end - first}};
    if (end < kCount) meta["next_token"] = UrlToken("liked:" + std::to_string(end));
    if (first > 0) {
      meta["previous_token"] =
          UrlToken("liked:" + std::to_string(std::max<std::int64_t>(first - max_results, 0)));
    }
    json::object body;
    if (end > first) body["data"] = std::move(data);  // X leaves "data" out of an empty page
    body["meta"] = std::move(meta);
    return JsonResponse(200, body);
  }

  json::object Source(const std::string& base_url) const override {
    return {{"url", base_url + kPath},
            {"query", {{"tweet.fields", "created_at,public_metrics,lang"}}},
            {"auth", {{"type", "bearer"}, {"token", kToken}}},
            {"records", "/data"},
            {"id", "/id"},
            {"pagination",
             {{"type", "cursor"},
              {"param", "pagination_token"},
              {"cursor_path", "/meta/next_token"},
              {"size_param", "max_results"},
              {"size", 100}}},
            {"index", IndexFields("", {"/text"}, {{"lang", "/lang"}}, {{"created", "/created_at"}},
                                  {{"likes", "/public_metrics/like_count"}})}};
  }

  std::set<std::string> ExpectedIds() const override {
    std::set<std::string> ids;
    for (const auto& r : records_) ids.insert(IdOf(r));
    return ids;
  }

 private:
  static constexpr int kCount = 230;
  static constexpr const char* kPath = "/2/users/2244994945/liked_tweets";
  static constexpr const char* kToken = "AAAAAAAAAAAAAAAAAAAAAEmulatorAppOnlyBearerToken0001";

  static std::string IdOf(const SampleRecord& r) {
    return std::to_string(1700000000000000000LL + static_cast<std::int64_t>(r.number) * 4096);
  }

  static TestResponse Invalid(const std::string& parameter, const std::string& value,
                              const std::string& message) {
    json::object parameters;
    parameters[parameter] = json::array{json::value(value)};
    json::object error{{"parameters", std::move(parameters)}, {"message", message}};
    return JsonResponse(400, {{"errors", json::array{std::move(error)}},
                              {"title", "Invalid Request"},
                              {"detail", "One or more parameters to your request was invalid."},
                              {"type", "https://api.twitter.com/2/problems/invalid-request"}});
  }

  static json::object Post(const SampleRecord& r, const std::set<std::string>& fields) {
    const std::string id = IdOf(r);
    json::object post{{"id", id},
                      {"text", r.title + ". " + r.body},
                      {"edit_history_tweet_ids", json::array{json::value(id)}}};
    if (fields.count("created_at")) post["created_at"] = r.updated_at.substr(0, 19) + ".000Z";
    if (fields.count("lang")) post["lang"] = "en";
    if (fields.count("author_id")) post["author_id"] = std::to_string(783214 + r.number % 5);
    if (fields.count("public_metrics")) {
      post["public_metrics"] = {{"retweet_count", r.comments / 3},
                                {"reply_count", r.comments},
                                {"like_count", r.comments * 4 + r.number % 7},
                                {"quote_count", r.number % 3}};
    }
    return post;
  }

  std::vector<SampleRecord> records_;  // most recently liked first
};

// ---------------------------------------------------------------------------------------------
// Shopify REST Admin orders: cursor paging through Link headers with page_info. Filters go on
// the first request only; a page_info request may carry limit and fields, nothing else.
class ShopifyApi final : public ApiModel {
 public:
  ShopifyApi() : records_(SampleRecords(kCount)) {}

  TestResponse Handle(const TestRequest& request) override {
    if (HeaderOf(request, "x-shopify-access-token") != kToken) {
      return JsonResponse(401,
                          {{"errors",
                            "[API] Invalid API key or access token (unrecognized login or wrong "
                            "password)"}});
    }
    if (request.path != kPath) return JsonResponse(404, {{"errors", "Not Found"}});
    if (request.query.count("page")) return Refuse("page", "page cannot be passed.");
    std::int64_t limit = 50;
    if (auto text = QueryOf(request, "limit")) {
      auto parsed = ParseInteger(*text);
      if (!parsed || *parsed < 1) return Refuse("limit", "Invalid value.");
      limit = std::min<std::int64_t>(*parsed, 250);
    }
    std::string status = "open";
    std::int64_t first = 0;
    if (auto page_info = QueryOf(request, "page_info")) {
      for (const auto& [name, value] : request.query) {
        if (name != "page_info" && name != "limit" && name != "fields") {
          return Refuse(name, name +
                                  " cannot be passed when page_info is present. See "
                                  "https://shopify.dev/api/usage/pagination-rest for more "
                                  "information.");
        }
      }
      // page_info carries the filters of the first request along with the position.
      auto text = FromUrlToken(*page_info);
      const size_t bar = text ? text->find('|') : std::string::npos;
      if (bar == std::string::npos) return Refuse("page_info", "Invalid value.");
      status = text->substr(0, bar);
      auto position = PositionIn(*page_info, status + "|", kCount);
      if (!position || !KnownStatus(status)) return Refuse("page_info", "Invalid value.");
      first = *position;
    } else if (auto text = QueryOf(request, "status")) {
      if (!KnownStatus(*text)) return Refuse("status", "Invalid value.");
      status = *text;
    }
    std::vector<const SampleRecord*> matching;
    for (const auto& r : records_) {
      if (status == "any" || StatusOf(r) == status) matching.push_back(&r);
    }
    const std::int64_t total = static_cast<std::int64_t>(matching.size());
    const std::int64_t end = std::min(first + limit, total);
    json::array orders;
    for (std::int64_t i = first; i < end; ++i) orders.push_back(Order(*matching[i]));
    TestResponse response = JsonResponse(200, {{"orders", std::move(orders)}});
    auto link_to = [&](std::int64_t position) {
      std::vector<std::pair<std::string, std::string>> params;
      if (request.query.count("limit")) params.emplace_back("limit", std::to_string(limit));
      params.emplace_back("page_info", UrlToken(status + "|" + std::to_string(position)));
      return WithQuery(BaseUrl(request) + kPath, params);
    };
    std::vector<std::pair<std::string, std::string>> links;
    if (first > 0)
      links.emplace_back("previous", link_to(std::max<std::int64_t>(first - limit, 0)));
    if (end < total) links.emplace_back("next", link_to(end));
    if (!links.empty()) SetHeader(response, "Link", LinkHeader(links));
    SetHeader(response, "X-Shopify-Shop-Api-Call-Limit", "1/40");
    return response;
  }

  json::object Source(const std::string& base_url) const override {
    return {{"url", base_url + kPath},
            {"query", {{"status", "any"}}},
            {"auth", {{"type", "header"}, {"name", "X-Shopify-Access-Token"}, {"value", kToken}}},
            {"records", "/orders"},
            {"id", "/id"},
            {"pagination", {{"type", "link_header"}, {"size_param", "limit"}, {"size", 50}}},
            {"index", IndexFields("/name", {"/note", "/line_items/*/title"},
                                  {{"financial_status", "/financial_status"}},
                                  {{"updated", "/updated_at"}}, {})}};
  }

  std::set<std::string> ExpectedIds() const override {
    std::set<std::string> ids;
    for (const auto& r : records_) ids.insert(std::to_string(IdOf(r)));
    return ids;
  }

 private:
  static constexpr int kCount = 180;
  static constexpr const char* kPath = "/admin/api/2024-01/orders.json";
  static constexpr const char* kToken = "shpat_emulator0f1e2d3c4b5a69788796a5b4c3d2e1f0";

  static bool KnownStatus(const std::string& s) {
    return s == "open" || s == "closed" || s == "cancelled" || s == "any";
  }
  static std::string StatusOf(const SampleRecord& r) {
    if (r.number % 10 == 0) return "cancelled";
    return r.state == "open" ? "open" : "closed";
  }
  static std::int64_t IdOf(const SampleRecord& r) { return 450789469 + r.number * 10; }

  static TestResponse Refuse(const std::string& parameter, const std::string& message) {
    json::object errors;
    errors[parameter] = message;
    return JsonResponse(400, {{"errors", std::move(errors)}});
  }

  static json::object Order(const SampleRecord& r) {
    // Shopify writes times in the shop's zone; this shop is at UTC-5.
    auto local = [](std::int64_t epoch) {
      return Rfc3339(epoch - 5 * 3600).substr(0, 19) + "-05:00";
    };
    const std::string status = StatusOf(r);
    return {
        {"id", IdOf(r)},
        {"name", "#" + std::to_string(1000 + r.number)},
        {"email", "buyer" + std::to_string(r.number) + "@example.com"},
        {"note", r.body},
        {"financial_status", r.number % 4 == 0 ? "pending" : "paid"},
        {"fulfillment_status", status == "closed" ? json::value("fulfilled") : nullptr},
        {"closed_at", status == "closed" ? json::value(local(r.updated_epoch)) : nullptr},
        {"cancelled_at", status == "cancelled" ? json::value(local(r.updated_epoch)) : nullptr},
        {"total_price", std::to_string(10 + r.number % 90) + "." + std::to_string(10 + r.comments)},
        {"line_items", json::array{{{"title", r.title}, {"quantity", 1 + r.number % 3}}}},
        {"created_at", local(r.updated_epoch - 86400)},
        {"updated_at", local(r.updated_epoch)}};
  }

  const std::vector<SampleRecord> records_;
};

}  // namespace

std::unique_ptr<ApiEmulator> MakeTwitterEmulator() {
  return Host<TwitterApi>("twitter", "https://docs.x.com/x-api/fundamentals/pagination");
}
std::unique_ptr<ApiEmulator> MakeShopifyEmulator() {
  return Host<ShopifyApi>("shopify", "https://shopify.dev/docs/api/admin-rest/usage/pagination");
}

}  // namespace octohub::testing::emulation
