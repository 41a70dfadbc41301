#include "typo_expansion.h"

#include <algorithm>
#include <set>

#include "index_schema.h"
#include "query_text.h"

namespace octohub::indexer {
namespace {

// A typo neighbour's weight next to the word's own: below it, and one edit above two.
constexpr double kOneEditWeight = 0.5;
constexpr double kTwoEditsWeight = 0.25;

bool IsCapital(char c) { return c >= 'A' && c <= 'Z'; }
bool AllDigits(const std::string& word) {
  return !word.empty() &&
         std::all_of(word.begin(), word.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

int AllowedEdits(std::size_t characters, int cap) {
  const int rule = characters >= 9 ? 2 : characters >= 5 ? 1 : 0;
  return cap < 0 ? rule : std::min(rule, cap);
}

Xapian::Query TypoExpansion::Expand(const Xapian::Query& parsed, const Xapian::QueryParser& parser,
                                    const Xapian::Stem& stemmer) {
  if (policy_.cap == 0) return parsed;
  parser_ = &parser;
  stemmer_ = &stemmer;
  return Rewrite(parsed);
}

Xapian::Query TypoExpansion::Rewrite(const Xapian::Query& query) {
  const auto type = query.get_type();
  if (type == Xapian::Query::LEAF_TERM) return RewriteTerm(query);
  std::size_t rewritten;  // how many leading subqueries may match on their own words
  switch (type) {
    case Xapian::Query::OP_AND:
    case Xapian::Query::OP_OR:
    case Xapian::Query::OP_XOR:
    case Xapian::Query::OP_AND_MAYBE:
      rewritten = query.get_num_subqueries();
      break;
    case Xapian::Query::OP_AND_NOT:  // what is excluded stays exact
    case Xapian::Query::OP_FILTER:   // filters are exact
      rewritten = 1;
      break;
    default:  // phrases, NEAR, wildcards, synonyms, ranges: exact
      return query;
  }
  std::vector<Xapian::Query> parts;
  for (std::size_t i = 0; i < query.get_num_subqueries(); ++i) {
    parts.push_back(i < rewritten ? Rewrite(query.get_subquery(i)) : query.get_subquery(i));
  }
  return Xapian::Query(type, parts.begin(), parts.end());
}

Xapian::Query TypoExpansion::RewriteTerm(const Xapian::Query& leaf) {
  const std::string term = *leaf.get_terms_begin();
  if (term.empty()) return leaf;
  // A word's term is either the word itself or "Z" and its stem; any other capital starts a
  // prefix (titles, facets, sources), whose values match exactly.
  const bool stemmed = term[0] == 'Z' && term.size() > 1 && !IsCapital(term[1]);
  if (IsCapital(term[0]) && !stemmed) return leaf;
  std::string word = term;
  if (stemmed) {
    auto unstemmed = parser_->unstem_begin(term);
    if (unstemmed == parser_->unstem_end(term)) return leaf;
    word = Xapian::Unicode::tolower(*unstemmed);
  }
  const int edits = AllowedEdits(CodePoints(word), policy_.cap);
  if (edits == 0 || AllDigits(word) || budget_ == 0) return leaf;
  std::vector<Xapian::Query> neighbours;
  std::set<std::string> seen{term};
  for (const NearWord& near : vocabulary_.Near(word, edits, 2 * kTyposPerWord)) {
    if (neighbours.size() == std::min(kTyposPerWord, budget_)) break;
    const std::string neighbour = stemmed ? "Z" + (*stemmer_)(near.word) : near.word;
    // The vocabulary may be a little behind the index: a word gone since is no neighbour.
    if (!seen.insert(neighbour).second || db_.get_termfreq(neighbour) == 0) continue;
    neighbours.emplace_back(Xapian::Query::OP_SCALE_WEIGHT, Xapian::Query(neighbour),
                            near.edits == 1 ? kOneEditWeight : kTwoEditsWeight);
  }
  if (neighbours.empty()) return leaf;
  budget_ -= neighbours.size();
  expanded_ = true;
  return Xapian::Query(
      Xapian::Query::OP_OR, leaf,
      WithoutSourcesOff(Xapian::Query(Xapian::Query::OP_OR, neighbours.begin(), neighbours.end())));
}

Xapian::Query TypoExpansion::WithoutSourcesOff(const Xapian::Query& typos) const {
  if (policy_.sources_off.empty()) return typos;
  return Xapian::Query(Xapian::Query::OP_AND_NOT, typos, schema::AnySource(policy_.sources_off));
}

std::optional<Xapian::Query> TypoExpansion::TitlesNear(const std::string& q,
                                                       const QueryText& read) {
  if (policy_.cap == 0 || !read.only_words) return std::nullopt;
  const std::string key = schema::TitleKey(q);
  const int edits = AllowedEdits(CodePoints(key), policy_.cap);
  if (edits == 0) return std::nullopt;
  std::vector<Xapian::Query> titles;
  // Numbers match exactly here too: "ticket 7" is not a typo of "ticket 17".
  auto digits = [](std::string_view text) {
    std::string only;
    for (const char c : text) {
      if (c >= '0' && c <= '9') only += c;
    }
    return only;
  };
  const std::string key_digits = digits(key);
  for (const NearWord& near : vocabulary_.NearTitles(key, edits, 4 * kTitlesPerQuery)) {
    if (titles.size() == kTitlesPerQuery) break;
    if (digits(near.word) != key_digits) continue;
    const std::string term = schema::TitleTerm(near.word);
    if (db_.get_termfreq(term) > 0) titles.emplace_back(term);
  }
  if (titles.empty()) return std::nullopt;
  expanded_ = true;
  return WithoutSourcesOff(Xapian::Query(Xapian::Query::OP_OR, titles.begin(), titles.end()));
}

Xapian::Query Boosted(const Xapian::Query& matches, double weight) {
  auto* fixed = new Xapian::FixedWeightPostingSource(weight);
  return Xapian::Query(Xapian::Query::OP_FILTER, Xapian::Query(fixed->release()), matches);
}

std::optional<Xapian::Query> TitlesStartingWith(const std::string& q, const QueryText& read,
                                                const Xapian::Database& db,
                                                const TypoVocabulary& vocabulary) {
  // A bonus below any tier, so that within one the shorter titles come first.
  constexpr double kNearerBonus = 50;
  const std::string key = schema::TitleKey(q);
  if (CodePoints(key) < 2 || !read.only_words) return std::nullopt;
  std::vector<Xapian::Query> titles;
  for (const std::string& title : vocabulary.TitlesStartingWith(key, kTitlesPerQuery)) {
    const std::string term = schema::TitleTerm(title);
    if (db.get_termfreq(term) == 0) continue;
    const double nearness = static_cast<double>(key.size()) / static_cast<double>(title.size());
    titles.push_back(Boosted(Xapian::Query(term), kNearerBonus * nearness));
  }
  if (titles.empty()) return std::nullopt;
  return Xapian::Query(Xapian::Query::OP_OR, titles.begin(), titles.end());
}

std::optional<std::string> SuggestQuery(const std::string& q, bool prefix,
                                        const Xapian::Database& db,
                                        const TypoVocabulary& vocabulary) {
  std::string suggestion;
  std::size_t copied = 0;
  bool changed = false;
  for (const QueryWord& at : ReadQueryText(q).words) {
    if (at.number) continue;
    const std::string word = Xapian::Unicode::tolower(q.substr(at.begin, at.end - at.begin));
    if (db.get_termfreq(word) > 0) continue;
    if (prefix && at.last && vocabulary.HasPrefix(word)) continue;
    // A suggestion reaches further than matching does: it is only offered, never applied.
    const std::size_t characters = CodePoints(word);
    const int edits = characters >= 5 ? 2 : characters >= 3 ? 1 : 0;
    auto near = vocabulary.Near(word, edits, 1);
    if (near.empty()) continue;
    suggestion.append(q, copied, at.begin - copied);
    suggestion += near.front().word;
    copied = at.end;
    changed = true;
  }
  if (!changed) return std::nullopt;
  suggestion.append(q, copied, std::string::npos);
  return suggestion;
}

}  // namespace octohub::indexer
