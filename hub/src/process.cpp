#include "process.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>  // NOLINT(modernize-deprecated-headers): POSIX kill/sigprocmask
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace octohub::hub {

Result<std::optional<UserIdentity>> ServerUserForCurrentProcess() {
  if (geteuid() != 0) return std::optional<UserIdentity>();
  // PostgreSQL refuses to run as root, so the server runs as the user Debian's package makes.
  const char* kUser = "postgres";
  struct passwd* pw = getpwnam(kUser);
  if (pw == nullptr) {
    return FailedPrecondition(
        "running as root needs the unprivileged user \"postgres\" to run the embedded "
        "PostgreSQL server; install the Debian package \"postgresql\" (it creates the user) or "
        "pass --database-url");
  }
  UserIdentity user{kUser, pw->pw_uid, pw->pw_gid, {}};
  int count = 64;
  user.groups.resize(count);
  if (getgrouplist(kUser, pw->pw_gid, user.groups.data(), &count) < 0) {
    user.groups.resize(count);
    getgrouplist(kUser, pw->pw_gid, user.groups.data(), &count);
  }
  user.groups.resize(count);
  return std::optional<UserIdentity>(user);
}

Result<pid_t> Spawn(const SpawnOptions& options) {
  if (options.argv.empty()) return InvalidArgument("no program to start");
  // Everything the child needs is prepared before fork: after it only async-signal-safe calls.
  std::vector<char*> argv;
  for (const auto& arg : options.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  const char* output = options.output_path.empty() ? "/dev/null" : options.output_path.c_str();
  pid_t parent = getpid();

  pid_t pid = fork();
  if (pid < 0) return Internal(std::string("fork failed: ") + std::strerror(errno));
  if (pid > 0) return pid;

  // Child.
  if (options.own_process_group) setpgid(0, 0);
  // The output file is opened with our own rights, before dropping them.
  int in = open("/dev/null", O_RDONLY);
  int out = open(output, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (in < 0 || out < 0) _exit(126);
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);
  if (options.run_as) {
    const auto& u = *options.run_as;
    if (setgroups(u.groups.size(), u.groups.data()) != 0 || setgid(u.gid) != 0 ||
        setuid(u.uid) != 0) {
      _exit(126);
    }
  }
  if (options.parent_death_signal != 0) {
    // Set after setuid: changing credentials clears the death signal.
    prctl(PR_SET_PDEATHSIG, options.parent_death_signal);
    if (getppid() != parent) _exit(1);
  }
  if (chdir("/") != 0) _exit(126);
  dup2(in, 0);
  dup2(out, 1);
  dup2(out, 2);
  syscall(SYS_close_range, 3, ~0U, 0);
  execv(argv[0], argv.data());
  _exit(127);
}

Result<int> SpawnAndWait(const SpawnOptions& options) {
  auto pid = Spawn(options);
  if (!pid.ok()) return pid.status();
  int status = 0;
  while (waitpid(*pid, &status, 0) < 0) {
    if (errno != EINTR) return Internal(std::string("waitpid failed: ") + std::strerror(errno));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

std::string FileTail(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  if (text.size() > max_bytes) text = text.substr(text.size() - max_bytes);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

namespace {
std::string Hostname() {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  return host;
}
}  // namespace

std::string WorkerId(const std::string& role) {
  return Hostname() + ":" + std::to_string(getpid()) + ":" + role;
}

bool IsDeadLocalWorker(const std::string& owner) {
  const auto first = owner.find(':');
  const auto second = owner.find(':', first + 1);
  if (first == std::string::npos || second == std::string::npos) return false;
  if (owner.substr(0, first) != Hostname()) return false;  // elsewhere: wait for lease expiry
  const pid_t pid = std::atoi(owner.substr(first + 1, second - first - 1).c_str());
  return pid > 0 && pid != getpid() && !ProcessAlive(pid);
}

bool ProcessAlive(pid_t pid) {
  if (pid <= 0) return false;
  if (kill(pid, 0) == 0) return true;
  return errno == EPERM;
}

}  // namespace octohub::hub
