#include <pthread.h>
#include <signal.h>  // NOLINT(modernize-deprecated-headers): POSIX kill/sigwait/pthread_sigmask
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <optional>
#include <pqxx/pqxx>
#include <random>
#include <thread>

#include "commands.h"
#include "index_replication.h"
#include "octohub/api/keys.h"
#include "octohub/api/server.h"
#include "octohub/core/change_feed.h"
#include "octohub/core/log.h"
#include "octohub/core/network_guard.h"
#include "octohub/forward/forwarder.h"
#include "octohub/indexer/indexer.h"
#include "octohub/ingest/ingest.h"
#include "process.h"
#include "runtime.h"

namespace octohub::hub {
namespace {

// Takes queued runs one at a time; woken by NOTIFY when a run is queued, else polls.
void IngestLoop(const Database& db, Metrics& metrics, int number, std::chrono::seconds lease,
                std::size_t max_page_bytes, const std::stop_token& stop) {
  ingest::IngestWorker worker(db, ingest::MakeCurlFetcher({.max_body_bytes = max_page_bytes}),
                              WorkerId("ingest-" + std::to_string(number)), {}, &metrics, lease);
  ingest::RunQueue queue(db);
  // A notification only ends the wait: the loop looks for queued runs either way.
  bool queued = false;
  std::unique_ptr<pqxx::connection> listener;
  std::unique_ptr<ChannelWakeup> wakeup;
  while (!stop.stop_requested()) {
    if (auto due = queue.EnqueueDue(); !due.ok()) {
      log::Error("ingest.schedule_error", {{"reason", due.status().message()}});
    }
    auto run = worker.RunNextQueued(stop);
    // A run dropped with its deleted source is logged where it is found (run.dropped).
    if (!run.ok() && run.status().code() != StatusCode::kCancelled) {
      log::Error("ingest.worker_error", {{"reason", run.status().message()}});
    }
    if (run.ok() && *run) continue;  // there may be more queued
    try {
      if (!listener) {
        auto connection = db.Connect();
        if (connection.ok()) {
          listener = std::move(*connection);
          wakeup = std::make_unique<ChannelWakeup>(*listener, kRunsChannel, queued);
        }
      }
      if (listener) {
        listener->await_notification(1, 0);
      } else {
        std::this_thread::sleep_for(std::chrono::seconds(1));
      }
    } catch (const std::exception& e) {
      wakeup.reset();
      listener.reset();
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }
}

struct ReplicationPlan {
  std::vector<std::string> server;  // the writer's xapian-replicate-server, if it serves
  std::optional<ShardReplicas::Options> replica;
};

// Whichever side of replication this process is on, running until destroyed.
struct Replication {
  std::unique_ptr<SupervisedChild> server;
  std::unique_ptr<ShardReplicas> replica;
};

// Checks the replication options before anything starts.
Result<ReplicationPlan> PlanIndexReplication(const GlobalOptions& options) {
  if (!options.replication_listen.empty() && !options.index_replica_of.empty()) {
    return InvalidArgument(
        "--replication-listen (the index writer) and --index-replica-of (a replica) exclude "
        "each other");
  }
  if (!options.replication_listen.empty()) {
    if (!options.has_role("index")) {
      return InvalidArgument("--replication-listen needs the index role: only the writer serves");
    }
    auto listen = ParseHostPort(options.replication_listen, "replication-listen");
    if (!listen.ok()) return listen.status();
    if (auto warning = PublicBindWarning(listen->host, "index replication")) {
      log::Warn("replication.public_bind",
                {{"listen", options.replication_listen}, {"reason", *warning}});
    }
    auto program = FindProgram("xapian-replicate-server", "xapian-tools");
    if (!program.ok()) return program.status();
    // The writer keeps changesets so that replicas get updates, not whole copies.
    setenv("XAPIAN_MAX_CHANGESETS", "100", 0);
    return ReplicationPlan{ReplicationServerCommand(*program, *listen, options.index_dir()), {}};
  }
  if (!options.index_replica_of.empty()) {
    if (options.has_role("index")) {
      return InvalidArgument(
          "--index-replica-of cannot go with the index role: a replica's index is a copy");
    }
    auto master = ParseHostPort(options.index_replica_of, "index-replica-of");
    if (!master.ok()) return master.status();
    auto program = FindProgram("xapian-replicate", "xapian-tools");
    if (!program.ok()) return program.status();
    return ReplicationPlan{{},
                           ShardReplicas::Options{*program, *master, options.index_dir(),
                                                  options.replication_interval, options.data_dir}};
  }
  return ReplicationPlan{};
}

Replication StartIndexReplication(const ReplicationPlan& plan, const GlobalOptions& options) {
  std::error_code ignored;
  std::filesystem::create_directories(options.data_dir, ignored);
  Replication started;
  if (!plan.server.empty()) {
    started.server = std::make_unique<SupervisedChild>(
        "xapian-replicate-server", plan.server,
        std::filesystem::absolute(options.data_dir) / "replication.log");
  }
  if (plan.replica) started.replica = std::make_unique<ShardReplicas>(*plan.replica);
  return started;
}

}  // namespace

int RunServe(const GlobalOptions& options, const ServeReadyHook& on_ready) {
  // Signals are taken synchronously by this thread only: every thread started below
  // inherits the blocked mask. SIGPIPE from a vanished client must not kill the process.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto runtime = Runtime::Open(options);
  if (!runtime.ok()) return Fail(runtime.status());
  const Database& db = (*runtime)->db();

  auto replication_plan = PlanIndexReplication(options);
  if (!replication_plan.ok()) return Fail(replication_plan.status());
  for (const auto& address : options.index_remote) {
    if (auto parsed = ParseHostPort(address, "index-remote"); !parsed.ok()) {
      return Fail(parsed.status());
    }
  }
  auto searcher = indexer::OpenSearcher(options.index_dir(), options.index_remote);
  // Rules are evaluated on the indexer's thread right after each commit, on the new index.
  forward::RuleEvaluator rules(db, *searcher);
  Metrics metrics;
  std::unique_ptr<indexer::IndexFollower> follower;
  if (options.has_role("index")) {
    indexer::FollowerOptions follower_options;
    follower_options.metrics = &metrics;
    follower_options.shards = options.shard_count();
    follower_options.remote_shards = options.index_remote;
    follower_options.on_commit = [&rules](std::int64_t checkpoint) {
      auto forwarded = rules.Evaluate(checkpoint);
      if (!forwarded.ok()) {
        log::Warn("forward.rules_failed", {{"reason", forwarded.status().message()}});
      }
    };
    follower = std::make_unique<indexer::IndexFollower>(db, options.index_dir(), follower_options);
    if (Status s = follower->Open(); !s.ok()) {
      // A shard elsewhere that does not answer yet: the follower keeps trying, and /readyz
      // says the index is not ready meanwhile. Anything else is for the operator.
      if (s.code() != StatusCode::kUnavailable) return Fail(s);
      log::Error("index.open_failed", {{"reason", s.message()}, {"retry", "every catch-up"}});
    }
  }
  // Started once the index exists; stopped (and reaped) when serve returns.
  Replication replication = StartIndexReplication(*replication_plan, options);
  // The API's worker threads keep their PostgreSQL connections between requests.
  const Database api_db = Database::ReusingConnections(db);
  std::unique_ptr<api::ApiServer> server;
  if (options.has_role("api")) {
    // With no key at all, the first start makes an admin key and shows it once.
    api::KeyStore keys(db);
    auto has_keys = keys.HasActiveKeys();
    if (!has_keys.ok()) return Fail(has_keys.status());
    if (!*has_keys) {
      auto created = keys.Create(api::Role::kAdmin, "initial-admin");
      if (!created.ok()) return Fail(created.status());
      std::cerr << "octohub: admin key (shown once): " << created->secret << std::endl;
    }
    api::ServerOptions server_options;
    auto ms = [](double seconds) {
      return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
    };
    api::HttpServerOptions& http = server_options.http;
    http.listen = options.listen;
    http.reactor_threads = options.http_threads;
    http.worker_threads = options.workers;
    http.max_body_bytes = options.max_body;
    http.max_header_bytes = options.max_header;
    http.header_timeout = ms(options.header_timeout);
    http.body_timeout = ms(options.body_timeout);
    http.keepalive_timeout = ms(options.keepalive_timeout);
    http.send_timeout = ms(options.send_timeout);
    http.cors_origins = options.cors_origins;
    server_options.public_read = options.public_read;
    server_options.rate_limit = options.rate_limit;
    server_options.rate_burst = options.rate_burst;
    server_options.auth_failures_per_minute = options.auth_failure_limit;
    server_options.max_exports = options.max_exports;
    server_options.analytics_days = options.analytics_days;
    server = std::make_unique<api::ApiServer>(
        server_options, api::ServerDependencies{api_db, *searcher, metrics, follower.get()});
    if (Status s = server->Start(); !s.ok()) return Fail(s);
  }
  // Sources and targets must not reach this process itself; set before any of them runs.
  if (server) {
    auto guard = std::make_shared<NetworkGuard>(*CurrentNetworkGuard());
    guard->RefuseLocalPort(server->port(), "Octohub's own HTTP listener");
    InstallNetworkGuard(std::move(guard));
  }
  std::jthread index_thread;
  if (follower)
    index_thread = std::jthread([&](const std::stop_token& stop) { follower->Run(stop); });
  // Runs of different sources go in parallel, one per worker; one source never overlaps
  // itself (one active run per source, claimed with a lease).
  std::vector<std::jthread> ingest_threads;
  if (options.has_role("ingest")) {
    if (auto expired = ingest::RunQueue(db).ExpireLeasesOf(IsDeadLocalWorker); !expired.ok()) {
      log::Warn("ingest.recovery_failed", {{"reason", expired.status().message()}});
    } else if (*expired > 0) {
      log::Info("ingest.recovered_runs", {{"runs", *expired}});
    }
    const std::chrono::seconds lease(options.lease_seconds);
    for (int i = 1; i <= options.ingest_workers; ++i) {
      ingest_threads.emplace_back([&db, &metrics, i, lease, &options](const std::stop_token& stop) {
        IngestLoop(db, metrics, i, lease, options.max_page_bytes, stop);
      });
    }
  }
  std::jthread forward_thread;
  if (options.has_role("forward")) {
    forward::ForwarderOptions forward_options;
    forward_options.owner = WorkerId("forward");
    forward_options.is_dead_owner = IsDeadLocalWorker;
    forward_options.lease_s = options.lease_seconds;
    forward_thread = std::jthread([&db, &metrics, forward_options](const std::stop_token& stop) {
      forward::Forwarder(db, &metrics, forward_options).Run(stop);
    });
  }
  const std::string address = server ? options.listen.substr(0, options.listen.rfind(':')) + ":" +
                                           std::to_string(server->port())
                                     : std::string();
  int exit_code = 0;
  if (on_ready) {
    if (Status s = on_ready(db, address); !s.ok()) {
      log::Error("serve.ready_hook_failed", {{"reason", s.message()}});
      exit_code = 1;
      kill(getpid(), SIGTERM);  // stop as if asked to: everything started gets shut down
    }
  }
  log::Info("serve.ready", {{"listen", address}, {"data_dir", options.data_dir.string()}});

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  log::Info("serve.stopping", {{"signal", signal_number == SIGINT ? "SIGINT" : "SIGTERM"}});
  // A second signal while stopping means "now".
  std::thread([signals]() mutable {
    int again = 0;
    sigwait(&signals, &again);
    log::Warn("serve.forced_exit");
    _exit(1);
  }).detach();

  if (server) server->Shutdown();
  ingest_threads.clear();  // requests stop and joins: the page in hand is stored first
  forward_thread = {};     // requests in flight finish and are recorded; other leases are let go
  index_thread = {};
  follower.reset();  // the last batch is committed; the write lock is released
  replication = {};
  if (Status s = (*runtime)->Close(); !s.ok()) return Fail(s);
  log::Info("serve.stopped");
  return exit_code;
}

}  // namespace octohub::hub
