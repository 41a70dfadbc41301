// octohub-bench-freshness: how soon records written by ingest become searchable while an index
// writer (`octohub serve --roles index`) follows the same database.
//   --rate N      records per second, written in batches through ingest's record store
//   --seconds S   how long the steady load lasts
//   --first ID    the first record number (records ID, ID+1, … of the source "bench")
//   INDEX_DIR     the writer's index directory, read as the API reads it
// For each batch, freshness is the time from its commit to the first moment a reader of the
// index sees a checkpoint at or past the batch's last change. Prints
// "freshness batches N records M p50 X ms p99 Y ms max Z ms".
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "issue_generator.h"
#include "octohub/core/change_feed.h"
#include "octohub/core/database.h"
#include "octohub/indexer/searcher.h"
#include "octohub/ingest/record_store.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kBatchEvery = std::chrono::milliseconds(50);
constexpr auto kPollEvery = std::chrono::milliseconds(2);

struct Options {
  std::string database_url;
  std::string index_dir;
  std::string sentences;
  int rate = 2000;
  int seconds = 30;
  std::int64_t first = 1;
};

struct Batch {
  Clock::time_point committed;
  std::int64_t last_change = 0;
  Clock::time_point searchable{};
};

double Percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const auto at = static_cast<size_t>(p / 100 * static_cast<double>(values.size() - 1));
  return values[at];
}

int Run(const Options& options) {
  const octohub::Database db(options.database_url);
  const octohub::bench::IssueGenerator generator(
      options.sentences.empty() ? std::vector<std::string>()
                                : octohub::bench::ReadSentences(options.sentences));
  auto searcher = octohub::indexer::OpenSearcher(options.index_dir);
  std::mutex mutex;
  std::vector<Batch> batches;
  std::atomic<bool> writing{true};
  // Batches not searchable this long after the load ends are reported as never.
  constexpr auto kGiveUpAfter = std::chrono::seconds(30);

  // The reader: polls the index's checkpoint as the API's searcher sees it.
  std::jthread reader([&] {
    std::optional<Clock::time_point> ended;
    for (;;) {
      const bool last_round = !writing.load();
      if (last_round && !ended) ended = Clock::now();
      if (ended && Clock::now() - *ended > kGiveUpAfter) return;
      auto stats = searcher->ReadStats();
      const auto now = Clock::now();
      if (stats.ok()) {
        std::lock_guard lock(mutex);
        for (auto& batch : batches) {
          if (batch.searchable == Clock::time_point{} && stats->checkpoint >= batch.last_change) {
            batch.searchable = now;
          }
        }
        const bool all = std::all_of(batches.begin(), batches.end(), [](const Batch& b) {
          return b.searchable != Clock::time_point{};
        });
        if (last_round && all) return;
      }
      std::this_thread::sleep_for(kPollEvery);
    }
  });

  const int per_batch = std::max(1, static_cast<int>(options.rate * kBatchEvery.count() / 1000));
  const auto start = Clock::now();
  std::int64_t next = options.first;
  std::int64_t written = 0;
  for (auto due = start; due < start + std::chrono::seconds(options.seconds); due += kBatchEvery) {
    std::this_thread::sleep_until(due);
    std::vector<octohub::ingest::RecordToStore> page;
    page.reserve(static_cast<size_t>(per_batch));
    for (int i = 0; i < per_batch; ++i, ++next) {
      page.push_back({std::to_string(next), generator.Record(next)});
    }
    auto stored = octohub::ingest::StoreRecords(db, "bench", page);
    const auto committed = Clock::now();
    if (!stored.ok()) {
      std::cerr << "octohub-bench-freshness: " << stored.status().ToString() << "\n";
      writing = false;
      return 1;
    }
    auto last = octohub::WithConnection(db, "reading the last change",
                                        [](pqxx::connection& c) -> octohub::Result<std::int64_t> {
                                          pqxx::read_transaction tx(c);
                                          return octohub::LastChangeSeq(tx);
                                        });
    if (!last.ok()) {
      writing = false;
      return 1;
    }
    written += per_batch;
    std::lock_guard lock(mutex);
    batches.push_back({committed, *last});
  }
  writing = false;
  reader.join();
  std::vector<double> waits;
  waits.reserve(batches.size());
  for (const auto& batch : batches) {
    if (batch.searchable == Clock::time_point{}) {
      std::cerr << "octohub-bench-freshness: change " << batch.last_change
                << " never became searchable\n";
      return 1;
    }
    waits.push_back(
        std::chrono::duration<double, std::milli>(batch.searchable - batch.committed).count());
  }
  std::printf("freshness batches %zu records %lld p50 %.0f ms p99 %.0f ms max %.0f ms\n",
              batches.size(), static_cast<long long>(written), Percentile(waits, 50),
              Percentile(waits, 99), Percentile(waits, 100));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"Ingest-to-searchable freshness under a steady load"};
  app.add_option("--database-url", options.database_url, "the hub's database")->required();
  app.add_option("--sentences", options.sentences, "real text, one sentence a line");
  app.add_option("--rate", options.rate, "records per second")->check(CLI::PositiveNumber);
  app.add_option("--seconds", options.seconds, "length of the load")->check(CLI::PositiveNumber);
  app.add_option("--first", options.first, "the first record number")->check(CLI::PositiveNumber);
  app.add_option("index_dir", options.index_dir, "the writer's index directory")->required();
  CLI11_PARSE(app, argc, argv);
  return Run(options);
}
