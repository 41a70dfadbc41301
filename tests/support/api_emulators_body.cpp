// Emulators whose paging lives in a POST body or behind a token endpoint: Notion database
// queries, the GitHub GraphQL API, Elasticsearch search_after, and an OAuth 2.0
// client-credentials API (OAuth2Emulator).
#include <algorithm>
#include <chrono>
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

// ---------------------------------------------------------------------------------------------
// Elasticsearch: POST /issues/_search with size, sort and search_after (the sort values of the
// last hit, an array as long as sort). Pairs of documents share a timestamp, so only the
// tiebreaker keeps paging exact; paging ends at an empty hits array.
class ElasticsearchApi final : public ApiModel {
 public:
  ElasticsearchApi() {
    for (const auto& r : SampleRecords(kCount)) {
      Document d;
      d.id = "EMU-" + Padded(r.number, 5);
      d.updated_millis = (kFirstSecond + (r.number + 1) / 2 * 3600) * 1000;
      d.source = {{"ticket_id", d.id},
                  {"title", r.title},
                  {"body", r.body},
                  {"state", r.state},
                  {"updated_at", Rfc3339(d.updated_millis / 1000)},
                  {"comments", r.comments}};
      documents_.push_back(std::move(d));
    }
  }

  TestResponse Handle(const TestRequest& request) override {
    const std::string authorization = HeaderOf(request, "authorization");
    if (authorization.empty()) {
      TestResponse response =
          Error(401, "security_exception",
                "missing authentication credentials for REST request [" + request.target + "]");
      // One header with both challenges: the test server keeps one field per name.
      SetHeader(response, "WWW-Authenticate", "Basic realm=\"security\" charset=\"UTF-8\", ApiKey");
      return response;
    }
    if (authorization != "ApiKey " + ApiKey()) {
      return Error(401, "security_exception",
                   "unable to authenticate with provided credentials and anonymous access is not "
                   "allowed for this request");
    }
    if (request.path != "/issues/_search" ||
        (request.method != "POST" && request.method != "GET")) {
      return Error(404, "index_not_found_exception", "no such index [" + request.path + "]");
    }
    json::object body;
    if (!request.body.empty()) {
      auto parsed = ParseJson(request.body);
      if (!parsed || !parsed->is_object()) {
        return Error(400, "x_content_parse_exception", "the request body is not a JSON object");
      }
      body = parsed->as_object();
    }
    static const std::set<std::string> kKeys = {
        "size", "from", "sort", "search_after", "query", "track_total_hits", "_source"};
    for (const auto& member : body) {
      if (!kKeys.count(std::string(member.key()))) {
        return Error(400, "parsing_exception",
                     "Unknown key for a START_OBJECT in [" + std::string(member.key()) + "].");
      }
    }
    std::int64_t size = 10;
    std::int64_t from = 0;
    for (auto [key, target] : {std::pair{"size", &size}, std::pair{"from", &from}}) {
      if (const json::value* v = body.if_contains(key)) {
        if (!v->is_int64() && !v->is_uint64()) {
          return Error(400, "x_content_parse_exception",
                       std::string("[") + key + "] must be an integer");
        }
        *target = v->to_number<std::int64_t>();
      }
    }
    if (size < 0)
      return Error(400, "illegal_argument_exception", "[size] parameter cannot be negative");
    if (from + size > 10000) {
      return Error(400, "illegal_argument_exception",
                   "Result window is too large, from + size must be less than or equal to: [10000] "
                   "but was [" +
                       std::to_string(from + size) + "].");
    }
    std::vector<SortKey> sort;
    if (const json::value* v = body.if_contains("sort")) {
      auto parsed = ParseSort(*v);
      if (!parsed) return Error(400, "parsing_exception", "[sort] must be an array of fields");
      for (const auto& key : *parsed) {
        if (key.field != "updated_at" && key.field != "ticket_id") {
          return Error(400, "query_shard_exception",
                       "No mapping found for [" + key.field + "] in order to sort on");
        }
      }
      sort = std::move(*parsed);
    }
    std::vector<const Document*> ordered;
    for (const auto& d : documents_) ordered.push_back(&d);
    std::stable_sort(ordered.begin(), ordered.end(), [&](const Document* a, const Document* b) {
      return Compare(*a, *b, sort) < 0;
    });
    size_t begin =
        std::min<size_t>(static_cast<size_t>(std::max<std::int64_t>(from, 0)), ordered.size());
    if (const json::value* after = body.if_contains("search_after")) {
      if (!after->is_array()) {
        return Error(400, "x_content_parse_exception",
                     "[search_after] must be an array of the sort values of the last hit");
      }
      const json::array& values = after->as_array();
      if (sort.empty()) {
        return Error(400, "illegal_argument_exception", "[search_after] needs a [sort] to page by");
      }
      if (values.size() != sort.size()) {
        return Error(400, "illegal_argument_exception",
                     "search_after has " + std::to_string(values.size()) +
                         " value(s) but sort has " + std::to_string(sort.size()) + ".");
      }
      if (from != 0 && from != -1) {
        return Error(400, "illegal_argument_exception",
                     "from parameter must be set to 0 when search_after is used.");
      }
      Document anchor;
      for (size_t i = 0; i < sort.size(); ++i) {
        const bool date = sort[i].field == "updated_at";
        if (date ? !(values[i].is_int64() || values[i].is_uint64()) : !values[i].is_string()) {
          return Error(400, "illegal_argument_exception",
                       "Failed to parse search_after value for field [" + sort[i].field + "].");
        }
        if (date) {
          anchor.updated_millis = values[i].to_number<std::int64_t>();
        } else {
          anchor.id = std::string(values[i].as_string());
        }
      }
      begin = 0;
      while (begin < ordered.size() && Compare(*ordered[begin], anchor, sort) <= 0) ++begin;
    }
    json::array hits;
    for (size_t i = begin; i < std::min(ordered.size(), begin + static_cast<size_t>(size)); ++i) {
      const Document& d = *ordered[i];
      json::object hit{
          {"_index", "issues"}, {"_id", d.id}, {"_score", nullptr}, {"_source", d.source}};
      if (!sort.empty()) {
        json::array values;
        for (const auto& key : sort) {
          if (key.field == "updated_at") {
            values.emplace_back(d.updated_millis);
          } else {
            values.emplace_back(d.id);
          }
        }
        hit["sort"] = std::move(values);
      }
      hits.push_back(std::move(hit));
    }
    return JsonResponse(
        200, {{"took", 2},
              {"timed_out", false},
              {"_shards", {{"total", 1}, {"successful", 1}, {"skipped", 0}, {"failed", 0}}},
              {"hits",
               {{"total", {{"value", kCount}, {"relation", "eq"}}},
                {"max_score", nullptr},
                {"hits", std::move(hits)}}}});
  }

  json::object Source(const std::string& base_url) const override {
    return {
        {"url", base_url + "/issues/_search"},
        {"method", "POST"},
        {"body",
         {{"size", 50},
          {"sort", json::array{{{"updated_at", "asc"}}, {{"ticket_id", "asc"}}}},
          {"query", {{"match_all", json::object()}}},
          {"track_total_hits", true}}},
        {"auth", {{"type", "header"}, {"name", "Authorization"}, {"value", "ApiKey " + ApiKey()}}},
        {"records", "/hits/hits"},
        {"id", "/_id"},
        {"pagination",
         {{"type", "cursor"},
          {"cursor_record_path", "/sort"},
          {"body_param", "/search_after"},
          {"size_body_param", "/size"},
          {"size", 50}}},
        {"index",
         IndexFields("/_source/title", {"/_source/body"}, {{"state", "/_source/state"}},
                     {{"updated", "/_source/updated_at"}}, {{"comments", "/_source/comments"}})}};
  }

  std::set<std::string> ExpectedIds() const override {
    std::set<std::string> ids;
    for (const auto& d : documents_) ids.insert(d.id);
    return ids;
  }

 private:
  static constexpr int kCount = 190;
  static constexpr std::int64_t kFirstSecond = 1704067200;

  struct Document {
    std::string id;  // also the ticket_id keyword, the tiebreaker
    std::int64_t updated_millis = 0;
    json::object source;
  };
  struct SortKey {
    std::string field;
    bool ascending = true;
  };

  // The base64 of "id:api_key", as Elasticsearch's create-API-key answer encodes it.
  static std::string ApiKey() { return Base64("emu-key-id:emu-api-key-secret-0001"); }

  static TestResponse Error(int status, const std::string& type, const std::string& reason) {
    json::object cause{{"type", type}, {"reason", reason}};
    return JsonResponse(
        status,
        {{"error", {{"root_cause", json::array{cause}}, {"type", type}, {"reason", reason}}},
         {"status", status}});
  }

  // Accepts "field", {"field": "asc"} and {"field": {"order": "desc"}} entries.
  static std::optional<std::vector<SortKey>> ParseSort(const json::value& sort) {
    std::vector<SortKey> keys;
    const json::array single{sort};
    for (const auto& entry : sort.is_array() ? sort.as_array() : single) {
      if (entry.is_string()) {
        keys.push_back({std::string(entry.as_string()), true});
        continue;
      }
      if (!entry.is_object() || entry.as_object().size() != 1) return std::nullopt;
      const auto& [field, order] = *entry.as_object().begin();
      const json::value* direction = &order;
      if (order.is_object()) direction = order.as_object().if_contains("order");
      if (direction == nullptr || !direction->is_string() ||
          (direction->as_string() != "asc" && direction->as_string() != "desc")) {
        return std::nullopt;
      }
      keys.push_back({std::string(field), direction->as_string() == "asc"});
    }
    return keys;
  }

  static int Compare(const Document& a, const Document& b, const std::vector<SortKey>& sort) {
    for (const auto& key : sort) {
      int c = 0;
      if (key.field == "updated_at") {
        c = a.updated_millis < b.updated_millis ? -1 : a.updated_millis > b.updated_millis;
      } else {
        c = a.id.compare(b.id) < 0 ? -1 : a.id.compare(b.id) > 0;
      }
      if (c != 0) return key.ascending ? c : -c;
    }
    return 0;
  }

  std::vector<Document> documents_;  // in index order
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// OAuth 2.0: a client-credentials token endpoint (RFC 6749 §4.4, client authenticated by HTTP
// Basic or in the body, §2.3.1) and a resource API taking bearer tokens (RFC 6750), with
// 2-second tokens.
class OAuth2Api final : public ApiModel {
 public:
  OAuth2Api() : records_(SampleRecords(kCount)) {}

  TestResponse Handle(const TestRequest& request) override {
    if (request.path == "/oauth/token") return Token(request);
    if (request.path == "/v1/records") return Records(request);
    return JsonResponse(404, {{"error", "not_found"}});
  }

  json::object Source(const std::string& base_url) const override {
    return {{"url", base_url + "/v1/records"},
            {"auth",
             {{"type", "oauth2"},
              {"token_url", base_url + "/oauth/token"},
              {"client_id", kClientId},
              {"client_secret", kClientSecret},
              {"scope", kScope}}},
            {"records", "/data"},
            {"id", "/id"},
            {"pagination",
             {{"type", "page"},
              {"param", "page"},
              {"start", 1},
              {"size_param", "per_page"},
              {"size", 20},
              {"pages_path", "/meta/total_pages"}}},
            // Ten pages at three a second outlast a two-second token.
            {"rate_limit", {{"requests_per_second", 3}, {"max_wait_s", 30}}},
            {"index", IndexFields("/title", {"/body"}, {{"status", "/status"}},
                                  {{"updated", "/updated_at"}}, {{"priority", "/priority"}})}};
  }

  std::set<std::string> ExpectedIds() const override {
    std::set<std::string> ids;
    for (const auto& r : records_) ids.insert("rec_" + Padded(r.number, 4));
    return ids;
  }

  int tokens_issued() const {
    std::lock_guard lock(mutex_);
    return tokens_issued_;
  }
  int expired_token_rejections() const {
    std::lock_guard lock(mutex_);
    return expired_rejections_;
  }

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr int kCount = 200;
  static constexpr int kTokenLifetimeSeconds = 2;
  static constexpr const char* kClientId = "octohub-emulator-client";
  static constexpr const char* kClientSecret = "emu-client-secret-9f8e7d6c";
  static constexpr const char* kScope = "records:read";

  // RFC 6749 §5.2 error answers; invalid_client after Basic auth is a 401 with a challenge.
  static TestResponse TokenError(int status, const std::string& error,
                                 const std::string& description) {
    TestResponse response =
        JsonResponse(status, {{"error", error}, {"error_description", description}});
    SetHeader(response, "Cache-Control", "no-store");
    SetHeader(response, "Pragma", "no-cache");
    if (status == 401) SetHeader(response, "WWW-Authenticate", "Basic realm=\"emulator\"");
    return response;
  }

  TestResponse Token(const TestRequest& request) {
    if (request.method != "POST") {
      return TokenError(405, "invalid_request", "the token endpoint takes POST only");
    }
    if (HeaderOf(request, "content-type").rfind("application/x-www-form-urlencoded", 0) != 0) {
      return TokenError(400, "invalid_request",
                        "the token request must be application/x-www-form-urlencoded");
    }
    auto form = ParseForm(request.body);
    std::optional<Credentials> client;
    if (auto basic = BasicCredentials(request)) {
      // Basic credentials are form-encoded before base64 (RFC 6749 §2.3.1).
      auto decoded = ParseForm("id=" + basic->user + "&secret=" + basic->password);
      client = Credentials{decoded["id"], decoded["secret"]};
    }
    if (form.count("client_id") || form.count("client_secret")) {
      if (client) {
        return TokenError(400, "invalid_request", "use one client authentication method, not two");
      }
      client = Credentials{form["client_id"], form["client_secret"]};
    }
    if (!client || client->user != kClientId || client->password != kClientSecret) {
      return TokenError(401, "invalid_client", "client authentication failed");
    }
    if (!form.count("grant_type"))
      return TokenError(400, "invalid_request", "grant_type is missing");
    if (form["grant_type"] != "client_credentials") {
      return TokenError(400, "unsupported_grant_type",
                        "this server grants client_credentials only");
    }
    if (form.count("scope") && form["scope"] != kScope) {
      return TokenError(400, "invalid_scope", "the only scope is " + std::string(kScope));
    }
    std::string token;
    {
      std::lock_guard lock(mutex_);
      ++tokens_issued_;
      token = "emu-at-" + Padded(tokens_issued_, 6) + "-" + Uuid(tokens_issued_, 41).substr(0, 8);
      expiry_[token] = Clock::now() + std::chrono::seconds(kTokenLifetimeSeconds);
    }
    TestResponse response = JsonResponse(200, {{"access_token", token},
                                               {"token_type", "Bearer"},
                                               {"expires_in", kTokenLifetimeSeconds},
                                               {"scope", kScope}});
    SetHeader(response, "Cache-Control", "no-store");
    SetHeader(response, "Pragma", "no-cache");
    return response;
  }

  TestResponse Records(const TestRequest& request) {
    auto token = BearerToken(request);
    if (!token) {
      // No credentials at all: a bare challenge, without an error code (RFC 6750 §3.1).
      TestResponse response = JsonResponse(401, {{"message", "an access token is required"}});
      SetHeader(response, "WWW-Authenticate", "Bearer realm=\"emulator\"");
      return response;
    }
    {
      std::lock_guard lock(mutex_);
      auto it = expiry_.find(*token);
      const bool expired = it != expiry_.end() && Clock::now() >= it->second;
      if (it == expiry_.end() || expired) {
        if (expired) ++expired_rejections_;
        const std::string why =
            expired ? "The access token expired" : "The access token is unknown";
        TestResponse response =
            JsonResponse(401, {{"error", "invalid_token"}, {"error_description", why}});
        SetHeader(response, "WWW-Authenticate",
                  "Bearer realm=\"emulator\", error=\"invalid_token\", error_description=\"" + why +
                      "\"");
        return response;
      }
    }
    std::int64_t page = 1;
    std::int64_t per_page = 10;
    for (auto [name, target, max] : {std::tuple{"page", &page, std::int64_t{1000000}},
                                     std::tuple{"per_page", &per_page, std::int64_t{20}}}) {
      if (auto text = QueryOf(request, name)) {
        auto parsed = ParseInteger(*text);
        if (!parsed || *parsed < 1 || *parsed > max) {
          return JsonResponse(400,
                              {{"error", "invalid_request"},
                               {"error_description",
                                std::string(name) + " must be from 1 to " + std::to_string(max)}});
        }
        *target = *parsed;
      }
    }
    json::array data;
    for (std::int64_t i = (page - 1) * per_page;
         i < std::min<std::int64_t>(page * per_page, kCount); ++i) {
      const SampleRecord& r = records_[i];
      data.push_back({{"id", "rec_" + Padded(r.number, 4)},
                      {"title", r.title},
                      {"body", r.body},
                      {"status", r.state},
                      {"updated_at", r.updated_at},
                      {"priority", r.number % 5}});
    }
    return JsonResponse(200, {{"data", std::move(data)},
                              {"meta",
                               {{"page", page},
                                {"per_page", per_page},
                                {"total", kCount},
                                {"total_pages", (kCount + per_page - 1) / per_page}}}});
  }

  const std::vector<SampleRecord> records_;
  mutable std::mutex mutex_;
  std::map<std::string, Clock::time_point> expiry_;  // every token issued, by value
  int tokens_issued_ = 0;
  int expired_rejections_ = 0;
};

std::unique_ptr<ApiEmulator> MakeNotionEmulator() {
  return Host<NotionApi>("notion", "https://developers.notion.com/reference/post-database-query");
}
std::unique_ptr<ApiEmulator> MakeGithubGraphqlEmulator() {
  return Host<GithubGraphqlApi>("github_graphql",
                                "https://docs.github.com/en/graphql/guides/"
                                "using-pagination-in-the-graphql-api");
}
std::unique_ptr<ApiEmulator> MakeElasticsearchEmulator() {
  return Host<ElasticsearchApi>("elasticsearch",
                                "https://www.elastic.co/guide/en/elasticsearch/reference/current/"
                                "paginate-search-results.html#search-after");
}

}  // namespace emulation

OAuth2Emulator::OAuth2Emulator()
    : api_(std::make_shared<emulation::OAuth2Api>()),
      server_([api = api_](const TestRequest& request) { return api->Handle(request); }) {}

OAuth2Emulator::~OAuth2Emulator() = default;

std::string OAuth2Emulator::name() const { return "oauth2"; }

std::string OAuth2Emulator::documentation() const {
  return "https://datatracker.ietf.org/doc/html/rfc6749#section-4.4";
}

std::string OAuth2Emulator::SourceDocument() const {
  boost::json::object source = api_->Source(server_.url(""));
  source["name"] = name();
  return boost::json::serialize(source);
}

std::set<std::string> OAuth2Emulator::ExpectedIds() const { return api_->ExpectedIds(); }

const HttpTestServer& OAuth2Emulator::server() const { return server_; }

int OAuth2Emulator::tokens_issued() const { return api_->tokens_issued(); }

int OAuth2Emulator::expired_token_rejections() const { return api_->expired_token_rejections(); }

}  // namespace octohub::testing
