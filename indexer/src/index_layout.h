// The index directory: generations of shards behind Xapian stub files. Private to indexer/.
//   index/XAPIANDB               "auto gen-000005/shard-00", a line per shard: what searchers
//                                open, every shard as one database
//   index/gen-000005/shard-NN/   one shard, a glass database
//   index/shards/NN/XAPIANDB     "auto ../../gen-000005/shard-NN": a name for each shard that
//                                outlives generations, which replicas copy
// A replica's index directory holds shards/NN/ (copies kept by xapian-replicate) and its own
// XAPIANDB naming them.
#pragma once

#include <xapian.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "octohub/core/status.h"
#include "octohub/indexer/indexer.h"

namespace octohub::indexer {

inline constexpr const char* kStubFile = "XAPIANDB";
inline constexpr int kMaxShards = kMaxIndexShards;

struct IndexLayout {
  std::string generation;  // "gen-000005"
  int shards = 0;          // 0: a generation from before shards, one database of its own
  // Shards served elsewhere by xapian-tcpsrv ("host:port"), after the local ones in the
  // routing; written and searched over Xapian's remote protocol, not named in the stub.
  std::vector<std::string> remote;
  int total() const { return shards + static_cast<int>(remote.size()); }
};

// The layout the stub names, or nullopt when there is no index yet.
std::optional<IndexLayout> CurrentLayout(const std::filesystem::path& index_dir);

// A generation name greater than every one present.
std::string NextGeneration(const std::filesystem::path& index_dir);

std::filesystem::path ShardDir(const std::filesystem::path& index_dir,
                               const std::string& generation, int shard);
// "shards/NN", relative to the index directory.
std::string ShardName(int shard);

// Which shard of `shards` holds a record; the same on every machine and in every version.
int ShardOf(std::string_view source, std::string_view id, int shards);

// Replaces dir/XAPIANDB with these lines, atomically (by rename) and durably.
Status WriteStub(const std::filesystem::path& dir, const std::vector<std::string>& lines);

// Points the shard names and then the stub at the layout's generation, and removes
// generations older than the one it replaces (readers may still be on that one for a moment)
// and the names of shards the layout no longer has.
Status SwapTo(const std::filesystem::path& index_dir, const IndexLayout& layout);

// The databases of a stub file, opened: `auto` lines (paths relative to the stub's directory,
// each a database or a directory with a stub of its own). Throws Xapian::Error.
std::vector<Xapian::Database> OpenStub(const std::filesystem::path& index_dir);

// A shard served by xapian-tcpsrv at "host:port", for reading or (--writable) writing; the
// connection is given up after a few seconds. Throws Xapian::Error, with a message naming the
// shard when it does not answer.
Xapian::Database OpenRemoteShard(const std::string& address);
Xapian::WritableDatabase OpenWritableRemoteShard(const std::string& address);

// The stub files a reader of index_dir depends on (its own and those of the directories it
// names): when one is replaced, the reader must open the index afresh.
std::vector<std::filesystem::path> StubFiles(const std::filesystem::path& index_dir);

}  // namespace octohub::indexer
