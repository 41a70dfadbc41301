// Wildcards and prefixes expanded over the whole index before matching. Xapian expands a
// parsed wildcard inside each shard on its own, so a word would weigh differently with each
// split of the index; expanded here, from every shard's words at once, it weighs as in one
// database. Private to indexer/.
#pragma once

#include <xapian.h>

namespace octohub::indexer {

// A wildcard or a prefix expands to at most this many terms, the most frequent ones: "a*"
// over a large index would otherwise OR together every word starting with "a".
inline constexpr Xapian::termcount kMaxExpansion = 200;

// `parsed` with each wildcard replaced by its expansion in db: the same operator over the
// (at most kMaxExpansion most frequent) terms that start with its pattern.
Xapian::Query ExpandWildcards(const Xapian::Query& parsed, const Xapian::Database& db);

}  // namespace octohub::indexer
