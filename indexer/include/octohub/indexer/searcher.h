// The read side of the index: what api/ and `octohub search` use.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "octohub/core/status.h"

namespace octohub::indexer {

struct SearchRequest {
  std::string q;                     // Xapian query syntax; empty = every record
  std::vector<std::string> sources;  // empty = all
  int page = 1;                      // from 1
  int per_page = 20;                 // 1..100
  bool prefix = false;               // the last word is a prefix (search as you type)
  // Typo tolerance: -1 auto (SPEC §4: 1 edit from 5 characters, 2 from 9), 0 off, 1 or 2 at
  // most that many edits.
  int typos = -1;
  bool exact_total = false;         // count the whole match set
  std::vector<std::string> facets;  // facet fields to count over the whole match set
  // Exact facet filters: several values of one field match any of them; fields combine.
  std::vector<std::pair<std::string, std::string>> filters;
  std::string sort;  // "", "relevance", "FIELD" or "-FIELD" (date or number)
  // Non-empty: only these (source, id) records can match (rules test a freshly indexed batch).
  std::vector<std::pair<std::string, std::string>> among;
  bool ids_only = false;  // hits carry source and id only: no snippet, title or fields
};

// The typos= setting as SearchRequest::typos: "auto", "0", "1" or "2"; kInvalidArgument else.
Result<int> ParseTypos(const std::string& text);

struct SearchHit {
  std::string source;
  std::string id;
  double score = 0;
  std::string title;
  std::string snippet;  // HTML-escaped apart from <mark> tags
  std::string updated_at;
  boost::json::object fields;
};

struct SearchResponse {
  std::string query;
  std::int64_t total = 0;
  bool total_exact = false;
  double took_ms = 0;
  int page = 1;
  int per_page = 20;
  std::vector<SearchHit> hits;
  boost::json::object facets;
  std::optional<std::string> suggestion;
};

// Thread-safe: searches run in parallel, each on its own reader that is reopened to the
// latest commit first. kInvalidArgument for a query that cannot be parsed or is not UTF-8,
// and for facets, filters or sorts on fields no source maps; kUnavailable while no index
// exists.
class Searcher {
 public:
  virtual ~Searcher() = default;
  virtual Result<SearchResponse> Search(const SearchRequest& request) = 0;
  // Whether an index can be opened now (for readiness checks).
  virtual bool Ready() = 0;
  struct Stats {
    std::int64_t documents = 0;
    std::int64_t checkpoint = 0;  // the last change sequence in every shard of the index
    struct Shard {
      std::int64_t documents = 0;
      std::int64_t checkpoint = 0;
    };
    std::vector<Shard> shards;
    // What a client can search by: each source with its document count, and each mapped
    // field with its kind ("facet", "date" or "number"), both sorted by name.
    std::vector<std::pair<std::string, std::int64_t>> sources;
    std::vector<std::pair<std::string, std::string>> fields;
  };
  virtual Result<Stats> ReadStats() = 0;

  // Every match of the request's q, sources and filters (paging, facets and sort are
  // ignored), in index order, in batches so memory stays flat: visit(source, id) returns
  // false to stop early (the result is then kCancelled). Errors as for Search.
  using MatchVisitor = std::function<bool(const std::string& source, const std::string& id)>;
  virtual Status ForEachMatch(const SearchRequest& request, const MatchVisitor& visit) = 0;
};

// remote_shards: shards served by `octohub shard-server` ("host:port"), searched with the
// local ones; while one does not answer, searches are kUnavailable and name it.
std::unique_ptr<Searcher> OpenSearcher(const std::filesystem::path& index_dir,
                                       std::vector<std::string> remote_shards = {});

}  // namespace octohub::indexer
