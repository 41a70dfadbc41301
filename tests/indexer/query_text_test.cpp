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
      {"python3-heat g++ pyth*", {"python3", "heat"}, {}},
      {"qml-module-org.kde wesnoth-1.16 a/b",
       {"qml", "module", "org", "kde", "wesnoth", "1.16#", "a", "b$"},
       {}},
      {"-excluded- x--y", {}, {}},
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

TEST_CASE("compounds are split into words for the parser, and nothing else changes", "[unit]") {
  CHECK(SplitCompounds("pinball-tab", ReadQueryText("pinball-tab")) == "pinball tab");
  CHECK(SplitCompounds("derive+default g++ +must c++-dev",
                       ReadQueryText("derive+default g++ +must c++-dev")) ==
        "derive default g++ +must c++-dev");
  CHECK(SplitCompounds("qml-mdule-org.kde wesnoth-1.16",
                       ReadQueryText("qml-mdule-org.kde wesnoth-1.16")) ==
        "qml mdule org kde wesnoth 1.16");
  CHECK(SplitCompounds("-bug \"a-b\" title:x-y http://a.org/b pyth* 3.14",
                       ReadQueryText("-bug \"a-b\" title:x-y http://a.org/b pyth* 3.14")) ==
        "-bug \"a-b\" title:x-y http://a.org/b pyth* 3.14");
}

}  // namespace
}  // namespace octohub::indexer
