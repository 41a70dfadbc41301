// Typo tolerance (SPEC §4): each plain word of a parsed query also matches the indexed words a
// typo or two away, at a lower weight; and the suggestion a query that found nothing gets.
// Private to indexer/.
#pragma once

#include <xapian.h>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "query_text.h"
#include "typo_vocabulary.h"

namespace octohub::indexer {

// Bounds on the expansion, so that a query of fifty misspelt words stays cheap: typo
// neighbours per word, and per query (the first words get theirs first).
inline constexpr std::size_t kTyposPerWord = 8;
inline constexpr std::size_t kTyposPerQuery = 32;
inline constexpr std::size_t kTitlesPerQuery = 8;

// Edits a word of this many characters may be away: none below 5, 1 up to 8, 2 from 9;
// `cap` (0, 1 or 2; -1 for none) lowers it.
int AllowedEdits(std::size_t characters, int cap);

struct TypoPolicy {
  int cap = -1;                          // the request's typos=: -1 auto, 0 off, 1 or 2
  std::vector<std::string> sources_off;  // sources whose index says "typos": false
};

class TypoExpansion {
 public:
  TypoExpansion(const Xapian::Database& db, const TypoVocabulary& vocabulary, TypoPolicy policy)
      : db_(db), vocabulary_(vocabulary), policy_(std::move(policy)) {}

  // `parsed` with each term of a word (stemmed or not, outside phrases, field values,
  // wildcards and what NOT excludes) OR-ed with its typo neighbours' terms, stemmed by the
  // same stemmer, at a lower weight (one edit above two). parser is the one that parsed it:
  // it knows which word each stemmed term came from.
  Xapian::Query Expand(const Xapian::Query& parsed, const Xapian::QueryParser& parser,
                       const Xapian::Stem& stemmer);
  // Records whose whole title is a typo or two away from the whole query (the SPEC's rule
  // applied to the query's length), when the query is nothing but words: "nva-api" finds
  // "nova-api" though "nva" is too short for a typo of its own. At most kTitlesPerQuery
  // titles, the nearest and most frequent first; nullopt when none.
  std::optional<Xapian::Query> TitlesNear(const std::string& q, const QueryText& read);
  // Whether any word or title got neighbours so far.
  bool expanded() const { return expanded_; }

 private:
  Xapian::Query Rewrite(const Xapian::Query& query);
  Xapian::Query RewriteTerm(const Xapian::Query& leaf);
  Xapian::Query WithoutSourcesOff(const Xapian::Query& typos) const;

  const Xapian::Database& db_;
  const TypoVocabulary& vocabulary_;
  const TypoPolicy policy_;
  const Xapian::QueryParser* parser_ = nullptr;
  const Xapian::Stem* stemmer_ = nullptr;
  std::size_t budget_ = kTyposPerQuery;
  bool expanded_ = false;
};

// For a prefix search of nothing but words: the records whose whole title starts with the
// query, the shorter titles (nearer the query) weighted higher, so that
// "golang-github-eapache-go-x" finds its package among thousands of matches. At most
// kTitlesPerQuery; nullopt when none.
std::optional<Xapian::Query> TitlesStartingWith(const std::string& q, const QueryText& read,
                                                const Xapian::Database& db,
                                                const TypoVocabulary& vocabulary);

// Every document `matches` selects gets `weight`, and nothing else from it: how the ranking
// tiers and bonuses are added.
Xapian::Query Boosted(const Xapian::Query& matches, double weight);

// The query with each plain word that no record holds replaced by its nearest indexed
// neighbour (up to 2 edits from 5 characters, 1 from 3), field names, values, phrases,
// operators and ranges untouched; nullopt when no word changes. With prefix, a last word that
// begins some indexed word is left as it is.
std::optional<std::string> SuggestQuery(const std::string& q, bool prefix,
                                        const Xapian::Database& db,
                                        const TypoVocabulary& vocabulary);

}  // namespace octohub::indexer
