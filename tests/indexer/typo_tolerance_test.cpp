// Typo tolerance, ranking tiers and suggestions (SPEC §4), table-driven on an in-memory index.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "memory_index.h"
#include "typo_expansion.h"

namespace octohub::indexer {
namespace {
namespace json = boost::json;
using Strings = std::vector<std::string>;

Strings IdsOf(const SearchResponse& response) {
  Strings ids;
  for (const auto& hit : response.hits) ids.push_back(hit.id);
  return ids;
}

// One record per word, its id the word itself, the word its title.
MemoryIndex WordIndex(const Strings& words, const std::string& extra_index = "") {
  MemoryIndex index;
  index.AddSource("words", R"({"title": "/title", "text": ["/body"])" + extra_index + "}");
  for (const auto& word : words) index.Add("words", word, {{"title", word}, {"body", "entry"}});
  return index;
}

TEST_CASE("a word matches indexed words one edit away from 5 characters, two from 9", "[unit]") {
  MemoryIndex index =
      WordIndex({"kern", "chess", "postgres", "chromium", "encryption", "university", "keyboards"});
  auto [query, found] = GENERATE(table<std::string, Strings>({
      {"kern", {"kern"}},
      {"kerm", {}},                    // 4 characters: exact only
      {"chesd", {"chess"}},            // 5: a substitution
      {"chss", {}},                    // 4 characters typed: exact only
      {"postgress", {"postgres"}},     // an insertion
      {"postgrs", {"postgres"}},       // a deletion
      {"chromim", {"chromium"}},       // a deletion
      {"pstogres", {}},                // two edits on 8 characters
      {"opstgres", {"postgres"}},      // a transposition, at the first letter
      {"xhromium", {"chromium"}},      // the first letter substituted
      {"encrpytion", {"encryption"}},  // 10: a transposition
      {"encrpyton", {"encryption"}},   // 9: two edits
      {"ucnivrsitty", {}},             // three edits
      {"universty", {"university"}},
      {"keyboard", {"keyboards"}},
  }));
  INFO(query);
  CHECK(IdsOf(index.SearchOk({.q = query})) == found);
}

TEST_CASE("each word of a compound tolerates typos, and its last word can be a prefix", "[unit]") {
  MemoryIndex index = WordIndex({"qml-module-org-kde-quickcharts", "wesnoth-1.16-thot",
                                 "pinball-table", "libswt-gtk-4-jni", "nova-api"});
  auto [query, found] = GENERATE(table<std::string, Strings>({
      {"qml-mdule-org-kde-quickcharts", {"qml-module-org-kde-quickcharts"}},
      // "gk" and "nva" are too short for typos of their own, but the whole title is one edit
      // from the whole query.
      {"libswt-gk-4-jni", {"libswt-gtk-4-jni"}},
      {"nva api", {"nova-api"}},
      {"nva", {}},
      {"libswt-gtk-5-jni", {}},  // a number is never a typo
      {"libswtt-gtk-4-jni", {"libswt-gtk-4-jni"}},
      {"wesnoth-1.16-th", {"wesnoth-1.16-thot"}},
      {"pinball-tab", {"pinball-table"}},
  }));
  INFO(query);
  CHECK(IdsOf(index.SearchOk({.q = query, .prefix = true})) == found);
}

TEST_CASE("a prefix search ranks titles starting with the query first, shorter ones first",
          "[unit]") {
  MemoryIndex index;
  index.AddSource("packages", R"({"title": "/name", "text": ["/summary"]})");
  for (const std::string name : {"ruby-sass-extensions-for-rails", "ruby-sigar", "ruby-s3"}) {
    index.Add("packages", name, {{"name", name}, {"summary", "a library"}});
  }
  index.Add("packages", "tools",
            {{"name", "tools"}, {"summary", "ruby ruby ruby sigar sass s3 for ruby"}});
  CHECK(IdsOf(index.SearchOk({.q = "ruby-s", .prefix = true})) ==
        Strings{"ruby-s3", "ruby-sigar", "ruby-sass-extensions-for-rails", "tools"});
  CHECK(IdsOf(index.SearchOk({.q = "Ruby Si", .prefix = true})).front() == "ruby-sigar");
  // Without prefix=true "s" is a word no record has, and "ruby-s3" is a number away.
  CHECK(index.SearchOk({.q = "ruby-s"}).total == 0);
}

TEST_CASE("numbers, phrases, field values and wildcards match exactly", "[unit]") {
  MemoryIndex index;
  index.AddSource("notes", R"({"title": "/title", "text": ["/body"],
                              "facets": {"state": "/state"}})");
  index.Add("notes", "1",
            {{"title", "security policy"}, {"body", "released 20240"}, {"state", "opened"}});
  for (const std::string q :
       {"20241", "\"securty policy\"", "title:securty", "state:openex", "secu*ty", "securti*"}) {
    INFO(q);
    CHECK(index.SearchOk({.q = q}).total == 0);
  }
  CHECK(index.SearchOk({.q = "securty policy"}).total == 1);
  // What NOT excludes is excluded as written, not its typo neighbours.
  CHECK(index.SearchOk({.q = "policy -securty"}).total == 1);
}

TEST_CASE("exact matches rank above typo matches, a title equal to the query first", "[unit]") {
  MemoryIndex index;
  index.AddSource("packages", R"({"title": "/name", "text": ["/summary"]})");
  index.Add("packages", "python3", {{"name", "python3"}, {"summary", "interactive language"}});
  index.Add("packages", "python3-heat",
            {{"name", "python3-heat"}, {"summary", "python3 python3 client for heat python3"}});
  index.Add("packages", "python2", {{"name", "python2"}, {"summary", "old python2 python2"}});
  index.Add("packages", "firefox-esr-l10n-all",
            {{"name", "firefox-esr-l10n-all"}, {"summary", "firefox firefox language packs"}});
  index.Add("packages", "firefox", {{"name", "Firefox"}, {"summary", "web browser"}});

  Strings python = IdsOf(index.SearchOk({.q = "python3"}));
  REQUIRE(python.size() == 3);
  CHECK(python == Strings{"python3", "python3-heat", "python2"});  // python2: one edit away
  CHECK(IdsOf(index.SearchOk({.q = "firefox"})) == Strings{"firefox", "firefox-esr-l10n-all"});
  CHECK(IdsOf(index.SearchOk({.q = "FireFox", .prefix = true})).front() == "firefox");
  // Scores are relevance: the tiers order them without showing in them.
  for (const auto& hit : index.SearchOk({.q = "python3"}).hits) CHECK(hit.score < 1000);
}

TEST_CASE("typos= and a source's typos: false turn typo tolerance down or off", "[unit]") {
  MemoryIndex index = WordIndex({"chromium", "encryption"});
  index.AddSource("strict", R"({"title": "/title", "typos": false})");
  index.Add("strict", "s1", {{"title", "chromium"}});
  CHECK(IdsOf(index.SearchOk({.q = "chromim"})) == Strings{"chromium"});  // not s1
  CHECK(index.SearchOk({.q = "chromium"}).total == 2);
  CHECK(index.SearchOk({.q = "chromim", .typos = 0}).total == 0);
  CHECK(index.SearchOk({.q = "encrpyton", .typos = 1}).total == 0);  // two edits, one allowed
  CHECK(index.SearchOk({.q = "encrpyton", .typos = 2}).total == 1);
  CHECK(index.SearchOk({.q = "encrpytion", .typos = 1}).total == 1);
}

TEST_CASE("a suggestion only when nothing matched as written, never touching fields", "[unit]") {
  MemoryIndex index;
  index.AddSource("issues", R"({"title": "/title", "text": ["/body"],
                               "facets": {"state": "/state"}, "dates": {"released": "/day"}})");
  index.Add("issues", "1",
            {{"title", "command line json parser"},
             {"body", "security policy for postgres"},
             {"state", "open"},
             {"day", "2023-05-01"}});
  auto suggestion = [&](SearchRequest request) { return index.SearchOk(request).suggestion; };
  CHECK(suggestion({.q = "\"command line\" json"}) == std::nullopt);  // it found something
  CHECK(suggestion({.q = "securty"}) == "security");                  // only typo matches
  CHECK(index.SearchOk({.q = "securty"}).total == 1);
  CHECK(suggestion({.q = "postgress polcy"}) == "postgres policy");
  CHECK(suggestion({.q = "state:open securty"}) == "state:open security");
  CHECK(suggestion({.q = "released:2023-01-01..2024-01-01 jsno"}) ==
        "released:2023-01-01..2024-01-01 json");
  CHECK(suggestion({.q = "secur", .prefix = true}) == std::nullopt);  // a prefix of a word
  CHECK(suggestion({.q = "polcy secur", .prefix = true}) == "policy secur");
  CHECK(suggestion({.q = "zzzzzz"}) == std::nullopt);  // nothing near
  CHECK(suggestion({.q = "chromim", .typos = 0}) == std::nullopt);
  CHECK(suggestion({.q = "postgress", .typos = 0}) == "postgres");  // found nothing: suggested

  auto unknown = index.Search({.q = "nosuchfield:foo"});
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(unknown.status().message(), Catch::Contains("nosuchfield") &&
                                             Catch::Contains("state") &&
                                             Catch::Contains("released"));
  CHECK(index.SearchOk({.q = "http://example.com"}).total == 0);  // a URL names no field
}

int CountScaled(const Xapian::Query& query) {
  if (query.get_type() == Xapian::Query::OP_SCALE_WEIGHT) return 1;
  int count = 0;
  for (std::size_t i = 0; i < query.get_num_subqueries(); ++i) {
    count += CountScaled(query.get_subquery(i));
  }
  return count;
}

TEST_CASE("fifty misspelt words stay within the expansion bounds", "[unit]") {
  Strings words;
  std::string q;
  for (int i = 0; i < 50; ++i) {
    const std::string word = "word" + std::string(1, static_cast<char>('a' + i % 26)) +
                             std::string(1, static_cast<char>('a' + i / 26)) + "xyz";
    words.push_back(word);
    // Each typed word is one edit from a dozen indexed ones.
    for (char c = 'a'; c < 'm'; ++c) words.push_back(word.substr(0, 7) + c);
    q += (q.empty() ? "" : " ") + word.substr(0, 7) + "q";
  }
  MemoryIndex index = WordIndex(words);
  SearchResponse response = index.SearchOk({.q = q});
  CHECK(response.total == 0);  // fifty words ANDed: no record has them all

  Xapian::WritableDatabase db(std::string(), Xapian::DB_BACKEND_INMEMORY);
  for (const auto& word : words) {
    Xapian::Document doc;
    doc.add_term(word);
    db.add_document(doc);
  }
  auto vocabulary = TypoVocabulary::Build(db);
  TypoExpansion expansion(db, *vocabulary, {});
  Xapian::QueryParser parser;
  parser.set_database(db);
  Xapian::Query expanded = expansion.Expand(parser.parse_query(q), parser, Xapian::Stem());
  CHECK(expansion.expanded());
  CHECK(CountScaled(expanded) == static_cast<int>(kTyposPerQuery));
}

}  // namespace
}  // namespace octohub::indexer
