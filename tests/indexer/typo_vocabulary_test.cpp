// Which indexed words lie within a few edits of a query word, checked against a brute-force
// edit distance over the same words.
#include "typo_vocabulary.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace octohub::indexer {
namespace {

// Restricted Damerau–Levenshtein distance over code points, the slow and obvious way.
int Distance(const std::u32string& a, const std::u32string& b) {
  std::vector<std::vector<int>> d(a.size() + 1, std::vector<int>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = static_cast<int>(i);
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = static_cast<int>(j);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min(
          {d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::u32string Points(const std::string& utf8) {
  std::u32string out;
  for (std::size_t i = 0; i < utf8.size();) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    const std::size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    char32_t point = n == 1 ? c : c & (0x7F >> n);
    for (std::size_t k = 1; k < n; ++k) point = (point << 6) | (utf8[i + k] & 0x3F);
    out += point;
    i += n;
  }
  return out;
}

std::vector<std::string> Words(const std::vector<NearWord>& near) {
  std::vector<std::string> out;
  for (const auto& w : near) out.push_back(w.word);
  return out;
}

TEST_CASE("near words match a brute-force edit distance over random vocabularies", "[unit]") {
  std::mt19937 random(7);
  const std::vector<std::string> alphabet = {"a", "b", "c", "d", "é", "ß", "→"};
  auto random_word = [&](std::size_t min, std::size_t max) {
    std::string word;
    const std::size_t length = std::uniform_int_distribution<std::size_t>(min, max)(random);
    for (std::size_t i = 0; i < length; ++i) {
      word += alphabet[std::uniform_int_distribution<std::size_t>(0, alphabet.size() - 1)(random)];
    }
    return word;
  };
  std::map<std::string, std::int64_t> unique;  // a word is in the index once
  for (int i = 0; i < 3000; ++i) unique.emplace(random_word(1, 9), 1 + i % 13);
  const std::vector<std::pair<std::string, std::int64_t>> entries(unique.begin(), unique.end());
  auto vocabulary = TypoVocabulary::FromWords(entries);
  for (int trial = 0; trial < 200; ++trial) {
    const std::string query = random_word(2, 9);
    const int edits = 1 + trial % 2;
    std::vector<NearWord> expected;
    for (const auto& [word, documents] : entries) {
      if (word == query) continue;
      const int distance = Distance(Points(query), Points(word));
      if (distance <= edits) expected.push_back({word, distance, documents});
    }
    std::sort(expected.begin(), expected.end(), [](const NearWord& a, const NearWord& b) {
      if (a.edits != b.edits) return a.edits < b.edits;
      if (a.documents != b.documents) return a.documents > b.documents;
      return a.word < b.word;
    });
    INFO(query << " within " << edits);
    REQUIRE(vocabulary->Near(query, edits, 100000) == expected);
  }
}

TEST_CASE("near words: each kind of edit, the nearest and most frequent first", "[unit]") {
  auto vocabulary = TypoVocabulary::FromWords({{"security", 50},
                                               {"securely", 5},
                                               {"secure", 30},
                                               {"obscurity", 2},
                                               {"postgres", 9},
                                               {"chromium", 4},
                                               {"firefox", 7}});
  CHECK(Words(vocabulary->Near("securty", 1, 10)) == std::vector<std::string>{"security"});
  CHECK(Words(vocabulary->Near("postgress", 1, 10)) == std::vector<std::string>{"postgres"});
  CHECK(Words(vocabulary->Near("chromim", 1, 10)) == std::vector<std::string>{"chromium"});
  CHECK(Words(vocabulary->Near("frefox", 1, 10)) == std::vector<std::string>{"firefox"});
  CHECK(Words(vocabulary->Near("ifrefox", 1, 10)) == std::vector<std::string>{"firefox"});
  CHECK(Words(vocabulary->Near("xirefox", 1, 10)) == std::vector<std::string>{"firefox"});
  CHECK(Words(vocabulary->Near("securly", 2, 10)) ==
        std::vector<std::string>{"securely", "security", "secure"});
  CHECK(Words(vocabulary->Near("securly", 2, 1)) == std::vector<std::string>{"securely"});
  CHECK(vocabulary->Near("security", 1, 10).empty());  // the word itself is not a typo of it
  CHECK(vocabulary->Near("securty", 0, 10).empty());
  CHECK(vocabulary->HasPrefix("secu"));
  CHECK_FALSE(vocabulary->HasPrefix("secx"));
}

}  // namespace
}  // namespace octohub::indexer
