#include "query_builder.h"

#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <set>
#include <tuple>

#include "query_text.h"
#include "synonyms.h"
#include "typo_expansion.h"
#include "wildcard_expansion.h"

namespace octohub::indexer {
namespace {

constexpr size_t kMaxQueryBytes = 4096;

// "updated:2024-01-01..2024-06-30": dates as days or RFC 3339 times, a bare end day inclusive.
class DateRange : public Xapian::RangeProcessor {
 public:
  DateRange(unsigned slot, const std::string& prefix) : Xapian::RangeProcessor(slot, prefix) {}
  Xapian::Query operator()(const std::string& begin, const std::string& end) override {
    std::optional<double> from, to;
    if (!begin.empty() && !(from = schema::ParseTimestamp(begin))) return Invalid();
    if (!end.empty() && !(to = schema::ParseTimestamp(end))) return Invalid();
    if (to && end.size() == 10) *to += 86400 - 0.001;  // through the end of that day
    if (from && to) {
      return Xapian::Query(Xapian::Query::OP_VALUE_RANGE, slot, Xapian::sortable_serialise(*from),
                           Xapian::sortable_serialise(*to));
    }
    if (from)
      return Xapian::Query(Xapian::Query::OP_VALUE_GE, slot, Xapian::sortable_serialise(*from));
    if (to) return Xapian::Query(Xapian::Query::OP_VALUE_LE, slot, Xapian::sortable_serialise(*to));
    return Invalid();
  }

 private:
  static Xapian::Query Invalid() { return Xapian::Query(Xapian::Query::OP_INVALID); }
};

StemmingPlan PlanStemming(const schema::SourceSettings& sources,
                          const std::vector<std::string>& searched) {
  std::map<std::string, std::vector<std::string>> by_language;
  for (const auto& [source, settings] : sources.by_source()) {
    const std::string& language = settings.language;
    if (searched.empty() || std::find(searched.begin(), searched.end(), source) != searched.end()) {
      by_language[language].push_back(source);
    }
  }
  StemmingPlan plan;
  size_t most = 0;
  for (const auto& [language, sources] : by_language) {
    if (sources.size() > most || (sources.size() == most && language == "english")) {
      most = sources.size();
      plan.primary = language;
    }
  }
  by_language.erase(plan.primary);
  plan.others = std::move(by_language);
  return plan;
}

Xapian::QueryParser MakeParser(Xapian::Database& db, const schema::FieldRegistry& fields,
                               const std::vector<std::unique_ptr<Xapian::RangeProcessor>>& ranges,
                               const Xapian::Stem& stemmer) {
  Xapian::QueryParser parser;
  parser.set_database(db);
  parser.set_stemmer(stemmer);
  parser.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
  parser.set_default_op(Xapian::Query::OP_AND);
  parser.set_max_expansion(kMaxExpansion, Xapian::Query::WILDCARD_LIMIT_MOST_FREQUENT,
                           Xapian::QueryParser::FLAG_WILDCARD | Xapian::QueryParser::FLAG_PARTIAL);
  parser.add_prefix("title", std::string(schema::kTitlePrefix));
  parser.add_boolean_prefix("source", std::string(schema::kSourcePrefix));
  for (const auto& [name, field] : fields.fields()) {
    if (field.kind == schema::FieldKind::kFacet) {
      parser.add_boolean_prefix(name, schema::FacetPrefix(name));
    }
  }
  for (const auto& range : ranges) parser.add_rangeprocessor(range.get());
  return parser;
}

}  // namespace

const schema::Field* RequireField(const schema::FieldRegistry& fields, const std::string& name,
                                  std::initializer_list<schema::FieldKind> kinds, const char* use) {
  const schema::Field* field = fields.Find(name);
  if (field == nullptr || std::find(kinds.begin(), kinds.end(), field->kind) == kinds.end()) {
    std::string known;
    for (const auto& [other, f] : fields.fields()) {
      if (std::find(kinds.begin(), kinds.end(), f.kind) != kinds.end()) {
        known += (known.empty() ? "" : ", ") + other;
      }
    }
    throw Xapian::InvalidArgumentError("cannot " + std::string(use) + " \"" + name +
                                       "\": no source maps it as such a field" +
                                       (known.empty() ? std::string() : " (try: " + known + ")"));
  }
  return field;
}

namespace {

// A `name:` no source maps would be searched as words by the parser: refuse it instead.
void CheckFieldNames(const QueryText& read, const schema::FieldRegistry& fields) {
  for (const auto& name : read.fields) {
    if (name == "title" || name == "source" || fields.Find(name) != nullptr) continue;
    std::string known = "title, source";
    for (const auto& [other, field] : fields.fields()) known += ", " + other;
    throw Xapian::InvalidArgumentError("no source maps the field \"" + name +
                                       "\"; fields that can be searched: " + known);
  }
}

}  // namespace

double RelevanceWithoutTiers(double weight) {
  for (const double tier : {kTitleTier, kExactTier, kTitleTypoTier}) {
    if (weight >= tier) weight -= tier;
  }
  return weight;
}

ParsedQuery::ParsedQuery(Xapian::Database& db, const SearchRequest& request,
                         const TypoVocabulary* vocabulary) {
  fields = schema::FieldRegistry::FromJson(db.get_metadata(schema::kFieldsKey));
  for (const auto& [name, field] : fields.fields()) {
    if (field.kind == schema::FieldKind::kDate) {
      ranges.push_back(std::make_unique<DateRange>(field.slot, name + ":"));
    } else if (field.kind == schema::FieldKind::kNumber) {
      ranges.push_back(std::make_unique<Xapian::NumberRangeProcessor>(field.slot, name + ":"));
    }
  }
  sources = schema::SourceSettings::FromJson(db.get_metadata(schema::kSourcesKey));
  plan = PlanStemming(sources, request.sources);
  for (const auto& language : plan.languages()) stemmers.emplace(language, Xapian::Stem(language));
  const QueryText read = ReadQueryText(request.q);
  CheckFieldNames(read, fields);

  unsigned flags = Xapian::QueryParser::FLAG_DEFAULT | Xapian::QueryParser::FLAG_PURE_NOT |
                   Xapian::QueryParser::FLAG_WILDCARD;
  if (request.prefix) flags |= Xapian::QueryParser::FLAG_PARTIAL;
  const std::string text = SplitCompounds(request.q, read);
  const bool match_all = request.q.find_first_not_of(" \t\r\n") == std::string::npos;
  parser = MakeParser(db, fields, ranges, stemmers.at(plan.primary));
  if (match_all) {
    // A fresh match-all query: copying the shared Xapian::Query::MatchAll from several threads
    // races on its reference count, which is not atomic.
    query = exact = Xapian::Query(std::string());
  } else {
    std::optional<TypoExpansion> typos;
    if (vocabulary != nullptr && request.typos != 0) {
      typos.emplace(db, *vocabulary, TypoPolicy{request.typos, sources.TyposOff()});
    }
    // The query as written, and with typo neighbours, parsed by one language's parser.
    auto parse = [&](Xapian::QueryParser& by, const std::string& language,
                     const std::string& variant) {
      Xapian::Query written = ExpandWildcards(by.parse_query(variant, flags), db);
      Xapian::Query tolerant = typos ? typos->Expand(written, by, stemmers.at(language)) : written;
      return std::pair{written, tolerant};
    };
    std::tie(exact, query) = parse(parser, plan.primary, text);
    // Some sources read the query their own way: with their synonyms, or stemmed in their own
    // language. Each such variant matches only its sources; the rest match the query as is.
    struct Variant {
      std::string text;
      std::string language;
      std::vector<std::string> sources;
    };
    std::vector<Variant> variants;
    std::set<std::string> apart;
    const auto searched = [&](const std::string& source) {
      return request.sources.empty() || std::find(request.sources.begin(), request.sources.end(),
                                                  source) != request.sources.end();
    };
    for (const auto& [source, settings] : sources.by_source()) {
      if (!searched(source)) continue;
      if (auto with = WithSynonyms(text, settings.synonyms)) {
        variants.push_back({*with, plan.LanguageOf(source, sources), {source}});
        apart.insert(source);
      }
    }
    for (const auto& [language, in_language] : plan.others) {
      Variant variant{text, language, {}};
      for (const auto& source : in_language) {
        if (apart.insert(source).second) variant.sources.push_back(source);
      }
      if (!variant.sources.empty()) variants.push_back(std::move(variant));
    }
    if (!variants.empty()) {
      std::vector<Xapian::Query> exact_parts;
      std::vector<Xapian::Query> parts;
      for (const auto& variant : variants) {
        Xapian::QueryParser own = MakeParser(db, fields, ranges, stemmers.at(variant.language));
        auto [written, tolerant] = parse(own, variant.language, variant.text);
        const Xapian::Query in_sources = schema::AnySource(variant.sources);
        exact_parts.emplace_back(Xapian::Query::OP_FILTER, written, in_sources);
        parts.emplace_back(Xapian::Query::OP_FILTER, tolerant, in_sources);
      }
      const Xapian::Query elsewhere = schema::AnySource(apart);
      exact_parts.emplace_back(Xapian::Query::OP_AND_NOT, exact, elsewhere);
      parts.emplace_back(Xapian::Query::OP_AND_NOT, query, elsewhere);
      exact = Xapian::Query(Xapian::Query::OP_OR, exact_parts.begin(), exact_parts.end());
      query = Xapian::Query(Xapian::Query::OP_OR, parts.begin(), parts.end());
    }
    // Tiers: a record whose title is the query, then records matching the words as written,
    // then records whose title is near the query, then records matching only through typos;
    // relevance orders each tier.
    std::vector<Xapian::Query> near_titles;
    if (auto titles = typos ? typos->TitlesNear(request.q, read) : std::nullopt) {
      near_titles.push_back(*titles);
    }
    auto starting = request.prefix && vocabulary != nullptr
                        ? TitlesStartingWith(request.q, read, db, *vocabulary)
                        : std::nullopt;
    if (starting) near_titles.push_back(*starting);
    if (!near_titles.empty()) {
      // One tier for a record however near its title is; the shorter of the titles that
      // start with the query get a little more on top.
      std::vector<Xapian::Query> parts{
          query,
          Boosted(Xapian::Query(Xapian::Query::OP_OR, near_titles.begin(), near_titles.end()),
                  kTitleTypoTier)};
      if (starting) parts.push_back(*starting);
      query = Xapian::Query(Xapian::Query::OP_OR, parts.begin(), parts.end());
    }
    if (typos && typos->expanded()) {
      typos_used = true;
      query = Xapian::Query(Xapian::Query::OP_AND_MAYBE, query, Boosted(exact, kExactTier));
    }
    if (std::string title = schema::TitleTerm(request.q); !title.empty()) {
      query = Xapian::Query(Xapian::Query::OP_AND_MAYBE, query,
                            Boosted(Xapian::Query(title), kTitleTier));
    }
  }
  auto narrow = [this](const Xapian::Query& by) {
    query = Xapian::Query(Xapian::Query::OP_FILTER, query, by);
    exact = Xapian::Query(Xapian::Query::OP_FILTER, exact, by);
  };
  if (!request.sources.empty()) narrow(schema::AnySource(request.sources));
  if (!request.among.empty()) {
    std::vector<Xapian::Query> terms;
    terms.reserve(request.among.size());
    for (const auto& [source, id] : request.among) {
      terms.emplace_back(schema::UniqueTerm(source, id));
    }
    narrow(Xapian::Query(Xapian::Query::OP_OR, terms.begin(), terms.end()));
  }
  // Filters: values of one field are alternatives, different fields must all hold.
  std::map<std::string, std::vector<Xapian::Query>> by_field;
  for (const auto& [name, value] : request.filters) {
    RequireField(fields, name, {schema::FieldKind::kFacet}, "filter on");
    by_field[name].emplace_back(schema::FacetTerm(name, value));
  }
  for (auto& [name, alternatives] : by_field) {
    narrow(Xapian::Query(Xapian::Query::OP_OR, alternatives.begin(), alternatives.end()));
  }
}

Status CheckQueryText(const std::string& q) {
  if (!simdjson::validate_utf8(q.data(), q.size())) {
    return InvalidArgument("the query is not valid UTF-8");
  }
  if (q.size() > kMaxQueryBytes) {
    return InvalidArgument("the query is longer than " + std::to_string(kMaxQueryBytes) + " bytes");
  }
  return Status::Ok();
}

}  // namespace octohub::indexer
