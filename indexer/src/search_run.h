// One search over an open Xapian database, on disk or in memory: the query parsed and run,
// hits ranked and paged, facets counted. Private to indexer/.
#pragma once

#include <xapian.h>

#include <exception>

#include "octohub/indexer/searcher.h"
#include "typo_vocabulary.h"

namespace octohub::indexer {

// Throws what Xapian throws: QueryParserError and InvalidArgumentError for a request that
// cannot be answered (an unparseable query, a field no source maps), DatabaseModifiedError
// when a commit overtook the reader (reopen and run again).
// Typos are tolerated and suggestions made from `vocabulary`; without one, neither.
SearchResponse RunSearch(Xapian::Database& db, const SearchRequest& request,
                         const TypoVocabulary* vocabulary);

// RunSearch with its failures as statuses (see Searcher::Search); DatabaseModifiedError is
// still thrown, for the caller to reopen and retry.
Result<SearchResponse> SearchOnce(Xapian::Database& db, const SearchRequest& request,
                                  const TypoVocabulary* vocabulary);

// The status for an exception a search threw: kInvalidArgument for the request's faults,
// kUnavailable for the index's, kInternal for a document that cannot be read.
Status SearchFailure(const std::exception_ptr& failure);

}  // namespace octohub::indexer
