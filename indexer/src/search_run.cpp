#include "search_run.h"

#include <boost/json.hpp>

#include "facet_counter.h"
#include "index_schema.h"
#include "query_builder.h"
#include "typo_expansion.h"

namespace octohub::indexer {
namespace json = boost::json;
namespace {

constexpr size_t kSnippetLength = 240;
constexpr size_t kFacetValues = 100;  // values reported per facet, the most frequent first

bool IsBlank(const std::string& text) {
  return text.find_first_not_of(" \t\r\n") == std::string::npos;
}

bool MatchesAny(Xapian::Database& db, const Xapian::Query& query) {
  Xapian::Enquire enquire(db);
  enquire.set_query(query);
  enquire.set_weighting_scheme(Xapian::BoolWeight());
  return enquire.get_mset(0, 0, 1).get_matches_lower_bound() > 0;
}

}  // namespace

SearchResponse RunSearch(Xapian::Database& db, const SearchRequest& request,
                         const TypoVocabulary* vocabulary) {
  ParsedQuery parsed(db, request, vocabulary);
  const schema::FieldRegistry& fields = parsed.fields;
  Xapian::Enquire enquire(db);
  enquire.set_query(parsed.query);
  // Ties are broken by the order key, not by document id: ids interleave shards, and an
  // answer must not depend on how many there are.
  Xapian::MultiValueKeyMaker by_field;
  if (!request.sort.empty() && request.sort != "relevance") {
    const bool descending = request.sort[0] == '-';
    const std::string name = descending ? request.sort.substr(1) : request.sort;
    const auto* field = RequireField(
        fields, name, {schema::FieldKind::kDate, schema::FieldKind::kNumber}, "sort by");
    by_field.add_value(field->slot, descending);
    by_field.add_value(schema::kOrderSlot);
    enquire.set_sort_by_key(&by_field, false);
  } else {
    enquire.set_sort_by_relevance_then_value(schema::kOrderSlot, false);
  }
  std::vector<std::pair<std::string, std::unique_ptr<FacetCounter>>> spies;
  for (const auto& name : request.facets) {
    const auto* field = RequireField(fields, name, {schema::FieldKind::kFacet}, "count");
    spies.emplace_back(name, std::make_unique<FacetCounter>(field->slot));
    enquire.add_matchspy(spies.back().second.get());
  }
  const Xapian::doccount offset =
      static_cast<Xapian::doccount>((request.page - 1) * request.per_page);
  // Facet counts are exact: they need the whole match set, as an exact total does.
  const Xapian::doccount check_at_least =
      request.exact_total || !spies.empty() ? db.get_doccount() : 0;
  Xapian::MSet mset = enquire.get_mset(offset, request.per_page, check_at_least);

  SearchResponse response;
  response.query = request.q;
  response.page = request.page;
  response.per_page = request.per_page;
  response.total = mset.get_matches_estimated();
  response.total_exact = mset.get_matches_lower_bound() == mset.get_matches_upper_bound();
  if (response.total_exact) response.total = mset.get_matches_lower_bound();
  for (auto it = mset.begin(); it != mset.end(); ++it) {
    json::value data = json::parse(it.get_document().get_data());
    const json::object& stored = data.as_object();
    SearchHit hit;
    hit.source = json::value_to<std::string>(stored.at("source"));
    hit.id = json::value_to<std::string>(stored.at("id"));
    hit.score = RelevanceWithoutTiers(it.get_weight());
    if (request.ids_only) {
      response.hits.push_back(std::move(hit));
      continue;
    }
    hit.title = json::value_to<std::string>(stored.at("title"));
    hit.updated_at = json::value_to<std::string>(stored.at("updated_at"));
    hit.fields = stored.at("fields").as_object();
    const std::string text = json::value_to<std::string>(stored.at("text"));
    // No background model: it looks up the frequency of every word of every hit, most of a
    // search's time, to pick a slightly better window.
    hit.snippet =
        mset.snippet(text.empty() ? hit.title : text, kSnippetLength, parsed.StemmerFor(hit.source),
                     Xapian::MSet::SNIPPET_EXHAUSTIVE, "<mark>", "</mark>", "…");
    response.hits.push_back(std::move(hit));
  }
  for (const auto& [name, spy] : spies) {
    json::object counts;
    for (auto& [value, count] : spy->Top(kFacetValues)) counts[value] = count;
    response.facets[name] = std::move(counts);
  }
  // A suggestion only when nothing matched the words as written.
  if (vocabulary != nullptr && !IsBlank(request.q) &&
      (response.total == 0 || (parsed.typos_used && !MatchesAny(db, parsed.exact)))) {
    response.suggestion = SuggestQuery(request.q, request.prefix, db, *vocabulary);
  }
  return response;
}

Result<SearchResponse> SearchOnce(Xapian::Database& db, const SearchRequest& request,
                                  const TypoVocabulary* vocabulary) {
  try {
    return RunSearch(db, request, vocabulary);
  } catch (const Xapian::DatabaseModifiedError&) {
    throw;
  } catch (...) {
    return SearchFailure(std::current_exception());
  }
}

Status SearchFailure(const std::exception_ptr& failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const Xapian::QueryParserError& e) {
    return InvalidArgument("the query cannot be parsed: " + e.get_msg());
  } catch (const Xapian::InvalidArgumentError& e) {
    return InvalidArgument(e.get_msg());
  } catch (const Xapian::DatabaseCorruptError& e) {
    return Unavailable("search failed: the index is damaged (`octohub reindex` rebuilds it): " +
                       e.get_msg());
  } catch (const Xapian::Error& e) {
    return Unavailable(std::string("search failed: ") + e.get_type() + ": " + e.get_msg());
  } catch (...) {
    // A document whose stored data does not parse: only a damaged or foreign index has one.
    return Internal(
        "the search index holds a document it cannot read; octohub reindex rebuilds it");
  }
}

}  // namespace octohub::indexer
