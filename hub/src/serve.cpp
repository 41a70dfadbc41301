#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <pqxx/pqxx>
#include <random>
#include <thread>

#include "commands.h"
#include "octohub/api/keys.h"
#include "octohub/api/server.h"
#include "octohub/core/channels.h"
#include "octohub/core/log.h"
#include "octohub/indexer/indexer.h"
#include "octohub/ingest/ingest.h"
#include "process.h"
#include "runtime.h"

namespace octohub::hub {
namespace {

// Takes queued runs one at a time; woken by NOTIFY when a run is queued, else polls.
void IngestLoop(const Database& db, Metrics& metrics, int number, std::stop_token stop) {
  ingest::IngestWorker worker(db, ingest::MakeCurlFetcher(),
                              WorkerId("ingest-" + std::to_string(number)), {}, &metrics);
  ingest::RunQueue queue(db);
  class Wakeup : public pqxx::notification_receiver {
   public:
    explicit Wakeup(pqxx::connection& c) : notification_receiver(c, kRunsChannel) {}
    void operator()(const std::string&, int) override {}
  };
  std::unique_ptr<pqxx::connection> listener;
  std::unique_ptr<Wakeup> wakeup;
  while (!stop.stop_requested()) {
    if (auto due = queue.EnqueueDue(); !due.ok()) {
      log::Error("ingest.schedule_error", {{"reason", due.status().message()}});
    }
    auto run = worker.RunNextQueued(stop);
    if (!run.ok()) log::Error("ingest.worker_error", {{"reason", run.status().message()}});
    if (run.ok() && *run) continue;  // there may be more queued
    try {
      if (!listener) {
        auto connection = db.Connect();
        if (connection.ok()) {
          listener = std::move(*connection);
          wakeup = std::make_unique<Wakeup>(*listener);
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

  std::unique_ptr<indexer::IndexFollower> follower;
  if (options.has_role("index")) {
    follower = std::make_unique<indexer::IndexFollower>(db, options.index_dir());
    if (Status s = follower->Open(); !s.ok()) return Fail(s);
  }
  auto searcher = indexer::OpenSearcher(options.index_dir());
  Metrics metrics;
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
    api::ServerOptions server_options{
        {options.listen, options.http_threads, options.workers, options.max_body, nullptr},
        options.public_read,
        options.max_exports};
    server = std::make_unique<api::ApiServer>(server_options,
                                              api::ServerDependencies{db, *searcher, metrics});
    if (Status s = server->Start(); !s.ok()) return Fail(s);
  }
  std::jthread index_thread;
  if (follower) index_thread = std::jthread([&](std::stop_token stop) { follower->Run(stop); });
  // Runs of different sources go in parallel, one per worker; one source never overlaps
  // itself (one active run per source, claimed with a lease).
  std::vector<std::jthread> ingest_threads;
  if (options.has_role("ingest")) {
    if (auto expired = ingest::RunQueue(db).ExpireLeasesOf(IsDeadLocalWorker); !expired.ok()) {
      log::Warn("ingest.recovery_failed", {{"reason", expired.status().message()}});
    } else if (*expired > 0) {
      log::Info("ingest.recovered_runs", {{"runs", *expired}});
    }
    for (int i = 1; i <= options.ingest_workers; ++i) {
      ingest_threads.emplace_back(
          [&db, &metrics, i](std::stop_token stop) { IngestLoop(db, metrics, i, stop); });
    }
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
  index_thread = {};
  follower.reset();  // the last batch is committed; the write lock is released
  if (Status s = (*runtime)->Close(); !s.ok()) return Fail(s);
  log::Info("serve.stopped");
  return exit_code;
}

}  // namespace octohub::hub
