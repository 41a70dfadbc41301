#include "facet_counter.h"

#include <algorithm>

#include "index_schema.h"

namespace octohub::indexer {

void FacetCounter::operator()(const Xapian::Document& doc, double /*weight*/) {
  const std::string slot = doc.get_value(slot_);
  schema::ForEachFacetValue(slot, [this](std::string_view value) {
    auto it = counts_.find(value);
    if (it == counts_.end()) {
      counts_.emplace(value, 1);
    } else {
      ++it->second;
    }
  });
}

std::vector<std::pair<std::string, std::int64_t>> FacetCounter::Top(std::size_t limit) const {
  std::vector<std::pair<std::string, std::int64_t>> top(counts_.begin(), counts_.end());
  auto more_frequent = [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  };
  if (top.size() > limit) {
    std::partial_sort(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(limit), top.end(),
                      more_frequent);
    top.resize(limit);
  } else {
    std::sort(top.begin(), top.end(), more_frequent);
  }
  return top;
}

}  // namespace octohub::indexer
