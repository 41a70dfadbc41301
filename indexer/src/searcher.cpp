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
#include "query_builder.h"

namespace octohub::indexer {
namespace fs = std::filesystem;
namespace json = boost::json;
namespace {

constexpr size_t kSnippetLength = 240;
constexpr size_t kFacetValues = 100;  // values reported per facet, the most frequent first

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

struct Reader {
  Xapian::Database db;
  StubIdentity stub;
};

class XapianSearcher final : public Searcher {
  // A reader borrowed from the pool, given back however the search ends (an exception
  // included), so that no reader is lost to an error.
  class Lease {
   public:
    Lease(XapianSearcher& owner, std::unique_ptr<Reader> reader)
        : owner_(owner), reader_(std::move(reader)) {}
    ~Lease() { owner_.Release(std::move(reader_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Reader* operator->() const { return reader_.get(); }

   private:
    XapianSearcher& owner_;
    std::unique_ptr<Reader> reader_;
  };

 public:
  explicit XapianSearcher(fs::path index_dir) : index_dir_(std::move(index_dir)) {}

  bool Ready() override {
    auto acquired = Acquire();
    if (!acquired.ok()) return false;
    Lease reader(*this, std::move(*acquired));
    return true;
  }

  Result<Stats> ReadStats() override {
    auto acquired = Acquire();
    if (!acquired.ok()) return acquired.status();
    Lease reader(*this, std::move(*acquired));
    Stats stats;
    try {
      stats.documents = reader->db.get_doccount();
      const std::string checkpoint = reader->db.get_metadata(schema::kCheckpointKey);
      stats.checkpoint = checkpoint.empty() ? 0 : std::stoll(checkpoint);
      const std::string source_prefix(schema::kSourcePrefix);
      for (auto it = reader->db.allterms_begin(source_prefix);
           it != reader->db.allterms_end(source_prefix); ++it) {
        stats.sources.emplace_back((*it).substr(source_prefix.size()), it.get_termfreq());
      }
      const auto fields =
          schema::FieldRegistry::FromJson(reader->db.get_metadata(schema::kFieldsKey));
      for (const auto& [name, field] : fields.fields()) {
        stats.fields.emplace_back(name, field.kind == schema::FieldKind::kDate     ? "date"
                                        : field.kind == schema::FieldKind::kNumber ? "number"
                                                                                   : "facet");
      }
    } catch (const Xapian::Error& e) {
      return Unavailable("the index cannot be read: " + e.get_msg());
    }
    return stats;
  }

  Status ForEachMatch(const SearchRequest& request, const MatchVisitor& visit) override {
    if (Status s = CheckQueryText(request.q); !s.ok()) return s;
    auto acquired = Acquire();
    if (!acquired.ok()) return acquired.status();
    Lease reader(*this, std::move(*acquired));
    Status status = Status::Ok();
    try {
      status = Enumerate(reader->db, request, visit);
    } catch (const Xapian::QueryParserError& e) {
      status = InvalidArgument("the query cannot be parsed: " + e.get_msg());
    } catch (const Xapian::InvalidArgumentError& e) {
      status = InvalidArgument(e.get_msg());
    } catch (const Xapian::Error& e) {
      status = Unavailable(std::string("search failed: ") + e.get_type() + ": " + e.get_msg());
    } catch (const std::exception&) {
      status = UnreadableDocument();
    }
    return status;
  }
  Result<SearchResponse> Search(const SearchRequest& request) override {
    const auto started = std::chrono::steady_clock::now();
    if (Status s = CheckQueryText(request.q); !s.ok()) return s;
    auto acquired = Acquire();
    if (!acquired.ok()) return acquired.status();
    Lease reader(*this, std::move(*acquired));
    Result<SearchResponse> result = Unavailable("the index kept changing under this search");
    for (int attempt = 0; attempt < 5; ++attempt) {
      try {
        result = Run(reader->db, request);
        break;
      } catch (const Xapian::DatabaseModifiedError&) {
        // A commit overtook this reader: retry on the new revision.
        try {
          reader->db.reopen();
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
      } catch (const std::exception&) {
        result = UnreadableDocument();
        break;
      }
    }
    if (result.ok()) {
      result->took_ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
              .count();
    }
    return result;
  }

 private:
  // A document whose stored data does not parse: only a damaged or foreign index has one.
  static Status UnreadableDocument() {
    return Internal(
        "the search index holds a document it cannot read; octohub reindex rebuilds it");
  }

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

std::unique_ptr<Searcher> OpenSearcher(const fs::path& index_dir) {
  return std::make_unique<XapianSearcher>(index_dir);
}

}  // namespace octohub::indexer
