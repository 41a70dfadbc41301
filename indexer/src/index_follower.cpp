#include <xapian.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <pqxx/pqxx>
#include <thread>

#include "document_mapper.h"
#include "index_layout.h"
#include "index_schema.h"
#include "octohub/core/change_feed.h"
#include "octohub/core/log.h"
#include "octohub/indexer/indexer.h"

namespace octohub::indexer {
namespace fs = std::filesystem;
namespace json = boost::json;
namespace {

// Record changes and source deletions, in the order they were numbered.
constexpr const char* kChangesPast = R"(
  SELECT source, id, data, deleted, updated_at, change_seq FROM (
    SELECT source, id, data::text AS data, deleted,
           to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS updated_at,
           change_seq
    FROM records WHERE change_seq > $1
    UNION ALL
    SELECT source, NULL, NULL, true, NULL, change_seq FROM source_tombstones WHERE change_seq > $1
  ) changes ORDER BY change_seq LIMIT $2)";
constexpr const char* kMappings = "SELECT name, spec::text FROM sources";
constexpr const char* kDatabaseId = "SELECT value FROM octohub_meta WHERE key = 'database_id'";
constexpr auto kProgressEvery = std::chrono::seconds(5);

// One change of the feed, routed to the shard that holds its record (a source's tombstone
// goes to every shard).
struct Change {
  RecordRow record;  // record.id empty: the source was deleted
  const CompiledMapping* mapping = nullptr;
};

// One shard: its database and the mapper of the thread that writes it.
class ShardWriter {
 public:
  ShardWriter(const fs::path& path, int flags) : db_(path.string(), flags) {}
  explicit ShardWriter(Xapian::WritableDatabase db) : db_(std::move(db)) {}

  // Empties a shard served elsewhere for a new generation (it cannot be replaced by a new
  // directory): every source's documents, then any others.
  void Clear() {
    std::vector<std::string> sources;
    const std::string prefix(schema::kSourcePrefix);
    for (auto it = db_.allterms_begin(prefix); it != db_.allterms_end(prefix); ++it) {
      sources.push_back(*it);
    }
    for (const auto& term : sources) db_.delete_document(term);
    std::vector<Xapian::docid> rest;
    for (auto it = db_.postlist_begin(""); it != db_.postlist_end(""); ++it) rest.push_back(*it);
    for (const auto id : rest) db_.delete_document(id);
    db_.set_metadata(schema::kCheckpointKey, "");
    db_.set_metadata(schema::kFieldsKey, "");
    db_.set_metadata(schema::kSourcesKey, "");
    db_.commit();
  }

  std::string metadata(const char* key) const { return db_.get_metadata(key); }
  std::int64_t checkpoint() const {
    std::string text = metadata(schema::kCheckpointKey);
    return text.empty() ? 0 : std::stoll(text);
  }
  std::int64_t document_count() const { return db_.get_doccount(); }

  void Apply(const std::vector<const Change*>& changes, schema::FieldSlots& fields) {
    for (const Change* change : changes) {
      const RecordRow& record = change->record;
      if (record.id.empty()) {
        // A source's tombstone: every document it had leaves the index. Its records were
        // deleted with it, so nothing of it comes later in the feed unless it is re-created.
        db_.delete_document(schema::SourceTerm(record.source));
        continue;
      }
      const std::string term = schema::UniqueTerm(record.source, record.id);
      if (record.deleted || change->mapping == nullptr) {
        // Deleted, or its source is gone and its records go with it.
        db_.delete_document(term);
        continue;
      }
      auto doc = mapper_.Map(record, *change->mapping, fields);
      if (!doc.ok()) {
        log::Warn(
            "index.record_skipped",
            {{"source", record.source}, {"id", record.id}, {"reason", doc.status().message()}});
        continue;
      }
      db_.replace_document(term, *doc);
    }
  }

  void Commit(const std::vector<std::pair<const char*, std::string>>& metadata) {
    for (const auto& [key, value] : metadata) db_.set_metadata(key, value);
    db_.commit();
  }

 private:
  Xapian::WritableDatabase db_;
  DocumentMapper mapper_;
};

// Runs a task for every shard at once, each on the shard's own thread (a Xapian database is
// used by one thread at a time), and waits for all of them. One shard runs on the caller.
class ShardThreads {
 public:
  explicit ShardThreads(int shards) {
    failures_.resize(static_cast<size_t>(shards));
    if (shards == 1) return;
    threads_.reserve(static_cast<size_t>(shards));
    for (int shard = 0; shard < shards; ++shard) {
      threads_.emplace_back([this, shard](const std::stop_token& stop) { Loop(shard, stop); });
    }
  }
  ~ShardThreads() {
    {
      std::lock_guard lock(mutex_);  // a thread between its check and its wait misses nothing
      for (auto& thread : threads_) thread.request_stop();
    }
    wake_.notify_all();
  }
  ShardThreads(const ShardThreads&) = delete;
  ShardThreads& operator=(const ShardThreads&) = delete;

  // Rethrows the first shard's failure once every shard has finished.
  void RunEach(const std::function<void(int shard)>& task) {
    if (threads_.empty()) {
      task(0);
      return;
    }
    std::unique_lock lock(mutex_);
    task_ = &task;
    pending_ = static_cast<int>(threads_.size());
    ++round_;
    wake_.notify_all();
    done_.wait(lock, [this] { return pending_ == 0; });
    task_ = nullptr;
    for (auto& failure : failures_) {
      if (failure) std::rethrow_exception(std::exchange(failure, nullptr));
    }
  }

 private:
  void Loop(int shard, const std::stop_token& stop) {
    std::uint64_t seen = 0;
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stop.stop_requested() || round_ != seen; });
      if (stop.stop_requested()) return;
      seen = round_;
      const auto* task = task_;
      lock.unlock();
      std::exception_ptr failure;
      try {
        (*task)(shard);
      } catch (...) {
        failure = std::current_exception();
      }
      lock.lock();
      failures_[static_cast<size_t>(shard)] = failure;
      if (--pending_ == 0) done_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(int)>* task_ = nullptr;
  std::uint64_t round_ = 0;
  int pending_ = 0;
  std::vector<std::exception_ptr> failures_;
  std::vector<std::jthread> threads_;  // last: stopped and joined first
};

// The shards of one generation, written together: a batch of changes is split among them,
// mapped and written in parallel, and committed by each with the batch's last change
// sequence. The generation's checkpoint is the lowest of its shards': a batch is done only
// when every shard has committed it, and a crash before that replays it, harmlessly.
class ShardSet {
 public:
  // flags: DB_CREATE for a new generation (whose remote shards are emptied), DB_OPEN for the
  // current one.
  ShardSet(const fs::path& index_dir, IndexLayout layout, int flags)
      : layout_(std::move(layout)), threads_(layout_.total()) {
    shards_.reserve(static_cast<size_t>(layout_.total()));
    for (int shard = 0; shard < layout_.shards; ++shard) {
      const fs::path dir = ShardDir(index_dir, layout_.generation, shard);
      std::error_code ec;
      fs::create_directories(dir.parent_path(), ec);
      shards_.push_back(std::make_unique<ShardWriter>(dir, flags));
    }
    for (const auto& address : layout_.remote) {
      shards_.push_back(std::make_unique<ShardWriter>(OpenWritableRemoteShard(address)));
      if (flags == Xapian::DB_CREATE) shards_.back()->Clear();
    }
    // The shard that committed last has the newest registry and settings.
    const ShardWriter* newest = shards_.front().get();
    for (const auto& shard : shards_) {
      if (shard->checkpoint() > newest->checkpoint()) newest = shard.get();
    }
    fields_ = std::make_unique<schema::SharedFieldRegistry>(
        schema::FieldRegistry::FromJson(newest->metadata(schema::kFieldsKey)));
    sources_ = schema::SourceSettings::FromJson(newest->metadata(schema::kSourcesKey));
  }

  const IndexLayout& layout() const { return layout_; }

  std::int64_t checkpoint() const {
    std::int64_t lowest = shards_.front()->checkpoint();
    for (const auto& shard : shards_) lowest = std::min(lowest, shard->checkpoint());
    return lowest;
  }
  std::int64_t document_count() const {
    std::int64_t total = 0;
    for (const auto& shard : shards_) total += shard->document_count();
    return total;
  }
  std::string database_id() const { return shards_.front()->metadata(schema::kDatabaseIdKey); }
  // The first local shard whose directory is no longer there, or "".
  std::string MissingShards(const fs::path& index_dir) const {
    for (int shard = 0; shard < layout_.shards; ++shard) {
      const fs::path dir = ShardDir(index_dir, layout_.generation, shard);
      std::error_code ec;
      if (!fs::exists(dir / "iamglass", ec)) return dir.string();
    }
    return "";
  }
  // Whether every shard was written for this database in the current layout, as a part of
  // this generation with these shards.
  bool Current(const std::string& id) const {
    const auto claim = Claimed(id);
    return std::all_of(shards_.begin(), shards_.end(), [&](const auto& shard) {
      return std::all_of(claim.begin(), claim.end(), [&](const auto& entry) {
        return shard->metadata(entry.first) == entry.second;
      });
    });
  }
  // A new generation: which database it follows, in which layout.
  void Claim(const std::string& id) {
    const auto claim = Claimed(id);
    threads_.RunEach([&](int shard) { shards_[static_cast<size_t>(shard)]->Commit(claim); });
  }

  // Indexes every change past the checkpoint, a batch at a time, until none is left or
  // `more` (called after each batch with its size) says to stop; returns the rows taken. The
  // next batch is read from PostgreSQL while the shards write this one.
  // Batches start at batch_size rows; while each comes full (a backlog), the next is twice as
  // large, up to max_batch: every shard commit costs, and fewer, larger ones take a backlog
  // in sooner.
  std::int64_t ApplyAll(pqxx::connection& c, int batch_size, int max_batch,
                        const std::function<bool(std::int64_t rows)>& more) {
    std::int64_t total = 0;
    int size = batch_size;
    pqxx::result rows = Fetch(c, checkpoint(), size);
    while (!rows.empty()) {
      const std::int64_t last = rows.back()[5].as<std::int64_t>();
      auto batch = Route(c, rows);
      size = static_cast<int>(rows.size()) < size ? batch_size : std::min(2 * size, max_batch);
      // The connection is the prefetch's alone until get(): Write uses none.
      auto next = std::async(std::launch::async, [&c, last, size] { return Fetch(c, last, size); });
      try {
        Write(batch, last);
      } catch (...) {
        next.wait();
        throw;
      }
      total += static_cast<std::int64_t>(rows.size());
      if (!more(static_cast<std::int64_t>(rows.size()))) {
        next.wait();
        break;
      }
      rows = next.get();
    }
    return total;
  }

  void ForgetMappings() { mappings_.clear(); }

 private:
  std::vector<std::pair<const char*, std::string>> Claimed(const std::string& id) const {
    std::string remote;
    for (const auto& address : layout_.remote) remote += (remote.empty() ? "" : ",") + address;
    return {{schema::kDatabaseIdKey, id},
            {schema::kLayoutKey, schema::kLayoutVersion},
            {schema::kShardsKey, std::to_string(layout_.shards)},
            {schema::kRemoteShardsKey, remote},
            {schema::kGenerationKey, layout_.generation}};
  }

  // A batch split among the shards: each change goes to the shard of its record.
  struct Routed {
    std::vector<Change> changes;
    std::vector<std::vector<const Change*>> by_shard;
  };

  static pqxx::result Fetch(pqxx::connection& c, std::int64_t from, int batch_size) {
    pqxx::read_transaction tx(c);
    return tx.exec_params(kChangesPast, from, batch_size);
  }

  Routed Route(pqxx::connection& c, const pqxx::result& rows) {
    pqxx::read_transaction tx(c);
    Routed batch;
    std::vector<Change>& changes = batch.changes;
    changes.resize(rows.size());
    std::vector<std::vector<const Change*>>& routed = batch.by_shard;
    routed.resize(shards_.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      const auto& row = rows[static_cast<pqxx::result::size_type>(i)];
      Change& change = changes[i];
      change.record.source = row[0].as<std::string>();
      if (row[1].is_null()) {
        sources_.Erase(change.record.source);
        for (auto& list : routed) list.push_back(&change);
        continue;
      }
      change.record.id = row[1].as<std::string>();
      change.record.deleted = row[3].as<bool>();
      if (!change.record.deleted) {
        change.record.data = row[2].as<std::string>();
        change.record.updated_at = row[4].as<std::string>();
        change.mapping = MappingFor(tx, change.record.source);
        if (change.mapping != nullptr) {
          const CompiledMapping& m = *change.mapping;
          sources_.Set(change.record.source, {m.language, m.typos, m.synonyms});
        }
      }
      routed[static_cast<size_t>(ShardOf(change.record.source, change.record.id, layout_.total()))]
          .push_back(&change);
    }
    return batch;
  }

  // Writes a routed batch into every shard and commits each with `last` as its checkpoint.
  void Write(const Routed& batch, std::int64_t last) {
    threads_.RunEach([&](int shard) {
      shards_[static_cast<size_t>(shard)]->Apply(batch.by_shard[static_cast<size_t>(shard)],
                                                 *fields_);
    });
    // Every shard carries the registry and settings: searchers read them from the first.
    if (auto fields = fields_->TakeChange()) fields_json_ = std::move(*fields);
    if (sources_.changed()) {
      sources_json_ = sources_.ToJson();
      sources_.clear_changed();
    }
    std::vector<std::pair<const char*, std::string>> metadata{
        {schema::kCheckpointKey, std::to_string(last)}};
    if (fields_json_) metadata.emplace_back(schema::kFieldsKey, *fields_json_);
    if (sources_json_) metadata.emplace_back(schema::kSourcesKey, *sources_json_);
    threads_.RunEach([&](int shard) { shards_[static_cast<size_t>(shard)]->Commit(metadata); });
  }

  const CompiledMapping* MappingFor(pqxx::transaction_base& tx, const std::string& source) {
    auto it = mappings_.find(source);
    if (it == mappings_.end()) {
      // Load every source's mapping at once: a batch usually spans few sources.
      for (const auto& row : tx.exec(kMappings)) {
        auto spec = ParseSourceSpec(json::parse(row[1].as<std::string>()));
        if (!spec.ok()) continue;
        auto mapping = CompiledMapping::From(spec->index);
        if (mapping.ok()) mappings_[row[0].as<std::string>()] = *mapping;
      }
      it = mappings_.find(source);
      if (it == mappings_.end()) return nullptr;
    }
    return &it->second;
  }

  IndexLayout layout_;
  std::vector<std::unique_ptr<ShardWriter>> shards_;
  std::unique_ptr<schema::SharedFieldRegistry> fields_;
  schema::SourceSettings sources_;
  // Written with every commit once known, so that no shard keeps an older copy.
  std::optional<std::string> fields_json_;
  std::optional<std::string> sources_json_;
  std::map<std::string, CompiledMapping> mappings_;
  ShardThreads threads_;  // last: its threads stop before the shards close
};

Result<std::string> ReadDatabaseId(const Database& db) {
  return WithConnection(db, "reading the database id",
                        [](pqxx::connection& c) -> Result<std::string> {
                          pqxx::read_transaction tx(c);
                          return tx.exec1(kDatabaseId)[0].as<std::string>();
                        });
}

std::int64_t LastChange(pqxx::connection& c) {
  pqxx::read_transaction tx(c);
  return LastChangeSeq(tx);
}

Status FromXapian(const Xapian::Error& e, const std::string& context) {
  if (std::string_view(e.get_type()) == "DatabaseLockError") {
    return FailedPrecondition(context + ": another octohub process is writing this index (" +
                              e.get_msg() + ")");
  }
  if (std::string_view(e.get_type()) == "NetworkError") {
    return Unavailable(context + ": " + e.get_msg());
  }
  return Internal(context + ": " + e.get_type() + ": " + e.get_msg());
}

Status CreateDirectory(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return FailedPrecondition("cannot create " + dir.string() + ": " + ec.message());
  return Status::Ok();
}

// Logs how far a rebuild has come, every few seconds.
class RebuildProgress {
 public:
  RebuildProgress(std::string generation, std::int64_t last_change)
      : generation_(std::move(generation)), last_change_(last_change) {}
  void Update(const ShardSet& shards) {
    const auto now = std::chrono::steady_clock::now();
    if (now - logged_ < kProgressEvery) return;
    logged_ = now;
    const std::int64_t at = shards.checkpoint();
    const double seconds = std::chrono::duration<double>(now - started_).count();
    log::Info(
        "index.rebuild_progress",
        {{"generation", generation_},
         {"shards", shards.layout().shards},
         {"documents", shards.document_count()},
         {"change_seq", at},
         {"of_change_seq", last_change_},
         {"percent", last_change_ > 0 ? 100 * std::min(at, last_change_) / last_change_ : 100},
         {"seconds", static_cast<std::int64_t>(seconds)}});
  }

 private:
  const std::string generation_;
  const std::int64_t last_change_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point logged_ = started_;
};

}  // namespace

struct IndexFollower::State {
  const Database& db;
  fs::path index_dir;
  FollowerOptions options;
  std::unique_ptr<ShardSet> writer;
  // While a generation with another number of shards is built, searches go on with the one
  // the stub names (this one); the new one is swapped in once it has caught up.
  std::optional<std::string> serving_until_rebuilt;
  std::unique_ptr<RebuildProgress> progress;
  std::string database_id;
  std::atomic<int> consecutive_failures{0};
  std::atomic<std::int64_t> checkpoint{0};
  std::atomic<std::int64_t> documents{0};

  void Published() {
    checkpoint = writer ? writer->checkpoint() : 0;
    documents = writer ? writer->document_count() : 0;
  }
};

IndexFollower::IndexFollower(const Database& db, fs::path index_dir, FollowerOptions options)
    : state_(new State{db, std::move(index_dir), std::move(options)}) {
  state_->options.shards = std::clamp(state_->options.shards, 1, kMaxShards);
  if (Metrics* metrics = state_->options.metrics) {
    metrics->Declare("octohub_index_errors_total", Metrics::Type::kCounter,
                     "catch-ups of the index that failed (each is retried)");
    metrics->Add("octohub_index_errors_total", {}, 0);  // shown from the start, as 0
    metrics->Declare("octohub_index_batch_seconds", Metrics::Type::kHistogram,
                     "time to index one batch of changes into every shard and commit it");
  }
}

IndexFollower::~IndexFollower() = default;

Status IndexFollower::Open() {
  auto& s = *state_;
  auto id = ReadDatabaseId(s.db);
  if (!id.ok()) return id.status();
  s.database_id = *id;
  if (Status status = CreateDirectory(s.index_dir); !status.ok()) return status;
  const int shards = s.options.shards;
  const auto& remote = s.options.remote_shards;
  s.writer.reset();
  s.serving_until_rebuilt.reset();
  s.progress.reset();
  try {
    auto current = CurrentLayout(s.index_dir);
    std::string reason = "there is no index yet";
    if (current && current->shards > 0) {
      current->remote = remote;
      auto existing = std::make_unique<ShardSet>(s.index_dir, *current, Xapian::DB_OPEN);
      if (!existing->Current(s.database_id)) {
        reason = existing->database_id() != s.database_id ? "built from another database"
                 : remote.empty() ? "written in an older layout by an earlier version"
                                  : "written in an older layout or with other remote shards";
      } else if (current->shards == shards) {
        s.writer = std::move(existing);
        s.Published();
        return Status::Ok();
      } else if (!remote.empty()) {
        reason = "split into another number of shards";  // remote shards are rebuilt in place
      } else {
        existing.reset();  // its write locks
        // Complete but split otherwise: searches keep it while the new split is built.
        const std::string generation = NextGeneration(s.index_dir);
        log::Warn("index.reshard", {{"from_shards", current->shards},
                                    {"to_shards", shards},
                                    {"generation", generation},
                                    {"serving", current->generation}});
        s.writer = std::make_unique<ShardSet>(s.index_dir, IndexLayout{generation, shards, {}},
                                              Xapian::DB_CREATE);
        s.writer->Claim(s.database_id);
        s.serving_until_rebuilt = current->generation;
        s.Published();
        return Status::Ok();
      }
    } else if (current) {
      reason = "written in an older layout by an earlier version";
    }
    const std::string generation = NextGeneration(s.index_dir);
    if (current) {
      log::Warn("index.rebuild", {{"generation", current->generation}, {"reason", reason}});
    }
    s.writer = std::make_unique<ShardSet>(s.index_dir, IndexLayout{generation, shards, remote},
                                          Xapian::DB_CREATE);
    s.writer->Claim(s.database_id);
    s.Published();
    return SwapTo(s.index_dir, s.writer->layout());
  } catch (const Xapian::Error& e) {
    s.writer.reset();
    const std::string_view type = e.get_type();
    if (type == "DatabaseOpeningError" || type == "DatabaseNotFoundError" ||
        type == "DatabaseCorruptError" || type == "DatabaseVersionError") {
      return Internal("opening the index at " + s.index_dir.string() +
                      ": a shard is missing or damaged; `octohub reindex` rebuilds the index (" +
                      e.get_msg() + ")");
    }
    return FromXapian(e, "opening the index at " + s.index_dir.string());
  }
}

Result<std::int64_t> IndexFollower::CatchUp(std::stop_token stop) {
  auto& s = *state_;
  if (!s.writer) {
    // Not opened yet, or given up after a shard elsewhere stopped answering.
    if (Status status = Open(); !status.ok()) return status;
  }
  // A rebuild elsewhere may have swapped in a new generation: continue on that one.
  auto current = CurrentLayout(s.index_dir);
  const std::string& ours =
      s.serving_until_rebuilt ? *s.serving_until_rebuilt : s.writer->layout().generation;
  if (current && current->generation != ours) {
    log::Info("index.follow_generation", {{"from", ours}, {"to", current->generation}});
    const int shards = s.options.shards;
    s.options.shards = current->shards > 0 ? current->shards : shards;
    Status status = Open();
    s.options.shards = shards;
    if (!status.ok()) return status;
  }
  return WithConnection(s.db, "indexing changes", [&](pqxx::connection& c) -> Result<std::int64_t> {
    std::int64_t total = 0;
    try {
      if (s.serving_until_rebuilt && !s.progress) {
        s.progress =
            std::make_unique<RebuildProgress>(s.writer->layout().generation, LastChange(c));
      }
      s.writer->ForgetMappings();  // mappings may have changed since the last catch-up
      // A long backlog is taken a batch at a time, so that shutdown need not wait for all of it.
      if (stop.stop_requested()) return total;
      auto started = std::chrono::steady_clock::now();
      const int max_batch =
          std::max(s.options.batch_size, kRebuildBatchPerShard * s.writer->layout().total());
      total = s.writer->ApplyAll(c, s.options.batch_size, max_batch, [&](std::int64_t n) {
        s.Published();
        const auto now = std::chrono::steady_clock::now();
        if (s.options.metrics) {
          s.options.metrics->Observe("octohub_index_batch_seconds", {},
                                     std::chrono::duration<double>(now - started).count());
        }
        started = now;
        log::Debug("index.batch", {{"records", n}, {"checkpoint", s.writer->checkpoint()}});
        if (s.progress) {
          s.progress->Update(*s.writer);
        } else if (s.options.on_commit) {
          s.options.on_commit(s.writer->checkpoint());
        }
        return !stop.stop_requested();
      });
      if (stop.stop_requested()) return total;
    } catch (const Xapian::Error& e) {
      // Nothing of the failed batch counts: the checkpoint stays where every shard has it, and
      // the next catch-up opens the shards afresh (or reconnects) and writes it again.
      Status failed = FromXapian(e, "writing the index");
      if (std::string missing = s.writer->MissingShards(s.index_dir); !missing.empty()) {
        failed = Internal("writing the index: shard directory " + missing +
                          " is gone or damaged; `octohub reindex` rebuilds the index (" +
                          e.get_msg() + ")");
      } else if (std::string_view(e.get_type()) == "DatabaseCorruptError") {
        failed = Internal(
            "writing the index: a shard is damaged; `octohub reindex` rebuilds "
            "the index (" +
            e.get_msg() + ")");
      }
      s.writer.reset();
      return failed;
    }
    if (s.serving_until_rebuilt) {
      // Caught up: the new split replaces the one searches were using.
      if (Status status = SwapTo(s.index_dir, s.writer->layout()); !status.ok()) return status;
      log::Info("index.resharded", {{"generation", s.writer->layout().generation},
                                    {"shards", s.writer->layout().shards},
                                    {"documents", s.writer->document_count()}});
      s.serving_until_rebuilt.reset();
      s.progress.reset();
      if (s.options.on_commit) s.options.on_commit(s.writer->checkpoint());
    }
    return total;
  });
}

void IndexFollower::Run(const std::stop_token& stop) {
  auto& s = *state_;
  const auto slice = std::chrono::milliseconds(200);
  auto backoff = std::chrono::milliseconds(500);
  while (!stop.stop_requested()) {
    auto connection = s.db.Connect();
    if (!connection.ok()) {
      log::Warn("index.waiting_for_database", {{"reason", connection.status().message()}});
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(10000));
      continue;
    }
    backoff = std::chrono::milliseconds(500);
    try {
      bool notified = true;  // catch up once at start
      ChannelWakeup wakeup(**connection, kRecordsChannel, notified);
      auto last = std::chrono::steady_clock::now();
      while (!stop.stop_requested()) {
        if (notified || std::chrono::steady_clock::now() - last >= s.options.poll_interval) {
          notified = false;
          last = std::chrono::steady_clock::now();
          auto indexed = CatchUp(stop);
          if (!indexed.ok()) {
            const int failures = ++s.consecutive_failures;
            if (s.options.metrics) s.options.metrics->Add("octohub_index_errors_total", {});
            log::Error("index.catch_up_failed", {{"reason", indexed.status().message()},
                                                 {"consecutive_failures", failures}});
          } else if (s.consecutive_failures.exchange(0) >= kIndexFailuresUntilUnready) {
            log::Info("index.recovered", {{"checkpoint", checkpoint()}});
          } else if (*indexed > 0) {
            log::Info("index.caught_up", {{"records", *indexed},
                                          {"checkpoint", checkpoint()},
                                          {"documents", document_count()}});
          }
        }
        (*connection)->await_notification(0, static_cast<long>(slice.count() * 1000));
      }
    } catch (const std::exception& e) {
      log::Warn("index.listen_lost", {{"reason", e.what()}});
      std::this_thread::sleep_for(backoff);
    }
  }
}

std::int64_t IndexFollower::checkpoint() const { return state_->checkpoint.load(); }

int IndexFollower::consecutive_failures() const { return state_->consecutive_failures.load(); }

std::int64_t IndexFollower::document_count() const { return state_->documents.load(); }

int IndexFollower::shards() const {
  return state_->writer ? state_->writer->layout().shards : state_->options.shards;
}

Result<std::int64_t> RebuildIndex(const Database& db, const fs::path& index_dir, int shards,
                                  const std::vector<std::string>& remote_shards) {
  shards = std::clamp(shards, 1, kMaxShards);
  auto id = ReadDatabaseId(db);
  if (!id.ok()) return id.status();
  if (Status status = CreateDirectory(index_dir); !status.ok()) return status;
  const IndexLayout layout{NextGeneration(index_dir), shards, remote_shards};
  auto built =
      WithConnection(db, "rebuilding the index", [&](pqxx::connection& c) -> Result<std::int64_t> {
        try {
          ShardSet writer(index_dir, layout, Xapian::DB_CREATE);
          writer.Claim(*id);
          RebuildProgress progress(layout.generation, LastChange(c));
          // Large batches: each shard commits seldom, as a bulk load should.
          const int batch = kRebuildBatchPerShard * layout.total();
          return writer.ApplyAll(c, batch, batch, [&](std::int64_t) {
            progress.Update(writer);
            return true;
          });
        } catch (const Xapian::Error& e) {
          return FromXapian(e, "rebuilding the index");
        }
      });
  std::error_code ec;
  if (!built.ok()) {
    fs::remove_all(index_dir / layout.generation, ec);
    return built.status();
  }
  if (Status status = SwapTo(index_dir, layout); !status.ok()) return status;
  return built;
}

Status CreateShardDatabase(const fs::path& dir) {
  if (Status status = CreateDirectory(dir); !status.ok()) return status;
  try {
    Xapian::WritableDatabase created(dir.string(), Xapian::DB_CREATE_OR_OPEN);
    created.commit();
    return Status::Ok();
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "creating the shard database at " + dir.string());
  }
}

}  // namespace octohub::indexer
