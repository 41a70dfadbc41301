#include <xapian.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <pqxx/pqxx>
#include <thread>

#include "document_mapper.h"
#include "generations.h"
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

// One generation's writer: applies batches of changes and commits them with the checkpoint.
class GenerationWriter {
 public:
  GenerationWriter(const fs::path& path, int flags)
      : db_(path.string(), flags),
        fields_(schema::FieldRegistry::FromJson(db_.get_metadata(schema::kFieldsKey))),
        sources_(schema::SourceSettings::FromJson(db_.get_metadata(schema::kSourcesKey))) {}

  std::int64_t checkpoint() const {
    std::string text = db_.get_metadata(schema::kCheckpointKey);
    return text.empty() ? 0 : std::stoll(text);
  }
  std::string database_id() const { return db_.get_metadata(schema::kDatabaseIdKey); }
  // Whether this generation was written for this database in the current layout.
  bool Current(const std::string& id) const {
    return database_id() == id && db_.get_metadata(schema::kLayoutKey) == schema::kLayoutVersion;
  }
  // A new generation: which database it follows, in which layout.
  void Claim(const std::string& id) {
    db_.set_metadata(schema::kDatabaseIdKey, id);
    db_.set_metadata(schema::kLayoutKey, schema::kLayoutVersion);
    db_.commit();
  }
  std::int64_t document_count() const { return db_.get_doccount(); }

  // Reads and indexes the next batch past the checkpoint; returns how many rows it took.
  std::int64_t ApplyNextBatch(pqxx::connection& c, int batch_size) {
    std::int64_t from = checkpoint();
    pqxx::read_transaction tx(c);
    auto rows = tx.exec_params(kChangesPast, from, batch_size);
    if (rows.empty()) return 0;
    std::int64_t last = from;
    for (const auto& row : rows) {
      last = row[5].as<std::int64_t>();
      const std::string source = row[0].as<std::string>();
      if (row[1].is_null()) {
        // A source's tombstone: every document it had leaves the index. Its records were
        // deleted with it, so nothing of it comes later in the feed unless it is re-created.
        db_.delete_document(schema::SourceTerm(source));
        sources_.Erase(source);
        continue;
      }
      RecordRow record{source, row[1].as<std::string>(), row[2].as<std::string>(),
                       row[4].as<std::string>(), row[3].as<bool>()};
      const std::string term = schema::UniqueTerm(record.source, record.id);
      if (record.deleted) {
        db_.delete_document(term);
        continue;
      }
      const CompiledMapping* mapping = MappingFor(tx, record.source);
      if (mapping == nullptr) continue;  // the source is gone; its records go with it
      auto doc = mapper_.Map(record, *mapping, fields_);
      if (!doc.ok()) {
        log::Warn(
            "index.record_skipped",
            {{"source", record.source}, {"id", record.id}, {"reason", doc.status().message()}});
        continue;
      }
      db_.replace_document(term, *doc);
      sources_.Set(record.source, {mapping->language, mapping->typos, mapping->synonyms});
    }
    if (fields_.changed()) {
      db_.set_metadata(schema::kFieldsKey, fields_.ToJson());
      fields_.clear_changed();
    }
    if (sources_.changed()) {
      db_.set_metadata(schema::kSourcesKey, sources_.ToJson());
      sources_.clear_changed();
    }
    db_.set_metadata(schema::kCheckpointKey, std::to_string(last));
    db_.commit();
    return static_cast<std::int64_t>(rows.size());
  }

  void ForgetMappings() { mappings_.clear(); }

 private:
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

  Xapian::WritableDatabase db_;
  schema::FieldRegistry fields_;
  schema::SourceSettings sources_;
  DocumentMapper mapper_;
  std::map<std::string, CompiledMapping> mappings_;
};

Result<std::string> ReadDatabaseId(const Database& db) {
  return WithConnection(db, "reading the database id",
                        [](pqxx::connection& c) -> Result<std::string> {
                          pqxx::read_transaction tx(c);
                          return tx.exec1(kDatabaseId)[0].as<std::string>();
                        });
}

Status FromXapian(const Xapian::Error& e, const std::string& context) {
  if (std::string_view(e.get_type()) == "DatabaseLockError") {
    return FailedPrecondition(context + ": another octohub process is writing this index (" +
                              e.get_msg() + ")");
  }
  return Internal(context + ": " + e.get_type() + ": " + e.get_msg());
}

}  // namespace

struct IndexFollower::State {
  const Database& db;
  fs::path index_dir;
  FollowerOptions options;
  std::string generation;
  std::unique_ptr<GenerationWriter> writer;
  std::string database_id;
  std::atomic<int> consecutive_failures{0};
};

IndexFollower::IndexFollower(const Database& db, fs::path index_dir, FollowerOptions options)
    : state_(new State{db, std::move(index_dir), std::move(options), {}, nullptr, {}}) {
  if (Metrics* metrics = state_->options.metrics) {
    metrics->Declare("octohub_index_errors_total", Metrics::Type::kCounter,
                     "catch-ups of the index that failed (each is retried)");
    metrics->Add("octohub_index_errors_total", {}, 0);  // shown from the start, as 0
  }
}

IndexFollower::~IndexFollower() = default;

Status IndexFollower::Open() {
  auto& s = *state_;
  auto id = ReadDatabaseId(s.db);
  if (!id.ok()) return id.status();
  s.database_id = *id;
  std::error_code ec;
  fs::create_directories(s.index_dir, ec);
  if (ec) return FailedPrecondition("cannot create " + s.index_dir.string() + ": " + ec.message());
  try {
    auto current = CurrentGeneration(s.index_dir);
    if (current) {
      s.writer.reset();
      s.writer =
          std::make_unique<GenerationWriter>(s.index_dir / *current, Xapian::DB_CREATE_OR_OPEN);
      s.generation = *current;
      if (s.writer->Current(s.database_id)) return Status::Ok();
      log::Warn("index.rebuild",
                {{"generation", *current},
                 {"reason", s.writer->database_id() == s.database_id
                                ? "written in an older layout by an earlier version"
                                : "built from another database"}});
      s.writer.reset();
    }
    s.generation = NextGeneration(s.index_dir);
    s.writer = std::make_unique<GenerationWriter>(s.index_dir / s.generation, Xapian::DB_CREATE);
    s.writer->Claim(s.database_id);
    return SwapTo(s.index_dir, s.generation);
  } catch (const Xapian::Error& e) {
    s.writer.reset();
    return FromXapian(e, "opening the index at " + s.index_dir.string());
  }
}

Result<std::int64_t> IndexFollower::CatchUp(std::stop_token stop) {
  auto& s = *state_;
  if (!s.writer) return FailedPrecondition("the index is not open");
  // A rebuild elsewhere may have swapped in a new generation: continue on that one.
  auto current = CurrentGeneration(s.index_dir);
  if (current && *current != s.generation) {
    log::Info("index.follow_generation", {{"from", s.generation}, {"to", *current}});
    s.writer.reset();
    if (Status status = Open(); !status.ok()) return status;
  }
  return WithConnection(s.db, "indexing changes", [&](pqxx::connection& c) -> Result<std::int64_t> {
    std::int64_t total = 0;
    try {
      s.writer->ForgetMappings();  // mappings may have changed since the last catch-up
      // A long backlog is taken a batch at a time, so that shutdown need not wait for all of it.
      while (std::int64_t n =
                 stop.stop_requested() ? 0 : s.writer->ApplyNextBatch(c, s.options.batch_size)) {
        total += n;
        log::Debug("index.batch", {{"records", n}, {"checkpoint", s.writer->checkpoint()}});
        if (s.options.on_commit) s.options.on_commit(s.writer->checkpoint());
      }
    } catch (const Xapian::Error& e) {
      return FromXapian(e, "writing the index");
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

std::int64_t IndexFollower::checkpoint() const {
  return state_->writer ? state_->writer->checkpoint() : 0;
}

int IndexFollower::consecutive_failures() const { return state_->consecutive_failures.load(); }

std::int64_t IndexFollower::document_count() const {
  return state_->writer ? state_->writer->document_count() : 0;
}

Result<std::int64_t> RebuildIndex(const Database& db, const fs::path& index_dir) {
  auto id = ReadDatabaseId(db);
  if (!id.ok()) return id.status();
  std::error_code ec;
  fs::create_directories(index_dir, ec);
  if (ec) return FailedPrecondition("cannot create " + index_dir.string() + ": " + ec.message());
  const std::string generation = NextGeneration(index_dir);
  auto built =
      WithConnection(db, "rebuilding the index", [&](pqxx::connection& c) -> Result<std::int64_t> {
        try {
          GenerationWriter writer(index_dir / generation, Xapian::DB_CREATE);
          writer.Claim(*id);
          std::int64_t total = 0;
          while (std::int64_t n = writer.ApplyNextBatch(c, 5000)) total += n;
          return total;
        } catch (const Xapian::Error& e) {
          return FromXapian(e, "rebuilding the index");
        }
      });
  if (!built.ok()) {
    fs::remove_all(index_dir / generation, ec);
    return built.status();
  }
  if (Status status = SwapTo(index_dir, generation); !status.ok()) return status;
  return built;
}

}  // namespace octohub::indexer
