// How records are laid out in Xapian: term prefixes, value slots, metadata keys. Shared by
// the mapper (writing) and the searcher (reading); private to indexer/.
#pragma once

#include <string>
#include <string_view>

namespace octohub::indexer::schema {

inline constexpr std::string_view kUniquePrefix = "Q";   // source ":" id, one per document
inline constexpr std::string_view kSourcePrefix = "XS";  // boolean: the source name
inline constexpr std::string_view kTitlePrefix = "S";    // free text of the title

inline constexpr unsigned kUpdatedAtSlot = 0;  // RFC 3339 text, sorts as time

inline constexpr const char* kCheckpointKey = "octohub.checkpoint";
inline constexpr const char* kDatabaseIdKey = "octohub.database_id";

inline constexpr size_t kMaxSnippetSource = 16 * 1024;  // text kept per document for snippets

// Xapian terms are at most 245 bytes; long ids are replaced by their hash.
std::string UniqueTerm(std::string_view source, std::string_view id);
inline std::string SourceTerm(std::string_view source) {
  return std::string(kSourcePrefix) + std::string(source);
}

}  // namespace octohub::indexer::schema
