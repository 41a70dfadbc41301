// What a query's text holds, read the way Xapian's query parser reads it, for what the parser
// does not tell: which fields it names, and where each plain word stands (suggestions rewrite
// those words and nothing else). Pure; private to indexer/.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace octohub::indexer {

struct QueryWord {
  std::size_t begin = 0;  // byte offsets in the query text
  std::size_t end = 0;
  bool number = false;  // digits only: matched exactly
  bool last = false;    // nothing but spaces and brackets after it (a prefix with prefix=true)
};

struct QueryText {
  // Words outside phrases, field values and ranges, not operators or wildcards; the words of
  // a compound ("qml-module-org-kde", "wesnoth-1.16") each on their own.
  std::vector<QueryWord> words;
  std::vector<std::size_t> joints;  // where the "-", "/", "+" and "." joining compounds stand
  bool only_words = false;  // nothing else in the query but spaces: it can be compared with titles
  std::vector<std::string> fields;  // every "name:" used as a field, in order
};

QueryText ReadQueryText(std::string_view q);

// The query with compounds split into their words, as the parser should read it: Xapian
// would make "qml-mdule-org" a phrase, whose words match exactly and which cannot end in a
// prefix; as words, each tolerates typos and the last can be a prefix. A record titled with
// the compound itself still ranks first (the title tier compares the query as typed).
std::string SplitCompounds(std::string_view q, const QueryText& read);

}  // namespace octohub::indexer
