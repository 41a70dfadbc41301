#include "synonyms.h"

#include <xapian.h>

#include <map>

#include "octohub/core/source_spec.h"
#include "query_text.h"

namespace octohub::indexer {
namespace {

std::string Quoted(const std::string& entry) {
  return entry.find(' ') == std::string::npos ? entry : "\"" + entry + "\"";
}

}  // namespace

std::optional<std::string> WithSynonyms(const std::string& text,
                                        const std::vector<std::vector<std::string>>& groups) {
  if (groups.empty()) return std::nullopt;
  std::map<std::string, std::size_t> group_of;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    for (const auto& entry : groups[g]) group_of.emplace(entry, g);
  }
  const std::vector<QueryWord> words = ReadQueryText(text).words;
  std::vector<std::string> lower;
  lower.reserve(words.size());
  for (const auto& word : words) {
    lower.push_back(Xapian::Unicode::tolower(text.substr(word.begin, word.end - word.begin)));
  }
  // Whether words i and i + 1 follow each other with nothing but spaces between.
  auto adjacent = [&](std::size_t i) {
    const std::string_view between(text.data() + words[i].end, words[i + 1].begin - words[i].end);
    return !between.empty() && between.find_first_not_of(" \t") == std::string_view::npos;
  };
  std::string out;
  std::size_t copied = 0;
  for (std::size_t i = 0; i < words.size();) {
    std::size_t matched = 0;
    std::size_t group = 0;
    std::string candidate;
    std::string matched_entry;
    for (std::size_t n = 1; n <= kMaxSynonymWords && i + n <= words.size(); ++n) {
      if (n > 1 && !adjacent(i + n - 2)) break;
      candidate += (n > 1 ? " " : "") + lower[i + n - 1];
      if (auto it = group_of.find(candidate); it != group_of.end()) {
        matched = n;
        group = it->second;
        matched_entry = candidate;
      }
    }
    if (matched == 0) {
      ++i;
      continue;
    }
    const std::size_t begin = words[i].begin;
    const std::size_t end = words[i + matched - 1].end;
    std::string alternatives = "(" + Quoted(matched_entry);
    for (const auto& entry : groups[group]) {
      if (entry != matched_entry) alternatives += " OR " + Quoted(entry);
    }
    alternatives += ")";
    out.append(text, copied, begin - copied);
    out += alternatives;
    copied = end;
    i += matched;
  }
  if (copied == 0) return std::nullopt;
  out.append(text, copied, std::string::npos);
  return out;
}

}  // namespace octohub::indexer
