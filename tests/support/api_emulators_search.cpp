// Elasticsearch search_after: paging by the sort values of the last hit, sent in a POST body.
#include <algorithm>
#include <map>
#include <mutex>

#include "api_emulator_kit.h"

namespace octohub::testing {
namespace emulation {
namespace {

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

std::unique_ptr<ApiEmulator> MakeElasticsearchEmulator() {
  return Host<ElasticsearchApi>("elasticsearch",
                                "https://www.elastic.co/guide/en/elasticsearch/reference/current/"
                                "paginate-search-results.html#search-after");
}

}  // namespace emulation
}  // namespace octohub::testing
