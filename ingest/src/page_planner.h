// Which request to send next, for each pagination style of SPEC §3, and why paging stopped.
// Pure; one per run (or per parent record of a child source).
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "octohub/core/source_spec.h"
#include "octohub/core/status.h"
#include "octohub/ingest/http_fetcher.h"
#include "page_extractor.h"

namespace octohub::ingest {

struct PageRequest {
  std::string url;
  std::optional<std::string> body;  // POST sources: the body with this page's paging values
};

class PagePlanner {
 public:
  // query: the source's query. incremental_cursor: the stored cursor of the source, sent as
  // incremental.param. credential_query: an auth query parameter, its secret already read;
  // it goes only to URLs of the source's own origin.
  PagePlanner(const SourceSpec& spec, NamedValues query,
              std::optional<std::string> incremental_cursor, NamedValues credential_query = {});

  // The first page's request; fails when the source URL cannot be parsed.
  Result<PageRequest> First();

  // The request after a page, or nullopt when paging is done (see stop_reason()). A cursor or
  // link seen before is an error: the upstream would make us loop forever; so is a numbered
  // page holding exactly the records of the page before it (an upstream that ignores the page
  // parameter).
  Result<std::optional<PageRequest>> Next(const ExtractedPage& page, const HttpResponse& response);

  std::int64_t pages_planned() const { return pages_; }
  // Whether paging stopped at max_pages while the upstream had more: not a complete pass.
  bool truncated() const { return truncated_; }
  // Why the last Next() answered nullopt, for people ("an empty page", "has_more is false").
  const std::string& stop_reason() const { return stop_reason_; }

  // What the correctness guards need: records the pages held, the total the API reported
  // last, and the first page shorter than the size asked that more pages followed.
  std::int64_t records_seen() const { return records_seen_; }
  std::optional<std::int64_t> reported_total() const { return reported_total_; }
  std::optional<std::int64_t> first_short_page() const { return first_short_page_; }

 private:
  // A request with these paging values: in the query string, or written into the body.
  Result<PageRequest> Build(std::optional<boost::json::value> paging) const;
  // The stop conditions the source names, read from the page and the response.
  std::optional<std::string> StopCondition(const ExtractedPage& page, const HttpResponse& response);
  Result<std::optional<PageRequest>> Stop(std::string reason);

  const SourceSpec& spec_;
  NamedValues query_;
  NamedValues credential_query_;
  std::optional<boost::json::value> body_;  // POST: the source's body, parsed
  std::string origin_;                      // the source URL's
  std::int64_t pages_ = 0;
  std::int64_t offset_ = 0;  // offset paging: where the next page starts
  bool truncated_ = false;
  std::string stop_reason_;
  std::string current_url_;
  std::set<std::string> seen_;  // cursors or URLs already followed
  std::string previous_ids_;    // page/offset: the ids of the page before, hashed
  std::int64_t records_seen_ = 0;
  std::optional<std::int64_t> reported_total_;
  std::optional<std::int64_t> first_short_page_;
  bool previous_short_ = false;
};

// The target of the rel="next" link in an RFC 8288 Link header, if any.
std::optional<std::string> NextLink(std::string_view link_header);

// Writes `value` at `pointer` into `document`, creating missing objects on the way; fails
// when the path crosses a value that is not an object (or an array with that index).
Status SetAtPointer(boost::json::value& document, std::string_view pointer,
                    boost::json::value value);

}  // namespace octohub::ingest
