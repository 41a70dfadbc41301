// Emulators of REST APIs paged through the query string by page, offset or id: GitHub REST,
// Stripe, Slack and Jira. Each follows its public documentation (see documentation()).
#include <algorithm>
#include <mutex>

#include "api_emulator_kit.h"

namespace octohub::testing::emulation {
namespace {

// ---------------------------------------------------------------------------------------------
// GitHub REST: issues of one repository, Link header paging, bearer token, and one primary
// rate-limit refusal in the middle of the harvest.
class GithubRestApi final : public ApiModel {
 public:
  GithubRestApi() : records_(SampleRecords(kCount)) {}

  TestResponse Handle(const TestRequest& request) override {
    const std::string authorization = HeaderOf(request, "authorization");
    if (authorization.empty()) return Error(401, "Requires authentication");
    // GitHub takes the token after either "Bearer" or the older "token" scheme.
    if (authorization != "Bearer " + std::string(kToken) &&
        authorization != "token " + std::string(kToken)) {
      return Error(401, "Bad credentials");
    }
    if (request.path != kRepoPath && request.path != kRepositoryIdPath) {
      return Error(404, "Not Found");
    }
    const std::string state = QueryOf(request, "state").value_or("open");
    if (state != "open" && state != "closed" && state != "all") {
      json::object error{{"resource", "Issue"}, {"field", "state"}, {"code", "invalid"}};
      error["value"] = state;
      return JsonResponse(422, {{"message", "Validation Failed"},
                                {"errors", json::array{error}},
                                {"documentation_url", kDocsUrl}});
    }
    // Out-of-range paging values are clamped, not refused.
    const std::int64_t per_page = std::clamp<std::int64_t>(
        ParseInteger(QueryOf(request, "per_page").value_or("")).value_or(30), 1, 100);
    const std::int64_t page =
        std::max<std::int64_t>(ParseInteger(QueryOf(request, "page").value_or("")).value_or(1), 1);

    std::int64_t remaining = 0;
    {
      std::lock_guard lock(mutex_);
      const std::int64_t now = NowEpochSeconds();
      if (now < reset_epoch_) return RateLimited(reset_epoch_);
      if (!limit_spent_ && page >= 2) {
        // The quota runs out once, mid-harvest, and comes back 2 s later.
        limit_spent_ = true;
        reset_epoch_ = now + 2;
        return RateLimited(reset_epoch_);
      }
      remaining = --remaining_;
    }

    std::vector<const SampleRecord*> matching;
    for (const auto& r : records_) {
      if (state == "all" || r.state == state) matching.push_back(&r);
    }
    const std::int64_t total = static_cast<std::int64_t>(matching.size());
    const std::int64_t last_page = std::max<std::int64_t>((total + per_page - 1) / per_page, 1);
    json::array issues;
    for (std::int64_t i = (page - 1) * per_page; i < std::min(total, page * per_page); ++i) {
      issues.push_back(Issue(*matching[i]));
    }
    TestResponse response = JsonResponse(200, issues);
    // Links name the repository by id, as GitHub's do; the client must follow them as given.
    auto link_to = [&](std::int64_t to) {
      std::vector<std::pair<std::string, std::string>> params(request.query.begin(),
                                                              request.query.end());
      params.emplace_back("page", std::to_string(to));
      return WithQuery(BaseUrl(request) + kRepositoryIdPath, params);
    };
    std::vector<std::pair<std::string, std::string>> links;
    if (page > 1) links.emplace_back("prev", link_to(std::min(page - 1, last_page)));
    if (page < last_page) links.emplace_back("next", link_to(page + 1));
    if (page < last_page) links.emplace_back("last", link_to(last_page));
    if (page > 1) links.emplace_back("first", link_to(1));
    if (!links.empty()) SetHeader(response, "Link", LinkHeader(links));
    SetHeader(response, "X-RateLimit-Limit", "5000");
    SetHeader(response, "X-RateLimit-Remaining", std::to_string(remaining));
    SetHeader(response, "X-RateLimit-Reset", std::to_string(NowEpochSeconds() + 3600));
    SetHeader(response, "X-RateLimit-Resource", "core");
    return response;
  }

  json::object Source(const std::string& base_url) const override {
    return {{"url", base_url + kRepoPath},
            {"headers",
             {{"Accept", "application/vnd.github+json"}, {"X-GitHub-Api-Version", "2022-11-28"}}},
            {"query", {{"state", "all"}}},
            {"auth", {{"type", "bearer"}, {"token", kToken}}},
            {"records", ""},
            {"id", "/id"},
            {"pagination", {{"type", "link_header"}, {"size_param", "per_page"}, {"size", 100}}},
            {"rate_limit", {{"requests_per_second", 20}, {"max_wait_s", 30}}},
            {"index", IndexFields("/title", {"/body", "/labels/*/name"},
                                  {{"state", "/state"}, {"author", "/user/login"}},
                                  {{"updated", "/updated_at"}}, {{"comments", "/comments"}})}};
  }

  std::set<std::string> ExpectedIds() const override {
    std::set<std::string> ids;
    for (const auto& r : records_) ids.insert(std::to_string(kFirstIssueId + r.number));
    return ids;
  }

 private:
  static constexpr int kCount = 230;
  static constexpr std::int64_t kFirstIssueId = 1800000000;
  static constexpr const char* kToken = "ghp_emulatorTokenForOctohubTests0001";
  static constexpr const char* kRepoPath = "/repos/octo-org/octo-repo/issues";
  static constexpr const char* kRepositoryIdPath = "/repositories/70012345/issues";
  static constexpr const char* kDocsUrl = "https://docs.github.com/rest/issues/issues";

  static TestResponse Error(int status, const std::string& message) {
    return JsonResponse(status, {{"message", message},
                                 {"documentation_url", "https://docs.github.com/rest"},
                                 {"status", std::to_string(status)}});
  }

  static TestResponse RateLimited(std::int64_t reset_epoch) {
    TestResponse response =
        JsonResponse(403, {{"message", "API rate limit exceeded for user ID 4242."},
                           {"documentation_url",
                            "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}});
    SetHeader(response, "X-RateLimit-Limit", "5000");
    SetHeader(response, "X-RateLimit-Remaining", "0");
    SetHeader(response, "X-RateLimit-Used", "5000");
    SetHeader(response, "X-RateLimit-Reset", std::to_string(reset_epoch));
    SetHeader(response, "X-RateLimit-Resource", "core");
    return response;
  }

  static json::object Issue(const SampleRecord& r) {
    return {{"id", kFirstIssueId + r.number},
            {"node_id", "I_kwDOEmu" + Padded(r.number, 6)},
            {"number", r.number},
            {"title", r.title},
            {"body", r.body},
            {"state", r.state},
            {"comments", r.comments},
            {"user", {{"login", "octo-user-" + std::to_string(r.number % 6)}}},
            {"labels", json::array{{{"name", r.number % 2 == 0 ? "bug" : "enhancement"}}}},
            {"created_at", Rfc3339(r.updated_epoch - 86400)},
            {"updated_at", r.updated_at}};
  }

  const std::vector<SampleRecord> records_;
  std::mutex mutex_;
  bool limit_spent_ = false;      // the one mid-harvest refusal has been given
  std::int64_t reset_epoch_ = 0;  // refuse every request until this second
  std::int64_t remaining_ = 5000;
};

// ---------------------------------------------------------------------------------------------
// Stripe: GET /v1/customers, newest first, limit 1–100, starting_after = id of the last object
// of the previous page, has_more. Unknown parameters are refused, as Stripe refuses them.
class StripeApi final : public ApiModel {
 public:
  StripeApi() {
    auto records = SampleRecords(kCount);
    for (auto it = records.rbegin(); it != records.rend(); ++it)
      customers_.push_back(Customer(*it));
  }

  TestResponse Handle(const TestRequest& request) override {
    std::string key;
    if (auto bearer = BearerToken(request)) {
      key = *bearer;
    } else if (auto basic = BasicCredentials(request)) {
      key = basic->user;  // the key is the Basic user name; the password stays empty
    }
    if (key.empty()) {
      TestResponse response =
          Error(401,
                "No API key was given: send your secret key as Bearer auth in the Authorization "
                "header.");
      SetHeader(response, "WWW-Authenticate", "Basic realm=\"Stripe\"");
      return response;
    }
    if (key != kKey) {
      const std::string tail = key.size() > 4 ? key.substr(key.size() - 4) : key;
      return Error(401, "Invalid API Key provided: sk_test_****" + tail);
    }
    if (request.path != "/v1/customers" || request.method != "GET") {
      return Error(404, "Unrecognized request URL (" + request.method + ": " + request.path + ").");
    }
    for (const auto& [name, value] : request.query) {
      if (name != "limit" && name != "starting_after" && name != "ending_before" &&
          name != "email" && name != "created") {
        return Error(400, "Received unknown parameter: " + name, name);
      }
    }
    const auto after = QueryOf(request, "starting_after");
    const auto before = QueryOf(request, "ending_before");
    if (after && before) {
      return Error(400, "starting_after and ending_before cannot be used together.",
                   "ending_before");
    }
    std::int64_t limit = 10;
    if (auto text = QueryOf(request, "limit")) {
      auto parsed = ParseInteger(*text);
      if (!parsed || *parsed < 1 || *parsed > 100) {
        return Error(400, "limit must be an integer from 1 to 100; it is '" + *text + "'.",
                     "limit");
      }
      limit = *parsed;
    }
    const std::int64_t size = static_cast<std::int64_t>(customers_.size());
    std::int64_t begin = 0;
    std::int64_t end = std::min(limit, size);
    if (after || before) {
      const std::string& id = after ? *after : *before;
      auto it = std::find_if(customers_.begin(), customers_.end(),
                             [&](const json::object& c) { return c.at("id").as_string() == id; });
      if (it == customers_.end()) {
        return Error(400, "No such customer: '" + id + "'",
                     after ? "starting_after" : "ending_before", "resource_missing");
      }
      const std::int64_t at = it - customers_.begin();
      begin = after ? at + 1 : std::max<std::int64_t>(at - limit, 0);
      end = after ? std::min(at + 1 + limit, size) : at;
    }
    json::array data;
    for (std::int64_t i = begin; i < end; ++i) data.push_back(customers_[i]);
    const bool has_more = before ? begin > 0 : end < size;
    return JsonResponse(200, {{"object", "list"},
                              {"url", "/v1/customers"},
                              {"has_more", has_more},
                              {"data", std::move(data)}});
  }

  json::object Source(const std::string& base_url) const override {
    return {
        {"url", base_url + "/v1/customers"},
        {"auth", {{"type", "bearer"}, {"token", kKey}}},
        {"records", "/data"},
        {"id", "/id"},
        {"pagination",
         {{"type", "cursor"},
          {"param", "starting_after"},
          {"cursor_record_path", "/id"},
          {"more_path", "/has_more"},
          {"size_param", "limit"},
          {"size", 100}}},
        {"index", IndexFields("/name", {"/description"}, {{"state", "/metadata/state"}},
                              {{"updated", "/metadata/updated_at"}}, {{"balance", "/balance"}})}};
  }

  std::set<std::string> ExpectedIds() const override {
    std::set<std::string> ids;
    for (const auto& c : customers_) ids.insert(std::string(c.at("id").as_string()));
    return ids;
  }

 private:
  static constexpr int kCount = 245;
  static constexpr const char* kKey = "sk_test_emulator4eC39HqLyjWDarjtT1zdp7dc";

  static TestResponse Error(int status, const std::string& message, const std::string& param = "",
                            const std::string& code = "") {
    json::object error{{"message", message}, {"type", "invalid_request_error"}};
    if (!param.empty()) error["param"] = param;
    if (!code.empty()) error["code"] = code;
    return JsonResponse(status, {{"error", std::move(error)}});
  }

  static json::object Customer(const SampleRecord& r) {
    return {{"id", "cus_PEmu" + Padded(r.number, 6)},
            {"object", "customer"},
            {"created", r.updated_epoch},
            {"name", r.title},
            {"description", r.body},
            {"email", "customer" + std::to_string(r.number) + "@example.com"},
            {"balance", r.comments * 100},
            {"livemode", false},
            {"metadata", {{"state", r.state}, {"updated_at", r.updated_at}}}};
  }

  std::vector<json::object> customers_;  // newest first, as Stripe lists them
};

// ---------------------------------------------------------------------------------------------
// Slack conversations.history: cursor/limit, response_metadata.next_cursor ("" at the end),
// errors as HTTP 200 with "ok": false.
class SlackApi final : public ApiModel {
 public:
  SlackApi() {
    auto records = SampleRecords(kCount);
    for (auto it = records.rbegin(); it != records.rend(); ++it) messages_.push_back(Message(*it));
  }

  TestResponse Handle(const TestRequest& request) override {
    auto token = BearerToken(request);
    if (!token) return Failure("not_authed");
    if (*token != kToken) return Failure("invalid_auth");
    if (request.path != "/api/conversations.history") return Failure("unknown_method", 404);
    if (QueryOf(request, "channel").value_or("") != kChannel) return Failure("channel_not_found");
    // Slack documents a maximum of 999 and answers larger limits with at most that many.
    std::int64_t limit = ParseInteger(QueryOf(request, "limit").value_or("")).value_or(100);
    limit = std::clamp<std::int64_t>(limit, 1, 999);
    size_t begin = 0;
    const std::string cursor = QueryOf(request, "cursor").value_or("");
    if (!cursor.empty()) {
      auto decoded = FromBase64(cursor);
      const std::string prefix = "next_ts:";
      if (!decoded || decoded->rfind(prefix, 0) != 0) return Failure("invalid_cursor");
      const std::string ts = decoded->substr(prefix.size());
      auto it = std::find_if(messages_.begin(), messages_.end(),
                             [&](const json::object& m) { return m.at("ts").as_string() == ts; });
      if (it == messages_.end()) return Failure("invalid_cursor");
      begin = it - messages_.begin();
    }
    const size_t end = std::min(messages_.size(), begin + static_cast<size_t>(limit));
    json::array page;
    for (size_t i = begin; i < end; ++i) page.push_back(messages_[i]);
    const bool has_more = end < messages_.size();
    const std::string next =
        has_more ? Base64("next_ts:" + std::string(messages_[end].at("ts").as_string())) : "";
    return JsonResponse(200, {{"ok", true},
                              {"messages", std::move(page)},
                              {"has_more", has_more},
                              {"pin_count", 0},
                              {"channel_actions_ts", nullptr},
                              {"channel_actions_count", 0},
                              {"response_metadata", {{"next_cursor", next}}}});
  }

  json::object Source(const std::string& base_url) const override {
    return {{"url", base_url + "/api/conversations.history"},
            {"query", {{"channel", kChannel}}},
            {"auth", {{"type", "bearer"}, {"token", kToken}}},
            {"records", "/messages"},
            {"id", "/ts"},
            {"pagination",
             {{"type", "cursor"},
              {"param", "cursor"},
              {"cursor_path", "/response_metadata/next_cursor"},
              {"size_param", "limit"},
              {"size", 100}}},
            {"index",
             IndexFields("", {"/text"}, {{"user", "/user"}}, {}, {{"replies", "/reply_count"}})}};
  }

  std::set<std::string> ExpectedIds() const override {
    std::set<std::string> ids;
    for (const auto& m : messages_) ids.insert(std::string(m.at("ts").as_string()));
    return ids;
  }

 private:
  static constexpr int kCount = 250;
  static constexpr const char* kToken = "xoxb-0000000001-emulator-octohubtests";
  static constexpr const char* kChannel = "C0EMU12345";

  static TestResponse Failure(const std::string& error, int status = 200) {
    return JsonResponse(status, {{"ok", false}, {"error", error}});
  }

  static json::object Message(const SampleRecord& r) {
    return {{"type", "message"},
            {"user", "U0EMU" + Padded(r.number % 9, 5)},
            {"text", r.title + ": " + r.body},
            {"ts", std::to_string(r.updated_epoch) + "." + Padded(r.number, 6)},
            {"reply_count", r.comments},
            {"team", "T0EMU00001"}};
  }

  std::vector<json::object> messages_;  // newest first
};

// ---------------------------------------------------------------------------------------------
// Jira search: startAt/maxResults/total; the server caps maxResults at 50 whatever is asked.
class JiraApi final : public ApiModel {
 public:
  JiraApi() : records_(SampleRecords(kCount)) {}

  TestResponse Handle(const TestRequest& request) override {
    auto credentials = BasicCredentials(request);
    if (!credentials || credentials->user != kUser || credentials->password != kApiToken) {
      TestResponse response =
          Error(401, "You are not authenticated: this resource needs a signed-in user.");
      SetHeader(response, "WWW-Authenticate", "Basic realm=\"protected-area\"");
      return response;
    }
    if (request.path != "/rest/api/2/search") return Error(404, "No resource at this path.");
    std::int64_t start_at = 0;
    std::int64_t max_results = kMaxResults;
    for (auto [name, target] : {std::pair{"startAt", &start_at}, {"maxResults", &max_results}}) {
      if (auto text = QueryOf(request, name)) {
        auto parsed = ParseInteger(*text);
        if (!parsed || *parsed < 0) {
          return Error(400,
                       std::string(name) + " must be a non-negative integer, not '" + *text + "'.");
        }
        *target = *parsed;
      }
    }
    max_results = std::min(max_results, kMaxResults);  // capped; the answer says so
    const std::string base = BaseUrl(request);
    json::array issues;
    for (std::int64_t i = start_at; i < std::min<std::int64_t>(start_at + max_results, kCount);
         ++i) {
      issues.push_back(Issue(records_[i], base));
    }
    return JsonResponse(200, {{"expand", "names,schema"},
                              {"startAt", start_at},
                              {"maxResults", max_results},
                              {"total", kCount},
                              {"issues", std::move(issues)}});
  }

  json::object Source(const std::string& base_url) const override {
    return {{"url", base_url + "/rest/api/2/search"},
            {"query",
             {{"jql", "project = EMU ORDER BY key ASC"},
              {"fields", "summary,description,status,updated,comment,customfield_10016"}}},
            {"auth", {{"type", "basic"}, {"username", kUser}, {"password", kApiToken}}},
            {"records", "/issues"},
            {"id", "/id"},
            {"pagination",
             {{"type", "offset"},
              {"param", "startAt"},
              {"size_param", "maxResults"},
              {"size", 100},
              {"start", 0},
              {"total_path", "/total"}}},
            {"index", IndexFields("/fields/summary", {"/fields/description"},
                                  {{"status", "/fields/status/name"}}, {},
                                  {{"points", "/fields/customfield_10016"}})}};
  }

  std::set<std::string> ExpectedIds() const override {
    std::set<std::string> ids;
    for (const auto& r : records_) ids.insert(std::to_string(10000 + r.number));
    return ids;
  }

 private:
  static constexpr int kCount = 173;
  static constexpr std::int64_t kMaxResults = 50;
  static constexpr const char* kUser = "harvester@example.com";
  static constexpr const char* kApiToken = "ATATT3xFfGF0emulatorJiraToken";

  static TestResponse Error(int status, const std::string& message) {
    return JsonResponse(
        status, {{"errorMessages", json::array{json::value(message)}}, {"errors", json::object()}});
  }

  static json::object Issue(const SampleRecord& r, const std::string& base) {
    const std::string id = std::to_string(10000 + r.number);
    // Jira writes times with milliseconds and a +hhmm offset.
    std::string updated = r.updated_at.substr(0, 19) + ".000+0000";
    return {{"expand", "operations,editmeta,changelog,renderedFields"},
            {"id", id},
            {"self", base + "/rest/api/2/issue/" + id},
            {"key", "EMU-" + std::to_string(r.number)},
            {"fields",
             {{"summary", r.title},
              {"description", r.body},
              {"status", {{"name", r.state == "open" ? "To Do" : "Done"}}},
              {"updated", updated},
              {"comment", {{"total", r.comments}}},
              {"customfield_10016", r.number % 8 + 1}}}};
  }

  const std::vector<SampleRecord> records_;
};

}  // namespace

std::unique_ptr<ApiEmulator> MakeGithubRestEmulator() {
  return Host<GithubRestApi>("github_rest",
                             "https://docs.github.com/en/rest/using-the-rest-api/"
                             "using-pagination-in-the-rest-api");
}
std::unique_ptr<ApiEmulator> MakeStripeEmulator() {
  return Host<StripeApi>("stripe", "https://docs.stripe.com/api/pagination");
}
std::unique_ptr<ApiEmulator> MakeSlackEmulator() {
  return Host<SlackApi>("slack", "https://docs.slack.dev/reference/methods/conversations.history");
}
std::unique_ptr<ApiEmulator> MakeJiraEmulator() {
  return Host<JiraApi>("jira",
                       "https://confluence.atlassian.com/jirakb/"
                       "changing-maxresults-parameter-for-jira-rest-api-779160706.html");
}

}  // namespace octohub::testing::emulation
