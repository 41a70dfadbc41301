// SPEC §3 "Preview": a source tried before it is saved. Fetches a few pages exactly as a run
// would (auth, network guard, rate limit) and stores nothing.
#pragma once

#include <boost/json/object.hpp>
#include <memory>
#include <stop_token>

#include "octohub/core/database.h"
#include "octohub/core/source_spec.h"
#include "octohub/core/status.h"
#include "octohub/ingest/http_fetcher.h"

namespace octohub::ingest {

struct PreviewOptions {
  int pages = 3;           // 1 to 10
  int records = 20;        // records shown
  double max_wait_s = 10;  // the longest rate-limit wait a preview sits through
};

// A preview made ready to fetch: the source's secrets read, a child source's parent record
// chosen, the first request planned. Everything that can refuse the preview as a whole happens
// in Prepare, so a server can answer such problems with a status before it starts fetching,
// which may take a while and is best done off its request threads.
class SourcePreview {
 public:
  // Fails when the source cannot be asked at all: a secret that cannot be read, a child source
  // whose parent has no record. A child source is previewed for its parent's first record.
  // The fetcher must outlive the preview.
  static Result<std::unique_ptr<SourcePreview>> Prepare(const Database& db, const SourceSpec& spec,
                                                        HttpFetcher& fetcher,
                                                        const PreviewOptions& options,
                                                        std::stop_token stop = {});
  ~SourcePreview();
  SourcePreview(const SourcePreview&) = delete;
  SourcePreview& operator=(const SourcePreview&) = delete;

  // Fetches the pages: {"pages": [{"url", "status", "records", "next", "stopped_because",
  // "error"}], "records": [{"id", "data", "index"}], "duplicate_ids", "skipped": [{"reason",
  // "count"}], "suggested_index", "parent"}. A page that fails ends the preview with its error
  // in the answer. Once only.
  boost::json::object Run();

 private:
  struct State;
  explicit SourcePreview(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Prepare, then Run.
Result<boost::json::object> PreviewSource(const Database& db, const SourceSpec& spec,
                                          HttpFetcher& fetcher, const PreviewOptions& options,
                                          std::stop_token stop = {});

}  // namespace octohub::ingest
