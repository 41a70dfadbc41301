#include "octohub/ingest/preview.h"

#include <boost/json.hpp>
#include <map>
#include <pqxx/pqxx>
#include <set>

#include "for_each.h"
#include "index_suggestion.h"
#include "octohub/core/secrets.h"
#include "page_extractor.h"
#include "page_planner.h"
#include "source_client.h"

namespace octohub::ingest {
namespace json = boost::json;
namespace {

// A preview answers a person waiting: one try per page, no long backoff.
const RetryPolicy kPreviewRetry{1, std::chrono::milliseconds(200), std::chrono::seconds(2)};

struct ParentRecord {
  std::string id;
  std::string data;
};

Result<ParentRecord> FirstParentRecord(const Database& db, const std::string& parent) {
  return WithConnection(
      db, "reading the parent's records", [&](pqxx::connection& c) -> Result<ParentRecord> {
        pqxx::read_transaction tx(c);
        auto rows = tx.exec_params(
            "SELECT id, data::text FROM records WHERE source = $1 AND NOT "
            "deleted ORDER BY id LIMIT 1",
            parent);
        if (rows.empty()) {
          return FailedPrecondition("the parent source \"" + parent +
                                    "\" has no records yet: run it first, then preview its child");
        }
        return ParentRecord{rows[0][0].as<std::string>(), rows[0][1].as<std::string>()};
      });
}

}  // namespace

struct SourcePreview::State {
  SourceSpec spec;
  PreviewOptions options;
  std::optional<std::string> parent_id;
  json::object answer;
  std::unique_ptr<SourceClient> client;
  std::optional<PageExtractor> extractor;
  std::optional<PagePlanner> planner;  // refers to spec: State stays where it was made
  std::optional<PageRequest> first;
};

SourcePreview::SourcePreview(std::unique_ptr<State> state) : state_(std::move(state)) {}
SourcePreview::~SourcePreview() = default;

Result<std::unique_ptr<SourcePreview>> SourcePreview::Prepare(const Database& db,
                                                              const SourceSpec& source,
                                                              HttpFetcher& fetcher,
                                                              const PreviewOptions& options,
                                                              std::stop_token stop) {
  auto state = std::make_unique<State>();
  SourceSpec& spec = state->spec;
  spec = source;
  spec.max_wait_s = std::min(spec.max_wait_s, options.max_wait_s);
  state->options = options;
  state->options.pages = std::clamp(options.pages, 1, 10);
  if (spec.for_each) {
    auto parent = FirstParentRecord(db, spec.for_each->source);
    if (!parent.ok()) return parent.status();
    auto values = ParentValues(*spec.for_each, parent->data);
    if (!values.ok()) {
      return FailedPrecondition("the parent record " + parent->id +
                                " cannot be used: " + values.status().message());
    }
    spec = ExpandForParent(spec, *values);
    state->parent_id = parent->id;
    state->answer["parent"] = {{"source", spec.for_each->source}, {"id", parent->id}};
  }
  auto client = SourceClient::Open(spec, fetcher, kPreviewRetry, std::move(stop), {},
                                   {{"preview", spec.name}});
  if (!client.ok()) return client.status();
  state->client = std::move(*client);
  auto extractor = PageExtractor::ForSpec(spec);
  if (!extractor.ok()) return extractor.status();
  state->extractor.emplace(std::move(*extractor));
  state->planner.emplace(spec, spec.query, std::nullopt, state->client->credential_query());
  auto first = state->planner->First();
  if (!first.ok()) return first.status();
  state->first = std::move(*first);
  return std::unique_ptr<SourcePreview>(new SourcePreview(std::move(state)));
}

json::object SourcePreview::Run() {
  State& state = *state_;
  const SourceSpec& spec = state.spec;
  const PreviewOptions& options = state.options;
  SourceClient& client = *state.client;
  PagePlanner& planner = *state.planner;
  const SecretScrubber& scrubber = client.scrubber();
  const std::string auth_query = spec.auth.type == AuthSpec::Type::kQuery ? spec.auth.name : "";
  auto shown = [&](const std::string& url) { return scrubber.Scrub(RedactUrl(url, auth_query)); };

  json::object answer = std::move(state.answer);
  json::array pages;
  json::array records;
  std::vector<std::string> samples;
  std::set<std::string> ids;
  std::set<std::string> duplicates;
  std::map<std::string, std::int64_t> skipped;
  simdjson::dom::parser parser;
  std::optional<PageRequest> next = std::move(state.first);
  for (int number = 1; next && number <= options.pages; ++number) {
    HttpRequest request = client.base_request();
    request.url = next->url;
    request.headers = spec.headers;
    if (spec.body) request.headers.emplace_back("Content-Type", "application/json");
    if (next->body) request.body = *next->body;
    json::object page{{"url", shown(request.url)}};
    next.reset();
    auto response = client.Fetch(request, "page " + std::to_string(number));
    if (!response.ok()) {
      page["status"] = nullptr;
      page["error"] = scrubber.Scrub(response.status().message());
      page["stopped_because"] = "the page failed";
      pages.push_back(std::move(page));
      break;
    }
    page["status"] = response->status;
    auto extracted = state.extractor->Extract(response->body);
    if (!extracted.ok()) {
      page["error"] = scrubber.Scrub(extracted.status().message());
      page["stopped_because"] = "the page could not be read";
      pages.push_back(std::move(page));
      break;
    }
    if (state.parent_id) {
      for (auto& record : extracted->records)
        record.id = ChildRecordId(*state.parent_id, record.id);
    }
    page["records"] = static_cast<std::int64_t>(extracted->records.size());
    for (const auto& id : extracted->duplicate_ids) duplicates.insert(id);
    for (const auto& [reason, count] : extracted->skipped_because) skipped[reason] += count;
    for (const auto& record : extracted->records) {
      if (!ids.insert(record.id).second) duplicates.insert(record.id);
      if (samples.size() < 500) samples.push_back(record.json);
      if (records.size() < static_cast<std::size_t>(options.records)) {
        simdjson::dom::element element;
        if (parser.parse(record.json).get(element) != simdjson::SUCCESS) continue;
        records.push_back({{"id", record.id},
                           {"data", json::parse(record.json)},
                           {"index", IndexFieldsOf(spec.index, element)}});
      }
    }
    auto following = planner.Next(*extracted, *response);
    if (!following.ok()) {
      page["next"] = nullptr;
      page["stopped_because"] = scrubber.Scrub(following.status().message());
    } else if (!*following) {
      page["next"] = nullptr;
      page["stopped_because"] = planner.stop_reason();
    } else {
      page["next"] = shown((*following)->url);
      page["stopped_because"] = nullptr;
      next = std::move(*following);
    }
    pages.push_back(std::move(page));
  }
  if (next && !pages.empty()) {
    pages.back().as_object()["stopped_because"] =
        "the preview's page limit (" + std::to_string(options.pages) + ")";
  }
  answer["pages"] = std::move(pages);
  answer["records"] = std::move(records);
  json::array duplicate_ids;
  for (const auto& id : duplicates) duplicate_ids.emplace_back(id);
  answer["duplicate_ids"] = std::move(duplicate_ids);
  json::array skipped_list;
  for (const auto& [reason, count] : skipped) {
    skipped_list.push_back({{"reason", reason}, {"count", count}});
  }
  answer["skipped"] = std::move(skipped_list);
  const IndexSpec suggested = SuggestIndex(samples, spec.id);
  json::object index =
      SourceSpecToJson(SourceSpec{.index = suggested}, false).at("index").as_object();
  index.erase("language");
  answer["suggested_index"] = std::move(index);
  return answer;
}

Result<json::object> PreviewSource(const Database& db, const SourceSpec& spec, HttpFetcher& fetcher,
                                   const PreviewOptions& options, std::stop_token stop) {
  auto preview = SourcePreview::Prepare(db, spec, fetcher, options, std::move(stop));
  if (!preview.ok()) return preview.status();
  return (*preview)->Run();
}

}  // namespace octohub::ingest
