// The forwarder: a sender thread drives a libcurl multi handle and never waits for
// PostgreSQL; a bookkeeper thread claims deliveries in batches, records outcomes in batches,
// renews leases and listens for new deliveries. They meet at a mutex-guarded hand-over.
#include "octohub/forward/forwarder.h"

#include <curl/curl.h>
#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <random>
#include <thread>

#include "octohub/core/change_feed.h"
#include "octohub/core/log.h"
#include "octohub/core/retry.h"
#include "octohub/core/timestamp.h"
#include "octohub/forward/delivery_outbox.h"
#include "octohub/forward/delivery_request.h"
#include "octohub/forward/spec_stores.h"
#include "octohub/forward/specs.h"
#include "octohub/forward/target_health.h"
#include "octohub/ingest/curl_setup.h"

namespace octohub::forward {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kExcerptBytes = 512;
// How long the bookkeeper waits between rounds: briefly while deliveries flow (held outcomes
// count against what may be claimed, so recording late starves the sender), longer when idle.
constexpr std::chrono::milliseconds kBusyRound{2};
constexpr std::chrono::milliseconds kIdleRound{20};
constexpr std::chrono::seconds kTargetsRefresh{2};
constexpr std::chrono::seconds kDrainLimit{3};
// Bodies held by one forwarder (claimed, queued or in flight), roughly.
constexpr std::int64_t kHeldBytes = std::int64_t{64} * 1024 * 1024;
// Failed answers (5xx, 429) in a row that make a target failing; no answer at all does at once.
constexpr int kFailuresUntilProbing = 3;

// Text PostgreSQL accepts: valid UTF-8 without NUL.
std::string Excerpt(std::string text) {
  if (text.size() > kExcerptBytes) text.resize(kExcerptBytes);
  bool clean = simdjson::validate_utf8(text.data(), text.size());
  for (auto& c : text) {
    if (c == '\0' || (!clean && static_cast<unsigned char>(c) >= 0x80)) c = '?';
  }
  if (clean) {  // a cut in the middle of a character
    while (!text.empty() && !simdjson::validate_utf8(text.data(), text.size())) text.pop_back();
  }
  return text;
}

// A circuit breaker per target: while it fails, one delivery at a time probes it and the
// rest of its queue waits for that probe (due again with the probe's next attempt, their own
// attempts unspent): a target that is down sees one request at a time, not its whole queue,
// and an outage spends one delivery's attempts. Each success doubles what may be in flight,
// back up to the target's concurrency, so a target that returns is not flooded either.
struct TargetState {
  TargetSpec spec;
  std::deque<ClaimedDelivery> queue;
  std::vector<CURL*> idle;       // easy handles keep their connection between requests
  std::uint64_t generation = 0;  // bumped when the spec changes: older handles are retired
  int in_flight = 0;
  int limit = 1;  // in flight at once: the concurrency, or less while probing
  int failures_in_row = 0;
  bool probing = false;
  std::optional<std::chrono::system_clock::time_point> failing_since;  // while probing
  bool paused = false;
  Clock::time_point next_send{};  // rate limit
};

struct Transfer {
  ClaimedDelivery delivery;
  int max_attempts = 0;
  RetrySchedule retry_schedule;
  std::string response;
  std::string retry_after;
  curl_slist* headers = nullptr;
  char error[CURL_ERROR_SIZE] = {};
  std::string refusal;           // why the network guard refused the connection, if it did
  std::uint64_t generation = 0;  // of the handle's settings
};

// Which retry of the schedule a delivery failing for `failing_for` would be waiting for
// (1 = the first): the one whose wait runs past that time.
int ScheduleStep(std::chrono::milliseconds failing_for, const RetrySchedule& schedule) {
  std::chrono::milliseconds elapsed{0};
  for (size_t i = 0; i < schedule.size(); ++i) {
    elapsed += schedule[i];
    if (elapsed > failing_for) return static_cast<int>(i) + 1;
  }
  return static_cast<int>(schedule.size());
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  if (t->response.size() < kExcerptBytes) t->response.append(data, std::min(n, kExcerptBytes));
  return n;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  std::string_view line(data, n);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size()) {
    std::string head(line.substr(0, kName.size()));
    for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (head == kName) {
      std::string value(line.substr(kName.size()));
      while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
      t->retry_after = value;
    }
  }
  return n;
}

}  // namespace

struct Forwarder::Impl {
  const Database& db;
  Metrics* metrics;
  ForwarderOptions options;
  DeliveryOutbox outbox;
  CURLM* multi = nullptr;
  std::mt19937_64 random{std::random_device{}()};

  // The sender's own state.
  std::map<std::string, TargetState> targets;
  std::map<CURL*, std::unique_ptr<Transfer>> transfers;
  std::uint64_t specs_seen = 0;

  // Handed over between the threads, under mutex.
  std::mutex mutex;
  std::deque<ClaimedDelivery> inbox;           // claimed, for the sender
  std::vector<DeliveryOutcome> done;           // finished attempts, for the bookkeeper
  std::map<std::string, TargetSpec> specs;     // the targets as last read
  std::map<std::string, TargetHealth> health;  // and their state
  std::uint64_t specs_version = 0;
  // Claimed deliveries of targets the sender does not know (deleted ones, whose rows go with
  // them): handed back unsent, so none stays leased while nobody sends it.
  std::vector<std::int64_t> dropped;

  // The bookkeeper's own state.
  int held = 0;  // claimed and not yet recorded (or dropped)
  // What a claimed body weighs on average (a moving average; cautious until the first claim).
  double body_bytes = static_cast<double>(kHeldBytes) / 32;
  std::vector<DeliveryOutcome> unrecorded;
  std::vector<std::int64_t> unreleased;

  Impl(const Database& d, Metrics* m, ForwarderOptions o)
      : db(d), metrics(m), options(std::move(o)), outbox(d) {
    ingest::InitCurlOnce();
    multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, 1024L);
    if (metrics != nullptr) {
      metrics->Declare("octohub_deliveries_total", Metrics::Type::kCounter,
                       "deliveries to targets, by target and status");
      metrics->Declare("octohub_delivery_queue_depth", Metrics::Type::kGauge,
                       "deliveries waiting to be sent, by target");
      metrics->Declare("octohub_target_state", Metrics::Type::kGauge,
                       "1 for the state each target is in (active, failing or paused), else 0");
    }
  }

  ~Impl() {
    for (auto& [handle, transfer] : transfers) {
      curl_multi_remove_handle(multi, handle);
      curl_slist_free_all(transfer->headers);
      curl_easy_cleanup(handle);
    }
    for (auto& [name, target] : targets) {
      for (CURL* handle : target.idle) curl_easy_cleanup(handle);
    }
    curl_multi_cleanup(multi);
  }

  // ---- the sender

  // Takes new targets' settings and the claimed deliveries handed over.
  void TakeOver() {
    std::deque<ClaimedDelivery> arrived;
    std::lock_guard lock(mutex);
    if (specs_version != specs_seen) {
      specs_seen = specs_version;
      for (auto it = targets.begin(); it != targets.end();) {
        auto found = specs.find(it->first);
        if (found == specs.end() && it->second.in_flight == 0) {
          for (const auto& delivery : it->second.queue) dropped.push_back(delivery.id);
          for (CURL* handle : it->second.idle) curl_easy_cleanup(handle);
          it = targets.erase(it);
          continue;
        }
        if (found != specs.end() && !(found->second == it->second.spec)) {
          it->second.spec = found->second;
          it->second.limit = it->second.probing
                                 ? std::min(it->second.limit, found->second.concurrency)
                                 : found->second.concurrency;
          ++it->second.generation;
          for (CURL* handle : it->second.idle) curl_easy_cleanup(handle);
          it->second.idle.clear();
        }
        ++it;
      }
      for (const auto& [name, spec] : specs) {
        if (targets.count(name)) continue;
        TargetState& target = targets[name];
        target.spec = spec;
        // Failing when another forwarder (or this one before a restart) last tried it: probe.
        auto known = health.find(name);
        target.probing = known != health.end() && known->second.failing_since.has_value();
        target.limit = target.probing ? 1 : spec.concurrency;
        if (target.probing) {
          const double since = ParseTimestamp(*known->second.failing_since).value_or(0);
          target.failing_since = std::chrono::system_clock::time_point(
              std::chrono::milliseconds(static_cast<std::int64_t>(since * 1000)));
        }
      }
      for (auto& [name, target] : targets) {
        auto known = health.find(name);
        target.paused = known != health.end() && known->second.paused_since.has_value();
        if (!target.paused) continue;
        // Paused: what it holds waits in the outbox until it is resumed.
        for (const auto& delivery : target.queue) dropped.push_back(delivery.id);
        target.queue.clear();
      }
    }
    for (auto& delivery : inbox) {
      auto target = targets.find(delivery.target);
      if (target == targets.end() || target->second.paused) {
        dropped.push_back(delivery.id);
        continue;
      }
      target->second.queue.push_back(std::move(delivery));
    }
    inbox.clear();
  }

  void Start(TargetState& target) {
    ClaimedDelivery delivery = std::move(target.queue.front());
    target.queue.pop_front();
    const TargetSpec& spec = target.spec;
    auto transfer = std::make_unique<Transfer>();
    transfer->delivery = std::move(delivery);
    transfer->max_attempts = spec.max_attempts;
    transfer->retry_schedule = spec.retry_schedule;
    // Secrets from the environment are read per request: a missing one fails the attempt.
    auto request = BuildDeliveryRequest(spec, transfer->delivery.id, transfer->delivery.body);
    if (!request.ok()) {
      Finish(target, *transfer, 0, request.status().message());
      return;
    }
    const std::string& url = request->url;
    // A handle keeps the target's settings between requests; only what differs is set anew.
    CURL* handle = nullptr;
    if (!target.idle.empty()) {
      handle = target.idle.back();
      target.idle.pop_back();
    } else {
      handle = curl_easy_init();
      curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, spec.method.c_str());
      curl_easy_setopt(handle, CURLOPT_POST, 1L);
      curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(spec.timeout_s * 1000));
      curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
                       static_cast<long>(std::min(spec.timeout_s, 10.0) * 1000));
      curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(handle, CURLOPT_USERAGENT, "octohub/0.1");
      curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &OnBody);
      curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, &OnHeader);
      curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
    }
    transfer->generation = target.generation;
    for (const auto& h : request->headers)
      transfer->headers = curl_slist_append(transfer->headers, h.c_str());
    if (spec.auth.type == AuthSpec::Type::kQuery)
      curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
    curl_easy_setopt(handle, CURLOPT_POSTFIELDS, transfer->delivery.body.data());
    curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(transfer->delivery.body.size()));
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, transfer->headers);
    curl_easy_setopt(handle, CURLOPT_WRITEDATA, transfer.get());
    curl_easy_setopt(handle, CURLOPT_HEADERDATA, transfer.get());
    curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, transfer->error);
    ingest::GuardConnections(handle, &transfer->refusal);
    curl_easy_setopt(handle, CURLOPT_PRIVATE, transfer.get());
    if (request->basic) {
      curl_easy_setopt(handle, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
      curl_easy_setopt(handle, CURLOPT_USERNAME, request->basic->first.c_str());
      curl_easy_setopt(handle, CURLOPT_PASSWORD, request->basic->second.c_str());
    }
    ++target.in_flight;
    curl_multi_add_handle(multi, handle);
    transfers[handle] = std::move(transfer);
  }

  // Turns a finished attempt into an outcome; status 0 = no response (error says why).
  void Finish(TargetState& target, Transfer& t, int status, const std::string& error) {
    bool told_when = false;  // the target said when to come back (Retry-After)
    DeliveryOutcome o;
    o.id = t.delivery.id;
    o.target = target.spec.name;
    o.attempts = t.delivery.attempts + 1;
    o.http_status = status;
    o.sent = status >= 200 && status < 300;
    if (!o.sent) {
      // A refused address stays refused: retrying would only delay the verdict.
      const bool retryable = t.refusal.empty() && (status == 0 || IsRetryableStatus(status));
      o.target_failed = retryable;
      o.dead = !retryable || o.attempts >= t.max_attempts;
      o.error = status == 0 ? error : "HTTP " + std::to_string(status);
      // Following would send the payload and the target's credentials to another place.
      if (status >= 300 && status < 400) {
        o.error +=
            ": the target redirects, and deliveries do not follow redirects; set the "
            "target's url to where it moved";
      }
      o.excerpt = Excerpt(t.response);
      std::uniform_real_distribution<double> jitter(0, 1);
      o.retry_in_ms = RetryDelay(o.attempts, t.retry_schedule, jitter(random)).count();
      // The target knows best when it can take more (at most a day later).
      if (auto after = ParseRetryAfter(t.retry_after, std::chrono::system_clock::now())) {
        o.retry_in_ms = after->count();
        told_when = true;
      }
    }
    std::vector<DeliveryOutcome> waiting = Breaker(target, o, told_when);
    if (metrics != nullptr) {
      metrics->Add("octohub_deliveries_total", {{"target", o.target},
                                                {"status", o.sent   ? "sent"
                                                           : o.dead ? "dead"
                                                                    : "failed"}});
    }
    std::lock_guard lock(mutex);
    done.push_back(std::move(o));
    for (auto& deferred : waiting) done.push_back(std::move(deferred));
  }

  // Moves the target's breaker by an attempt's outcome; when a probe failed, answers the
  // deliveries that waited for it, deferred to its next attempt.
  std::vector<DeliveryOutcome> Breaker(TargetState& target, DeliveryOutcome& o, bool told_when) {
    std::vector<DeliveryOutcome> waiting;
    if (!o.target_failed) {
      target.failures_in_row = 0;
      if (target.probing) {
        target.limit = std::min(target.spec.concurrency, target.limit * 2);
        if (target.limit == target.spec.concurrency) {
          target.probing = false;
          target.failing_since.reset();
          log::Info("forward.target_recovered", {{"target", target.spec.name}});
        }
      }
      return waiting;
    }
    ++target.failures_in_row;
    if (o.http_status != 0 && target.failures_in_row < kFailuresUntilProbing) return waiting;
    if (!target.probing) {
      log::Warn("forward.target_failing", {{"target", target.spec.name}, {"error", o.error}});
    }
    target.probing = true;
    target.limit = 1;
    const auto now = std::chrono::system_clock::now();
    if (!target.failing_since) target.failing_since = now;
    if (!told_when) {
      // Probes come as seldom as the schedule's retries of a delivery failing this long, so
      // a long outage is probed ever less often whichever delivery happens to probe.
      std::uniform_real_distribution<double> jitter(0, 1);
      const auto failing_for =
          std::chrono::duration_cast<std::chrono::milliseconds>(now - *target.failing_since);
      o.retry_in_ms =
          std::max(o.retry_in_ms, RetryDelay(ScheduleStep(failing_for, target.spec.retry_schedule),
                                             target.spec.retry_schedule, jitter(random))
                                      .count());
    }
    if (o.dead) return waiting;  // its retry time says nothing of when to probe next
    waiting.reserve(target.queue.size());
    for (const auto& delivery : target.queue) {
      DeliveryOutcome deferred;
      deferred.id = delivery.id;
      deferred.target = target.spec.name;
      deferred.deferred = true;
      deferred.retry_in_ms = o.retry_in_ms;
      waiting.push_back(std::move(deferred));
    }
    target.queue.clear();
    return waiting;
  }

  void Collect() {
    int running = 0;
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* message = curl_multi_info_read(multi, &left)) {
      if (message->msg != CURLMSG_DONE) continue;
      CURL* handle = message->easy_handle;
      curl_multi_remove_handle(multi, handle);
      auto found = transfers.find(handle);
      std::unique_ptr<Transfer> t = std::move(found->second);
      transfers.erase(found);
      curl_slist_free_all(t->headers);
      long status = 0;
      if (message->data.result == CURLE_OK) {
        curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
      }
      std::string error = message->data.result == CURLE_OK ? std::string()
                          : !t->refusal.empty()
                              ? "refused by the network guard: " + t->refusal
                              : std::string(curl_easy_strerror(message->data.result)) +
                                    (t->error[0] != '\0' ? std::string(": ") + t->error : "");
      TargetState& target = targets[t->delivery.target];
      --target.in_flight;
      if (t->generation == target.generation) {
        target.idle.push_back(handle);
      } else {
        curl_easy_cleanup(handle);  // made for settings the target no longer has
      }
      Finish(target, *t, static_cast<int>(status), error);
    }
  }

  void Dispatch() {
    const auto now = Clock::now();
    for (auto& [name, target] : targets) {
      while (!target.queue.empty() && target.in_flight < target.limit) {
        if (target.spec.requests_per_second > 0) {
          if (now < target.next_send) break;
          target.next_send =
              std::max(target.next_send, now) +
              std::chrono::duration_cast<Clock::duration>(
                  std::chrono::duration<double>(1.0 / target.spec.requests_per_second));
        }
        Start(target);
      }
    }
  }

  // How long the sender may sleep: not at all when a request can start now, until the next
  // send a rate limit allows, else until a socket or a hand-over wakes it.
  int PollTimeout() const {
    const auto now = Clock::now();
    int wait_ms = transfers.empty() ? 100 : 10;
    for (const auto& [name, target] : targets) {
      if (target.queue.empty() || target.in_flight >= target.limit) continue;
      if (target.spec.requests_per_second <= 0 || target.next_send <= now) return 0;
      const auto until =
          std::chrono::duration_cast<std::chrono::milliseconds>(target.next_send - now);
      wait_ms = std::min(wait_ms, static_cast<int>(until.count()) + 1);
    }
    return wait_ms;
  }

  // Sends until stop, then finishes what is in flight for a moment.
  void Send(const std::stop_token& stop) {
    while (!stop.stop_requested()) {
      TakeOver();
      Dispatch();
      Collect();  // sends what was just started; a fast answer may complete it already
      const int wait_ms = PollTimeout();
      if (wait_ms > 0) curl_multi_poll(multi, nullptr, 0, wait_ms, nullptr);
      Collect();
    }
    const auto deadline = Clock::now() + kDrainLimit;
    while (!transfers.empty() && Clock::now() < deadline) {
      curl_multi_poll(multi, nullptr, 0, 50, nullptr);
      Collect();
    }
  }

  // ---- the bookkeeper

  void PublishTargets() {
    auto list = TargetStore(db).List();
    auto states = TargetHealthStore(db).All();
    if (!list.ok() || !states.ok()) {
      log::Warn("forward.targets_unreadable",
                {{"reason", (list.ok() ? states.status() : list.status()).message()}});
      return;
    }
    if (metrics != nullptr) {
      for (const auto& spec : *list) {
        auto known = states->find(spec.name);
        const std::string state = known == states->end() ? "active" : known->second.state();
        for (const char* each : {"active", "failing", "paused"}) {
          metrics->Set("octohub_target_state", {{"target", spec.name}, {"state", each}},
                       state == each ? 1 : 0);
        }
      }
    }
    std::lock_guard lock(mutex);
    specs.clear();
    for (auto& spec : *list) specs[spec.name] = std::move(spec);
    health = std::move(*states);
    ++specs_version;
  }

  // Records finished attempts and hands back dropped deliveries; false when there were none.
  // Throws when PostgreSQL fails, keeping them for the next connection.
  bool Record(pqxx::connection& c) {
    {
      std::lock_guard lock(mutex);
      for (auto& outcome : done) unrecorded.push_back(std::move(outcome));
      done.clear();
      unreleased.insert(unreleased.end(), dropped.begin(), dropped.end());
      dropped.clear();
    }
    if (!unreleased.empty()) {
      if (Status released = outbox.ReleaseLeases(c, options.owner, unreleased); !released.ok()) {
        throw std::runtime_error(released.message());
      }
      held -= static_cast<int>(unreleased.size());
      unreleased.clear();
    }
    if (unrecorded.empty()) return false;
    if (Status recorded = outbox.Record(c, options.owner, unrecorded); !recorded.ok()) {
      throw std::runtime_error(recorded.message());
    }
    ObserveHealth(c);
    held -= static_cast<int>(unrecorded.size());
    unrecorded.clear();
    return true;
  }

  // Targets failing or answering again, and pausing those failing for too long.
  void ObserveHealth(pqxx::connection& c) {
    std::map<std::string, std::chrono::milliseconds> pause_after;
    {
      std::lock_guard lock(mutex);
      // Successes of targets not known to fail change nothing: most rounds need no query.
      const bool news = std::any_of(unrecorded.begin(), unrecorded.end(), [&](const auto& o) {
        if (o.deferred) return false;
        if (o.target_failed) return true;
        auto known = health.find(o.target);
        return known != health.end() && known->second.failing_since.has_value();
      });
      if (!news) return;
      for (const auto& [name, spec] : specs) pause_after[name] = spec.pause_after;
    }
    auto paused = TargetHealthStore(db).Observe(c, unrecorded, pause_after);
    if (!paused.ok()) {
      log::Warn("forward.target_state_unrecorded", {{"reason", paused.status().message()}});
      return;
    }
    for (const auto& target : *paused) {
      log::Warn("forward.target_paused", {{"target", target.target}, {"reason", target.reason}});
    }
    // A target that started or stopped failing, or was paused, is published at once: the
    // sender lets go of what it holds for a paused one, and /metrics shows the new state.
    bool changed = !paused->empty();
    {
      std::lock_guard lock(mutex);
      std::map<std::string, bool> failing;  // by the last attempt of each target
      for (const auto& o : unrecorded) {
        if (!o.deferred) failing[o.target] = o.target_failed;
      }
      for (const auto& [target, now_failing] : failing) {
        auto known = health.find(target);
        const bool was_failing = known != health.end() && known->second.failing_since;
        changed = changed || was_failing != now_failing;
      }
    }
    if (changed) PublishTargets();
  }

  // Claims more when a good share of the room is free; false when nothing more was due.
  bool Claim(pqxx::connection& c) {
    // Room in deliveries, and in memory: large batches claim fewer at a time.
    const double held_bytes = body_bytes * held;
    const int room = std::min(
        options.max_claimed - held,
        static_cast<int>(std::max(0.0, static_cast<double>(kHeldBytes) - held_bytes) / body_bytes));
    if (room < std::max(1, std::min(options.max_claimed / 4, held))) return true;
    auto claimed = outbox.Claim(c, options.owner, room, options.lease_s);
    if (!claimed.ok()) throw std::runtime_error(claimed.status().message());
    if (claimed->empty()) return false;
    double total = 0;
    for (const auto& delivery : *claimed) total += static_cast<double>(delivery.body.size());
    body_bytes =
        std::max(64.0, 0.2 * body_bytes + 0.8 * total / static_cast<double>(claimed->size()));
    bool unknown = false;
    {
      std::lock_guard lock(mutex);
      for (const auto& delivery : *claimed) unknown = unknown || !specs.count(delivery.target);
    }
    // A target created since the last read: the sender must know it before its deliveries.
    if (unknown) PublishTargets();
    {
      std::lock_guard lock(mutex);
      for (auto& delivery : *claimed) inbox.push_back(std::move(delivery));
    }
    held += static_cast<int>(claimed->size());
    curl_multi_wakeup(multi);
    return static_cast<int>(claimed->size()) == room;
  }

  void UpdateDepth(pqxx::connection& c) {
    if (metrics == nullptr) return;
    auto depth = outbox.QueueDepth(c);
    if (!depth.ok()) return;
    for (const auto& [target, count] : *depth) {
      metrics->Set("octohub_delivery_queue_depth", {{"target", target}},
                   static_cast<double>(count));
    }
  }

  // One connected session, until stop; throws when PostgreSQL fails.
  void Keep(pqxx::connection& c, const std::stop_token& stop) {
    bool notified = true;
    ChannelWakeup wakeup(c, kDeliveriesChannel, notified);
    PublishTargets();
    auto last_claim = Clock::time_point{};
    auto last_refresh = Clock::now();
    auto last_renew = Clock::now();
    auto last_depth = Clock::time_point{};
    bool more = true;
    while (!stop.stop_requested()) {
      const auto now = Clock::now();
      bool busy = Record(c);  // outcomes came in: more are coming
      if (notified || more || now - last_claim >= options.poll_interval) {
        notified = false;
        last_claim = now;
        more = Claim(c);
        busy = busy || more;
      }
      if (now - last_refresh >= kTargetsRefresh) {
        PublishTargets();
        last_refresh = now;
      }
      if (now - last_renew >= std::chrono::seconds(std::max(1, options.lease_s / 3))) {
        if (!outbox.RenewLeases(c, options.owner, options.lease_s).ok()) {
          throw std::runtime_error("renewing leases failed");
        }
        last_renew = now;
      }
      if (now - last_depth >= std::chrono::seconds(1)) {
        UpdateDepth(c);
        last_depth = now;
      }
      const auto round = busy ? kBusyRound : kIdleRound;
      c.await_notification(
          0,
          static_cast<long>(std::chrono::duration_cast<std::chrono::microseconds>(round).count()));
    }
  }

  // Until stop; then records the last outcomes and lets go of every other lease it holds.
  void Bookkeep(const std::stop_token& stop, const std::function<bool()>& sender_done) {
    auto backoff = std::chrono::milliseconds(500);
    while (!stop.stop_requested()) {
      auto connection = db.Connect();
      if (connection.ok()) {
        try {
          Keep(**connection, stop);
          break;
        } catch (const std::exception& e) {
          log::Warn("forward.session_lost", {{"reason", e.what()}});
        }
      } else {
        log::Warn("forward.waiting_for_database", {{"reason", connection.status().message()}});
      }
      for (int waited = 0; waited < backoff.count() && !stop.stop_requested(); waited += 100) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      backoff = std::min(backoff * 2, std::chrono::milliseconds(10000));
    }
    while (!sender_done()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    try {
      auto connection = db.Connect();
      if (!connection.ok()) throw std::runtime_error(connection.status().message());
      Record(**connection);
      if (!outbox.ReleaseLeases(**connection, options.owner).ok()) {
        throw std::runtime_error("releasing leases failed");
      }
    } catch (const std::exception& e) {
      log::Warn("forward.stop_unrecorded", {{"reason", e.what()}, {"outcomes", unrecorded.size()}});
    }
  }
};

Forwarder::Forwarder(const Database& db, Metrics* metrics, ForwarderOptions options)
    : impl_(new Impl(db, metrics, std::move(options))) {}

Forwarder::~Forwarder() = default;

void Forwarder::Run(const std::stop_token& stop) {
  auto& s = *impl_;
  if (s.options.is_dead_owner) {
    auto expired = s.outbox.ExpireLeasesOf(s.options.is_dead_owner);
    if (!expired.ok()) {
      log::Warn("forward.recovery_failed", {{"reason", expired.status().message()}});
    } else if (*expired > 0) {
      log::Info("forward.recovered_deliveries", {{"deliveries", *expired}});
    }
  }
  std::atomic<bool> sent_all{false};
  std::jthread bookkeeper(
      [&](const std::stop_token& own) { s.Bookkeep(own, [&] { return sent_all.load(); }); });
  s.Send(stop);
  sent_all = true;
  bookkeeper.request_stop();
}

}  // namespace octohub::forward
