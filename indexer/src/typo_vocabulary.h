// The words of an index, for typo tolerance and suggestions: which indexed words lie within a
// few edits of a query word. Private to indexer/.
#pragma once

#include <xapian.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace octohub::indexer {

struct NearWord {
  std::string word;
  int edits = 0;
  std::int64_t documents = 0;  // how many documents hold it
  bool operator==(const NearWord&) const = default;
};

// Immutable once built, so searches on several threads share one.
class TypoVocabulary {
 public:
  // Every unprefixed term of the database (the words of titles and text as indexed, before
  // stemming) with its document count, and every whole title up to kMaxTitleBytes.
  static std::shared_ptr<const TypoVocabulary> Build(const Xapian::Database& db);
  // From (word, documents) pairs, in any order; for tests.
  static std::shared_ptr<const TypoVocabulary> FromWords(
      std::vector<std::pair<std::string, std::int64_t>> words);

  // Whole titles longer than this are not kept: nobody types them out whole.
  static constexpr std::size_t kMaxTitleBytes = 64;

  // The words at most max_edits edits away from `word` (insertion, deletion, substitution of a
  // character, or transposition of two adjacent ones; characters are UTF-8 code points), the
  // word itself left out: the nearest first, then the most frequent, at most `limit`.
  std::vector<NearWord> Near(std::string_view word, int max_edits, std::size_t limit) const;
  // The same over whole titles (as schema::TitleTerm keys them, without its prefix).
  std::vector<NearWord> NearTitles(std::string_view title, int max_edits, std::size_t limit) const;
  // The shortest titles that start with `prefix` (looking at most kTitleScan of them),
  // shortest first, at most `limit`.
  std::vector<std::string> TitlesStartingWith(std::string_view prefix, std::size_t limit) const;
  static constexpr std::size_t kTitleScan = 5000;
  // Whether some word starts with `prefix`.
  bool HasPrefix(std::string_view prefix) const;
  std::size_t size() const { return words_.size(); }

 private:
  using Entries = std::vector<std::pair<std::string, std::int64_t>>;  // sorted by text
  static std::vector<NearWord> NearIn(const Entries& entries, std::string_view text, int max_edits,
                                      std::size_t limit);

  Entries words_;
  Entries titles_;
};

// Code points in UTF-8 text (a byte that does not start a character is not counted).
std::size_t CodePoints(std::string_view text);

}  // namespace octohub::indexer
