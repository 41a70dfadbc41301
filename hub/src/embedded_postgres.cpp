#include "octohub/hub/embedded_postgres.h"

#include <arpa/inet.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <signal.h>  // NOLINT(modernize-deprecated-headers): POSIX kill
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <pqxx/pqxx>
#include <random>
#include <thread>

#include "octohub/core/log.h"
#include "process.h"

namespace octohub::hub {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kMaxSocketPath = 107;
constexpr const char* kSuperuser = "octohub";

struct PidFile {
  pid_t pid = 0;
  int port = 0;
  std::string status;  // "starting", "ready", "stopping", ...
  std::string command_line_dir;
};

std::optional<PidFile> ReadPidFile(const fs::path& dir) {
  std::ifstream in(dir / "postmaster.pid");
  if (!in) return std::nullopt;
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  PidFile file;
  if (lines.empty()) return file;
  file.pid = static_cast<pid_t>(std::atol(lines[0].c_str()));
  if (lines.size() > 3) file.port = std::atoi(lines[3].c_str());
  if (lines.size() > 7) {
    file.status = lines[7];
    file.status.erase(std::remove(file.status.begin(), file.status.end(), ' '), file.status.end());
  }
  return file;
}

// Whether pid is a PostgreSQL server started on dir (a pid from a stale file may have been
// reused by any other process after a crash or reboot).
bool IsServerFor(pid_t pid, const fs::path& dir) {
  if (!ProcessAlive(pid)) return false;
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (cmdline.empty()) return true;  // not readable: trust the live pid
  std::string program = cmdline.substr(0, cmdline.find('\0'));
  return fs::path(program).filename() == "postgres" &&
         cmdline.find(dir.string()) != std::string::npos;
}

std::string Conninfo(const fs::path& dir, int port, const std::string& database) {
  return "host=" + dir.string() + " port=" + std::to_string(port) + " user=" + kSuperuser +
         " dbname=" + database;
}

bool Answers(const fs::path& dir, int port) {
  return PQping((Conninfo(dir, port, "postgres") + " connect_timeout=2").c_str()) == PQPING_OK;
}

Result<int> FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Internal("cannot create a socket to find a free port");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  close(fd);
  if (port <= 0) return Unavailable("no free loopback port for PostgreSQL");
  return port;
}

// Whether user can search (traverse) path, checked as that user in a child process.
bool CanSearch(const UserIdentity& user, const fs::path& path) {
  pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    if (setgroups(user.groups.size(), user.groups.data()) != 0 || setgid(user.gid) != 0 ||
        setuid(user.uid) != 0) {
      _exit(2);
    }
    _exit(access(path.c_str(), X_OK) == 0 ? 0 : 1);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// The server user needs search permission on every directory above its cluster. Where it is
// missing (e.g. /root is 0700), grant exactly that to that one user with an ACL entry.
Status GrantTraversal(const UserIdentity& user, const fs::path& data_dir) {
  fs::path current;
  for (const auto& part : data_dir) {
    current /= part;
    if (CanSearch(user, current)) continue;
    SpawnOptions setfacl{
        .argv = {"/usr/bin/setfacl", "-m", "u:" + user.name + ":x", current.string()},
        .run_as = std::nullopt,
        .output_path = ""};
    auto code = SpawnAndWait(setfacl);
    if (!code.ok() || *code != 0 || !CanSearch(user, current)) {
      return FailedPrecondition(
          "the PostgreSQL server runs as \"" + user.name + "\", which cannot enter " +
          current.string() + "; allow it with `setfacl -m u:" + user.name + ":x " +
          current.string() + "` (package \"acl\") or choose a --data-dir it can reach");
    }
    log::Warn("postgres.granted_traversal",
              {{"directory", current.string()}, {"user", user.name}, {"permission", "x"}});
  }
  return Status::Ok();
}

Status PrepareDirectories(const fs::path& dir, const std::optional<UserIdentity>& user) {
  const fs::path data_dir = dir.parent_path();
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) {
    return FailedPrecondition("cannot create the data directory " + data_dir.string() + ": " +
                              ec.message());
  }
  if (access(data_dir.c_str(), W_OK | X_OK) != 0) {
    return FailedPrecondition("the data directory " + data_dir.string() +
                              " is not writable by this user");
  }
  if (!fs::exists(dir)) {
    if (mkdir(dir.c_str(), 0700) != 0) {
      return FailedPrecondition("cannot create " + dir.string() + ": " + std::strerror(errno));
    }
    if (user && chown(dir.c_str(), user->uid, user->gid) != 0) {
      return FailedPrecondition("cannot hand " + dir.string() + " to user " + user->name + ": " +
                                std::strerror(errno));
    }
  }
  struct stat info {};
  if (stat(dir.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    return FailedPrecondition(dir.string() + " is not a directory");
  }
  uid_t expected_owner = user ? user->uid : geteuid();
  if (info.st_uid != expected_owner) {
    return FailedPrecondition(dir.string() + " belongs to uid " + std::to_string(info.st_uid) +
                              " but the server runs as uid " + std::to_string(expected_owner) +
                              "; run octohub as the user that created it");
  }
  if (user) return GrantTraversal(*user, data_dir);
  return Status::Ok();
}

std::string RandomPassword() {
  std::random_device random;
  static constexpr char kAlphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::string out;
  for (int i = 0; i < 24; ++i) out += kAlphabet[random() % (sizeof(kAlphabet) - 1)];
  return out;
}

// initdb with trust over the private socket and a password (kept beside the cluster, readable
// only by us) for TCP, so other local users cannot log in through the loopback port.
Status InitCluster(const fs::path& bin, const fs::path& dir,
                   const std::optional<UserIdentity>& user) {
  const fs::path data_dir = dir.parent_path();
  if (!fs::is_empty(dir)) {
    return FailedPrecondition(dir.string() +
                              " is neither empty nor a PostgreSQL cluster (no PG_VERSION); "
                              "move it away and start again");
  }
  const std::string password = RandomPassword();
  const fs::path password_file = data_dir / "postgres-password";
  {
    std::ofstream out(password_file, std::ios::trunc);
    out << password << "\n";
    if (!out) return FailedPrecondition("cannot write " + password_file.string());
  }
  fs::permissions(password_file, fs::perms::owner_read | fs::perms::owner_write);
  // initdb wants an empty directory, so its password file waits beside the cluster.
  const fs::path pwfile = data_dir / ".initdb-password";
  {
    std::ofstream out(pwfile, std::ios::trunc);
    out << password << "\n";
  }
  fs::permissions(pwfile, fs::perms::owner_read | fs::perms::owner_write);
  if (user && chown(pwfile.c_str(), user->uid, user->gid) != 0) {
    return FailedPrecondition("cannot hand the password file to " + user->name);
  }
  const fs::path log_file = data_dir / "postgres-initdb.log";
  SpawnOptions initdb{
      .argv = {(bin / "initdb").string(), "-D", dir.string(), "-U", kSuperuser,
               "--auth-local=trust", "--auth-host=scram-sha-256", "--pwfile=" + pwfile.string(),
               "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions"},
      .run_as = user,
      .output_path = log_file.string()};
  log::Info("postgres.initdb", {{"cluster", dir.string()}});
  auto code = SpawnAndWait(initdb);
  std::error_code ignored;
  fs::remove(pwfile, ignored);
  if (!code.ok()) return code.status();
  if (*code != 0) {
    return FailedPrecondition("initdb failed (exit " + std::to_string(*code) +
                              "): " + FileTail(log_file.string()));
  }
  return Status::Ok();
}

// A server already running on dir, after discarding a stale pid file; nullopt when none.
Result<std::optional<PidFile>> RunningServer(const fs::path& dir, Clock::time_point deadline) {
  while (true) {
    auto file = ReadPidFile(dir);
    if (!file) return std::optional<PidFile>();
    if (file->pid > 0 && !IsServerFor(file->pid, dir)) {
      std::error_code ec;
      fs::remove(dir / "postmaster.pid", ec);
      log::Warn("postgres.stale_pid_file", {{"cluster", dir.string()}, {"pid", file->pid}});
      return std::optional<PidFile>();
    }
    if (file->status == "ready" && Answers(dir, file->port)) return std::optional<PidFile>(file);
    if (Clock::now() > deadline) {
      return Unavailable("a PostgreSQL server (pid " + std::to_string(file->pid) + ") holds " +
                         dir.string() + " but does not answer");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

bool WaitExit(pid_t pid, bool is_child, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (is_child) {
      int status = 0;
      pid_t done = waitpid(pid, &status, WNOHANG);
      if (done == pid || (done < 0 && errno == ECHILD)) return true;
    } else if (!ProcessAlive(pid)) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

Status StopPid(pid_t pid, bool is_child) {
  // SIGINT = fast shutdown; then immediate shutdown; then no choice left.
  for (auto [signal, wait] : {std::pair{SIGINT, 10000}, {SIGQUIT, 3000}, {SIGKILL, 3000}}) {
    if (kill(pid, signal) != 0 && errno == ESRCH) return Status::Ok();
    if (WaitExit(pid, is_child, std::chrono::milliseconds(wait))) return Status::Ok();
  }
  return Internal("PostgreSQL server " + std::to_string(pid) + " did not stop");
}

Status EnsureDatabase(const fs::path& dir, int port) {
  try {
    pqxx::connection connection(Conninfo(dir, port, "postgres"));
    pqxx::nontransaction tx(connection);
    if (tx.exec("SELECT 1 FROM pg_database WHERE datname = 'octohub'").empty()) {
      try {
        tx.exec0("CREATE DATABASE octohub");
      } catch (const pqxx::sql_error& e) {
        if (e.sqlstate() != "42P04") throw;  // created meanwhile by a concurrent start
      }
    }
    return Status::Ok();
  } catch (const std::exception& e) {
    return Unavailable(std::string("cannot create the octohub database: ") + e.what());
  }
}

}  // namespace

Result<fs::path> FindPostgresBinaries(const fs::path& preferred, const fs::path& search_root) {
  const std::string install =
      "install the Debian package \"postgresql\" (sudo apt-get install postgresql) or pass "
      "--database-url to use an existing server";
  auto usable = [](const fs::path& bin) {
    return access((bin / "postgres").c_str(), X_OK) == 0 &&
           access((bin / "initdb").c_str(), X_OK) == 0;
  };
  if (!preferred.empty()) {
    if (usable(preferred)) return preferred;
    return FailedPrecondition("no PostgreSQL server binaries (postgres, initdb) in " +
                              preferred.string() + "; " + install);
  }
  std::vector<fs::path> candidates;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(search_root, ec)) {
    if (usable(entry.path() / "bin")) candidates.push_back(entry.path() / "bin");
  }
  if (candidates.empty()) {
    return FailedPrecondition("PostgreSQL server binaries not found (looked in " +
                              search_root.string() + "/*/bin); " + install);
  }
  std::sort(candidates.begin(), candidates.end(), [](const fs::path& a, const fs::path& b) {
    return std::atoi(a.parent_path().filename().c_str()) <
           std::atoi(b.parent_path().filename().c_str());
  });
  return candidates.back();
}

Result<std::unique_ptr<EmbeddedPostgres>> EmbeddedPostgres::Start(
    const EmbeddedPostgresOptions& options) {
  auto bin = FindPostgresBinaries(options.bin_dir);
  if (!bin.ok()) return bin.status();
  auto user = ServerUserForCurrentProcess();
  if (!user.ok()) return user.status();
  const fs::path dir = fs::absolute(options.cluster_dir).lexically_normal();
  const std::string socket = (dir / ".s.PGSQL.65535").string();
  if (socket.size() > kMaxSocketPath) {
    return FailedPrecondition("the data directory path is too long for a PostgreSQL socket (" +
                              socket + " is over 107 bytes); choose a shorter --data-dir");
  }
  if (Status s = PrepareDirectories(dir, *user); !s.ok()) return s;
  if (!fs::exists(dir / "PG_VERSION")) {
    if (Status s = InitCluster(*bin, dir, *user); !s.ok()) return s;
  }

  const auto deadline = Clock::now() + options.start_timeout;
  const std::string log_file = (dir / "server.log").string();
  std::unique_ptr<EmbeddedPostgres> server(new EmbeddedPostgres());
  server->cluster_dir_ = dir;
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto running = RunningServer(dir, deadline);
    if (!running.ok()) return running.status();
    if (*running) {
      server->port_ = (*running)->port;
      server->pid_ = (*running)->pid;
      if (Status s = EnsureDatabase(dir, server->port_); !s.ok()) return s;
      log::Info("postgres.reused", {{"cluster", dir.string()}, {"port", server->port_}});
      return server;
    }
    auto port = FreeLoopbackPort();
    if (!port.ok()) return port.status();
    SpawnOptions spawn{
        .argv = {(*bin / "postgres").string(), "-D", dir.string(), "-p", std::to_string(*port),
                 "-k", dir.string(), "-c", "listen_addresses=127.0.0.1"},
        .run_as = *user,
        .output_path = log_file};
    for (const auto& [key, value] : options.settings) {
      spawn.argv.emplace_back("-c");
      spawn.argv.push_back(key + "=" + value);
    }
    if (options.stop_with_parent) spawn.parent_death_signal = SIGINT;
    const auto log_offset = fs::exists(log_file) ? fs::file_size(log_file) : 0;
    auto pid = Spawn(spawn);
    if (!pid.ok()) return pid.status();

    bool exited = false;
    while (Clock::now() < deadline) {
      int status = 0;
      if (waitpid(*pid, &status, WNOHANG) == *pid) {
        exited = true;
        break;
      }
      auto file = ReadPidFile(dir);
      if (file && file->pid == *pid && file->status == "ready" && Answers(dir, *port)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::string log_text = FileTail(log_file, 4000);
    if (fs::exists(log_file) && fs::file_size(log_file) >= log_offset) {
      std::ifstream in(log_file);
      in.seekg(static_cast<std::streamoff>(log_offset));
      log_text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    if (exited) {
      // Lost a race for the port or for the cluster itself: look again.
      if (log_text.find("could not bind") != std::string::npos ||
          log_text.find("lock file") != std::string::npos) {
        continue;
      }
      while (!log_text.empty() && log_text.back() == '\n') log_text.pop_back();
      return Unavailable("PostgreSQL did not start: " +
                         log_text.substr(log_text.size() > 2000 ? log_text.size() - 2000 : 0));
    }
    if (Clock::now() >= deadline) {
      StopPid(*pid, true).ok();
      return Status(StatusCode::kDeadlineExceeded,
                    "PostgreSQL did not become ready in time; see " + log_file);
    }
    server->port_ = *port;
    server->pid_ = *pid;
    server->started_here_ = true;
    server->is_child_ = true;
    server->stop_on_destroy_ = options.stop_with_parent;
    if (Status s = EnsureDatabase(dir, *port); !s.ok()) return s;
    log::Info("postgres.started", {{"cluster", dir.string()}, {"port", *port}, {"pid", *pid}});
    return server;
  }
  return Unavailable("PostgreSQL could not find a free port after several attempts");
}

EmbeddedPostgres::~EmbeddedPostgres() {
  if (stop_on_destroy_) Stop().ok();
}

std::string EmbeddedPostgres::conninfo(const std::string& database) const {
  return Conninfo(cluster_dir_, port_, database);
}

Status EmbeddedPostgres::Stop() {
  if (!started_here_ || pid_ == 0) return Status::Ok();
  Status status = StopPid(pid_, is_child_);
  if (status.ok()) log::Info("postgres.stopped", {{"cluster", cluster_dir_.string()}});
  pid_ = 0;
  stop_on_destroy_ = false;
  return status;
}

Status EmbeddedPostgres::StopCluster(const fs::path& cluster_dir) {
  const fs::path dir = fs::absolute(cluster_dir).lexically_normal();
  auto file = ReadPidFile(dir);
  if (!file || !IsServerFor(file->pid, dir)) return Status::Ok();
  return StopPid(file->pid, false);
}

}  // namespace octohub::hub
