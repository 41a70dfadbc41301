#include "generations.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <set>

#include "octohub/core/log.h"

namespace octohub::indexer {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kGenerationPrefix = "gen-";

std::set<std::string> Generations(const fs::path& index_dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(index_dir, ec)) {
    std::string name = entry.path().filename().string();
    if (entry.is_directory() && name.rfind(kGenerationPrefix, 0) == 0) out.insert(name);
  }
  return out;
}

}  // namespace

std::optional<std::string> CurrentGeneration(const fs::path& index_dir) {
  std::ifstream in(index_dir / kStubFile);
  std::string backend, generation;
  if (!(in >> backend >> generation) || backend != "auto") return std::nullopt;
  return generation;
}

std::string NextGeneration(const fs::path& index_dir) {
  auto all = Generations(index_dir);
  int next = all.empty() ? 1 : std::stoi(all.rbegin()->substr(kGenerationPrefix.size())) + 1;
  char name[32];
  std::snprintf(name, sizeof(name), "gen-%06d", next);
  return name;
}

Status SwapTo(const fs::path& index_dir, const std::string& generation) {
  auto previous = CurrentGeneration(index_dir);
  const fs::path temp = index_dir / (std::string(kStubFile) + ".tmp");
  {
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return Internal("cannot write " + temp.string());
    std::string text = "auto " + generation + "\n";
    bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                   ::fsync(fd) == 0;
    ::close(fd);
    if (!written) return Internal("cannot write " + temp.string());
  }
  std::error_code ec;
  fs::rename(temp, index_dir / kStubFile, ec);
  if (ec) return Internal("cannot swap the index stub: " + ec.message());
  for (const auto& name : Generations(index_dir)) {
    // Only older ones: a newer generation may be a rebuild still in progress.
    if (name < generation && (!previous || name < *previous)) {
      fs::remove_all(index_dir / name, ec);
    }
  }
  log::Info("index.generation", {{"current", generation}});
  return Status::Ok();
}

}  // namespace octohub::indexer
