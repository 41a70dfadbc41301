// PostgreSQL LISTEN/NOTIFY channels: the modules that meet at tables wake each other here.
#pragma once

namespace octohub {

// Records changed (payload: the source); the indexer listens.
inline constexpr const char* kRecordsChannel = "octohub_records";
// Runs queued (payload: the source, or empty); ingest workers listen.
inline constexpr const char* kRunsChannel = "octohub_runs";
// Deliveries committed to the outbox (payload: the target); forwarders listen.
inline constexpr const char* kDeliveriesChannel = "octohub_deliveries";

}  // namespace octohub
