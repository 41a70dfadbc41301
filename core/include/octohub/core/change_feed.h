// The change feed: every write to records (and every source tombstone) takes the next value
// of record_change_seq, and readers (the indexer, rules) follow the feed by that number. The
// modules that meet at these tables wake each other with LISTEN/NOTIFY on the channels below.
#pragma once

#include <cstdint>
#include <pqxx/pqxx>
#include <string>

namespace octohub {

// Records changed (payload: the source); the indexer listens.
inline constexpr const char* kRecordsChannel = "octohub_records";
// Runs queued (payload: the source, or empty); ingest workers listen.
inline constexpr const char* kRunsChannel = "octohub_runs";
// Deliveries committed to the outbox (payload: the target); forwarders listen.
inline constexpr const char* kDeliveriesChannel = "octohub_deliveries";

// LISTENs on `channel` over `c` for as long as it lives; each notification sets `flag`, which
// the listener's loop clears when it has acted on it.
class ChannelWakeup final : public pqxx::notification_receiver {
 public:
  ChannelWakeup(pqxx::connection& c, const char* channel, bool& flag)
      : notification_receiver(c, channel), flag_(flag) {}
  void operator()(const std::string&, int) override { flag_ = true; }

 private:
  bool& flag_;
};

// Change sequences must become visible in the order they are handed out, or a reader could
// move its checkpoint past a sequence whose transaction has not committed yet. Writers take
// this transaction-level lock just before numbering and hold it to commit.
inline void LockChangeFeed(pqxx::transaction_base& tx) {
  tx.exec("SELECT pg_advisory_xact_lock(7022136337812264771)");
}

// The last change numbered so far (0 before the first). Under LockChangeFeed every change up
// to it is committed, so "changes after now" starts exactly there.
inline std::int64_t LastChangeSeq(pqxx::transaction_base& tx) {
  return tx.exec1("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM record_change_seq")[0]
      .as<std::int64_t>();
}

// How many records changed after `checkpoint`: what a follower at that checkpoint has still
// to take in.
inline std::int64_t ChangesAfter(pqxx::transaction_base& tx, std::int64_t checkpoint) {
  return tx.exec_params1("SELECT count(*) FROM records WHERE change_seq > $1", checkpoint)[0]
      .as<std::int64_t>();
}

}  // namespace octohub
