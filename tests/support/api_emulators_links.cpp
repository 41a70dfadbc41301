// Emulators of APIs paged by page numbers or next links in the body: WordPress REST, a
// JSON:API server and Microsoft Graph (OData v4).
#include <algorithm>

#include "api_emulator_kit.h"

namespace octohub::testing::emulation {
namespace {

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
