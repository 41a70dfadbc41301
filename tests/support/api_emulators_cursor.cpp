// Emulators of REST APIs paged by cursors handed back in the body: HubSpot, Zendesk and
// Reddit. Each follows its public documentation (see documentation()).
#include <algorithm>
#include <mutex>

#include "api_emulator_kit.h"

namespace octohub::testing::emulation {
namespace {

// ---------------------------------------------------------------------------------------------
// HubSpot CRM objects (tickets): limit up to 100, after cursor, paging.next.after, no paging on
// the last page, property values as strings.
class HubspotApi final : public ApiModel {
 public:
  HubspotApi() : records_(SampleRecords(kCount)) {}

  TestResponse Handle(const TestRequest& request) override {
    auto token = BearerToken(request);
    if (!token) {
      return Error(401, "INVALID_AUTHENTICATION",
                   "No credentials were found: this API takes a private app access token or an "
                   "OAuth 2.0 access token.");
    }
    if (*token != kToken) {
      return Error(401, "INVALID_AUTHENTICATION", "The access token is not valid.");
    }
    if (request.path != "/crm/v3/objects/tickets") {
      return Error(404, "OBJECT_NOT_FOUND", "Unknown object type or path.");
    }
    std::int64_t limit = 10;
    if (auto text = QueryOf(request, "limit")) {
      auto parsed = ParseInteger(*text);
      if (!parsed || *parsed < 1 || *parsed > 100) {
        return Error(400, "VALIDATION_ERROR",
                     "limit must be between 1 and 100, not " + *text + ".");
      }
      limit = *parsed;
    }
    std::int64_t first = 0;  // index of the first record of this page
    if (auto after = QueryOf(request, "after")) {
      auto id = ParseInteger(*after);
      if (!id || *id < kFirstId) {
        return Error(400, "VALIDATION_ERROR", "after is not a valid paging cursor: " + *after);
      }
      first = (*id - kFirstId + kIdStep - 1) / kIdStep;
    }
    std::set<std::string> wanted = {"subject", "content", "hs_pipeline_stage"};
    if (auto properties = QueryOf(request, "properties")) {
      wanted.clear();
      std::string_view rest = *properties;
      while (!rest.empty()) {
        const size_t comma = rest.find(',');
        wanted.insert(std::string(rest.substr(0, comma)));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
    }
    const std::string base = BaseUrl(request);
    const std::int64_t end = std::min<std::int64_t>(first + limit, kCount);
    json::array results;
    for (std::int64_t i = first; i < end; ++i) results.push_back(Ticket(records_[i], wanted));
    json::object body{{"results", std::move(results)}};
    if (end < kCount) {
      const std::string next = std::to_string(IdOf(records_[end]));
      json::object next_page{{"after", next}};
      next_page["link"] =
          WithQuery(base + request.path, {{"after", next}, {"limit", std::to_string(limit)}});
      body["paging"] = {{"next", std::move(next_page)}};
    }
    return JsonResponse(200, body);
  }

  json::object Source(const std::string& base_url) const override {
    return {
        {"url", base_url + "/crm/v3/objects/tickets"},
        {"query",
         {{"properties", "subject,content,hs_pipeline_stage,num_notes"}, {"archived", "false"}}},
        {"auth", {{"type", "bearer"}, {"token", kToken}}},
        {"records", "/results"},
        {"id", "/id"},
        {"pagination",
         {{"type", "cursor"},
          {"param", "after"},
          {"cursor_path", "/paging/next/after"},
          {"size_param", "limit"},
          {"size", 100}}},
        {"index", IndexFields("/properties/subject", {"/properties/content"},
                              {{"stage", "/properties/hs_pipeline_stage"}},
                              {{"updated", "/updatedAt"}}, {})}};
  }

  std::set<std::string> ExpectedIds() const override {
    std::set<std::string> ids;
    for (const auto& r : records_) ids.insert(std::to_string(IdOf(r)));
    return ids;
  }

 private:
  static constexpr int kCount = 210;
  static constexpr std::int64_t kFirstId = 5120;
  static constexpr std::int64_t kIdStep = 3;  // ids have gaps, as real object ids do
  static constexpr const char* kToken = "pat-na1-00000000-emul-ator0-hubspot00001";

  static std::int64_t IdOf(const SampleRecord& r) { return kFirstId + (r.number - 1) * kIdStep; }

  static TestResponse Error(int status, const std::string& category, const std::string& message) {
    return JsonResponse(status, {{"status", "error"},
                                 {"message", message},
                                 {"correlationId", Uuid(status, 7)},
                                 {"category", category}});
  }

  static json::object Ticket(const SampleRecord& r, const std::set<std::string>& wanted) {
    const std::string id = std::to_string(IdOf(r));
    // Every property value is a string in HubSpot's API, numbers included.
    const json::object all{{"subject", r.title},
                           {"content", r.body},
                           {"hs_pipeline_stage", r.state == "open" ? "1" : "4"},
                           {"num_notes", std::to_string(r.comments)}};
    json::object properties{{"createdate", Rfc3339(r.updated_epoch - 7200)},
                            {"hs_lastmodifieddate", r.updated_at},
                            {"hs_object_id", id}};
    for (const auto& [name, value] : all) {
      if (wanted.count(std::string(name))) properties[name] = value;
    }
    return {{"id", id},
            {"properties", std::move(properties)},
            {"createdAt", Rfc3339(r.updated_epoch - 7200)},
            {"updatedAt", r.updated_at},
            {"archived", false}};
  }

  const std::vector<SampleRecord> records_;
};

// ---------------------------------------------------------------------------------------------
// Zendesk incremental ticket export, cursor based: after_url on every page (the last too),
// end_of_stream true on the last; Basic email/token or Bearer OAuth auth.
class ZendeskApi final : public ApiModel {
 public:
  ZendeskApi() : records_(SampleRecords(kCount)) {}

  TestResponse Handle(const TestRequest& request) override {
    const auto basic = BasicCredentials(request);
    const auto bearer = BearerToken(request);
    const bool api_token =
        basic && basic->user == kAgent + std::string("/token") && basic->password == kApiToken;
    if (!api_token && bearer != kOAuthToken) {
      return JsonResponse(401, {{"error", "Couldn't authenticate you"}});
    }
    if (request.path != kPath && request.path != std::string(kPath) + ".json") {
      return JsonResponse(404, {{"error", "InvalidEndpoint"}, {"description", "Not found"}});
    }
    const std::int64_t per_page = std::clamp<std::int64_t>(
        ParseInteger(QueryOf(request, "per_page").value_or("")).value_or(1000), 1, 1000);
    size_t first = 0;
    if (auto cursor = QueryOf(request, "cursor")) {
      auto after = DecodeCursor(*cursor);
      if (!after) return Invalid("cursor is not a cursor this export issued");
      first = *after;
    } else if (auto start = QueryOf(request, "start_time")) {
      auto epoch = ParseInteger(*start);
      if (!epoch || *epoch < 0) return Invalid("start_time must be a Unix epoch time in seconds");
      // The export leaves out the last minute so that it never returns a moving target.
      if (*epoch > NowEpochSeconds() - 60) {
        return Invalid("start_time must be at least one minute in the past");
      }
      while (first < records_.size() && records_[first].updated_epoch < *epoch) ++first;
    } else {
      return Invalid("start_time is required on the first request, cursor on the next ones");
    }
    const size_t end = std::min(records_.size(), first + static_cast<size_t>(per_page));
    const std::string base = BaseUrl(request) + request.path;
    json::array tickets;
    for (size_t i = first; i < end; ++i) tickets.push_back(Ticket(records_[i], BaseUrl(request)));
    std::vector<std::pair<std::string, std::string>> next = {{"cursor", Cursor(end)}};
    if (QueryOf(request, "per_page")) next.emplace_back("per_page", std::to_string(per_page));
    json::object body{
        {"tickets", std::move(tickets)},
        {"after_cursor", Cursor(end)},
        {"after_url", WithQuery(base, next)},
        {"before_cursor", first == 0 ? json::value(nullptr) : json::value(Cursor(first))},
        {"before_url", nullptr},
        {"end_of_stream", end == records_.size()}};
    return JsonResponse(200, body);
  }

  json::object Source(const std::string& base_url) const override {
    return {{"url", base_url + kPath + ".json"},
            {"query", {{"start_time", "0"}, {"per_page", "100"}}},
            {"auth",
             {{"type", "basic"},
              {"username", kAgent + std::string("/token")},
              {"password", kApiToken}}},
            {"records", "/tickets"},
            {"id", "/id"},
            {"pagination",
             {{"type", "next_url"}, {"next_path", "/after_url"}, {"done_path", "/end_of_stream"}}},
            {"index", IndexFields("/subject", {"/description", "/tags/*"},
                                  {{"status", "/status"}, {"priority", "/priority"}},
                                  {{"updated", "/updated_at"}}, {})}};
  }

  std::set<std::string> ExpectedIds() const override {
    std::set<std::string> ids;
    for (const auto& r : records_) ids.insert(std::to_string(kFirstId + r.number));
    return ids;
  }

 private:
  static constexpr int kCount = 250;
  static constexpr std::int64_t kFirstId = 35000;
  static constexpr const char* kPath = "/api/v2/incremental/tickets/cursor";
  static constexpr const char* kAgent = "agent@example.com";
  static constexpr const char* kApiToken = "emuZendeskApiToken6wiIBWbGkBMo1mRDMuVwkw";
  static constexpr const char* kOAuthToken = "emuZendeskOAuthAccessToken0001";

  static TestResponse Invalid(const std::string& description) {
    return JsonResponse(400,
                        {{"error", "InvalidPaginationParameter"}, {"description", description}});
  }

  // Zendesk cursors are opaque base64; this one carries the position of the next ticket.
  static std::string Cursor(size_t position) {
    return Base64(std::to_string(position) + ".0||" + std::to_string(kFirstId + position) + "|");
  }

  std::optional<size_t> DecodeCursor(const std::string& cursor) const {
    auto text = FromBase64(cursor);
    if (!text) return std::nullopt;
    auto position = ParseInteger(text->substr(0, text->find('.')));
    if (!position || *position < 0 || *position > static_cast<std::int64_t>(records_.size()) ||
        *text != FromBase64(Cursor(*position))) {
      return std::nullopt;
    }
    return static_cast<size_t>(*position);
  }

  static json::object Ticket(const SampleRecord& r, const std::string& base) {
    const std::int64_t id = kFirstId + r.number;
    return {{"url", base + "/api/v2/tickets/" + std::to_string(id) + ".json"},
            {"id", id},
            {"subject", r.title},
            {"raw_subject", r.title},
            {"description", r.body},
            {"status", r.state == "open" ? "open" : "solved"},
            {"priority", r.number % 4 == 0 ? "high" : "normal"},
            {"tags", json::array{"harvest", r.number % 2 ? "api" : "ui"}},
            {"requester_id", 900000 + r.number % 11},
            {"created_at", Rfc3339(r.updated_epoch - 3600)},
            {"updated_at", r.updated_at}};
  }

  const std::vector<SampleRecord> records_;
};

// ---------------------------------------------------------------------------------------------
// Reddit listing (oauth.reddit.com/r/{sub}/new): after/limit, data.after null at the end,
// children wrapped in {kind, data}; a bearer token and a User-Agent are both required.
class RedditApi final : public ApiModel {
 public:
  RedditApi() {
    auto records = SampleRecords(kCount);
    for (auto it = records.rbegin(); it != records.rend(); ++it) posts_.push_back(Post(*it));
  }

  TestResponse Handle(const TestRequest& request) override {
    // Reddit throttles clients that do not name themselves before it looks at their token.
    if (HeaderOf(request, "user-agent").empty()) {
      return JsonResponse(429, {{"message", "Too Many Requests"}, {"error", 429}});
    }
    if (BearerToken(request) != kToken) {
      TestResponse response = JsonResponse(401, {{"message", "Unauthorized"}, {"error", 401}});
      SetHeader(response, "WWW-Authenticate", "Bearer realm=\"reddit\", error=\"invalid_token\"");
      return response;
    }
    if (request.path != "/r/octohub/new" && request.path != "/r/octohub/new.json") {
      return JsonResponse(404, {{"message", "Not Found"}, {"error", 404}});
    }
    const std::int64_t limit = std::clamp<std::int64_t>(
        ParseInteger(QueryOf(request, "limit").value_or("")).value_or(25), 1, 100);
    size_t first = 0;
    if (auto after = QueryOf(request, "after")) {
      auto it = std::find_if(posts_.begin(), posts_.end(), [&](const json::object& p) {
        return p.at("data").as_object().at("name").as_string() == *after;
      });
      // An unknown "after" gives an empty listing rather than an error.
      first = it == posts_.end() ? posts_.size() : (it - posts_.begin()) + 1;
    }
    const size_t end = std::min(posts_.size(), first + static_cast<size_t>(limit));
    json::array children;
    for (size_t i = first; i < end; ++i) children.push_back(posts_[i]);
    json::value after = nullptr;
    if (end < posts_.size() && end > first)
      after = posts_[end - 1].at("data").as_object().at("name");
    return JsonResponse(200, {{"kind", "Listing"},
                              {"data",
                               {{"after", after},
                                {"dist", static_cast<std::int64_t>(end - first)},
                                {"modhash", ""},
                                {"geo_filter", nullptr},
                                {"children", std::move(children)},
                                {"before", nullptr}}}});
  }

  json::object Source(const std::string& base_url) const override {
    return {{"url", base_url + "/r/octohub/new"},
            {"headers", {{"User-Agent", "linux:org.octohub.tests:v1.0 (by /u/octohub_bot)"}}},
            {"auth", {{"type", "bearer"}, {"token", kToken}}},
            {"records", "/data/children"},
            {"id", "/data/id"},
            {"pagination",
             {{"type", "cursor"},
              {"param", "after"},
              {"cursor_path", "/data/after"},
              {"size_param", "limit"},
              {"size", 100}}},
            {"index",
             IndexFields("/data/title", {"/data/selftext"}, {{"flair", "/data/link_flair_text"}},
                         {}, {{"score", "/data/score"}, {"comments", "/data/num_comments"}})}};
  }

  std::set<std::string> ExpectedIds() const override {
    std::set<std::string> ids;
    for (const auto& p : posts_)
      ids.insert(std::string(p.at("data").as_object().at("id").as_string()));
    return ids;
  }

 private:
  static constexpr int kCount = 240;
  static constexpr const char* kToken = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImVtdWxhdG9yIn0.reddit";

  static std::string Base36(std::int64_t value) {
    std::string out;
    do {
      out.insert(out.begin(), "0123456789abcdefghijklmnopqrstuvwxyz"[value % 36]);
      value /= 36;
    } while (value > 0);
    return out;
  }

  static json::object Post(const SampleRecord& r) {
    const std::string id = Base36(60466176 + r.number * 7);  // 6 base-36 digits, like t3 ids
    return {{"kind", "t3"},
            {"data",
             {{"subreddit", "octohub"},
              {"id", id},
              {"name", "t3_" + id},
              {"title", r.title},
              {"selftext", r.body},
              {"author", "octo_user_" + std::to_string(r.number % 6)},
              {"link_flair_text", r.state == "open" ? "Question" : "Solved"},
              {"score", r.comments * 3 + 1},
              {"num_comments", r.comments},
              {"created_utc", static_cast<double>(r.updated_epoch)},
              {"edited", false},
              {"permalink", "/r/octohub/comments/" + id + "/"}}}};
  }

  std::vector<json::object> posts_;  // newest first
};

}  // namespace

std::unique_ptr<ApiEmulator> MakeHubspotEmulator() {
  return Host<HubspotApi>("hubspot",
                          "https://developers.hubspot.com/docs/api-reference/latest/crm/objects/"
                          "custom-objects/get-custom-objects");
}
std::unique_ptr<ApiEmulator> MakeZendeskEmulator() {
  return Host<ZendeskApi>("zendesk",
                          "https://developer.zendesk.com/api-reference/ticketing/ticket-management/"
                          "incremental_exports/");
}
std::unique_ptr<ApiEmulator> MakeRedditEmulator() {
  return Host<RedditApi>("reddit", "https://www.reddit.com/dev/api/");
}

}  // namespace octohub::testing::emulation
