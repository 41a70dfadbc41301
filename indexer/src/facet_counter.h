// Facet counts over a whole match set. Private to indexer/.
#pragma once

#include <xapian.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
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
  // Looked up by the string_view of each value, so that a value seen before costs no copy.
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const {
      return std::hash<std::string_view>{}(text);
    }
  };
  Xapian::valueno slot_;
  std::unordered_map<std::string, std::int64_t, Hash, std::equal_to<>> counts_;
};

}  // namespace octohub::indexer
