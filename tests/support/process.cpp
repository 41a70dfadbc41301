#include "process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

extern char** environ;

namespace octohub::testing {
namespace {

using Clock = std::chrono::steady_clock;

pid_t SpawnWithPipes(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                     int* out_fd, int* err_fd) {
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  std::vector<std::string> environment;
  for (char** e = environ; *e != nullptr; ++e) environment.emplace_back(*e);
  for (const auto& e : env) environment.push_back(e);
  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const auto& e : environment) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_RDONLY);
    dup2(null, 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  *out_fd = out[0];
  *err_fd = err[0];
  return pid;
}

int DecodeStatus(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

std::string OctohubBinary() { return OCTOHUB_BINARY; }

ProcessResult RunProcess(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                         const std::vector<std::string>& env) {
  ProcessResult result;
  int out_fd = -1, err_fd = -1;
  pid_t pid = SpawnWithPipes(argv, env, &out_fd, &err_fd);
  const auto deadline = Clock::now() + timeout;
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  int open_fds = 2;
  char buffer[65536];
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    if (poll(fds, 2, static_cast<int>(left.count())) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      ssize_t n = read(fds[i].fd, buffer, sizeof(buffer));
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? result.out : result.err).append(buffer, n);
      }
    }
  }
  for (auto& fd : fds) {
    if (fd.fd >= 0) close(fd.fd);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = DecodeStatus(status);
  return result;
}

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv,
                                     const std::vector<std::string>& env) {
  int out_fd = -1;
  pid_ = SpawnWithPipes(argv, env, &out_fd, &stderr_fd_);
  close(out_fd);  // the child's stdout writes fail quietly; octohub serve logs on stderr
  reader_ = std::thread([this] {
    char buffer[8192];
    while (true) {
      ssize_t n = read(stderr_fd_, buffer, sizeof(buffer));
      std::lock_guard lock(mutex_);
      if (n <= 0) {
        eof_ = true;
        changed_.notify_all();
        return;
      }
      stderr_.append(buffer, n);
      changed_.notify_all();
    }
  });
}

BackgroundProcess::~BackgroundProcess() {
  if (!exit_code_) {
    kill(pid_, SIGKILL);
    WaitExit(std::chrono::seconds(10));
  }
  if (reader_.joinable()) reader_.join();
  close(stderr_fd_);
}

std::optional<std::string> BackgroundProcess::WaitForLine(const std::string& needle,
                                                          std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  std::optional<std::string> found;
  changed_.wait_for(lock, timeout, [&] {
    size_t at = stderr_.find(needle);
    if (at != std::string::npos) {
      size_t start = stderr_.rfind('\n', at);
      start = start == std::string::npos ? 0 : start + 1;
      size_t end = stderr_.find('\n', at);
      if (end == std::string::npos) return false;  // the line is not complete yet
      found = stderr_.substr(start, end - start);
      return true;
    }
    return eof_;
  });
  return found;
}

void BackgroundProcess::Signal(int signal) { kill(pid_, signal); }

std::optional<int> BackgroundProcess::WaitExit(std::chrono::milliseconds timeout) {
  if (exit_code_) return exit_code_;
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_code_ = DecodeStatus(status);
      return exit_code_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::nullopt;
}

std::string BackgroundProcess::stderr_text() const {
  std::lock_guard lock(mutex_);
  return stderr_;
}

}  // namespace octohub::testing
