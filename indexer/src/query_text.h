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
  // Words outside phrases, field values and ranges, not operators or wildcards, and not
  // joined to others by punctuation ("python3-heat" is a phrase to the parser).
  std::vector<QueryWord> words;
  std::vector<std::string> fields;  // every "name:" used as a field, in order
};

QueryText ReadQueryText(std::string_view q);

// The query as a prefix search reads it best: a last word joined to others by "-" or "/"
// ("pinball-tab") would be a phrase, which cannot end in a prefix, so they become spaces.
std::string PrefixReady(std::string_view q);

}  // namespace octohub::indexer
