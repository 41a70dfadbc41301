#include "octohub/indexer/searcher.h"

#include <simdjson.h>
#include <sys/stat.h>
#include <xapian.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <mutex>

#include "generations.h"
#include "index_schema.h"

namespace octohub::indexer {
namespace fs = std::filesystem;
namespace json = boost::json;
namespace {

constexpr size_t kSnippetLength = 240;
constexpr size_t kMaxQueryBytes = 4096;
// A wildcard or a prefix expands to at most this many terms, the most frequent ones: "a*"
// over a large index would otherwise OR together every word starting with "a".
constexpr Xapian::termcount kMaxExpansion = 200;
constexpr size_t kFacetValues = 100;  // values reported per facet, the most frequent first

// "updated:2024-01-01..2024-06-30": dates as days or RFC 3339 times, a bare end day inclusive.
class DateRange : public Xapian::RangeProcessor {
 public:
  DateRange(unsigned slot, const std::string& prefix) : Xapian::RangeProcessor(slot, prefix) {}
  Xapian::Query operator()(const std::string& begin, const std::string& end) override {
    std::optional<double> from, to;
    if (!begin.empty() && !(from = schema::ParseTimestamp(begin))) return Invalid();
    if (!end.empty() && !(to = schema::ParseTimestamp(end))) return Invalid();
    if (to && end.size() == 10) *to += 86400 - 0.001;  // through the end of that day
    if (from && to) {
      return Xapian::Query(Xapian::Query::OP_VALUE_RANGE, slot, Xapian::sortable_serialise(*from),
                           Xapian::sortable_serialise(*to));
    }
    if (from)
      return Xapian::Query(Xapian::Query::OP_VALUE_GE, slot, Xapian::sortable_serialise(*from));
    if (to) return Xapian::Query(Xapian::Query::OP_VALUE_LE, slot, Xapian::sortable_serialise(*to));
    return Invalid();
  }

 private:
  static Xapian::Query Invalid() { return Xapian::Query(Xapian::Query::OP_INVALID); }
};

const schema::Field* RequireField(const schema::FieldRegistry& fields, const std::string& name,
                                  std::initializer_list<schema::FieldKind> kinds, const char* use) {
  const schema::Field* field = fields.Find(name);
  if (field == nullptr || std::find(kinds.begin(), kinds.end(), field->kind) == kinds.end()) {
    std::string known;
    for (const auto& [other, f] : fields.fields()) {
      if (std::find(kinds.begin(), kinds.end(), f.kind) != kinds.end()) {
        known += (known.empty() ? "" : ", ") + other;
      }
    }
    throw Xapian::InvalidArgumentError("cannot " + std::string(use) + " \"" + name +
                                       "\": no source maps it as such a field" +
                                       (known.empty() ? std::string() : " (try: " + known + ")"));
  }
  return field;
}

// Identifies the stub file's current version: a swap renames a new file over it.
struct StubIdentity {
  ino_t inode = 0;
  std::int64_t mtime_ns = 0;
  bool operator==(const StubIdentity&) const = default;
};

std::optional<StubIdentity> ReadStubIdentity(const fs::path& index_dir) {
  struct stat info {};
  if (stat((index_dir / kStubFile).c_str(), &info) != 0) return std::nullopt;
  return StubIdentity{info.st_ino, info.st_mtim.tv_sec * 1'000'000'000LL + info.st_mtim.tv_nsec};
}

// Which stemming languages a query is parsed in. The primary one covers every searched source
// that no other language claims (including sources indexed before languages were recorded).
struct StemmingPlan {
  std::string primary = "english";
  std::map<std::string, std::vector<std::string>> others;  // language -> its sources

  std::vector<std::string> languages() const {
    std::vector<std::string> all{primary};
    for (const auto& entry : others) all.push_back(entry.first);
    return all;
  }
  const std::string& LanguageOf(const std::string& source,
                                const schema::SourceLanguages& languages) const {
    auto it = languages.by_source().find(source);
    if (it != languages.by_source().end() && others.count(it->second) != 0) return it->second;
    return primary;
  }
};

StemmingPlan PlanStemming(const schema::SourceLanguages& languages,
                          const std::vector<std::string>& searched) {
  std::map<std::string, std::vector<std::string>> by_language;
  for (const auto& [source, language] : languages.by_source()) {
    if (searched.empty() || std::find(searched.begin(), searched.end(), source) != searched.end()) {
      by_language[language].push_back(source);
    }
  }
  StemmingPlan plan;
  size_t most = 0;
  for (const auto& [language, sources] : by_language) {
    if (sources.size() > most || (sources.size() == most && language == "english")) {
      most = sources.size();
      plan.primary = language;
    }
  }
  by_language.erase(plan.primary);
  plan.others = std::move(by_language);
  return plan;
}

Xapian::QueryParser MakeParser(Xapian::Database& db, const schema::FieldRegistry& fields,
                               const std::vector<std::unique_ptr<Xapian::RangeProcessor>>& ranges,
                               const Xapian::Stem& stemmer) {
  Xapian::QueryParser parser;
  parser.set_database(db);
  parser.set_stemmer(stemmer);
  parser.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
  parser.set_default_op(Xapian::Query::OP_AND);
  parser.set_max_expansion(kMaxExpansion, Xapian::Query::WILDCARD_LIMIT_MOST_FREQUENT,
                           Xapian::QueryParser::FLAG_WILDCARD | Xapian::QueryParser::FLAG_PARTIAL);
  parser.add_prefix("title", std::string(schema::kTitlePrefix));
  parser.add_boolean_prefix("source", std::string(schema::kSourcePrefix));
  for (const auto& [name, field] : fields.fields()) {
    if (field.kind == schema::FieldKind::kFacet) {
      parser.add_boolean_prefix(name, schema::FacetPrefix(name));
    }
  }
  for (const auto& range : ranges) parser.add_rangeprocessor(range.get());
  return parser;
}

// The request's q, sources, record list and filters as one Xapian query, each source's words
// stemmed in its own language. The primary parser is kept: it knows the spelling correction
// of what it parsed. Throws Xapian errors as the parser does.
struct ParsedQuery {
  ParsedQuery(Xapian::Database& db, const SearchRequest& request) {
    fields = schema::FieldRegistry::FromJson(db.get_metadata(schema::kFieldsKey));
    for (const auto& [name, field] : fields.fields()) {
      if (field.kind == schema::FieldKind::kDate) {
        ranges.push_back(std::make_unique<DateRange>(field.slot, name + ":"));
      } else if (field.kind == schema::FieldKind::kNumber) {
        ranges.push_back(std::make_unique<Xapian::NumberRangeProcessor>(field.slot, name + ":"));
      }
    }
    languages = schema::SourceLanguages::FromJson(db.get_metadata(schema::kLanguagesKey));
    plan = PlanStemming(languages, request.sources);
    for (const auto& language : plan.languages())
      stemmers.emplace(language, Xapian::Stem(language));

    unsigned flags = Xapian::QueryParser::FLAG_DEFAULT | Xapian::QueryParser::FLAG_PURE_NOT |
                     Xapian::QueryParser::FLAG_WILDCARD |
                     Xapian::QueryParser::FLAG_SPELLING_CORRECTION;
    if (request.prefix) flags |= Xapian::QueryParser::FLAG_PARTIAL;
    const bool match_all = request.q.find_first_not_of(" \t\r\n") == std::string::npos;
    parser = MakeParser(db, fields, ranges, stemmers.at(plan.primary));
    // A fresh match-all query: copying the shared Xapian::Query::MatchAll from several threads
    // races on its reference count, which is not atomic.
    query = match_all ? Xapian::Query(std::string()) : parser.parse_query(request.q, flags);
    if (!match_all && !plan.others.empty()) {
      // Each source's documents are matched by the query stemmed in that source's language.
      std::vector<Xapian::Query> elsewhere;
      std::vector<Xapian::Query> alternatives;
      for (const auto& [language, sources] : plan.others) {
        std::vector<Xapian::Query> terms;
        for (const auto& source : sources) terms.emplace_back(schema::SourceTerm(source));
        Xapian::Query in_language(Xapian::Query::OP_OR, terms.begin(), terms.end());
        Xapian::QueryParser other = MakeParser(db, fields, ranges, stemmers.at(language));
        alternatives.emplace_back(Xapian::Query::OP_FILTER, other.parse_query(request.q, flags),
                                  in_language);
        elsewhere.push_back(std::move(in_language));
      }
      alternatives.emplace_back(
          Xapian::Query::OP_AND_NOT, query,
          Xapian::Query(Xapian::Query::OP_OR, elsewhere.begin(), elsewhere.end()));
      query = Xapian::Query(Xapian::Query::OP_OR, alternatives.begin(), alternatives.end());
    }
    if (!request.sources.empty()) {
      std::vector<Xapian::Query> terms;
      for (const auto& source : request.sources) terms.emplace_back(schema::SourceTerm(source));
      query = Xapian::Query(Xapian::Query::OP_FILTER, query,
                            Xapian::Query(Xapian::Query::OP_OR, terms.begin(), terms.end()));
    }
    if (!request.among.empty()) {
      std::vector<Xapian::Query> terms;
      terms.reserve(request.among.size());
      for (const auto& [source, id] : request.among) {
        terms.emplace_back(schema::UniqueTerm(source, id));
      }
      query = Xapian::Query(Xapian::Query::OP_FILTER, query,
                            Xapian::Query(Xapian::Query::OP_OR, terms.begin(), terms.end()));
    }
    // Filters: values of one field are alternatives, different fields must all hold.
    std::map<std::string, std::vector<Xapian::Query>> by_field;
    for (const auto& [name, value] : request.filters) {
      RequireField(fields, name, {schema::FieldKind::kFacet}, "filter on");
      by_field[name].emplace_back(schema::FacetTerm(name, value));
    }
    for (auto& [name, alternatives] : by_field) {
      query = Xapian::Query(
          Xapian::Query::OP_FILTER, query,
          Xapian::Query(Xapian::Query::OP_OR, alternatives.begin(), alternatives.end()));
    }
  }

  const Xapian::Stem& StemmerFor(const std::string& source) const {
    return stemmers.at(plan.LanguageOf(source, languages));
  }

  schema::FieldRegistry fields;
  std::vector<std::unique_ptr<Xapian::RangeProcessor>> ranges;
  schema::SourceLanguages languages;
  StemmingPlan plan;
  std::map<std::string, Xapian::Stem> stemmers;
  Xapian::QueryParser parser;
  Xapian::Query query;
};

// What a query's text must be before it is parsed: UTF-8, and short enough.
Status CheckQueryText(const std::string& q) {
  if (!simdjson::validate_utf8(q.data(), q.size())) {
    return InvalidArgument("the query is not valid UTF-8");
  }
  if (q.size() > kMaxQueryBytes) {
    return InvalidArgument("the query is longer than " + std::to_string(kMaxQueryBytes) + " bytes");
  }
  return Status::Ok();
}

struct Reader {
  Xapian::Database db;
  StubIdentity stub;
};

class XapianSearcher final : public Searcher {
 public:
  explicit XapianSearcher(fs::path index_dir) : index_dir_(std::move(index_dir)) {}

  bool Ready() override {
    auto reader = Acquire();
    if (!reader.ok()) return false;
    Release(std::move(*reader));
    return true;
  }

  Result<Stats> ReadStats() override {
    auto reader = Acquire();
    if (!reader.ok()) return reader.status();
    Stats stats;
    try {
      stats.documents = (*reader)->db.get_doccount();
      const std::string checkpoint = (*reader)->db.get_metadata(schema::kCheckpointKey);
      stats.checkpoint = checkpoint.empty() ? 0 : std::stoll(checkpoint);
      const std::string source_prefix(schema::kSourcePrefix);
      for (auto it = (*reader)->db.allterms_begin(source_prefix);
           it != (*reader)->db.allterms_end(source_prefix); ++it) {
        stats.sources.emplace_back((*it).substr(source_prefix.size()), it.get_termfreq());
      }
      const auto fields =
          schema::FieldRegistry::FromJson((*reader)->db.get_metadata(schema::kFieldsKey));
      for (const auto& [name, field] : fields.fields()) {
        stats.fields.emplace_back(name, field.kind == schema::FieldKind::kDate     ? "date"
                                        : field.kind == schema::FieldKind::kNumber ? "number"
                                                                                   : "facet");
      }
    } catch (const Xapian::Error& e) {
      Release(std::move(*reader));
      return Unavailable("the index cannot be read: " + e.get_msg());
    }
    Release(std::move(*reader));
    return stats;
  }

  Status ForEachMatch(const SearchRequest& request, const MatchVisitor& visit) override {
    if (Status s = CheckQueryText(request.q); !s.ok()) return s;
    auto reader = Acquire();
    if (!reader.ok()) return reader.status();
    Status status = Status::Ok();
    try {
      status = Enumerate((*reader)->db, request, visit);
    } catch (const Xapian::QueryParserError& e) {
      status = InvalidArgument("the query cannot be parsed: " + e.get_msg());
    } catch (const Xapian::InvalidArgumentError& e) {
      status = InvalidArgument(e.get_msg());
    } catch (const Xapian::Error& e) {
      status = Unavailable(std::string("search failed: ") + e.get_type() + ": " + e.get_msg());
    }
    Release(std::move(*reader));
    return status;
  }
  Result<SearchResponse> Search(const SearchRequest& request) override {
    const auto started = std::chrono::steady_clock::now();
    if (Status s = CheckQueryText(request.q); !s.ok()) return s;
    auto reader = Acquire();
    if (!reader.ok()) return reader.status();
    Result<SearchResponse> result = Unavailable("the index kept changing under this search");
    for (int attempt = 0; attempt < 5; ++attempt) {
      try {
        result = Run((*reader)->db, request);
        break;
      } catch (const Xapian::DatabaseModifiedError&) {
        // A commit overtook this reader: retry on the new revision.
        try {
          (*reader)->db.reopen();
        } catch (const Xapian::DatabaseModifiedError&) {  // and once more, next time round
        }
      } catch (const Xapian::QueryParserError& e) {
        result = InvalidArgument("the query cannot be parsed: " + e.get_msg());
        break;
      } catch (const Xapian::InvalidArgumentError& e) {
        result = InvalidArgument(e.get_msg());
        break;
      } catch (const Xapian::Error& e) {
        result = Unavailable(std::string("search failed: ") + e.get_type() + ": " + e.get_msg());
        break;
      }
    }
    Release(std::move(*reader));
    if (result.ok()) {
      result->took_ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
              .count();
    }
    return result;
  }

 private:
  // A reader for this thread's search, current with the latest commit and generation.
  Result<std::unique_ptr<Reader>> Acquire() {
    auto stub = ReadStubIdentity(index_dir_);
    if (!stub) return Unavailable("the search index is not built yet");
    std::unique_ptr<Reader> reader;
    {
      std::lock_guard lock(mutex_);
      while (!idle_.empty() && !reader) {
        reader = std::move(idle_.back());
        idle_.pop_back();
        if (!(reader->stub == *stub)) reader.reset();  // on a swapped-out generation
      }
    }
    // A commit landing while we open or reopen discards the revision being read: try again.
    for (int attempt = 1;; ++attempt) {
      try {
        if (reader) {
          reader->db.reopen();
        } else {
          reader = std::make_unique<Reader>(Reader{Xapian::Database(index_dir_.string()), *stub});
        }
        return reader;
      } catch (const Xapian::DatabaseModifiedError& e) {
        if (attempt == 5) return Unavailable("the search index kept changing: " + e.get_msg());
      } catch (const Xapian::Error& e) {
        return Unavailable("the search index cannot be opened: " + e.get_msg());
      }
    }
  }

  void Release(std::unique_ptr<Reader> reader) {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(reader));
  }

  static Result<SearchResponse> Run(Xapian::Database& db, const SearchRequest& request) {
    ParsedQuery parsed(db, request);
    const schema::FieldRegistry& fields = parsed.fields;
    Xapian::Enquire enquire(db);
    enquire.set_query(parsed.query);
    if (!request.sort.empty() && request.sort != "relevance") {
      const bool descending = request.sort[0] == '-';
      const std::string name = descending ? request.sort.substr(1) : request.sort;
      const auto* field = RequireField(
          fields, name, {schema::FieldKind::kDate, schema::FieldKind::kNumber}, "sort by");
      enquire.set_sort_by_value_then_relevance(field->slot, descending);
    }
    std::vector<std::pair<std::string, std::unique_ptr<Xapian::ValueCountMatchSpy>>> spies;
    for (const auto& name : request.facets) {
      const auto* field = RequireField(fields, name, {schema::FieldKind::kFacet}, "count");
      spies.emplace_back(name, std::make_unique<Xapian::ValueCountMatchSpy>(field->slot));
      enquire.add_matchspy(spies.back().second.get());
    }
    const Xapian::doccount offset =
        static_cast<Xapian::doccount>((request.page - 1) * request.per_page);
    // Facet counts are exact: they need the whole match set, as an exact total does.
    const Xapian::doccount check_at_least =
        request.exact_total || !spies.empty() ? db.get_doccount() : 0;
    Xapian::MSet mset = enquire.get_mset(offset, request.per_page, check_at_least);

    SearchResponse response;
    response.query = request.q;
    response.page = request.page;
    response.per_page = request.per_page;
    response.total = mset.get_matches_estimated();
    response.total_exact = mset.get_matches_lower_bound() == mset.get_matches_upper_bound();
    if (response.total_exact) response.total = mset.get_matches_lower_bound();
    for (auto it = mset.begin(); it != mset.end(); ++it) {
      json::value data = json::parse(it.get_document().get_data());
      const json::object& stored = data.as_object();
      SearchHit hit;
      hit.source = json::value_to<std::string>(stored.at("source"));
      hit.id = json::value_to<std::string>(stored.at("id"));
      hit.score = it.get_weight();
      if (request.ids_only) {
        response.hits.push_back(std::move(hit));
        continue;
      }
      hit.title = json::value_to<std::string>(stored.at("title"));
      hit.updated_at = json::value_to<std::string>(stored.at("updated_at"));
      hit.fields = stored.at("fields").as_object();
      const std::string text = json::value_to<std::string>(stored.at("text"));
      // No background model: it looks up the frequency of every word of every hit, most of a
      // search's time, to pick a slightly better window.
      hit.snippet = mset.snippet(text.empty() ? hit.title : text, kSnippetLength,
                                 parsed.StemmerFor(hit.source), Xapian::MSet::SNIPPET_EXHAUSTIVE,
                                 "<mark>", "</mark>", "…");
      response.hits.push_back(std::move(hit));
    }
    for (const auto& [name, spy] : spies) {
      json::object counts;
      for (auto it = spy->top_values_begin(kFacetValues); it != spy->top_values_end(kFacetValues);
           ++it) {
        counts[*it] = static_cast<std::int64_t>(it.get_termfreq());
      }
      response.facets[name] = std::move(counts);
    }
    const std::string corrected = parsed.parser.get_corrected_query_string();
    if (!corrected.empty() && corrected != request.q) response.suggestion = corrected;
    return response;
  }

  // Batches in document-id order, each resuming after the last id seen: a commit that
  // overtakes the reader (the visitor may be slow) is met by reopening and going on, and
  // documents are never visited twice.
  static Status Enumerate(Xapian::Database& db, const SearchRequest& request,
                          const MatchVisitor& visit) {
    constexpr Xapian::doccount kBatch = 5000;
    class After : public Xapian::MatchDecider {
     public:
      Xapian::docid last = 0;
      bool operator()(const Xapian::Document& doc) const override { return doc.get_docid() > last; }
    } after;
    for (int reopened = 0;;) {
      try {
        ParsedQuery parsed(db, request);
        Xapian::Enquire enquire(db);
        enquire.set_query(parsed.query);
        enquire.set_weighting_scheme(Xapian::BoolWeight());
        enquire.set_docid_order(Xapian::Enquire::ASCENDING);
        for (;;) {
          Xapian::MSet batch = enquire.get_mset(0, kBatch, 0, nullptr, &after);
          for (auto it = batch.begin(); it != batch.end(); ++it) {
            json::value data = json::parse(it.get_document().get_data());
            const json::object& stored = data.as_object();
            if (!visit(std::string(stored.at("source").as_string()),
                       std::string(stored.at("id").as_string()))) {
              return Status(StatusCode::kCancelled, "the enumeration was stopped");
            }
            after.last = *it;
          }
          if (batch.size() < kBatch) return Status::Ok();
        }
      } catch (const Xapian::DatabaseModifiedError& e) {
        if (++reopened > 100) return Unavailable("the index kept changing: " + e.get_msg());
        db.reopen();
      }
    }
  }
  const fs::path index_dir_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Reader>> idle_;
};

}  // namespace

json::object SearchResponseToJson(const SearchResponse& response) {
  json::array hits;
  for (const auto& hit : response.hits) {
    hits.push_back(json::object{{"source", hit.source},
                                {"id", hit.id},
                                {"score", hit.score},
                                {"title", hit.title},
                                {"snippet", hit.snippet},
                                {"updated_at", hit.updated_at},
                                {"fields", hit.fields}});
  }
  return {{"query", response.query},
          {"total", response.total},
          {"total_exact", response.total_exact},
          {"took_ms", response.took_ms},
          {"page", response.page},
          {"per_page", response.per_page},
          {"hits", std::move(hits)},
          {"facets", response.facets},
          {"suggestion",
           response.suggestion ? json::value(*response.suggestion) : json::value(nullptr)}};
}

std::unique_ptr<Searcher> OpenSearcher(const fs::path& index_dir) {
  return std::make_unique<XapianSearcher>(index_dir);
}

}  // namespace octohub::indexer
