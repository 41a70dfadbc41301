#include "harvest.h"

#include <boost/json.hpp>
#include <future>
#include <pqxx/pqxx>
#include <thread>

#include "for_each.h"
#include "octohub/core/log.h"
#include "page_extractor.h"
#include "runs.h"

namespace octohub::ingest {
namespace {

using Millis = std::chrono::milliseconds;

constexpr const char* kRecordPage = R"(
  UPDATE runs SET pages = pages + 1, records_seen = records_seen + $3,
                  records_new = records_new + $4, records_updated = records_updated + $5,
                  records_unchanged = records_unchanged + $6,
                  records_skipped = records_skipped + $7, bytes = bytes + $8,
                  lease_expires_at = now() + make_interval(secs => $9)
  WHERE id = $1 AND lease_owner = $2 AND status = 'running')";

constexpr const char* kRenewLease =
    "UPDATE runs SET lease_expires_at = now() + make_interval(secs => $3) "
    "WHERE id = $1 AND lease_owner = $2 AND status = 'running'";

constexpr const char* kSetWaiting =
    "UPDATE runs SET waiting_until = now() + make_interval(secs => $3) "
    "WHERE id = $1 AND lease_owner = $2 AND status = 'running'";

constexpr const char* kClearWaiting =
    "UPDATE runs SET waiting_until = NULL WHERE id = $1 AND lease_owner = $2";

constexpr const char* kRecordDeleted = "UPDATE runs SET records_deleted = $2 WHERE id = $1";

// The records a parent source holds, a batch at a time (a parent may hold many thousands).
constexpr const char* kParentBatch = R"(
  SELECT id, data::text FROM records
  WHERE source = $1 AND NOT deleted AND id > $2 ORDER BY id LIMIT 500)";

// The last successful full pass, for count_dropped.
constexpr const char* kPreviousPass = R"(
  SELECT records_seen FROM runs
  WHERE source = $1 AND status = 'succeeded' AND id <> $2 ORDER BY id DESC LIMIT 1)";

// Why a run's row no longer answers to this worker: deleted with its source, or taken over.
Status RunLost(pqxx::transaction_base& tx, std::int64_t run_id) {
  if (tx.exec_params("SELECT 1 FROM runs WHERE id = $1", run_id).empty()) {
    return Status(StatusCode::kCancelled, "the source was deleted during the run");
  }
  return FailedPrecondition("the run's lease was lost to another worker");
}

}  // namespace

Harvest::Harvest(HarvestContext context, pqxx::connection& c, std::int64_t run_id,
                 std::string source, std::stop_token stop)
    : context_(context),
      c_(c),
      run_id_(run_id),
      source_(std::move(source)),
      stop_(std::move(stop)) {}

Harvest::~Harvest() = default;

Status Harvest::Stopped() const {
  return Status(StatusCode::kCancelled, "stopped by shutdown after " +
                                            std::to_string(pages_stored_) +
                                            " pages; the next run starts over");
}

Status Harvest::Prepare() {
  auto spec = SourceRegistry(context_.db).Get(source_);
  if (!spec.ok()) return spec.status();
  spec_ = std::move(*spec);
  {
    pqxx::read_transaction tx(c_);
    auto row = tx.exec_params1("SELECT cursor FROM sources WHERE name = $1", source_);
    if (!row[0].is_null()) stored_cursor_ = row[0].as<std::string>();
  }
  ClientHooks hooks;
  hooks.keep_alive = [this] { return RenewLease(); };
  hooks.waiting = [this](std::optional<Millis> wait) { ShowWaiting(wait); };
  auto client = SourceClient::Open(spec_, context_.fetcher, context_.retry, stop_, std::move(hooks),
                                   {{"run", run_id_}, {"source", source_}});
  if (!client.ok()) return client.status();
  client_ = std::move(*client);
  return Status::Ok();
}

// While a rate limit makes the run wait, the run says until when.
void Harvest::ShowWaiting(std::optional<Millis> wait) {
  if (!lease_connection_ && !RenewLease().ok()) return;
  if (!lease_connection_) return;
  pqxx::work tx(*lease_connection_);
  if (wait) {
    tx.exec_params(kSetWaiting, run_id_, context_.worker_id,
                   std::chrono::duration<double>(*wait).count());
  } else {
    tx.exec_params(kClearWaiting, run_id_, context_.worker_id);
  }
  tx.commit();
}

Status Harvest::RenewLease() {
  const auto now = std::chrono::steady_clock::now();
  if (now - lease_renewed_ < std::chrono::duration<double>(context_.lease) / 6) {
    return Status::Ok();
  }
  lease_renewed_ = now;
  if (!lease_connection_) {
    auto opened = context_.db.Connect();
    if (!opened.ok()) return opened.status();
    lease_connection_ = std::move(*opened);
  }
  pqxx::work tx(*lease_connection_);
  auto renewed = tx.exec_params(kRenewLease, run_id_, context_.worker_id, context_.lease.count());
  if (renewed.affected_rows() == 0) return RunLost(tx, run_id_);
  tx.commit();
  return Status::Ok();
}

Status Harvest::Run() {
  if (Status s = Prepare(); !s.ok()) return s;
  const bool full_refresh = spec_.mode == SourceSpec::Mode::kFullRefresh;
  if (full_refresh) {
    pqxx::work tx(c_);
    ForgetSeen(tx);
    tx.commit();
  }
  Status harvested = spec_.for_each ? HarvestParents()
                                    : HarvestPass(spec_, std::nullopt,
                                                  full_refresh ? std::nullopt : stored_cursor_);
  if (!harvested.ok()) return harvested;
  warnings_.Add(SkippedRecords(skipped_because_));
  if (spec_.incremental && !full_refresh && !spec_.for_each) {
    warnings_.Add(
        CursorStalled(spec_.incremental->cursor, stored_cursor_, max_cursor_, records_changed_));
  }
  if (full_refresh && complete_) {
    pqxx::read_transaction tx(c_);
    auto previous = tx.exec_params(kPreviousPass, source_, run_id_);
    warnings_.Add(CountDropped(
        records_seen_,
        previous.empty() ? std::nullopt : std::optional(previous[0][0].as<std::int64_t>())));
  }
  if (spec_.strict && !warnings_.empty()) {
    return FailedPrecondition("the source is strict and the run noticed: " + warnings_.Summary());
  }
  // Only a complete pass knows which records the upstream no longer has.
  if (full_refresh && complete_) return FinishFullPass();
  return Status::Ok();
}

Status Harvest::FinishFullPass() {
  pqxx::work tx(c_);
  // Checked in the same transaction: a source deleted and re-created since must not see its
  // records marked deleted by what this run did not see.
  auto renewed = tx.exec_params(kRenewLease, run_id_, context_.worker_id, context_.lease.count());
  if (renewed.affected_rows() == 0) return RunLost(tx, run_id_);
  const auto [unseen, stored] = CountUnseen(tx, source_);
  if (auto mass = MassDelete(unseen, stored, spec_.max_delete_ratio)) {
    warnings_.Add(mass);
    return FailedPrecondition(mass->detail);
  }
  tx.exec_params(kRecordDeleted, run_id_, MarkUnseenDeleted(tx, source_));
  tx.commit();
  return Status::Ok();
}

Status Harvest::HarvestParents() {
  const ForEachSpec& for_each = *spec_.for_each;
  const bool full_refresh = spec_.mode == SourceSpec::Mode::kFullRefresh;
  std::map<std::string, std::string> stored;  // per-parent cursors before the run
  if (spec_.incremental && !full_refresh) {
    pqxx::read_transaction tx(c_);
    for (const auto& row : tx.exec_params(
             "SELECT parent_id, cursor FROM source_cursors WHERE source = $1", source_)) {
      stored.emplace(row[0].as<std::string>(), row[1].as<std::string>());
    }
  }
  std::string after;
  std::int64_t skipped_parents = 0;
  std::string first_skip;
  while (true) {
    pqxx::result batch;
    {
      pqxx::read_transaction tx(c_);
      batch = tx.exec_params(kParentBatch, for_each.source, after);
    }
    if (batch.empty()) break;
    for (const auto& row : batch) {
      const std::string parent_id = row[0].as<std::string>();
      after = parent_id;
      auto values = ParentValues(for_each, row[1].as<std::string>());
      if (!values.ok()) {
        if (skipped_parents++ == 0) first_skip = parent_id + ": " + values.status().message();
        continue;
      }
      std::optional<std::string> cursor;
      if (auto it = stored.find(parent_id); it != stored.end()) cursor = it->second;
      max_cursor_.reset();
      const SourceSpec expanded = ExpandForParent(spec_, *values);
      if (Status s = HarvestPass(expanded, ParentRef{for_each.source, parent_id}, cursor);
          !s.ok()) {
        return s.WithContext("parent record " + parent_id);
      }
      if (spec_.incremental && !full_refresh) {
        warnings_.Add(
            CursorStalled(spec_.incremental->cursor, cursor, max_cursor_, last_pass_changed_));
        if (max_cursor_ && (!cursor || CursorGreater(*max_cursor_, *cursor))) {
          parent_cursors_[parent_id] = *max_cursor_;
        }
      }
      if (stop_.stop_requested()) return Stopped();
    }
  }
  if (skipped_parents > 0) {
    warnings_.Add(
        RunWarning{"skipped_parents",
                   std::to_string(skipped_parents) +
                       (skipped_parents == 1 ? " parent record was" : " parent records were") +
                       " passed over, lacking a variable (first: " + first_skip + ")"});
  }
  return Status::Ok();
}

Status Harvest::HarvestPass(const SourceSpec& spec, const std::optional<ParentRef>& parent,
                            const std::optional<std::string>& cursor) {
  auto extractor = PageExtractor::ForSpec(spec);
  if (!extractor.ok()) return extractor.status();
  PagePlanner planner(spec, spec.query, cursor, client_->credential_query());
  auto first = planner.First();
  if (!first.ok()) return first.status();
  HttpRequest request = client_->base_request();
  request.url = first->url;
  request.headers = spec.headers;
  if (spec.body) request.headers.emplace_back("Content-Type", "application/json");
  if (first->body) request.body = *first->body;
  const std::int64_t changed_before = records_changed_;
  // A page is fetched and parsed in the background while the one before it is stored.
  struct Loaded {
    HttpResponse response;
    ExtractedPage page;
  };
  auto load = [this, &extractor, &parent](const HttpRequest& page_request,
                                          std::int64_t number) -> Result<Loaded> {
    const std::string what = "page " + std::to_string(number) + " (" + page_request.url + ")";
    auto response = client_->Fetch(page_request, what);
    if (!response.ok()) {
      return stop_.stop_requested() ? Stopped() : response.status();
    }
    auto page = extractor->Extract(response->body);
    if (!page.ok()) return page.status().WithContext(what);
    if (parent) {
      for (auto& record : page->records) record.id = ChildRecordId(parent->id, record.id);
    }
    return Loaded{std::move(*response), std::move(*page)};
  };
  Result<Loaded> loaded = load(request, planner.pages_planned());
  std::future<Result<Loaded>> prefetch;
  const bool full_refresh = spec.mode == SourceSpec::Mode::kFullRefresh;
  while (true) {
    if (!loaded.ok()) return loaded.status();
    const ExtractedPage& page = loaded->page;
    if (page.max_incremental &&
        (!max_cursor_ || CursorGreater(*page.max_incremental, *max_cursor_))) {
      max_cursor_ = page.max_incremental;
    }
    auto next = planner.Next(page, loaded->response);
    HttpRequest next_request = request;
    if (next.ok() && *next && !stop_.stop_requested()) {
      next_request.url = (*next)->url;
      if ((*next)->body) next_request.body = *(*next)->body;
      prefetch = std::async(std::launch::async, load, next_request, planner.pages_planned());
    }
    pqxx::work tx(c_);
    WriteCounts counts = WriteRecords(tx, source_, page.records, parent ? &*parent : nullptr);
    if (full_refresh) RememberSeen(tx, page.records);
    auto updated = tx.exec_params(
        kRecordPage, run_id_, context_.worker_id, page.array_size - page.skipped, counts.inserted,
        counts.updated, counts.unchanged, page.skipped,
        static_cast<std::int64_t>(loaded->response.body.size()), context_.lease.count());
    // Not ours any more: the page is rolled back, never written to a source re-created under
    // the same name meanwhile.
    if (updated.affected_rows() == 0) return RunLost(tx, run_id_);
    tx.commit();
    ++pages_stored_;
    records_seen_ += page.array_size - page.skipped;
    records_changed_ += counts.inserted + counts.updated;
    for (const auto& [reason, count] : page.skipped_because) skipped_because_[reason] += count;
    if (!next.ok()) return next.status();
    if (!*next) break;
    if (stop_.stop_requested()) return Stopped();
    request = next_request;
    loaded = prefetch.get();
  }
  if (planner.truncated()) complete_ = false;
  if (!planner.truncated()) {
    warnings_.Add(TotalMismatch(planner.reported_total(), planner.records_seen()));
  }
  warnings_.Add(ShortPage(planner.first_short_page(), spec.pagination.size));
  last_pass_changed_ = records_changed_ - changed_before;
  return Status::Ok();
}

void Harvest::AdvanceCursors(pqxx::work& tx) const {
  if (spec_.for_each) {
    for (const auto& [parent_id, cursor] : parent_cursors_) {
      tx.exec_params(
          "INSERT INTO source_cursors (source, parent_id, cursor) VALUES ($1, $2, $3) "
          "ON CONFLICT (source, parent_id) DO UPDATE SET cursor = excluded.cursor",
          source_, parent_id, cursor);
    }
    return;
  }
  if (max_cursor_ && (!stored_cursor_ || CursorGreater(*max_cursor_, *stored_cursor_))) {
    tx.exec_params("UPDATE sources SET cursor = $2 WHERE name = $1", source_, *max_cursor_);
  }
}

}  // namespace octohub::ingest
