// Pushed bodies: checked on the request's thread, committed together by one thread.
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <pqxx/pqxx>
#include <set>
#include <thread>
#include <unordered_map>

#include "octohub/core/log.h"
#include "octohub/core/pg_array.h"
#include "octohub/ingest/ingest.h"
#include "octohub/ingest/push.h"
#include "page_extractor.h"
#include "record_writer.h"

namespace octohub::ingest {
namespace {

constexpr auto kSourceCacheFor = std::chrono::seconds(1);
// Pushes taken into one transaction at most (a burst beyond waits for the next).
constexpr size_t kMaxPushesPerCommit = 2000;

// Adds a minute's pushes to its run, or starts that minute's run.
constexpr const char* kAddToPushRun = R"(
  UPDATE runs SET pages = pages + $2, records_seen = records_seen + $3,
    records_new = records_new + $4, records_updated = records_updated + $5,
    records_unchanged = records_unchanged + $6, bytes = bytes + $7, finished_at = now()
  WHERE id = (SELECT id FROM runs WHERE source = $1 AND trigger = 'push'
              AND started_at >= date_trunc('minute', now()) ORDER BY id DESC LIMIT 1)
  RETURNING id)";
constexpr const char* kStartPushRun = R"(
  INSERT INTO runs (source, status, trigger, queued_at, started_at, finished_at, pages,
                    records_seen, records_new, records_updated, records_unchanged, bytes)
  VALUES ($1, 'succeeded', 'push', now(), now(), now(), $2, $3, $4, $5, $6, $7))";

struct Pending {
  bool answered = false;
  std::string source;
  std::vector<ExtractedRecord> records;
  std::int64_t bytes = 0;
  std::string replay_key;
  std::promise<Result<PushStored>> done;
};

void Answer(Pending& push, Result<PushStored> result) {
  push.answered = true;
  push.done.set_value(std::move(result));
}

// A body as records: a page the source's `records` points into, or one record.
Result<std::vector<ExtractedRecord>> ExtractPushed(const SourceSpec& spec, std::string_view body) {
  SourceSpec json_spec = spec;
  json_spec.format = SourceSpec::Format::kJson;  // pushes are JSON whatever the source polls
  auto extractor = PageExtractor::ForSpec(json_spec);
  if (!extractor.ok()) return extractor.status();
  auto page = extractor->Extract(body);
  const size_t first = body.find_first_not_of(" \t\r\n");
  const bool object = first != std::string_view::npos && body[first] == '{';
  if (!page.ok() && object) {
    // Not a page: then the body itself is the record.
    json_spec.records = "";
    auto single = PageExtractor::ForSpec(json_spec);
    if (!single.ok()) return single.status();
    page = single->Extract("[" + std::string(body) + "]");
  }
  if (!page.ok()) {
    return InvalidArgument("the pushed body is neither a record nor a page of them: " +
                           page.status().message());
  }
  if (page->skipped > 0) {
    std::string reasons;
    for (const auto& [reason, count] : page->skipped_because) {
      reasons += (reasons.empty() ? "" : "; ") + std::to_string(count) + " " + reason;
    }
    return InvalidArgument(
        "nothing was stored: " + std::to_string(page->skipped) + " of the pushed records cannot be",
        {{spec.id.value_or(spec.records), reasons}});
  }
  if (page->records.empty()) return InvalidArgument("the pushed body holds no record");
  return std::move(page->records);
}

}  // namespace

struct PushReceiver::Impl {
  const Database& db;
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<std::unique_ptr<Pending>> queue;
  bool stopping = false;
  struct Cached {
    Result<SourceSpec> spec;
    std::chrono::steady_clock::time_point read;
  };
  std::mutex sources_mutex;
  std::unordered_map<std::string, Cached> sources;
  std::chrono::steady_clock::time_point replays_pruned{};
  std::jthread committer;

  explicit Impl(const Database& d) : db(d) {
    committer = std::jthread([this] { Commit(); });
  }
  ~Impl() {
    {
      std::lock_guard lock(mutex);
      stopping = true;
    }
    wake.notify_all();
  }

  void Commit() {
    std::optional<std::unique_ptr<pqxx::connection>> connection;
    while (true) {
      std::vector<std::unique_ptr<Pending>> batch;
      {
        std::unique_lock lock(mutex);
        wake.wait(lock, [&] { return stopping || !queue.empty(); });
        if (queue.empty()) return;  // stopping, with nothing left
        while (!queue.empty() && batch.size() < kMaxPushesPerCommit) {
          batch.push_back(std::move(queue.front()));
          queue.pop_front();
        }
      }
      if (!connection || !(**connection).is_open()) {
        auto opened = db.Connect();
        if (!opened.ok()) {
          for (auto& push : batch) Answer(*push, opened.status());
          connection.reset();
          continue;
        }
        connection = std::move(*opened);
      }
      try {
        Write(**connection, batch);
      } catch (const std::exception& e) {
        log::Warn("push.commit_failed", {{"reason", e.what()}, {"pushes", batch.size()}});
        connection.reset();
        for (auto& push : batch) {
          if (push->answered) continue;  // its source's transaction was committed
          Answer(*push, Status(StatusCode::kUnavailable,
                               "the database could not store the pushed records now; send them "
                               "again"));
        }
      }
    }
  }

  // One transaction per source in the batch (a source's records are written together);
  // answers each push once its transaction is committed.
  void Write(pqxx::connection& c, std::vector<std::unique_ptr<Pending>>& batch) {
    std::map<std::string, std::vector<Pending*>> by_source;
    for (auto& push : batch) by_source[push->source].push_back(push.get());
    const auto now = std::chrono::steady_clock::now();
    if (now - replays_pruned > kPushTolerance) {
      pqxx::work tx(c);
      tx.exec0("DELETE FROM push_replays WHERE received_at < now() - interval '10 minutes'");
      tx.commit();
      replays_pruned = now;
    }
    for (auto& [source, pushes] : by_source) WriteSource(c, source, pushes);
  }

  void WriteSource(pqxx::connection& c, const std::string& source,
                   const std::vector<Pending*>& pushes) {
    pqxx::work tx(c);
    // Deleted meanwhile: nothing to store into (and its records must not come back).
    if (tx.exec_params("SELECT 1 FROM sources WHERE name = $1 FOR KEY SHARE", source).empty()) {
      for (Pending* push : pushes) {
        Answer(*push, NotFound("no source named \"" + source + "\""));
      }
      return;
    }
    // Replayed requests are refused; the others' keys are remembered.
    std::vector<bool> replayed(pushes.size(), false);
    std::vector<std::string> keys;
    for (const Pending* push : pushes) {
      if (!push->replay_key.empty()) keys.push_back(push->replay_key);
    }
    if (!keys.empty()) {
      std::set<std::string> fresh;
      for (const auto& row :
           tx.exec_params("INSERT INTO push_replays (source, key) SELECT $1, unnest($2::text[]) "
                          "ON CONFLICT DO NOTHING RETURNING key",
                          source, PgTextArray(keys))) {
        fresh.insert(row[0].as<std::string>());
      }
      for (size_t i = 0; i < pushes.size(); ++i) {
        // Of two identical requests in one batch the first is taken, the second refused.
        replayed[i] = !pushes[i]->replay_key.empty() && !fresh.erase(pushes[i]->replay_key);
      }
    }
    // The records in the order they came: a later push of an id wins.
    std::vector<ExtractedRecord> records;
    std::unordered_map<std::string, size_t> position;
    std::int64_t taken = 0, bytes = 0;
    for (size_t i = 0; i < pushes.size(); ++i) {
      if (replayed[i]) continue;
      ++taken;
      bytes += pushes[i]->bytes;
      for (const auto& record : pushes[i]->records) {
        auto [at, added] = position.emplace(record.id, records.size());
        if (added) {
          records.push_back(record);
        } else {
          records[at->second] = record;
        }
      }
    }
    if (!records.empty()) {
      const WriteCounts counts = WriteRecords(tx, source, records);
      const auto seen = static_cast<std::int64_t>(records.size());
      if (tx.exec_params(kAddToPushRun, source, taken, seen, counts.inserted, counts.updated,
                         counts.unchanged, bytes)
              .empty()) {
        tx.exec_params0(kStartPushRun, source, taken, seen, counts.inserted, counts.updated,
                        counts.unchanged, bytes);
      }
    }
    tx.commit();
    for (size_t i = 0; i < pushes.size(); ++i) {
      if (replayed[i]) {
        Answer(
            *pushes[i],
            Status(StatusCode::kAlreadyExists,
                   "this signed request was received before (a replay); it is not stored again"));
      } else {
        Answer(*pushes[i], PushStored{static_cast<std::int64_t>(pushes[i]->records.size())});
      }
    }
  }
};

PushReceiver::PushReceiver(const Database& db) : impl_(new Impl(db)) {}
PushReceiver::~PushReceiver() = default;

Result<SourceSpec> PushReceiver::Source(const std::string& name) {
  auto& s = *impl_;
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(s.sources_mutex);
    auto found = s.sources.find(name);
    if (found != s.sources.end() && now - found->second.read < kSourceCacheFor) {
      return found->second.spec;
    }
  }
  auto spec = SourceRegistry(s.db).Get(name);
  if (!spec.ok() && spec.status().code() != StatusCode::kNotFound) return spec;
  std::lock_guard lock(s.sources_mutex);
  if (s.sources.size() > 10000) s.sources.clear();  // names probed at random stay bounded
  s.sources.insert_or_assign(name, Impl::Cached{spec, now});
  return spec;
}

Result<PushStored> PushReceiver::Store(const SourceSpec& spec, std::string_view body,
                                       const std::string& replay_key) {
  auto records = ExtractPushed(spec, body);
  if (!records.ok()) return records.status();
  auto pending = std::make_unique<Pending>();
  pending->source = spec.name;
  pending->records = std::move(*records);
  pending->bytes = static_cast<std::int64_t>(body.size());
  pending->replay_key = replay_key;
  auto done = pending->done.get_future();
  {
    std::lock_guard lock(impl_->mutex);
    impl_->queue.push_back(std::move(pending));
  }
  impl_->wake.notify_one();
  return done.get();
}

}  // namespace octohub::ingest
