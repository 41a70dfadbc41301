// A source's synonym groups applied to a query's text (SPEC §4). Pure; private to indexer/.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace octohub::indexer {

// The text with each word or run of words that is an entry of a group (lower case, single
// spaces, as SourceSpec keeps them) replaced by the group's entries as alternatives, phrases
// quoted: "nyc pizza" -> "(nyc OR \"new york city\") pizza". The longest entry wins where
// entries overlap. nullopt when no entry occurs. Words are read as ReadQueryText reads them:
// phrases, field values and operators are left alone.
std::optional<std::string> WithSynonyms(const std::string& text,
                                        const std::vector<std::vector<std::string>>& groups);

}  // namespace octohub::indexer
