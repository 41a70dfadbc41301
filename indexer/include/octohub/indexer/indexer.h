// The index writer side: follows records in PostgreSQL by change sequence and keeps the
// Xapian index equal to them.
//
// The index is split into shards, each a Xapian database written by its own thread; a record
// lives in shard hash(source, id) mod N, and searches read every shard as one database. The
// index directory holds generations (gen-NNNNNN/shard-NN/) behind a Xapian stub file
// (XAPIANDB) that names the current one's shards; a rebuild writes a new generation and swaps
// the stub, so readers never see a half-built index. Each shard's commit stores the last
// indexed change sequence in its own metadata, atomically with its documents; the index's
// checkpoint is the lowest of them, so after a crash at any point the follower resumes from
// what every shard holds. Replacing documents by a unique id term makes replays harmless.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "octohub/core/database.h"
#include "octohub/core/metrics.h"
#include "octohub/core/status.h"

namespace octohub::indexer {

struct FollowerOptions {
  int shards = 1;  // local ones, 1 to kMaxIndexShards
  // Shards served by `octohub shard-server` elsewhere ("host:port"), written over Xapian's
  // remote protocol after the local ones; every searcher must be given the same list.
  std::vector<std::string> remote_shards;
  int batch_size = 2000;                          // records per commit (of every shard)
  std::chrono::milliseconds poll_interval{1000};  // fallback when no notification comes
  // Called on the follower's thread after each commit, with the new checkpoint (the last
  // change sequence now searchable); forwarding rules hang off it. Must not throw.
  std::function<void(std::int64_t checkpoint)> on_commit;
  // Counts failed catch-ups as octohub_index_errors_total (nullptr = not counted).
  Metrics* metrics = nullptr;
};

inline constexpr int kMaxIndexShards = 64;
// Records per shard in each commit of a rebuild.
inline constexpr int kRebuildBatchPerShard = 10000;

// Catch-ups failing this many times in a row make the index unready: new records are no
// longer becoming searchable, and /readyz must say so.
inline constexpr int kIndexFailuresUntilUnready = 3;

// Exactly one follower may write an index directory (Xapian's write lock enforces it).
// Not thread-safe: one thread calls CatchUp/Run.
class IndexFollower {
 public:
  IndexFollower(const Database& db, std::filesystem::path index_dir, FollowerOptions options = {});
  ~IndexFollower();

  // Opens the current generation, creating the first one, or a fresh one when the index was
  // built from another database or in an older layout. A complete index split into another
  // number of shards keeps being searched while a new split is built from PostgreSQL, and is
  // replaced when that has caught up. Fails when another process holds the write lock.
  Status Open();

  // Indexes every change past the checkpoint, batch by batch until stop is requested;
  // returns the number of records processed.
  Result<std::int64_t> CatchUp(std::stop_token stop = {});

  // Catches up whenever ingest notifies (LISTEN) or the poll interval passes, until stop.
  // Errors (PostgreSQL down, say) are logged and retried; the index is committed on return.
  void Run(const std::stop_token& stop);

  // As of the last commit; safe from any thread.
  std::int64_t checkpoint() const;
  std::int64_t document_count() const;
  int shards() const;  // of the generation being written

  // How many catch-ups in a row have failed (0 after a success); safe from any thread.
  int consecutive_failures() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Builds a fresh generation of `shards` shards from PostgreSQL, every shard in parallel, and
// swaps it in; searches keep being served from the old generation until the swap. A running
// follower notices the swap and continues on the new generation. Returns the number of
// records indexed.
// Remote shards are emptied and rebuilt in place: searches see them partly built meanwhile.
Result<std::int64_t> RebuildIndex(const Database& db, const std::filesystem::path& index_dir,
                                  int shards = 1,
                                  const std::vector<std::string>& remote_shards = {});

// Creates an empty shard database at dir for `octohub shard-server` to serve (an existing
// one is kept).
Status CreateShardDatabase(const std::filesystem::path& dir);

// Copies of the index on API replicas. The writer's replication server serves its index
// directory, where shard i is named ReplicatedShardName(i) whatever the generation; a replica
// copies each into its own index directory under the same name. The copy of shard 0 says how
// many shards there are, and once every copy has arrived PointAtReplicatedShards makes them
// the replica's index.
std::string ReplicatedShardName(int shard);
// 0 while no copy of shard 0 has arrived.
int ReplicatedShardCount(const std::filesystem::path& index_dir);
// Whether the replica's index now names every one of the `shards` copies (false while some
// has not arrived: the stub is left as it was).
Result<bool> PointAtReplicatedShards(const std::filesystem::path& index_dir, int shards);

}  // namespace octohub::indexer
