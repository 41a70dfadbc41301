#include "typo_vocabulary.h"

#include <algorithm>

#include "index_schema.h"

namespace octohub::indexer {
namespace {

// The code point starting at text[at] and its length in bytes; a byte that does not start a
// valid sequence stands for itself, so that any text can be walked.
std::pair<char32_t, std::size_t> DecodeAt(std::string_view text, std::size_t at) {
  const auto lead = static_cast<unsigned char>(text[at]);
  std::size_t length = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0;
  if (length == 0 || at + length > text.size()) return {0x110000 + lead, 1};
  char32_t point = length == 1 ? lead : lead & (0x7F >> length);
  for (std::size_t i = 1; i < length; ++i) {
    const auto next = static_cast<unsigned char>(text[at + i]);
    if ((next & 0xC0) != 0x80) return {0x110000 + lead, 1};
    point = (point << 6) | (next & 0x3F);
  }
  return {point, length};
}

std::vector<char32_t> Decode(std::string_view text) {
  std::vector<char32_t> points;
  for (std::size_t at = 0; at < text.size();) {
    auto [point, length] = DecodeAt(text, at);
    points.push_back(point);
    at += length;
  }
  return points;
}

// A walk of the sorted words as a trie, one code point a level, carrying the row of edit
// distances (restricted Damerau–Levenshtein) between the path so far and every prefix of the
// query word; a branch whose row is all above the limit cannot lead to a near word.
class NearWalk {
 public:
  NearWalk(const std::vector<std::pair<std::string, std::int64_t>>& words,
           std::vector<char32_t> query, std::string_view query_text, int max_edits)
      : words_(words), query_(std::move(query)), query_text_(query_text), max_(max_edits) {}

  void Run() {
    std::vector<int> row(query_.size() + 1);
    for (std::size_t k = 0; k < row.size(); ++k) row[k] = static_cast<int>(k);
    Walk(0, words_.size(), 0, row, nullptr, 0);
  }

  std::vector<NearWord> found;

 private:
  void Walk(std::size_t lo, std::size_t hi, std::size_t depth, const std::vector<int>& row,
            const std::vector<int>* above, char32_t previous) {
    std::size_t i = lo;
    if (i < hi && words_[i].first.size() == depth) {  // the path itself is a word
      if (row.back() <= max_ && words_[i].first != query_text_) {
        found.push_back({words_[i].first, row.back(), words_[i].second});
      }
      ++i;
    }
    std::vector<int> next(row.size());
    while (i < hi) {
      const std::string& word = words_[i].first;
      const auto decoded = DecodeAt(word, depth);
      const char32_t point = decoded.first;
      const std::size_t length = decoded.second;
      const std::string_view key(word.data() + depth, length);
      // Words whose next character is this one follow each other.
      const auto end = std::partition_point(
          words_.begin() + static_cast<std::ptrdiff_t>(i),
          words_.begin() + static_cast<std::ptrdiff_t>(hi), [&](const auto& entry) {
            return std::string_view(entry.first).substr(depth, length) <= key;
          });
      const auto j = static_cast<std::size_t>(end - words_.begin());
      next[0] = row[0] + 1;
      int best = next[0];
      for (std::size_t k = 1; k < next.size(); ++k) {
        const int substitution = row[k - 1] + (query_[k - 1] == point ? 0 : 1);
        next[k] = std::min({row[k] + 1, next[k - 1] + 1, substitution});
        if (above != nullptr && k > 1 && query_[k - 1] == previous && query_[k - 2] == point) {
          next[k] = std::min(next[k], (*above)[k - 2] + 1);
        }
        best = std::min(best, next[k]);
      }
      if (best <= max_) Walk(i, j, depth + length, next, &row, point);
      i = j;
    }
  }

  const std::vector<std::pair<std::string, std::int64_t>>& words_;
  const std::vector<char32_t> query_;
  const std::string_view query_text_;
  const int max_;
};

}  // namespace

std::size_t CodePoints(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::shared_ptr<const TypoVocabulary> TypoVocabulary::Build(const Xapian::Database& db) {
  auto vocabulary = std::make_shared<TypoVocabulary>();
  const std::string title_prefix(schema::kWholeTitlePrefix);
  for (auto it = db.allterms_begin(title_prefix); it != db.allterms_end(title_prefix); ++it) {
    const std::string term = *it;
    if (term.size() - title_prefix.size() > kMaxTitleBytes) continue;
    vocabulary->titles_.emplace_back(term.substr(title_prefix.size()), it.get_termfreq());
  }
  // Prefixed terms (ids, sources, facets, titles, stems) begin with a capital letter: the
  // words are the terms before "A" and from "[" on. allterms come sorted.
  for (auto it = db.allterms_begin(); it != db.allterms_end(); ++it) {
    const std::string term = *it;
    if (!term.empty() && term[0] >= 'A' && term[0] <= 'Z') {
      it.skip_to("[");
      if (it == db.allterms_end()) break;
      vocabulary->words_.emplace_back(*it, it.get_termfreq());
      continue;
    }
    vocabulary->words_.emplace_back(term, it.get_termfreq());
  }
  return vocabulary;
}

std::shared_ptr<const TypoVocabulary> TypoVocabulary::FromWords(
    std::vector<std::pair<std::string, std::int64_t>> words) {
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end(),
                          [](const auto& a, const auto& b) { return a.first == b.first; }),
              words.end());
  auto vocabulary = std::make_shared<TypoVocabulary>();
  vocabulary->words_ = std::move(words);
  return vocabulary;
}

std::vector<NearWord> TypoVocabulary::Near(std::string_view word, int max_edits,
                                           std::size_t limit) const {
  return NearIn(words_, word, max_edits, limit);
}

std::vector<NearWord> TypoVocabulary::NearTitles(std::string_view title, int max_edits,
                                                 std::size_t limit) const {
  return NearIn(titles_, title, max_edits, limit);
}

std::vector<NearWord> TypoVocabulary::NearIn(const Entries& entries, std::string_view text,
                                             int max_edits, std::size_t limit) {
  if (max_edits <= 0 || text.empty() || limit == 0) return {};
  NearWalk walk(entries, Decode(text), text, max_edits);
  walk.Run();
  std::vector<NearWord>& found = walk.found;
  std::sort(found.begin(), found.end(), [](const NearWord& a, const NearWord& b) {
    if (a.edits != b.edits) return a.edits < b.edits;
    if (a.documents != b.documents) return a.documents > b.documents;
    return a.word < b.word;
  });
  if (found.size() > limit) found.resize(limit);
  return found;
}

std::vector<std::string> TypoVocabulary::TitlesStartingWith(std::string_view prefix,
                                                            std::size_t limit) const {
  std::vector<std::string> titles;
  auto it = std::lower_bound(titles_.begin(), titles_.end(), prefix,
                             [](const auto& entry, std::string_view p) { return entry.first < p; });
  for (; it != titles_.end() && titles.size() < kTitleScan &&
         std::string_view(it->first).starts_with(prefix);
       ++it) {
    titles.push_back(it->first);
  }
  std::stable_sort(titles.begin(), titles.end(),
                   [](const std::string& a, const std::string& b) { return a.size() < b.size(); });
  if (titles.size() > limit) titles.resize(limit);
  return titles;
}

bool TypoVocabulary::HasPrefix(std::string_view prefix) const {
  auto it = std::lower_bound(words_.begin(), words_.end(), prefix,
                             [](const auto& entry, std::string_view p) { return entry.first < p; });
  return it != words_.end() && std::string_view(it->first).starts_with(prefix);
}

}  // namespace octohub::indexer
