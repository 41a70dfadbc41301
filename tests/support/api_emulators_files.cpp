// Emulators of bulk files and of a parent → child harvest: Mixpanel's NDJSON raw export, a
// Socrata (SODA 2.1) CSV resource, and GitHub-style repositories with their issues
// (ParentChildEmulator).
#include <algorithm>
#include <cstdio>
#include <ctime>

#include "api_emulator_kit.h"

namespace octohub::testing {
namespace emulation {
namespace {

// "YYYY-MM-DD" as the epoch second its day starts (UTC).
std::optional<std::int64_t> DayStart(const std::string& text) {
  int year = 0, month = 0, day = 0;
  char tail = 0;
  if (text.size() != 10 ||
      std::sscanf(text.c_str(), "%4d-%2d-%2d%c", &year, &month, &day, &tail) != 3 || month < 1 ||
      month > 12 || day < 1 || day > 31) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  return static_cast<std::int64_t>(timegm(&tm));
}

// ---------------------------------------------------------------------------------------------
// Mixpanel raw event export: GET /api/2.0/export?from_date&to_date, one JSON event a line,
// no paging. A service account authenticates by Basic auth and must name its project.
class MixpanelExportApi final : public ApiModel {
 public:
  MixpanelExportApi() : records_(SampleRecords(kCount)) {}

  TestResponse Handle(const TestRequest& request) override {
    auto credentials = BasicCredentials(request);
    if (!credentials) return Error(401, request, "Unable to authenticate request");
    const bool service_account =
        credentials->user == kServiceAccount && credentials->password == kSecret;
    const bool project_secret =
        credentials->user == kProjectSecret && credentials->password.empty();
    if (!service_account && !project_secret)
      return Error(401, request, "Unable to authenticate request");
    if (request.path != "/api/2.0/export") return Error(404, request, "Unknown endpoint");
    if (service_account && QueryOf(request, "project_id") != kProjectId) {
      return Error(400, request, "project_id is required when a service account authenticates");
    }
    std::optional<std::int64_t> from;
    std::optional<std::int64_t> to;
    for (auto [name, target] : {std::pair{"from_date", &from}, std::pair{"to_date", &to}}) {
      auto text = QueryOf(request, name);
      if (!text) return Error(400, request, std::string("'") + name + "' is a required parameter");
      *target = DayStart(*text);
      if (!*target)
        return Error(400, request, std::string(name) + " must be a date like 2024-01-31");
    }
    if (*to < *from) return Error(400, request, "to_date is before from_date");
    std::int64_t limit = 100000;
    if (auto text = QueryOf(request, "limit")) {
      auto parsed = ParseInteger(*text);
      if (!parsed || *parsed < 1 || *parsed > 100000) {
        return Error(400, request, "limit must be from 1 to 100000");
      }
      limit = *parsed;
    }
    std::set<std::string> events;
    if (auto text = QueryOf(request, "event")) {
      auto parsed = ParseJson(*text);
      if (!parsed || !parsed->is_array())
        return Error(400, request, "event must be a JSON array of names");
      for (const auto& name : parsed->as_array()) {
        if (name.is_string()) events.insert(std::string(name.as_string()));
      }
    }
    std::string body;
    std::int64_t written = 0;
    for (const auto& r : records_) {
      const std::int64_t time = TimeOf(r);
      if (time < *from || time >= *to + 86400 || written >= limit) continue;
      json::object event = Event(r);
      if (!events.empty() && !events.count(std::string(event.at("event").as_string()))) continue;
      body += json::serialize(event) + "\n";
      ++written;
    }
    return TextResponse(200, std::move(body), "application/x-ndjson");
  }

  json::object Source(const std::string& base_url) const override {
    return {{"url", base_url + "/api/2.0/export"},
            {"query",
             {{"from_date", "2024-01-01"}, {"to_date", "2024-01-31"}, {"project_id", kProjectId}}},
            {"auth", {{"type", "basic"}, {"username", kServiceAccount}, {"password", kSecret}}},
            {"format", "ndjson"},
            {"id", "/properties/$insert_id"},
            {"index", IndexFields("/properties/title", {"/properties/title"}, {{"event", "/event"}},
                                  {}, {{"comments", "/properties/comments"}})}};
  }

  std::set<std::string> ExpectedIds() const override {
    std::set<std::string> ids;
    for (const auto& r : records_) ids.insert(InsertId(r));
    return ids;
  }

 private:
  static constexpr int kCount = 200;
  static constexpr std::int64_t kJanuary2024 = 1704067200;
  static constexpr const char* kServiceAccount = "octohub-export.emu.mp-service-account";
  static constexpr const char* kSecret = "emuMixpanelServiceAccountSecret01";
  static constexpr const char* kProjectSecret = "emuprojectsecret0123456789abcdef";
  static constexpr const char* kProjectId = "3141592";

  static std::int64_t TimeOf(const SampleRecord& r) { return kJanuary2024 + r.number * 3 * 3600; }
  static std::string InsertId(const SampleRecord& r) { return "emu-" + Padded(r.number, 8); }

  static TestResponse Error(int status, const TestRequest& request, const std::string& message) {
    return JsonResponse(status, {{"request", request.target}, {"error", message}});
  }

  static json::object Event(const SampleRecord& r) {
    static const char* const kEvents[] = {"Issue Opened", "Issue Commented", "Issue Closed"};
    return {{"event", kEvents[r.number % 3]},
            {"properties",
             {{"time", TimeOf(r)},
              {"distinct_id", "user-" + std::to_string(r.number % 17)},
              {"$insert_id", InsertId(r)},
              {"mp_processing_time_ms", TimeOf(r) * 1000 + 250},
              {"title", r.title},
              {"state", r.state},
              {"comments", r.comments}}}};
  }

  const std::vector<SampleRecord> records_;
};

// ---------------------------------------------------------------------------------------------
// Socrata SODA 2.1 CSV resource: $limit/$offset paging (stable with $order=:id), a quoted
// header row, RFC 4180 quoting; an app token is optional but must be valid when sent.
class SocrataCsvApi final : public ApiModel {
 public:
  SocrataCsvApi() : records_(SampleRecords(kCount)) {}

  TestResponse Handle(const TestRequest& request) override {
    std::string token = HeaderOf(request, "x-app-token");
    if (token.empty()) token = QueryOf(request, "$$app_token").value_or("");
    if (!token.empty() && token != kAppToken) {
      return JsonResponse(403, {{"code", "permission_denied"},
                                {"error", true},
                                {"message", "Invalid app_token specified"}});
    }
    if (request.path != kPath) {
      return JsonResponse(404, {{"code", "not_found"}, {"error", true}, {"message", "Not found"}});
    }
    std::int64_t limit = 1000;
    std::int64_t offset = 0;
    std::string order_column = ":id";
    bool descending = false;
    std::vector<std::pair<std::string, std::string>> filters;
    for (const auto& [name, value] : request.query) {
      if (name == "$limit" || name == "$offset") {
        auto parsed = ParseInteger(value);
        if (!parsed || *parsed < 0) return Invalid(name + " must be a non-negative integer");
        (name == "$limit" ? limit : offset) = *parsed;
      } else if (name == "$order") {
        const size_t space = value.find(' ');
        order_column = value.substr(0, space);
        const std::string direction = space == std::string::npos ? "ASC" : value.substr(space + 1);
        if (direction != "ASC" && direction != "DESC" && direction != "asc" &&
            direction != "desc") {
          return Invalid("$order direction must be ASC or DESC");
        }
        descending = direction == "DESC" || direction == "desc";
        if (order_column != ":id" && !IsColumn(order_column)) return NoSuchColumn(order_column);
      } else if (name == "$$app_token") {
        continue;
      } else if (name.rfind('$', 0) == 0) {
        return Invalid("Unrecognized arguments [" + name + "]");
      } else if (IsColumn(name)) {
        filters.emplace_back(name, value);  // a simple equality filter
      } else {
        return NoSuchColumn(name);
      }
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& r : records_) {
      auto row = Row(r);
      const bool kept = std::all_of(filters.begin(), filters.end(), [&](const auto& filter) {
        return row[ColumnIndex(filter.first)] == filter.second;
      });
      if (kept) rows.push_back(std::move(row));
    }
    if (order_column != ":id") {
      const size_t column = ColumnIndex(order_column);
      const bool numeric = order_column == "id" || order_column == "comments";
      std::stable_sort(rows.begin(), rows.end(), [&](const auto& a, const auto& b) {
        return numeric ? std::stoll(a[column]) < std::stoll(b[column]) : a[column] < b[column];
      });
    }
    if (descending) std::reverse(rows.begin(), rows.end());
    std::string csv = CsvLine(Columns());
    for (std::int64_t i = offset; i < std::min<std::int64_t>(offset + limit, rows.size()); ++i) {
      csv += CsvLine(rows[i]);
    }
    TestResponse response = TextResponse(200, std::move(csv), "text/csv; charset=UTF-8");
    SetHeader(response, "X-SODA2-Fields",
              "[\"id\",\"title\",\"description\",\"status\",\"updated_at\",\"comments\"]");
    SetHeader(response, "X-SODA2-Types",
              "[\"text\",\"text\",\"text\",\"text\",\"floating_timestamp\",\"number\"]");
    return response;
  }

  json::object Source(const std::string& base_url) const override {
    return {{"url", base_url + kPath},
            {"query", {{"$order", ":id"}}},
            {"auth", {{"type", "header"}, {"name", "X-App-Token"}, {"value", kAppToken}}},
            {"format", "csv"},
            {"id", "/id"},
            {"pagination",
             {{"type", "offset"},
              {"param", "$offset"},
              {"size_param", "$limit"},
              {"size", 50},
              {"start", 0}}},
            {"index", IndexFields("/title", {"/description"}, {{"status", "/status"}},
                                  {{"updated", "/updated_at"}}, {})}};
  }

  std::set<std::string> ExpectedIds() const override {
    std::set<std::string> ids;
    for (const auto& r : records_) ids.insert(std::to_string(1000 + r.number));
    return ids;
  }

 private:
  static constexpr int kCount = 150;
  static constexpr const char* kPath = "/resource/emu4-x9qk.csv";
  static constexpr const char* kAppToken = "emuSocrataAppToken0123456789";

  static const std::vector<std::string>& Columns() {
    static const std::vector<std::string> kColumns = {"id",     "title",      "description",
                                                      "status", "updated_at", "comments"};
    return kColumns;
  }
  static bool IsColumn(const std::string& name) {
    return std::find(Columns().begin(), Columns().end(), name) != Columns().end();
  }
  static size_t ColumnIndex(const std::string& name) {
    return std::find(Columns().begin(), Columns().end(), name) - Columns().begin();
  }

  static TestResponse Invalid(const std::string& message) {
    return JsonResponse(400, {{"code", "invalid_request"}, {"error", true}, {"message", message}});
  }
  static TestResponse NoSuchColumn(const std::string& name) {
    return JsonResponse(400, {{"code", "query.soql.no-such-column"},
                              {"error", true},
                              {"message", "No such column: " + name}});
  }

  static std::vector<std::string> Row(const SampleRecord& r) {
    // SODA writes floating timestamps with milliseconds and no zone.
    return {std::to_string(1000 + r.number),
            r.title,
            r.body,
            r.state,
            r.updated_at.substr(0, 19) + ".000",
            std::to_string(r.comments)};
  }

  // RFC 4180: every field quoted, quotes doubled, CRLF between records; line breaks inside a
  // field stay as they are.
  static std::string CsvLine(const std::vector<std::string>& fields) {
    std::string line;
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i > 0) line += ',';
      line += '"';
      for (char c : fields[i]) line += c == '"' ? std::string("\"\"") : std::string(1, c);
      line += '"';
    }
    return line + "\r\n";
  }

  const std::vector<SampleRecord> records_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// GitHub-style repositories and their issues, for a parent → child harvest: GET /repos, then
// GET /repos/{owner}/{repo}/issues paged by page/per_page (Link headers as GitHub sends them).
class ParentChildApi final : public ApiModel {
 public:
  ParentChildApi() {
    const auto records = SampleRecords(kMostIssues);
    repos_ = {{501, "alpha", "octo-org", 23},
              {502, "beta-tools", "octo-org", 0},
              {503, "gamma.js", "octo-labs", 57},
              {504, "delta", "octo-labs", 5},
              {505, "epsilon_docs", "octo-org", 0}};
    for (auto& repo : repos_) {
      repo.issues.assign(records.begin(), records.begin() + repo.issue_count);
    }
  }

  TestResponse Handle(const TestRequest& request) override {
    if (BearerToken(request) != kToken) {
      return JsonResponse(401, {{"message", "Bad credentials"},
                                {"documentation_url", "https://docs.github.com/rest"}});
    }
    if (request.path == "/repos") {
      json::array list;
      for (const auto& repo : repos_) list.push_back(RepoJson(repo));
      return JsonResponse(200, list);
    }
    for (const auto& repo : repos_) {
      if (request.path == "/repos/" + repo.owner + "/" + repo.name + "/issues") {
        return Issues(request, repo);
      }
    }
    return JsonResponse(
        404, {{"message", "Not Found"}, {"documentation_url", "https://docs.github.com/rest"}});
  }

  json::object Source(const std::string& base_url) const override {
    return {{"url", base_url + "/repos"},
            {"auth", {{"type", "bearer"}, {"token", kToken}}},
            {"records", ""},
            {"id", "/id"},
            {"index", IndexFields("/full_name", {"/description"}, {{"owner", "/owner/login"}}, {},
                                  {{"open_issues", "/open_issues_count"}})}};
  }

  json::object ChildSource(const std::string& base_url, const std::string& parent_name) const {
    return {{"name", parent_name + "_issues"},
            {"url", base_url + "/repos/{owner}/{repo}/issues"},
            {"query", {{"state", "all"}}},
            {"auth", {{"type", "bearer"}, {"token", kToken}}},
            {"for_each",
             {{"source", parent_name}, {"vars", {{"repo", "/name"}, {"owner", "/owner/login"}}}}},
            {"records", ""},
            {"id", "/number"},
            {"pagination",
             {{"type", "page"},
              {"param", "page"},
              {"start", 1},
              {"size_param", "per_page"},
              {"size", 10}}},
            {"index", IndexFields("/title", {"/body"}, {{"state", "/state"}},
                                  {{"updated", "/updated_at"}}, {{"comments", "/comments"}})}};
  }

  std::set<std::string> ExpectedIds() const override {
    std::set<std::string> ids;
    for (const auto& repo : repos_) {
      for (const auto& issue : repo.issues) {
        ids.insert(std::to_string(repo.id) + "/" + std::to_string(issue.number));
      }
    }
    return ids;
  }

  std::set<std::string> ParentIds() const {
    std::set<std::string> ids;
    for (const auto& repo : repos_) ids.insert(std::to_string(repo.id));
    return ids;
  }

 private:
  static constexpr int kMostIssues = 57;
  static constexpr const char* kToken = "ghp_emulatorParentChildToken00000003";

  struct Repo {
    std::int64_t id;
    std::string name;
    std::string owner;
    int issue_count;
    std::vector<SampleRecord> issues;
  };

  static json::object RepoJson(const Repo& repo) {
    return {{"id", repo.id},
            {"name", repo.name},
            {"full_name", repo.owner + "/" + repo.name},
            {"owner", {{"login", repo.owner}, {"type", "Organization"}}},
            {"private", false},
            {"description", "The " + repo.name + " repository"},
            {"open_issues_count", repo.issue_count}};
  }

  static TestResponse Issues(const TestRequest& request, const Repo& repo) {
    const std::int64_t per_page = std::clamp<std::int64_t>(
        ParseInteger(QueryOf(request, "per_page").value_or("")).value_or(30), 1, 100);
    const std::int64_t page =
        std::max<std::int64_t>(ParseInteger(QueryOf(request, "page").value_or("")).value_or(1), 1);
    const std::int64_t total = static_cast<std::int64_t>(repo.issues.size());
    json::array issues;
    for (std::int64_t i = (page - 1) * per_page; i < std::min(page * per_page, total); ++i) {
      const SampleRecord& r = repo.issues[i];
      issues.push_back({{"id", repo.id * 100000 + r.number},
                        {"number", r.number},
                        {"title", r.title},
                        {"body", r.body},
                        {"state", r.state},
                        {"comments", r.comments},
                        {"updated_at", r.updated_at}});
    }
    TestResponse response = JsonResponse(200, issues);
    const std::int64_t last = std::max<std::int64_t>((total + per_page - 1) / per_page, 1);
    if (page < last) {
      std::vector<std::pair<std::string, std::string>> params(request.query.begin(),
                                                              request.query.end());
      params.emplace_back("page", std::to_string(page + 1));
      std::vector<std::pair<std::string, std::string>> links = {
          {"next", WithQuery(BaseUrl(request) + request.path, params)}};
      params.back().second = std::to_string(last);
      links.emplace_back("last", WithQuery(BaseUrl(request) + request.path, params));
      SetHeader(response, "Link", LinkHeader(links));
    }
    return response;
  }

  std::vector<Repo> repos_;
};

std::unique_ptr<ApiEmulator> MakeNdjsonEmulator() {
  return Host<MixpanelExportApi>("ndjson", "https://docs.mixpanel.com/reference/raw-event-export");
}
std::unique_ptr<ApiEmulator> MakeCsvEmulator() {
  return Host<SocrataCsvApi>("csv", "https://dev.socrata.com/docs/paging.html");
}

}  // namespace emulation

ParentChildEmulator::ParentChildEmulator()
    : api_(std::make_shared<emulation::ParentChildApi>()),
      server_([api = api_](const TestRequest& request) { return api->Handle(request); }) {}

ParentChildEmulator::~ParentChildEmulator() = default;

std::string ParentChildEmulator::name() const { return "parent_child"; }

std::string ParentChildEmulator::documentation() const {
  return "https://docs.github.com/en/rest/issues/issues#list-repository-issues";
}

std::string ParentChildEmulator::SourceDocument() const {
  boost::json::object source = api_->Source(server_.url(""));
  source["name"] = name();
  return boost::json::serialize(source);
}

std::string ParentChildEmulator::ChildSourceDocument() const {
  return boost::json::serialize(api_->ChildSource(server_.url(""), name()));
}

std::set<std::string> ParentChildEmulator::ExpectedIds() const { return api_->ExpectedIds(); }

std::set<std::string> ParentChildEmulator::ParentIds() const { return api_->ParentIds(); }

const HttpTestServer& ParentChildEmulator::server() const { return server_; }

}  // namespace octohub::testing
