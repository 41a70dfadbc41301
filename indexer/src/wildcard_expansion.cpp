#include "wildcard_expansion.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace octohub::indexer {
namespace {

// A wildcard's pattern and operator, read from its serialised form (Xapian's remote protocol
// and Query::unserialise read the same bytes): 0x0b, the expansion limit, the limit's kind,
// the operator, then the pattern with its length. Lengths below 255 are one byte; longer ones
// are 0xff and the rest in 7-bit groups, the last with its high bit set.
struct Wildcard {
  std::string pattern;
  Xapian::Query::op combiner = Xapian::Query::OP_SYNONYM;
};

std::optional<std::size_t> ReadLength(const std::string& bytes, std::size_t& at) {
  if (at >= bytes.size()) return std::nullopt;
  std::size_t length = static_cast<unsigned char>(bytes[at++]);
  if (length != 0xff) return length;
  std::size_t rest = 0;
  for (int shift = 0; at < bytes.size() && shift < 64; shift += 7) {
    const auto byte = static_cast<unsigned char>(bytes[at++]);
    rest |= static_cast<std::size_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) != 0) return rest + 255;
  }
  return std::nullopt;
}

std::optional<Wildcard> ReadWildcard(const Xapian::Query& query) {
  const std::string bytes = query.serialise();
  std::size_t at = 0;
  if (bytes.empty() || bytes[at++] != '\x0b') return std::nullopt;
  if (!ReadLength(bytes, at) || at + 2 > bytes.size()) return std::nullopt;
  ++at;  // the limit's kind
  Wildcard wildcard;
  wildcard.combiner = static_cast<Xapian::Query::op>(static_cast<unsigned char>(bytes[at++]));
  auto length = ReadLength(bytes, at);
  if (!length || *length != bytes.size() - at) return std::nullopt;
  wildcard.pattern = bytes.substr(at);
  return wildcard;
}

Xapian::Query Expand(const Wildcard& wildcard, const Xapian::Database& db) {
  std::vector<std::pair<Xapian::doccount, std::string>> terms;
  for (auto it = db.allterms_begin(wildcard.pattern); it != db.allterms_end(wildcard.pattern);
       ++it) {
    terms.emplace_back(it.get_termfreq(), *it);
  }
  if (terms.size() > kMaxExpansion) {
    // The most frequent first; terms of one frequency in term order, so the choice is stable.
    std::stable_sort(terms.begin(), terms.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    terms.resize(kMaxExpansion);
    std::sort(terms.begin(), terms.end(),
              [](const auto& a, const auto& b) { return a.second < b.second; });
  }
  std::vector<Xapian::Query> leaves;
  leaves.reserve(terms.size());
  for (const auto& term : terms) leaves.emplace_back(term.second);
  return {wildcard.combiner, leaves.begin(), leaves.end()};
}

bool HasWildcard(const Xapian::Query& query) {
  if (query.get_type() == Xapian::Query::OP_WILDCARD) return true;
  for (std::size_t i = 0; i < query.get_num_subqueries(); ++i) {
    if (HasWildcard(query.get_subquery(i))) return true;
  }
  return false;
}

}  // namespace

Xapian::Query ExpandWildcards(const Xapian::Query& parsed, const Xapian::Database& db) {
  const auto type = parsed.get_type();
  if (type == Xapian::Query::OP_WILDCARD) {
    auto wildcard = ReadWildcard(parsed);
    return wildcard ? Expand(*wildcard, db) : parsed;
  }
  switch (type) {
    case Xapian::Query::OP_AND:
    case Xapian::Query::OP_OR:
    case Xapian::Query::OP_XOR:
    case Xapian::Query::OP_AND_MAYBE:
    case Xapian::Query::OP_AND_NOT:
    case Xapian::Query::OP_FILTER:
    case Xapian::Query::OP_SYNONYM:
    case Xapian::Query::OP_MAX:
      break;
    default:  // operators with parameters a query does not give back: left to Xapian
      return parsed;
  }
  if (!HasWildcard(parsed)) return parsed;
  std::vector<Xapian::Query> parts;
  parts.reserve(parsed.get_num_subqueries());
  for (std::size_t i = 0; i < parsed.get_num_subqueries(); ++i) {
    parts.push_back(ExpandWildcards(parsed.get_subquery(i), db));
  }
  return {type, parts.begin(), parts.end()};
}

}  // namespace octohub::indexer
