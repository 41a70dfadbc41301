// A search request as one Xapian query: each source's words stemmed in its own language,
// date and number ranges, sources, record lists and facet filters. Private to indexer/.
#pragma once

#include <xapian.h>

#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "index_schema.h"
#include "octohub/core/status.h"
#include "octohub/indexer/searcher.h"
#include "typo_vocabulary.h"

namespace octohub::indexer {

const schema::Field* RequireField(const schema::FieldRegistry& fields, const std::string& name,
                                  std::initializer_list<schema::FieldKind> kinds, const char* use);

// Which stemming languages a query is parsed in. The primary one covers every searched source
// that no other language claims (including sources indexed before languages were recorded).
struct StemmingPlan {
  std::string primary = "english";
  std::map<std::string, std::vector<std::string>> others;  // language -> its sources

  std::vector<std::string> languages() const {
    std::vector<std::string> all{primary};
    for (const auto& entry : others) all.push_back(entry.first);
    return all;
  }
  const std::string& LanguageOf(const std::string& source,
                                const schema::SourceSettings& sources) const {
    auto it = sources.by_source().find(source);
    if (it != sources.by_source().end() && others.count(it->second.language) != 0) {
      return it->second.language;
    }
    return primary;
  }
};

// Ranking tiers (SPEC §4), added to the relevance of the records in them: a record whose
// title is the query ranks above one matching its words as written, which ranks above one
// whose whole title is a typo or two from the query, which ranks above one matching only
// through typos of single words. Relevance weights stay far below the smallest tier.
inline constexpr double kTitleTypoTier = 1e4;
inline constexpr double kExactTier = 1e6;
inline constexpr double kTitleTier = 1e8;
// A hit's weight with the tiers taken off: its relevance.
double RelevanceWithoutTiers(double weight);

// The request's q, sources, record list and filters as one Xapian query, each source's words
// stemmed in its own language, with typo tolerance from the vocabulary (none without one) and
// the ranking tiers. Throws Xapian errors as the parser does, and InvalidArgumentError for a
// field no source maps.
struct ParsedQuery {
  ParsedQuery(Xapian::Database& db, const SearchRequest& request,
              const TypoVocabulary* vocabulary = nullptr);

  const Xapian::Stem& StemmerFor(const std::string& source) const {
    return stemmers.at(plan.LanguageOf(source, sources));
  }

  schema::FieldRegistry fields;
  std::vector<std::unique_ptr<Xapian::RangeProcessor>> ranges;
  schema::SourceSettings sources;
  StemmingPlan plan;
  std::map<std::string, Xapian::Stem> stemmers;
  Xapian::QueryParser parser;
  Xapian::Query query;  // what the search runs
  Xapian::Query
      exact;  // the same without typo neighbours or tiers: does anything match as written?
  bool typos_used = false;  // some word got typo neighbours
};

// What a query's text must be before it is parsed: UTF-8, and short enough.
Status CheckQueryText(const std::string& q);

}  // namespace octohub::indexer
