// Emulators whose paging lives in a POST body: Notion database queries and the GitHub
// GraphQL API.
#include <algorithm>
#include <map>
#include <mutex>

#include "api_emulator_kit.h"

namespace octohub::testing {
namespace emulation {
namespace {

// ---------------------------------------------------------------------------------------------
// Notion: POST /v1/databases/{id}/query with start_cursor and page_size (≤ 100) in the JSON
// body, has_more and next_cursor (null at the end); Notion-Version and a bearer token required.
class NotionApi final : public ApiModel {
 public:
  NotionApi() : records_(SampleRecords(kCount)) {}

  TestResponse Handle(const TestRequest& request) override {
    if (BearerToken(request) != kToken) return Error(401, "unauthorized", "API token is invalid.");
    const std::string version = HeaderOf(request, "notion-version");
    if (version.empty()) {
      return Error(400, "missing_version",
                   "Notion-Version header failed validation: the header is required.");
    }
    static const std::set<std::string> kVersions = {"2021-05-13", "2021-08-16", "2022-02-22",
                                                    "2022-06-28", "2025-09-03"};
    if (!kVersions.count(version)) {
      return Error(
          400, "validation_error",
          "Notion-Version header failed validation: " + version + " is not a released version.");
    }
    if (request.path != kPath) return Error(400, "invalid_request_url", "Invalid request URL.");
    if (request.method != "POST") {
      return Error(400, "invalid_request", "Unsupported request: " + request.method + " query.");
    }
    json::object body;
    if (!request.body.empty()) {
      auto parsed = ParseJson(request.body);
      if (!parsed) return Error(400, "invalid_json", "Error parsing JSON body.");
      if (!parsed->is_object()) return Invalid("body should be an object.");
      body = parsed->as_object();
    }
    static const std::set<std::string> kMembers = {"filter",           "sorts",    "start_cursor",
                                                   "page_size",        "archived", "in_trash",
                                                   "filter_properties"};
    for (const auto& member : body) {
      if (!kMembers.count(std::string(member.key()))) {
        return Invalid("body." + std::string(member.key()) + " should be not present.");
      }
    }
    std::int64_t page_size = 100;
    if (const json::value* size = body.if_contains("page_size")) {
      if (!size->is_int64() && !size->is_uint64()) {
        return Invalid("body.page_size should be a number, instead was `" + json::serialize(*size) +
                       "`.");
      }
      page_size = size->to_number<std::int64_t>();
      if (page_size > 100 || page_size < 1) {
        return Invalid("body.page_size should be " +
                       std::string(page_size > 100 ? "≤ `100`" : "≥ `1`") + ", instead was `" +
                       std::to_string(page_size) + "`.");
      }
    }
    size_t first = 0;
    if (const json::value* cursor = body.if_contains("start_cursor")) {
      // Leaving start_cursor out starts at the beginning; null is not the same thing here.
      if (!cursor->is_string()) {
        return Invalid("body.start_cursor should be a string or `undefined`, instead was `" +
                       json::serialize(*cursor) + "`.");
      }
      const std::string id(cursor->as_string());
      auto it = std::find_if(records_.begin(), records_.end(),
                             [&](const SampleRecord& r) { return IdOf(r) == id; });
      if (it == records_.end()) return Invalid("The start_cursor provided is invalid: " + id);
      first = it - records_.begin();
    }
    const size_t end = std::min(records_.size(), first + static_cast<size_t>(page_size));
    json::array results;
    for (size_t i = first; i < end; ++i) results.push_back(Page(records_[i]));
    const bool has_more = end < records_.size();
    return JsonResponse(200,
                        {{"object", "list"},
                         {"results", std::move(results)},
                         {"next_cursor", has_more ? json::value(IdOf(records_[end])) : nullptr},
                         {"has_more", has_more},
                         {"type", "page_or_database"},
                         {"page_or_database", json::object()},
                         {"request_id", Uuid(static_cast<int>(first), 31)}});
  }

  json::object Source(const std::string& base_url) const override {
    return {
        {"url", base_url + kPath},
        {"method", "POST"},
        {"headers", {{"Notion-Version", "2022-06-28"}}},
        {"body",
         {{"page_size", 100},
          {"sorts", json::array{{{"timestamp", "last_edited_time"}, {"direction", "ascending"}}}}}},
        {"auth", {{"type", "bearer"}, {"token", kToken}}},
        {"records", "/results"},
        {"id", "/id"},
        {"pagination",
         {{"type", "cursor"},
          {"body_param", "/start_cursor"},
          {"size_body_param", "/page_size"},
          {"size", 100},
          {"cursor_path", "/next_cursor"},
          {"more_path", "/has_more"}}},
        {"index", IndexFields("/properties/Name/title/0/plain_text",
                              {"/properties/Notes/rich_text/*/plain_text"},
                              {{"status", "/properties/Status/select/name"}},
                              {{"edited", "/last_edited_time"}},
                              {{"estimate", "/properties/Estimate/number"}})}};
  }

  std::set<std::string> ExpectedIds() const override {
    std::set<std::string> ids;
    for (const auto& r : records_) ids.insert(IdOf(r));
    return ids;
  }

 private:
  static constexpr int kCount = 220;
  static constexpr const char* kToken = "ntn_emulator1234567890abcdefNotionIntegration";
  static constexpr const char* kPath = "/v1/databases/5eed0021-0000-4000-8000-000000000001/query";

  static std::string IdOf(const SampleRecord& r) { return Uuid(r.number, 21); }

  static TestResponse Error(int status, const std::string& code, const std::string& message) {
    return JsonResponse(status, {{"object", "error"},
                                 {"status", status},
                                 {"code", code},
                                 {"message", message},
                                 {"request_id", Uuid(status, 32)}});
  }
  static TestResponse Invalid(const std::string& message) {
    return Error(400, "validation_error", "body failed validation: " + message);
  }

  static json::object Page(const SampleRecord& r) {
    auto rich_text = [](const std::string& text) {
      return json::array{{{"type", "text"},
                          {"text", {{"content", text}, {"link", nullptr}}},
                          {"plain_text", text},
                          {"href", nullptr}}};
    };
    // Notion stamps edits to the minute.
    const std::string edited = r.updated_at.substr(0, 16) + ":00.000Z";
    return {{"object", "page"},
            {"id", IdOf(r)},
            {"created_time", Rfc3339(r.updated_epoch - 86400).substr(0, 16) + ":00.000Z"},
            {"last_edited_time", edited},
            {"archived", false},
            {"in_trash", false},
            {"parent",
             {{"type", "database_id"}, {"database_id", "5eed0021-0000-4000-8000-000000000001"}}},
            {"properties",
             {{"Name", {{"id", "title"}, {"type", "title"}, {"title", rich_text(r.title)}}},
              {"Notes", {{"id", "n%3Ao"}, {"type", "rich_text"}, {"rich_text", rich_text(r.body)}}},
              {"Status",
               {{"id", "s%3Dt"},
                {"type", "select"},
                {"select", {{"name", r.state == "open" ? "In progress" : "Done"}}}}},
              {"Estimate", {{"id", "e%3Fs"}, {"type", "number"}, {"number", r.number % 13}}}}},
            {"url", "https://www.notion.so/" + IdOf(r)}};
  }

  const std::vector<SampleRecord> records_;
};

// ---------------------------------------------------------------------------------------------
// GitHub GraphQL: POST /graphql with {query, variables: {owner, name, first, after}}; issues
// paged by pageInfo.endCursor/hasNextPage. Query problems are answered 200 with "errors".
class GithubGraphqlApi final : public ApiModel {
 public:
  GithubGraphqlApi() : records_(SampleRecords(kCount)) {}

  TestResponse Handle(const TestRequest& request) override {
    auto token = BearerToken(request);
    if (!token) {
      return JsonResponse(401, {{"message", "This endpoint requires you to be authenticated."},
                                {"documentation_url", kAuthDocs}});
    }
    if (*token != kToken) {
      return JsonResponse(401, {{"message", "Bad credentials"},
                                {"documentation_url", "https://docs.github.com/graphql"}});
    }
    if (request.path != "/graphql" || request.method != "POST") {
      return JsonResponse(404, {{"message", "Not Found"},
                                {"documentation_url", "https://docs.github.com/graphql"}});
    }
    auto parsed = ParseJson(request.body);
    if (!parsed || !parsed->is_object()) {
      return JsonResponse(400, {{"message", "Problems parsing JSON"},
                                {"documentation_url", "https://docs.github.com/graphql"}});
    }
    const json::object& body = parsed->as_object();
    const json::value* query = body.if_contains("query");
    if (query == nullptr || !query->is_string()) {
      return Errors({Problem("", "A query attribute must be specified and must be a string.")});
    }
    const std::string text(query->as_string());
    for (const char* needed : {"repository(", "issues(", "$first", "$after", "pageInfo",
                               "endCursor", "hasNextPage", "nodes"}) {
      if (text.find(needed) == std::string::npos) {
        json::object problem =
            Problem("", std::string("This API serves repository(owner, name) { issues("
                                    "first: $first, after: $after) { pageInfo { endCursor "
                                    "hasNextPage } nodes { … } } }; the query lacks ") +
                            needed + ".");
        problem["extensions"] = {{"code", "undefinedField"}};
        return Errors({problem});
      }
    }
    json::object variables;
    if (const json::value* v = body.if_contains("variables"); v && v->is_object()) {
      variables = v->as_object();
    }
    auto string_variable = [&](const char* name) -> std::string {
      const json::value* v = variables.if_contains(name);
      return v && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    if (string_variable("owner") != kOwner || string_variable("name") != kName) {
      return ErrorsWithData(
          Problem("NOT_FOUND",
                  "Could not resolve to a Repository with the name '" + string_variable("owner") +
                      "/" + string_variable("name") + "'.",
                  {"repository"}),
          json::object{{"repository", nullptr}});
    }
    const json::value* first = variables.if_contains("first");
    if (first == nullptr || first->is_null()) {
      return Errors({Problem("MISSING_PAGINATION_BOUNDARIES",
                             "You must provide a `first` or `last` value to properly paginate "
                             "the `issues` connection.",
                             {"query", "repository", "issues"})});
    }
    if (!first->is_int64() && !first->is_uint64()) {
      json::object problem{{"message", "Variable $first of type Int! was provided invalid value"}};
      problem["extensions"] = {
          {"value", *first},
          {"problems", json::array{{{"path", json::array()},
                                    {"explanation", "Could not coerce value " +
                                                        json::serialize(*first) + " to Int"}}}}};
      return Errors({problem});
    }
    const std::int64_t page_size = first->to_number<std::int64_t>();
    if (page_size > 100 || page_size < 1) {
      return Errors({Problem("EXCESSIVE_PAGINATION",
                             "Requesting " + std::to_string(page_size) +
                                 " records on the `issues` connection exceeds the `first` limit "
                                 "of 100 records.",
                             {"query", "repository", "issues"})});
    }
    size_t begin = 0;
    if (const json::value* after = variables.if_contains("after"); after && !after->is_null()) {
      std::optional<size_t> position;
      if (after->is_string()) position = Position(std::string(after->as_string()));
      if (!position) {
        return ErrorsWithData(Problem("INVALID_CURSOR_ARGUMENTS",
                                      "`" +
                                          (after->is_string() ? std::string(after->as_string())
                                                              : json::serialize(*after)) +
                                          "` does not appear to be a valid cursor.",
                                      {"repository", "issues"}),
                              json::object{{"repository", {{"issues", nullptr}}}});
      }
      begin = *position;
    }
    const size_t end = std::min(records_.size(), begin + static_cast<size_t>(page_size));
    json::array nodes;
    for (size_t i = begin; i < end; ++i) nodes.push_back(Node(records_[i]));
    const json::value end_cursor = end > begin ? json::value(Cursor(end)) : nullptr;
    json::object issues{
        {"totalCount", kCount},
        {"pageInfo", {{"endCursor", end_cursor}, {"hasNextPage", end < records_.size()}}},
        {"nodes", std::move(nodes)}};
    return JsonResponse(200, {{"data", {{"repository", {{"issues", std::move(issues)}}}}}});
  }

  json::object Source(const std::string& base_url) const override {
    const std::string query =
        "query($owner: String!, $name: String!, $first: Int!, $after: String) {\n"
        "  repository(owner: $owner, name: $name) {\n"
        "    issues(first: $first, after: $after, orderBy: {field: CREATED_AT, direction: ASC}) {\n"
        "      totalCount\n"
        "      pageInfo { endCursor hasNextPage }\n"
        "      nodes { id number title body state updatedAt comments { totalCount } }\n"
        "    }\n"
        "  }\n"
        "}\n";
    return {
        {"url", base_url + "/graphql"},
        {"method", "POST"},
        {"body",
         {{"query", query},
          {"variables", {{"owner", kOwner}, {"name", kName}, {"first", 50}, {"after", nullptr}}}}},
        {"auth", {{"type", "bearer"}, {"token", kToken}}},
        {"records", "/data/repository/issues/nodes"},
        {"id", "/id"},
        {"pagination",
         {{"type", "cursor"},
          {"body_param", "/variables/after"},
          {"size_body_param", "/variables/first"},
          {"size", 50},
          {"cursor_path", "/data/repository/issues/pageInfo/endCursor"},
          {"more_path", "/data/repository/issues/pageInfo/hasNextPage"}}},
        {"index",
         IndexFields("/title", {"/body"}, {{"state", "/state"}}, {{"updated", "/updatedAt"}},
                     {{"comments", "/comments/totalCount"}})}};
  }

  std::set<std::string> ExpectedIds() const override {
    std::set<std::string> ids;
    for (const auto& r : records_) ids.insert(IdOf(r));
    return ids;
  }

 private:
  static constexpr int kCount = 160;
  static constexpr const char* kToken = "ghp_emulatorGraphqlToken000000000002";
  static constexpr const char* kOwner = "octo-org";
  static constexpr const char* kName = "octo-repo";
  static constexpr const char* kAuthDocs =
      "https://docs.github.com/graphql/guides/"
      "forming-calls-with-graphql#authenticating-with-graphql";

  static std::string IdOf(const SampleRecord& r) { return "I_kwDOEmu" + Padded(r.number, 6); }
  // Opaque to clients; here the base64 of a position, in the style of GitHub's cursors.
  static std::string Cursor(size_t position) {
    return Base64("cursor:v2:" + std::to_string(position));
  }
  std::optional<size_t> Position(const std::string& cursor) const {
    auto text = FromBase64(cursor);
    const std::string prefix = "cursor:v2:";
    if (!text || text->rfind(prefix, 0) != 0) return std::nullopt;
    auto position = ParseInteger(text->substr(prefix.size()));
    if (!position || *position < 0 || *position > static_cast<std::int64_t>(records_.size()) ||
        Cursor(*position) != cursor) {
      return std::nullopt;
    }
    return static_cast<size_t>(*position);
  }

  // One GraphQL error. Query validation problems carry no path into the data; execution
  // problems point at the field that failed.
  static json::object Problem(const std::string& type, const std::string& message,
                              json::array path = {}) {
    json::object problem;
    if (!type.empty()) problem["type"] = type;
    if (!path.empty()) problem["path"] = std::move(path);
    if (!type.empty()) problem["locations"] = json::array{{{"line", 3}, {"column", 5}}};
    problem["message"] = message;
    return problem;
  }
  // Validation errors stop the query before it runs: the answer has no "data" at all.
  static TestResponse Errors(std::vector<json::object> problems) {
    json::array errors;
    for (auto& p : problems) errors.push_back(std::move(p));
    return JsonResponse(200, {{"errors", std::move(errors)}});
  }
  static TestResponse ErrorsWithData(json::object problem, json::value data) {
    return JsonResponse(200,
                        {{"data", std::move(data)}, {"errors", json::array{std::move(problem)}}});
  }

  static json::object Node(const SampleRecord& r) {
    return {{"id", IdOf(r)},
            {"number", r.number},
            {"title", r.title},
            {"body", r.body},
            {"state", r.state == "open" ? "OPEN" : "CLOSED"},
            {"updatedAt", r.updated_at},
            {"comments", {{"totalCount", r.comments}}}};
  }

  const std::vector<SampleRecord> records_;
};

}  // namespace

std::unique_ptr<ApiEmulator> MakeNotionEmulator() {
  return Host<NotionApi>("notion", "https://developers.notion.com/reference/post-database-query");
}
std::unique_ptr<ApiEmulator> MakeGithubGraphqlEmulator() {
  return Host<GithubGraphqlApi>("github_graphql",
                                "https://docs.github.com/en/graphql/guides/"
                                "using-pagination-in-the-graphql-api");
}

}  // namespace emulation
}  // namespace octohub::testing
