// Which URL to fetch next, for each pagination style of SPEC §3. Pure; one per run.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "octohub/core/source_spec.h"
#include "octohub/core/status.h"
#include "octohub/ingest/http_fetcher.h"
#include "page_extractor.h"

namespace octohub::ingest {

class PagePlanner {
 public:
  // query: the source's query. incremental_cursor: the stored cursor of the source, sent as
  // incremental.param. credential_query: an auth query parameter, its secret already read;
  // it goes only to URLs of the source's own origin.
  PagePlanner(const SourceSpec& spec, NamedValues query,
              std::optional<std::string> incremental_cursor, NamedValues credential_query = {});

  // The first page's URL; fails when the source URL cannot be parsed.
  Result<std::string> FirstUrl();

  // The next URL after a page, or nullopt when paging is done (an empty page, no next
  // cursor or link, max_pages reached). A cursor or link seen before is an error: the
  // upstream would make us loop forever; so is a numbered page holding exactly the records
  // of the page before it (an upstream that ignores the page parameter).
  Result<std::optional<std::string>> NextUrl(const ExtractedPage& page,
                                             const HttpResponse& response);

  std::int64_t pages_planned() const { return pages_; }
  // Whether paging stopped at max_pages while the upstream had more: not a complete pass.
  bool truncated() const { return truncated_; }

 private:
  Result<std::string> BuildUrl(const NamedValues& paging) const;

  const SourceSpec& spec_;
  NamedValues query_;
  NamedValues credential_query_;
  std::string origin_;  // the source URL's
  std::int64_t pages_ = 0;
  bool truncated_ = false;
  std::string current_url_;
  std::set<std::string> seen_;  // cursors or URLs already followed
  std::string previous_ids_;    // page/offset: the ids of the page before, hashed
};

// The target of the rel="next" link in an RFC 8288 Link header, if any.
std::optional<std::string> NextLink(std::string_view link_header);

}  // namespace octohub::ingest
