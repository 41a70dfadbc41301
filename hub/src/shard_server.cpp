// `octohub shard-server`: one index shard served to other machines by xapian-tcpsrv, which it
// runs and restarts. The index role writes it and every api searches it over Xapian's remote
// protocol (--index-remote).
#include <signal.h>  // NOLINT(modernize-deprecated-headers): POSIX sigwait/pthread_sigmask

#include <filesystem>

#include "commands.h"
#include "index_replication.h"
#include "octohub/core/log.h"
#include "octohub/indexer/indexer.h"

namespace octohub::hub {

int RunShardServer(const GlobalOptions& options) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto listen = ParseHostPort(options.listen, "listen");
  if (!listen.ok()) return Fail(listen.status());
  auto program = FindProgram("xapian-tcpsrv", "xapian-tools");
  if (!program.ok()) return Fail(program.status());
  const std::filesystem::path data_dir = std::filesystem::absolute(options.data_dir);
  const std::filesystem::path shard = data_dir / "shard";
  if (Status s = indexer::CreateShardDatabase(shard); !s.ok()) return Fail(s);
  if (auto warning = PublicBindWarning(listen->host, "index shard")) {
    log::Warn("shard_server.public_bind", {{"listen", options.listen}, {"reason", *warning}});
  }
  {
    // Each connection gets its own server process. Searchers keep idle connections in their
    // pools, so idle ones are not cut (a process that dies closes its own).
    SupervisedChild server(
        "xapian-tcpsrv",
        {*program, "--writable", "--interface=" + listen->host,
         "--port=" + std::to_string(listen->port), "--idle-timeout=0", "--quiet", shard.string()},
        data_dir / "shard-server.log");
    log::Info("shard_server.ready", {{"listen", options.listen}, {"shard", shard.string()}});
    int signal_number = 0;
    sigwait(&signals, &signal_number);
    log::Info("shard_server.stopping",
              {{"signal", signal_number == SIGINT ? "SIGINT" : "SIGTERM"}});
  }
  log::Info("shard_server.stopped");
  return 0;
}

}  // namespace octohub::hub
