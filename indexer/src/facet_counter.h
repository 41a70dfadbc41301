// Facet counts over a whole match set. Private to indexer/.
#pragma once

#include <xapian.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace octohub::indexer {

// Counts every value of one facet in the documents matched, each element of a multi-valued
// field included (Xapian's ValueCountMatchSpy counts one value a document). One per search.
class FacetCounter final : public Xapian::MatchSpy {
 public:
  explicit FacetCounter(Xapian::valueno slot) : slot_(slot) {}

  void operator()(const Xapian::Document& doc, double weight) override;

  // At most `limit` values, the most frequent first, equal counts by value.
  std::vector<std::pair<std::string, std::int64_t>> Top(std::size_t limit) const;

 private:
  Xapian::valueno slot_;
  std::unordered_map<std::string, std::int64_t> counts_;
};

}  // namespace octohub::indexer
