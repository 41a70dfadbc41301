#include "index_layout.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>

#include "index_schema.h"
#include "octohub/core/content_hash.h"
#include "octohub/core/log.h"

namespace octohub::indexer {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kGenerationPrefix = "gen-";
constexpr std::string_view kShardPrefix = "shard-";

std::set<std::string> Generations(const fs::path& index_dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(index_dir, ec)) {
    std::string name = entry.path().filename().string();
    if (entry.is_directory() && name.rfind(kGenerationPrefix, 0) == 0) out.insert(name);
  }
  return out;
}

std::string TwoDigits(int n) {
  char text[8];
  std::snprintf(text, sizeof(text), "%02d", n);
  return text;
}

// The "auto" paths of a stub file, in order; other lines are not written by octohub.
std::vector<std::string> AutoPaths(const fs::path& stub) {
  std::vector<std::string> paths;
  std::ifstream in(stub);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("auto ", 0) == 0) paths.push_back(line.substr(5));
  }
  return paths;
}

}  // namespace

std::optional<IndexLayout> CurrentLayout(const fs::path& index_dir) {
  const auto paths = AutoPaths(index_dir / kStubFile);
  if (paths.empty()) return std::nullopt;
  IndexLayout layout;
  const std::string& first = paths.front();
  const size_t slash = first.find('/');
  layout.generation = first.substr(0, slash);
  if (slash == std::string::npos) return layout;  // one database, from before shards
  for (const auto& path : paths) {
    const std::string expected =
        layout.generation + "/" + std::string(kShardPrefix) + TwoDigits(layout.shards);
    if (path != expected) return std::nullopt;  // not written by this version
    ++layout.shards;
  }
  return layout;
}

std::string NextGeneration(const fs::path& index_dir) {
  auto all = Generations(index_dir);
  int next = all.empty() ? 1 : std::stoi(all.rbegin()->substr(kGenerationPrefix.size())) + 1;
  char name[32];
  std::snprintf(name, sizeof(name), "gen-%06d", next);
  return name;
}

fs::path ShardDir(const fs::path& index_dir, const std::string& generation, int shard) {
  return index_dir / generation / (std::string(kShardPrefix) + TwoDigits(shard));
}

std::string ShardName(int shard) { return "shards/" + TwoDigits(shard); }

int ShardOf(std::string_view source, std::string_view id, int shards) {
  if (shards <= 1) return 0;
  std::string key;
  key.reserve(source.size() + 1 + id.size());
  key.append(source).push_back('\0');
  key.append(id);
  return static_cast<int>(StableHash64(key) % static_cast<std::uint64_t>(shards));
}

Status WriteStub(const fs::path& dir, const std::vector<std::string>& lines) {
  const fs::path temp = dir / (std::string(kStubFile) + ".tmp");
  {
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return Internal("cannot write " + temp.string());
    std::string text;
    for (const auto& line : lines) text += line + "\n";
    bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                   ::fsync(fd) == 0;
    ::close(fd);
    if (!written) return Internal("cannot write " + temp.string());
  }
  std::error_code ec;
  fs::rename(temp, dir / kStubFile, ec);
  if (ec) return Internal("cannot replace " + (dir / kStubFile).string() + ": " + ec.message());
  return Status::Ok();
}

Status SwapTo(const fs::path& index_dir, const IndexLayout& layout) {
  auto previous = CurrentLayout(index_dir);
  std::error_code ec;
  std::vector<std::string> lines;
  lines.reserve(static_cast<size_t>(layout.shards));
  for (int shard = 0; shard < layout.shards; ++shard) {
    const std::string path = layout.generation + "/" + std::string(kShardPrefix) + TwoDigits(shard);
    const fs::path name = index_dir / ShardName(shard);
    fs::create_directories(name, ec);
    if (ec) return Internal("cannot create " + name.string() + ": " + ec.message());
    if (Status s = WriteStub(name, {"auto ../../" + path}); !s.ok()) return s;
    lines.push_back("auto " + path);
  }
  if (Status s = WriteStub(index_dir, lines); !s.ok()) return s;
  for (const auto& name : Generations(index_dir)) {
    // Only older ones: a newer generation may be a rebuild still in progress.
    if (name < layout.generation && (!previous || name < previous->generation)) {
      fs::remove_all(index_dir / name, ec);
    }
  }
  for (int shard = layout.shards; fs::exists(index_dir / ShardName(shard), ec); ++shard) {
    fs::remove_all(index_dir / ShardName(shard), ec);
  }
  log::Info("index.generation", {{"current", layout.generation}, {"shards", layout.shards}});
  return Status::Ok();
}

std::vector<Xapian::Database> OpenStub(const fs::path& index_dir) {
  std::vector<Xapian::Database> shards;
  for (const auto& path : AutoPaths(index_dir / kStubFile)) {
    shards.emplace_back((index_dir / path).string());
  }
  if (shards.empty()) {
    throw Xapian::DatabaseOpeningError("the index stub names no database");
  }
  return shards;
}

namespace {

constexpr unsigned kRemoteTimeoutMs = 10000;  // for an answer to each message
constexpr unsigned kRemoteConnectMs = 2000;   // for the connection

std::pair<std::string, unsigned> HostAndPort(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    throw Xapian::InvalidArgumentError("index shard \"" + address + "\" is not host:port");
  }
  const std::string port = address.substr(colon + 1);
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) == 0 ||
      std::stoi(port) > 65535) {
    throw Xapian::InvalidArgumentError("index shard \"" + address + "\" is not host:port");
  }
  return {address.substr(0, colon), static_cast<unsigned>(std::stoi(port))};
}

template <typename Open>
auto Reach(const std::string& address, Open&& open) {
  const auto [host, port] = HostAndPort(address);
  try {
    return open(host, port);
  } catch (const Xapian::NetworkError& e) {
    throw Xapian::NetworkError(
        "index shard " + address +
        " does not answer (is its octohub shard-server running?): " + e.get_msg());
  }
}

}  // namespace

Xapian::Database OpenRemoteShard(const std::string& address) {
  return Reach(address, [](const std::string& host, unsigned port) {
    return Xapian::Remote::open(host, port, kRemoteTimeoutMs, kRemoteConnectMs);
  });
}

Xapian::WritableDatabase OpenWritableRemoteShard(const std::string& address) {
  return Reach(address, [](const std::string& host, unsigned port) {
    return Xapian::Remote::open_writable(host, port, kRemoteTimeoutMs, kRemoteConnectMs);
  });
}

std::vector<fs::path> StubFiles(const fs::path& index_dir) {
  std::vector<fs::path> files{index_dir / kStubFile};
  for (const auto& path : AutoPaths(index_dir / kStubFile)) {
    fs::path nested = index_dir / path / kStubFile;
    std::error_code ec;
    if (fs::exists(nested, ec)) files.push_back(std::move(nested));
  }
  return files;
}

std::string ReplicatedShardName(int shard) { return ShardName(shard); }

int ReplicatedShardCount(const fs::path& index_dir) {
  try {
    Xapian::Database first((index_dir / ShardName(0)).string());
    const std::string count = first.get_metadata(schema::kShardsKey);
    return count.empty() ? 0 : std::clamp(std::stoi(count), 0, kMaxShards);
  } catch (const Xapian::Error&) {
    return 0;  // not copied yet, or being replaced this moment
  } catch (const std::logic_error&) {
    return 0;  // not a number: not written by this version
  }
}

Result<bool> PointAtReplicatedShards(const fs::path& index_dir, int shards) {
  std::vector<std::string> names;
  names.reserve(static_cast<size_t>(shards));
  std::error_code ec;
  for (int shard = 0; shard < shards; ++shard) {
    if (!fs::exists(index_dir / ShardName(shard) / kStubFile, ec)) return false;
    names.push_back(ShardName(shard));
  }
  if (AutoPaths(index_dir / kStubFile) == names) return true;
  std::vector<std::string> lines;
  lines.reserve(names.size());
  for (const auto& name : names) lines.push_back("auto " + name);
  if (Status s = WriteStub(index_dir, lines); !s.ok()) return s;
  log::Info("index.replica_shards", {{"shards", shards}});
  return true;
}

}  // namespace octohub::indexer
