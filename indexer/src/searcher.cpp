#include "octohub/indexer/searcher.h"

#include <simdjson.h>
#include <sys/stat.h>
#include <xapian.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "index_layout.h"
#include "index_schema.h"
#include "query_builder.h"
#include "search_run.h"
#include "typo_vocabulary.h"

namespace octohub::indexer {
namespace fs = std::filesystem;
namespace json = boost::json;
namespace {

// Identifies the current version of the stub files a reader depends on: a swap renames a new
// file over one of them.
struct StubIdentity {
  std::vector<std::pair<ino_t, std::int64_t>> files;  // inode and mtime (ns) of each
  bool operator==(const StubIdentity&) const = default;
};

std::optional<StubIdentity> ReadStubIdentity(const fs::path& index_dir) {
  StubIdentity identity;
  for (const auto& file : StubFiles(index_dir)) {
    struct stat info {};
    if (stat(file.c_str(), &info) != 0) return std::nullopt;
    identity.files.emplace_back(info.st_ino,
                                info.st_mtim.tv_sec * 1'000'000'000LL + info.st_mtim.tv_nsec);
  }
  return identity;
}

// The local shards the stub names, then those served elsewhere.
std::vector<Xapian::Database> OpenShards(const fs::path& index_dir,
                                         const std::vector<std::string>& remote_shards) {
  auto shards = OpenStub(index_dir);
  for (const auto& address : remote_shards) shards.push_back(OpenRemoteShard(address));
  return shards;
}

// Every shard as one database, and each on its own (they share their handles, so reopening
// the whole reopens each).
struct Reader {
  Xapian::Database db;
  std::vector<Xapian::Database> shards;
  StubIdentity stub;

  static std::unique_ptr<Reader> Open(const fs::path& index_dir,
                                      const std::vector<std::string>& remote_shards,
                                      StubIdentity stub) {
    auto reader = std::make_unique<Reader>();
    reader->shards = OpenShards(index_dir, remote_shards);
    for (const auto& shard : reader->shards) reader->db.add_database(shard);
    reader->stub = std::move(stub);
    return reader;
  }
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
    Reader& operator*() const { return *reader_; }

   private:
    XapianSearcher& owner_;
    std::unique_ptr<Reader> reader_;
  };

 public:
  XapianSearcher(fs::path index_dir, std::vector<std::string> remote_shards)
      : index_dir_(std::move(index_dir)), remote_shards_(std::move(remote_shards)) {}

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
      for (const auto& shard : reader->shards) {
        const std::string checkpoint = shard.get_metadata(schema::kCheckpointKey);
        stats.shards.push_back({static_cast<std::int64_t>(shard.get_doccount()),
                                checkpoint.empty() ? 0 : std::stoll(checkpoint)});
      }
      stats.checkpoint = stats.shards.front().checkpoint;
      for (const auto& shard : stats.shards) {
        stats.checkpoint = std::min(stats.checkpoint, shard.checkpoint);
      }
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
      status = Enumerate(reader->db, request, VocabularyFor(*reader).get(), visit);
    } catch (...) {
      status = SearchFailure(std::current_exception());
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
        result = SearchOnce(reader->db, request, VocabularyFor(*reader).get());
        break;
      } catch (const Xapian::DatabaseModifiedError&) {
        // A commit overtook this reader: retry on the new revision.
        try {
          reader->db.reopen();
        } catch (const Xapian::DatabaseModifiedError&) {  // and once more, next time round
        }
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
  // A reader for this thread's search, current with the latest commit and generation.
  Result<std::unique_ptr<Reader>> Acquire() {
    auto stub = ReadStubIdentity(index_dir_);
    if (!stub) return Unavailable(NotBuiltYet());
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
          reader = Reader::Open(index_dir_, remote_shards_, *stub);
        }
        return reader;
      } catch (const Xapian::DatabaseModifiedError& e) {
        if (attempt == 5) return Unavailable("the search index kept changing: " + e.get_msg());
      } catch (const Xapian::NetworkError& e) {
        // A pooled reader whose shard server went away since: open afresh, once.
        if (!reader || attempt > 1) {
          return Unavailable("the search index cannot be opened: " + e.get_msg());
        }
        reader.reset();
      } catch (const Xapian::DatabaseOpeningError& e) {  // missing or unreadable
        return Unavailable(
            "the search index cannot be opened: a shard is missing or damaged "
            "(`octohub reindex` rebuilds it): " +
            e.get_msg());
      } catch (const Xapian::DatabaseCorruptError& e) {
        return Unavailable(
            "the search index cannot be opened: a shard is missing or damaged "
            "(`octohub reindex` rebuilds it): " +
            e.get_msg());
      } catch (const Xapian::Error& e) {
        return Unavailable("the search index cannot be opened: " + e.get_msg());
      }
    }
  }

  // Why there is no index yet: the writer cannot create it while a shard elsewhere does not
  // answer, and that is worth saying.
  std::string NotBuiltYet() const {
    for (const auto& address : remote_shards_) {
      try {
        OpenRemoteShard(address);
      } catch (const Xapian::Error& e) {
        return "the search index is not built yet: " + e.get_msg();
      }
    }
    return "the search index is not built yet";
  }

  void Release(std::unique_ptr<Reader> reader) {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(reader));
  }

  // Batches in document-id order, each resuming after the last id seen: a commit that
  // overtakes the reader (the visitor may be slow) is met by reopening and going on, and
  // documents are never visited twice.
  static Status Enumerate(Xapian::Database& db, const SearchRequest& request,
                          const TypoVocabulary* vocabulary, const MatchVisitor& visit) {
    constexpr Xapian::doccount kBatch = 5000;
    class After : public Xapian::MatchDecider {
     public:
      Xapian::docid last = 0;
      bool operator()(const Xapian::Document& doc) const override { return doc.get_docid() > last; }
    } after;
    for (int reopened = 0;;) {
      try {
        ParsedQuery parsed(db, request, vocabulary);
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
  // The words of the index for typo tolerance. The first search builds them; after that, a
  // search that finds the index changed starts a rebuild in the background, at most once a
  // second and at most a tenth of the time (a rebuild that took 200 ms waits 2 s), and goes on
  // with the words it has meanwhile: a word indexed since is not yet a typo neighbour, and a
  // word gone since is checked and skipped.
  // Which generation and revision a vocabulary was built from.
  static std::string VocabularyKey(const std::vector<Xapian::Database>& shards) {
    std::string key;
    // Each commit moves the checkpoint; a revision number is not told by remote shards.
    for (const auto& shard : shards) {
      key += shard.get_uuid() + "@" + shard.get_metadata(schema::kCheckpointKey) + " ";
    }
    return key;
  }

  std::shared_ptr<const TypoVocabulary> VocabularyFor(const Reader& reader) {
    const Xapian::Database& db = reader.db;
    const std::string key = VocabularyKey(reader.shards);
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(vocabulary_mutex_);
    if (!vocabulary_) {
      vocabulary_ = TypoVocabulary::Build(db);
      vocabulary_key_ = key;
      vocabulary_started_ = now;
      vocabulary_took_ = std::chrono::steady_clock::now() - now;
      return vocabulary_;
    }
    const auto pause = std::max<std::chrono::steady_clock::duration>(std::chrono::seconds(1),
                                                                     10 * vocabulary_took_);
    if (vocabulary_key_ == key || refreshing_ || now - vocabulary_started_ < pause) {
      return vocabulary_;
    }
    refreshing_ = true;
    vocabulary_started_ = now;
    refresher_ = std::jthread([this] { RefreshVocabulary(); });  // the last one has finished
    return vocabulary_;
  }

  void RefreshVocabulary() {
    const auto started = std::chrono::steady_clock::now();
    std::shared_ptr<const TypoVocabulary> fresh;
    std::string key;
    try {
      const auto shards = OpenShards(index_dir_, remote_shards_);
      Xapian::Database db;
      for (const auto& shard : shards) db.add_database(shard);
      key = VocabularyKey(shards);
      fresh = TypoVocabulary::Build(db);
    } catch (const Xapian::Error&) {  // a commit or swap overtook it: the next search retries
    }
    std::lock_guard lock(vocabulary_mutex_);
    if (fresh) {
      vocabulary_ = std::move(fresh);
      vocabulary_key_ = key;
      vocabulary_took_ = std::chrono::steady_clock::now() - started;
    }
    refreshing_ = false;
  }

  const fs::path index_dir_;
  const std::vector<std::string> remote_shards_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Reader>> idle_;
  std::mutex vocabulary_mutex_;
  std::shared_ptr<const TypoVocabulary> vocabulary_;
  std::string vocabulary_key_;
  std::chrono::steady_clock::time_point vocabulary_started_;  // the last build began
  std::chrono::steady_clock::duration vocabulary_took_{};     // and took this long
  bool refreshing_ = false;
  std::jthread refresher_;  // last: joined before what it uses goes away
};

}  // namespace

Result<int> ParseTypos(const std::string& text) {
  if (text == "auto") return -1;
  if (text == "0" || text == "1" || text == "2") return text[0] - '0';
  return InvalidArgument("\"typos\" must be auto, 0, 1 or 2, not \"" + text + "\"");
}

std::unique_ptr<Searcher> OpenSearcher(const fs::path& index_dir,
                                       std::vector<std::string> remote_shards) {
  return std::make_unique<XapianSearcher>(index_dir, std::move(remote_shards));
}

}  // namespace octohub::indexer
