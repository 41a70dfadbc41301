#include <xapian.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
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

// One shard: its database and the mapper of the thread that writes it. Its checkpoint and
// document count are kept apart as well, for other threads to read while it writes.
class ShardWriter {
 public:
  ShardWriter(const fs::path& path, int flags) : db_(path.string(), flags) { Committed(); }
  explicit ShardWriter(Xapian::WritableDatabase db) : db_(std::move(db)) { Committed(); }

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
    Committed();
  }

  // Only while no batch is queued for the shard (its thread alone uses the database then).
  std::string metadata(const char* key) const { return db_.get_metadata(key); }

  std::int64_t checkpoint() const { return checkpoint_.load(); }
  std::int64_t document_count() const { return documents_.load(); }

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

  // Commits what was applied as done up to change `last`, with the field registry if it grew
  // since this shard last wrote it, and the sources' settings if given.
  void Commit(std::int64_t last, schema::SharedFieldRegistry& fields,
              const std::string* sources_json) {
    db_.set_metadata(schema::kCheckpointKey, std::to_string(last));
    if (auto json = fields.JsonIfNewer(fields_seen_)) db_.set_metadata(schema::kFieldsKey, *json);
    if (sources_json != nullptr) db_.set_metadata(schema::kSourcesKey, *sources_json);
    db_.commit();
    Committed();
  }

  void Commit(const std::vector<std::pair<const char*, std::string>>& metadata) {
    for (const auto& [key, value] : metadata) db_.set_metadata(key, value);
    db_.commit();
    Committed();
  }

 private:
  void Committed() {
    const std::string text = db_.get_metadata(schema::kCheckpointKey);
    checkpoint_ = text.empty() ? 0 : std::stoll(text);
    documents_ = db_.get_doccount();
  }

  Xapian::WritableDatabase db_;
  DocumentMapper mapper_;
  std::uint64_t fields_seen_ = 0;
  std::atomic<std::int64_t> checkpoint_{0};
  std::atomic<std::int64_t> documents_{0};
};

// One thread per shard (a Xapian database is used by one thread at a time), each working
// through the tasks queued for its shard in order and at its own pace: a shard that is slower
// on one batch makes up on the next instead of holding the others up at every commit. At
// most kQueuedPerShard tasks wait per shard, which bounds memory. A shard whose task failed
// drops what was queued after it (its checkpoint must not pass the batch that failed), and
// the failure is rethrown by the next Post or Drain.
class ShardQueues {
 public:
  static constexpr size_t kQueuedPerShard = 2;

  explicit ShardQueues(int shards) : queues_(static_cast<size_t>(shards)) {
    threads_.reserve(static_cast<size_t>(shards));
    for (int shard = 0; shard < shards; ++shard) {
      threads_.emplace_back([this, shard](const std::stop_token& stop) { Loop(shard, stop); });
    }
  }
  ~ShardQueues() {
    {
      std::lock_guard lock(mutex_);  // a thread between its check and its wait misses nothing
      for (auto& thread : threads_) thread.request_stop();
    }
    changed_.notify_all();
  }
  ShardQueues(const ShardQueues&) = delete;
  ShardQueues& operator=(const ShardQueues&) = delete;

  // Queues a task for a shard, waiting while its queue is full.
  void Post(int shard, std::function<void()> task) {
    std::unique_lock lock(mutex_);
    Queue& queue = queues_[static_cast<size_t>(shard)];
    changed_.wait(lock, [&] { return Failed() || queue.tasks.size() < kQueuedPerShard; });
    RethrowFailure();
    queue.tasks.push_back(std::move(task));
    changed_.notify_all();
  }

  // Drops the tasks no shard has started (a stop: what they would have written is written
  // again from the checkpoint later); Drain then waits only for those under way.
  void Discard() {
    std::lock_guard lock(mutex_);
    for (auto& queue : queues_) queue.tasks.clear();
    changed_.notify_all();
  }

  // Waits until every shard has done all its tasks.
  void Drain() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] {
      return std::all_of(queues_.begin(), queues_.end(),
                         [](const Queue& q) { return q.tasks.empty() && !q.busy; });
    });
    RethrowFailure();
  }

 private:
  struct Queue {
    std::deque<std::function<void()>> tasks;
    bool busy = false;
    std::exception_ptr failure;
  };

  bool Failed() const {
    return std::any_of(queues_.begin(), queues_.end(),
                       [](const Queue& q) { return q.failure != nullptr; });
  }
  // Called with the lock held, once the shards are idle or a failure is known.
  void RethrowFailure() {
    for (auto& queue : queues_) {
      if (queue.failure) std::rethrow_exception(std::exchange(queue.failure, nullptr));
    }
  }

  void Loop(int shard, const std::stop_token& stop) {
    Queue& queue = queues_[static_cast<size_t>(shard)];
    std::unique_lock lock(mutex_);
    for (;;) {
      changed_.wait(lock, [&] { return stop.stop_requested() || !queue.tasks.empty(); });
      if (stop.stop_requested()) return;
      std::function<void()> task = std::move(queue.tasks.front());
      queue.tasks.pop_front();
      queue.busy = true;
      lock.unlock();
      std::exception_ptr failure;
      try {
        task();
      } catch (...) {
        failure = std::current_exception();
      }
      lock.lock();
      queue.busy = false;
      if (failure) {
        queue.failure = failure;
        queue.tasks.clear();
      }
      changed_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable_any changed_;
  std::vector<Queue> queues_;
  std::vector<std::jthread> threads_;  // last: stopped and joined first
};

// The shards of one generation, written together: a batch of changes is split among them,
// and each shard maps and writes its part on its own thread and commits it with the batch's
// last change sequence. The generation's checkpoint is the lowest of its shards': a batch is
// done only when every shard has committed it, and a crash before that replays it,
// harmlessly (a record's document is replaced, a deletion deletes nothing twice).
class ShardSet {
 public:
  // flags: DB_CREATE for a new generation (whose remote shards are emptied), DB_OPEN for the
  // current one.
  ShardSet(const fs::path& index_dir, IndexLayout layout, int flags)
      : layout_(std::move(layout)), queues_(layout_.total()) {
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
    // Shards commit at their own pace, so the registry with the most fields is the latest
    // (fields are only added), and the shard furthest on has the newest settings.
    schema::FieldRegistry fields;
    const ShardWriter* newest = shards_.front().get();
    for (const auto& shard : shards_) {
      auto registry = schema::FieldRegistry::FromJson(shard->metadata(schema::kFieldsKey));
      if (registry.fields().size() > fields.fields().size()) fields = std::move(registry);
      if (shard->checkpoint() > newest->checkpoint()) newest = shard.get();
    }
    fields_ = std::make_unique<schema::SharedFieldRegistry>(std::move(fields));
    const std::string sources = newest->metadata(schema::kSourcesKey);
    sources_ = schema::SourceSettings::FromJson(sources);
    // A shard left behind by a crash may have older settings: the first batch brings them.
    for (const auto& shard : shards_) {
      if (shard->metadata(schema::kSourcesKey) != sources) sources_json_ = sources;
    }
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
    for (size_t shard = 0; shard < shards_.size(); ++shard) {
      queues_.Post(static_cast<int>(shard),
                   [this, shard, &claim] { shards_[shard]->Commit(claim); });
    }
    queues_.Drain();
  }

  // Indexes every change past the checkpoint, a batch at a time, until none is left or
  // `more` (called once each batch is queued, with its size) says to stop; returns the rows
  // taken once every shard has committed them. `committed` is called, on a shard's thread,
  // with the seconds from queueing a batch until the last shard committed it.
  // The next batch is read from PostgreSQL while the shards write. Batches start at
  // batch_size rows; while each comes full (a backlog), the next is twice as large, up to
  // max_batch: every shard commit costs, and fewer, larger ones take a backlog in sooner.
  std::int64_t ApplyAll(pqxx::connection& c, int batch_size, int max_batch,
                        const std::function<bool(std::int64_t rows)>& more,
                        const std::function<void(double seconds)>& committed) {
    std::int64_t total = 0;
    int size = batch_size;
    pqxx::result rows = Fetch(c, checkpoint(), size);
    try {
      while (!rows.empty()) {
        const std::int64_t last = rows.back()[5].as<std::int64_t>();
        auto batch = Route(c, rows);
        size = static_cast<int>(rows.size()) < size ? batch_size : std::min(2 * size, max_batch);
        // The connection is the prefetch's alone until get(): queueing uses none.
        auto next =
            std::async(std::launch::async, [&c, last, size] { return Fetch(c, last, size); });
        try {
          Post(batch, last, committed);
        } catch (...) {
          next.wait();
          throw;
        }
        total += static_cast<std::int64_t>(rows.size());
        if (!more(static_cast<std::int64_t>(rows.size()))) {
          next.wait();
          queues_.Discard();  // stopping: only what is under way is finished
          break;
        }
        rows = next.get();
      }
      queues_.Drain();
    } catch (...) {
      // Nothing may still be writing when the caller drops the shards or reads them.
      try {
        queues_.Discard();
        queues_.Drain();
      } catch (...) {  // the first failure is the one to report
      }
      throw;
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

  // A batch split among the shards: each change goes to the shard of its record. Shared by
  // the shards' tasks until the last one is done with it.
  struct Routed {
    std::vector<Change> changes;
    std::vector<std::vector<const Change*>> by_shard;
    std::optional<std::string> sources_json;  // the settings as of this batch, if changed
    std::chrono::steady_clock::time_point queued;
    std::atomic<size_t> shards_left{0};
  };

  static pqxx::result Fetch(pqxx::connection& c, std::int64_t from, int batch_size) {
    pqxx::read_transaction tx(c);
    return tx.exec_params(kChangesPast, from, batch_size);
  }

  std::shared_ptr<Routed> Route(pqxx::connection& c, const pqxx::result& rows) {
    pqxx::read_transaction tx(c);
    auto batch = std::make_shared<Routed>();
    std::vector<Change>& changes = batch->changes;
    changes.resize(rows.size());
    std::vector<std::vector<const Change*>>& routed = batch->by_shard;
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
    if (sources_.changed()) {
      sources_json_ = sources_.ToJson();
      sources_.clear_changed();
    }
    batch->sources_json = std::exchange(sources_json_, std::nullopt);
    return batch;
  }

  // Queues a routed batch on every shard: each writes its part and commits it with `last` as
  // its checkpoint. Every shard carries the registry and settings (searchers read them from
  // the first); settings that changed go to every shard with this batch.
  void Post(const std::shared_ptr<Routed>& batch, std::int64_t last,
            const std::function<void(double seconds)>& committed) {
    batch->queued = std::chrono::steady_clock::now();
    batch->shards_left = shards_.size();
    for (size_t shard = 0; shard < shards_.size(); ++shard) {
      queues_.Post(static_cast<int>(shard), [this, batch, shard, last, &committed] {
        ShardWriter& writer = *shards_[shard];
        writer.Apply(batch->by_shard[shard], *fields_);
        writer.Commit(last, *fields_, batch->sources_json ? &*batch->sources_json : nullptr);
        if (--batch->shards_left == 0 && committed) {
          committed(std::chrono::duration<double>(std::chrono::steady_clock::now() - batch->queued)
                        .count());
        }
      });
    }
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
  std::optional<std::string> sources_json_;  // settings not yet given to the shards
  std::map<std::string, CompiledMapping> mappings_;
  ShardQueues queues_;  // last: its threads stop before the shards close
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
      const int max_batch =
          std::max(s.options.batch_size, kRebuildBatchPerShard * s.writer->layout().total());
      Metrics* metrics = s.options.metrics;
      std::int64_t announced = s.writer->checkpoint();
      // Rules hear of every checkpoint every shard has reached (a rebuild's, once swapped in).
      auto announce = [&] {
        s.Published();
        const std::int64_t at = s.writer->checkpoint();
        if (at == announced || s.progress || !s.options.on_commit) return;
        announced = at;
        s.options.on_commit(at);
      };
      total = s.writer->ApplyAll(
          c, s.options.batch_size, max_batch,
          [&](std::int64_t n) {
            log::Debug("index.batch", {{"records", n}, {"checkpoint", s.writer->checkpoint()}});
            announce();
            if (s.progress) s.progress->Update(*s.writer);
            return !stop.stop_requested();
          },
          [metrics](double seconds) {
            if (metrics) metrics->Observe("octohub_index_batch_seconds", {}, seconds);
          });
      announce();
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
          return writer.ApplyAll(
              c, batch, batch,
              [&](std::int64_t) {
                progress.Update(writer);
                return true;
              },
              nullptr);
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
