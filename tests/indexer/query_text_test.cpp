// Reading a query's text as Xapian's parser does: plain words and the fields named.
#include "query_text.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace octohub::indexer {
namespace {

using Strings = std::vector<std::string>;

Strings WordsOf(const std::string& q) {
  Strings words;
  for (const auto& word : ReadQueryText(q).words) {
    words.push_back(q.substr(word.begin, word.end - word.begin) + (word.number ? "#" : "") +
                    (word.last ? "$" : ""));
  }
  return words;
}

TEST_CASE("plain words are found, and nothing the parser reads otherwise", "[unit]") {
  auto [q, words, fields] = GENERATE(table<std::string, Strings, Strings>({
      {"securty policy", {"securty", "policy$"}, {}},
      {"  Firefox  ", {"Firefox$"}, {}},
      {"\"command line\" json", {"json$"}, {}},
      {"json \"command line\"", {"json"}, {}},
      {"title:securty postgress", {"postgress$"}, {"title"}},
      {"state:open AND (kernel OR +fonts) -bug", {"kernel", "fonts", "bug$"}, {"state"}},
      {"label:\"good first\" title:(a b) x", {"x$"}, {"label", "title"}},
      {"released:2023..2024 comments:10.. chess", {"chess$"}, {"released", "comments"}},
      {"python3-heat g++ pyth*", {}, {}},
      {"NEAR/3 ADJ or 2024 échec", {"or", "2024#", "échec$"}, {}},
      {"http://example.com/x note: more", {"more$"}, {}},
      {"(chess)", {"chess$"}, {}},
      {"nosuchfield:foo bar", {"bar$"}, {"nosuchfield"}},
      {"\"open quote never closes", {}, {}},
  }));
  INFO(q);
  CHECK(WordsOf(q) == words);
  CHECK(ReadQueryText(q).fields == fields);
}

}  // namespace
}  // namespace octohub::indexer
