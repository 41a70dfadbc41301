// Emulators of APIs paged by tokens and links: X (Twitter) API v2, Shopify REST Admin,
// WordPress REST, a JSON:API server and Microsoft Graph (OData v4).
#include <algorithm>

#include "api_emulator_kit.h"

namespace octohub::testing::emulation {
namespace {

std::vector<std::string> SplitCommas(std::string_view text) {
  std::vector<std::string> parts;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    parts.emplace_back(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  return parts;
}

// Opaque page tokens for URLs: base64url without padding, so no character needs escaping.
std::string UrlToken(std::string_view text) {
  std::string token = Base64(text);
  while (!token.empty() && token.back() == '=') token.pop_back();
  std::replace(token.begin(), token.end(), '+', '-');
  std::replace(token.begin(), token.end(), '/', '_');
  return token;
}

std::optional<std::string> FromUrlToken(std::string token) {
  std::replace(token.begin(), token.end(), '-', '+');
  std::replace(token.begin(), token.end(), '_', '/');
  return FromBase64(token);
}

// A position carried in a token, accepted only if the token is exactly one this server made.
std::optional<std::int64_t> PositionIn(const std::string& token, const std::string& prefix,
                                       std::int64_t limit) {
  auto text = FromUrlToken(token);
  if (!text || text->rfind(prefix, 0) != 0) return std::nullopt;
  auto position = ParseInteger(text->substr(prefix.size()));
  if (!position || *position < 0 || *position > limit ||
      UrlToken(prefix + std::to_string(*position)) != token) {
    return std::nullopt;
  }
  return position;
}

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

// ---------------------------------------------------------------------------------------------
// WordPress REST posts: page/per_page (1–100), X-WP-Total and X-WP-TotalPages headers, 400
// rest_post_invalid_page_number past the last page; the edit context needs an application
// password.
class WordpressApi final : public ApiModel {
 public:
  WordpressApi() : records_(SampleRecords(kCount)) {}

  TestResponse Handle(const TestRequest& request) override {
    const bool signed_in = HeaderOf(request, "authorization").size() > 0;
    if (signed_in) {
      auto credentials = BasicCredentials(request);
      std::string password = credentials ? credentials->password : "";
      password.erase(std::remove(password.begin(), password.end(), ' '), password.end());
      if (!credentials || credentials->user != kUser || password != kAppPasswordNoSpaces) {
        return Error(401, "incorrect_password",
                     "The application password given is not valid for this user.");
      }
    }
    if (request.path != "/wp-json/wp/v2/posts") {
      return Error(404, "rest_no_route", "No route was found matching the URL and request method.");
    }
    const std::string context = QueryOf(request, "context").value_or("view");
    if (context != "view" && context != "embed" && context != "edit") {
      return InvalidParam("context", "context is not one of view, embed, and edit.");
    }
    if (context == "edit" && !signed_in) {
      return Error(401, "rest_forbidden_context",
                   "Sorry, you are not allowed to edit posts of this type.");
    }
    std::int64_t per_page = 10;
    if (auto text = QueryOf(request, "per_page")) {
      auto parsed = ParseInteger(*text);
      if (!parsed || *parsed < 1 || *parsed > 100) {
        return InvalidParam("per_page",
                            "per_page must be between 1 (inclusive) and 100 (inclusive)");
      }
      per_page = *parsed;
    }
    std::int64_t page = 1;
    if (auto text = QueryOf(request, "page")) {
      auto parsed = ParseInteger(*text);
      if (!parsed || *parsed < 1)
        return InvalidParam("page", "page must be greater than or equal to 1");
      page = *parsed;
    }
    const std::int64_t total_pages = (kCount + per_page - 1) / per_page;
    if (page > total_pages) {
      return Error(400, "rest_post_invalid_page_number",
                   "The page number requested is larger than the number of pages available.");
    }
    const std::string base = BaseUrl(request);
    json::array posts;
    for (std::int64_t i = (page - 1) * per_page;
         i < std::min<std::int64_t>(page * per_page, kCount); ++i) {
      posts.push_back(Post(records_[i], base, context == "edit"));
    }
    TestResponse response = JsonResponse(200, posts);
    SetHeader(response, "X-WP-Total", std::to_string(kCount));
    SetHeader(response, "X-WP-TotalPages", std::to_string(total_pages));
    auto link_to = [&](std::int64_t to) {
      std::vector<std::pair<std::string, std::string>> params(request.query.begin(),
                                                              request.query.end());
      params.emplace_back("page", std::to_string(to));
      return WithQuery(base + request.path, params);
    };
    std::vector<std::pair<std::string, std::string>> links;
    if (page > 1) links.emplace_back("prev", link_to(page - 1));
    if (page < total_pages) links.emplace_back("next", link_to(page + 1));
    if (!links.empty()) SetHeader(response, "Link", LinkHeader(links));
    return response;
  }

  json::object Source(const std::string& base_url) const override {
    return {{"url", base_url + "/wp-json/wp/v2/posts"},
            {"query", {{"context", "edit"}}},
            {"auth", {{"type", "basic"}, {"username", kUser}, {"password", kAppPassword}}},
            {"records", ""},
            {"id", "/id"},
            {"pagination",
             {{"type", "page"},
              {"param", "page"},
              {"start", 1},
              {"size_param", "per_page"},
              {"size", 100},
              {"pages_header", "X-WP-TotalPages"}}},
            {"index", IndexFields("/title/raw", {"/content/raw"}, {{"status", "/status"}},
                                  {{"modified", "/modified_gmt"}}, {})}};
  }

  std::set<std::string> ExpectedIds() const override {
    std::set<std::string> ids;
    for (const auto& r : records_) ids.insert(std::to_string(100 + r.number));
    return ids;
  }

 private:
  static constexpr int kCount = 235;
  static constexpr const char* kUser = "harvester";
  // Application passwords are shown in groups of four; WordPress ignores the spaces.
  static constexpr const char* kAppPassword = "abcd EFGH 1234 ijkl MNOP 6789";
  static constexpr const char* kAppPasswordNoSpaces = "abcdEFGH1234ijklMNOP6789";

  static TestResponse Error(int status, const std::string& code, const std::string& message) {
    return JsonResponse(status,
                        {{"code", code}, {"message", message}, {"data", {{"status", status}}}});
  }

  static TestResponse InvalidParam(const std::string& name, const std::string& reason) {
    json::object params;
    params[name] = reason;
    return JsonResponse(400, {{"code", "rest_invalid_param"},
                              {"message", "Invalid parameter(s): " + name},
                              {"data", {{"status", 400}, {"params", std::move(params)}}}});
  }

  static json::object Post(const SampleRecord& r, const std::string& base, bool edit) {
    const std::int64_t id = 100 + r.number;
    // WordPress gives local times without a zone next to the same times in GMT.
    const std::string gmt = r.updated_at.substr(0, 19);
    json::object title{{"rendered", r.title}};
    json::object content{{"rendered", "<p>" + r.body + "</p>\n"}, {"protected", false}};
    if (edit) {
      title["raw"] = r.title;
      content["raw"] = r.body;
    }
    return {{"id", id},
            {"date", Rfc3339(r.updated_epoch - 86400 + 7200).substr(0, 19)},
            {"date_gmt", Rfc3339(r.updated_epoch - 86400).substr(0, 19)},
            {"modified", Rfc3339(r.updated_epoch + 7200).substr(0, 19)},
            {"modified_gmt", gmt},
            {"slug", "post-" + std::to_string(id)},
            {"status", "publish"},
            {"type", "post"},
            {"link", base + "/?p=" + std::to_string(id)},
            {"title", std::move(title)},
            {"content", std::move(content)},
            {"author", 1 + r.number % 3},
            {"categories", json::array{r.state == "open" ? 1 : 2}}};
  }

  const std::vector<SampleRecord> records_;
};

// ---------------------------------------------------------------------------------------------
// A JSON:API server: page[number]/page[size] in its pagination links, links.next null on the
// last page, application/vnd.api+json, error objects; the spec's query-parameter rules apply.
class JsonApiServer final : public ApiModel {
 public:
  JsonApiServer() : records_(SampleRecords(kCount)) {}

  TestResponse Handle(const TestRequest& request) override {
    if (!AcceptsJsonApi(HeaderOf(request, "accept"))) {
      return Error(406, "Not Acceptable",
                   "Every JSON:API media type in Accept has parameters this server does not "
                   "support.");
    }
    if (BearerToken(request) != kToken) {
      TestResponse response = Error(401, "Unauthorized", "A valid bearer token is required.");
      SetHeader(response, "WWW-Authenticate", "Bearer realm=\"articles\"");
      return response;
    }
    if (request.path != "/api/articles") return Error(404, "Not Found", "No such collection.");
    std::int64_t number = 1;
    std::int64_t size = 20;
    std::set<std::string> fields;
    for (const auto& [name, value] : request.query) {
      if (name == "page[number]" || name == "page[size]") {
        auto parsed = ParseInteger(value);
        const std::int64_t max = name == "page[size]" ? 100 : 1000000;
        if (!parsed || *parsed < 1 || *parsed > max) {
          return Error(400, "Invalid Query Parameter",
                       name + " must be an integer from 1 to " + std::to_string(max) + ".", name);
        }
        (name == "page[size]" ? size : number) = *parsed;
      } else if (name == "fields[articles]") {
        for (const auto& field : SplitCommas(value)) fields.insert(field);
      } else if (name == "include" || name == "sort") {
        // A server that does not support these must refuse them rather than ignore them.
        return Error(400, "Unsupported Query Parameter",
                     "This collection does not support " + name + ".", name);
      } else if (std::all_of(name.begin(), name.end(),
                             [](char c) { return c >= 'a' && c <= 'z'; }) ||
                 name.rfind("page[", 0) == 0) {
        // All-lowercase names are reserved for the specification itself.
        return Error(400, "Invalid Query Parameter", name + " is not a parameter of this API.",
                     name);
      }
    }
    const std::int64_t last = std::max<std::int64_t>((kCount + size - 1) / size, 1);
    const std::string base = BaseUrl(request) + request.path;
    auto link_to = [&](std::int64_t page) -> json::value {
      std::vector<std::pair<std::string, std::string>> params;
      for (const auto& [name, value] : request.query) {
        if (name.rfind("page[", 0) != 0) params.emplace_back(name, value);
      }
      params.emplace_back("page[number]", std::to_string(page));
      params.emplace_back("page[size]", std::to_string(size));
      return json::value(WithQuery(base, params));
    };
    json::array data;
    for (std::int64_t i = (number - 1) * size; i < std::min<std::int64_t>(number * size, kCount);
         ++i) {
      data.push_back(Article(records_[i], base, fields));
    }
    json::object links{{"self", link_to(number)},
                       {"first", link_to(1)},
                       {"last", link_to(last)},
                       {"prev", number > 1 ? link_to(number - 1) : json::value(nullptr)},
                       {"next", number < last ? link_to(number + 1) : json::value(nullptr)}};
    return JsonResponse(200,
                        {{"jsonapi", {{"version", "1.1"}}},
                         {"links", std::move(links)},
                         {"meta", {{"total", kCount}}},
                         {"data", std::move(data)}},
                        "application/vnd.api+json");
  }

  json::object Source(const std::string& base_url) const override {
    return {{"url", base_url + "/api/articles"},
            {"headers", {{"Accept", "application/vnd.api+json"}}},
            {"query", {{"page[size]", "25"}}},
            {"auth", {{"type", "bearer"}, {"token", kToken}}},
            {"records", "/data"},
            {"id", "/id"},
            {"pagination", {{"type", "next_url"}, {"next_path", "/links/next"}}},
            {"index",
             IndexFields("/attributes/title", {"/attributes/body"},
                         {{"state", "/attributes/state"}}, {{"updated", "/attributes/updated_at"}},
                         {{"comments", "/attributes/comment_count"}})}};
  }

  std::set<std::string> ExpectedIds() const override {
    std::set<std::string> ids;
    for (const auto& r : records_) ids.insert(std::to_string(r.number));
    return ids;
  }

 private:
  static constexpr int kCount = 140;
  static constexpr const char* kToken = "jsonapi-emulator-token-0001";

  // JSON:API 1.1: answer 406 only when every instance of its media type carries parameters
  // other than ext and profile. An Accept header without the media type is fine.
  static bool AcceptsJsonApi(const std::string& accept) {
    bool mentioned = false;
    for (std::string item : SplitCommas(accept)) {
      item.erase(0, item.find_first_not_of(' '));
      if (item.rfind("application/vnd.api+json", 0) != 0) continue;
      mentioned = true;
      bool plain = true;
      std::string_view rest = std::string_view(item).substr(24);  // the parameters, if any
      while (!rest.empty()) {
        const size_t semi = rest.find(';');
        std::string_view p = rest.substr(0, semi);
        rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
        p.remove_prefix(std::min(p.find_first_not_of(' '), p.size()));
        if (!p.empty() && p.rfind("ext=", 0) != 0 && p.rfind("profile=", 0) != 0) plain = false;
      }
      if (plain) return true;
    }
    return !mentioned;
  }

  static TestResponse Error(int status, const std::string& title, const std::string& detail,
                            const std::string& parameter = "") {
    json::object error{{"status", std::to_string(status)}, {"title", title}, {"detail", detail}};
    if (!parameter.empty()) error["source"] = {{"parameter", parameter}};
    return JsonResponse(status, {{"errors", json::array{std::move(error)}}},
                        "application/vnd.api+json");
  }

  static json::object Article(const SampleRecord& r, const std::string& base,
                              const std::set<std::string>& fields) {
    const json::object all{{"title", r.title},
                           {"body", r.body},
                           {"state", r.state},
                           {"updated_at", r.updated_at},
                           {"comment_count", r.comments}};
    json::object attributes;
    for (const auto& [name, value] : all) {
      if (fields.empty() || fields.count(std::string(name))) attributes[name] = value;
    }
    const std::string id = std::to_string(r.number);
    return {{"type", "articles"},
            {"id", id},
            {"attributes", std::move(attributes)},
            {"links", {{"self", base + "/" + id}}}};
  }

  const std::vector<SampleRecord> records_;
};

// ---------------------------------------------------------------------------------------------
// Microsoft Graph users (OData v4): $top 1–999 sets the page size, @odata.nextLink carries a
// $skiptoken and is absent on the last page; $skip is not supported on this collection.
class GraphUsersApi final : public ApiModel {
 public:
  GraphUsersApi() : records_(SampleRecords(kCount)) {}

  TestResponse Handle(const TestRequest& request) override {
    auto token = BearerToken(request);
    if (!token || token->empty()) {
      return Error(401, "InvalidAuthenticationToken", "Access token is empty.");
    }
    if (*token != kToken) {
      return Error(401, "InvalidAuthenticationToken", "Access token validation failure.");
    }
    if (request.path != "/v1.0/users") {
      return Error(400, "BadRequest", "Resource not found for the segment '" + request.path + "'.");
    }
    if (request.query.count("$skip")) {
      return Error(400, "Request_BadRequest", "'$skip' is not supported by the service.");
    }
    std::int64_t top = 100;
    if (auto text = QueryOf(request, "$top")) {
      auto parsed = ParseInteger(*text);
      if (!parsed || *parsed < 1 || *parsed > 999) {
        return Error(400, "Request_BadRequest",
                     "Invalid page size specified: '" + *text +
                         "'. Must be between 1 and 999 "
                         "inclusive.");
      }
      top = *parsed;
    }
    std::vector<std::string> select;
    if (auto text = QueryOf(request, "$select")) {
      for (const auto& property : SplitCommas(*text)) {
        if (!User(records_[0]).contains(property)) {
          return Error(
              400, "Request_BadRequest",
              "Could not find a property named '" + property + "' on type 'microsoft.graph.user'.");
        }
        select.push_back(property);
      }
    }
    std::int64_t first = 0;
    if (auto skiptoken = QueryOf(request, "$skiptoken")) {
      auto position = PositionIn(*skiptoken, "users:", kCount);
      if (!position) return Error(400, "Request_BadRequest", "The $skiptoken is not valid.");
      first = *position;
    }
    const std::int64_t end = std::min<std::int64_t>(first + top, kCount);
    json::array value;
    for (std::int64_t i = first; i < end; ++i) {
      json::object user = User(records_[i]);
      if (!select.empty()) {
        json::object chosen;
        for (const auto& property : select) chosen[property] = user.at(property);
        user = std::move(chosen);
      }
      value.push_back(std::move(user));
    }
    const std::string base = BaseUrl(request);
    std::string context = base + "/v1.0/$metadata#users";
    if (auto text = QueryOf(request, "$select")) context += "(" + *text + ")";
    json::object body{{"@odata.context", context}};
    if (end < kCount) {
      std::vector<std::pair<std::string, std::string>> params;
      for (const auto& [name, v] : request.query) {
        if (name != "$skiptoken") params.emplace_back(name, v);
      }
      params.emplace_back("$skiptoken", UrlToken("users:" + std::to_string(end)));
      body["@odata.nextLink"] = WithQuery(base + request.path, params);
    }
    body["value"] = std::move(value);
    return JsonResponse(200, body,
                        "application/json;odata.metadata=minimal;odata.streaming=true;"
                        "IEEE754Compatible=false;charset=utf-8");
  }

  json::object Source(const std::string& base_url) const override {
    return {{"url", base_url + "/v1.0/users"},
            {"query",
             {{"$top", "50"},
              {"$select", "id,displayName,jobTitle,mail,department,createdDateTime,employeeId"}}},
            {"auth", {{"type", "bearer"}, {"token", kToken}}},
            {"records", "/value"},
            {"id", "/id"},
            {"pagination", {{"type", "next_url"}, {"next_path", "/@odata.nextLink"}}},
            {"index", IndexFields("/displayName", {"/jobTitle"}, {{"department", "/department"}},
                                  {{"created", "/createdDateTime"}}, {})}};
  }

  std::set<std::string> ExpectedIds() const override {
    std::set<std::string> ids;
    for (const auto& r : records_) ids.insert(Uuid(r.number, 3));
    return ids;
  }

 private:
  static constexpr int kCount = 175;
  static constexpr const char* kToken = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.graph-emulator.sig";

  static TestResponse Error(int status, const std::string& code, const std::string& message) {
    return JsonResponse(status, {{"error",
                                  {{"code", code},
                                   {"message", message},
                                   {"innerError",
                                    {{"date", Rfc3339(NowEpochSeconds())},
                                     {"request-id", Uuid(status, 11)},
                                     {"client-request-id", Uuid(status, 12)}}}}}});
  }

  static json::object User(const SampleRecord& r) {
    return {{"id", Uuid(r.number, 3)},
            {"displayName", "Test User " + std::to_string(r.number)},
            {"jobTitle", r.title},
            {"mail", "user" + std::to_string(r.number) + "@contoso.example"},
            {"department", r.state == "open" ? "Support" : "Engineering"},
            {"officeLocation", "Building " + std::to_string(r.number % 4 + 1)},
            {"createdDateTime", r.updated_at},
            {"employeeId", std::to_string(50000 + r.number)},
            {"accountEnabled", r.number % 11 != 0}};
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
std::unique_ptr<ApiEmulator> MakeWordpressEmulator() {
  return Host<WordpressApi>(
      "wordpress", "https://developer.wordpress.org/rest-api/using-the-rest-api/pagination/");
}
std::unique_ptr<ApiEmulator> MakeJsonApiEmulator() {
  return Host<JsonApiServer>("jsonapi", "https://jsonapi.org/format/#fetching-pagination");
}
std::unique_ptr<ApiEmulator> MakeODataEmulator() {
  return Host<GraphUsersApi>("odata", "https://learn.microsoft.com/en-us/graph/paging");
}

}  // namespace octohub::testing::emulation
