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
                                const schema::SourceLanguages& languages) const {
    auto it = languages.by_source().find(source);
    if (it != languages.by_source().end() && others.count(it->second) != 0) return it->second;
    return primary;
  }
};

// The request's q, sources, record list and filters as one Xapian query, each source's words
// stemmed in its own language. The primary parser is kept: it knows the spelling correction
// of what it parsed. Throws Xapian errors as the parser does.
struct ParsedQuery {
  ParsedQuery(Xapian::Database& db, const SearchRequest& request);

  const Xapian::Stem& StemmerFor(const std::string& source) const {
    return stemmers.at(plan.LanguageOf(source, languages));
  }

  schema::FieldRegistry fields;
  std::vector<std::unique_ptr<Xapian::RangeProcessor>> ranges;
  schema::SourceLanguages languages;
  StemmingPlan plan;
  std::map<std::string, Xapian::Stem> stemmers;
  Xapian::QueryParser parser;
  Xapian::Query query;
};

// What a query's text must be before it is parsed: UTF-8, and short enough.
Status CheckQueryText(const std::string& q);

}  // namespace octohub::indexer
