// How records are laid out in Xapian: term prefixes, value slots, metadata keys. Shared by
// the mapper (writing) and the searcher (reading); private to indexer/.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "octohub/core/source_spec.h"
#include "octohub/core/timestamp.h"

namespace octohub::indexer::schema {

inline constexpr std::string_view kUniquePrefix = "Q";   // source ":" id, one per document
inline constexpr std::string_view kSourcePrefix = "XS";  // boolean: the source name
inline constexpr std::string_view kTitlePrefix = "S";    // free text of the title

inline constexpr unsigned kUpdatedAtSlot = 0;  // RFC 3339 text, sorts as time

inline constexpr const char* kCheckpointKey = "octohub.checkpoint";
inline constexpr const char* kDatabaseIdKey = "octohub.database_id";
inline constexpr const char* kFieldsKey = "octohub.fields";        // the FieldRegistry, as JSON
inline constexpr const char* kLanguagesKey = "octohub.languages";  // SourceLanguages, as JSON

// Text kept per document for snippets.
inline constexpr size_t kMaxSnippetSource = size_t{16} * 1024;

// Xapian terms are at most 245 bytes; long ids are replaced by their hash.
std::string UniqueTerm(std::string_view source, std::string_view id);
inline std::string SourceTerm(std::string_view source) {
  return std::string(kSourcePrefix) + std::string(source);
}
// Boolean term of a facet value: "XF" name ":" value (cut to fit a term).
std::string FacetTerm(std::string_view field, std::string_view value);
inline std::string FacetPrefix(std::string_view field) { return "XF" + std::string(field) + ":"; }

// Mapped fields across every source: each name has a kind and one value slot, the same for
// the writer and every reader of the index. Kept in the index's metadata.
enum class FieldKind { kFacet, kDate, kNumber };
struct Field {
  FieldKind kind;
  unsigned slot;
};
class FieldRegistry {
 public:
  static FieldRegistry FromJson(const std::string& text);  // "" or bad JSON: empty
  std::string ToJson() const;

  // The field's slot, assigning the next free one to a new name (slot 0 is updated_at).
  // A name first mapped with another kind keeps its first kind; nullopt then.
  std::optional<unsigned> SlotFor(const std::string& name, FieldKind kind);
  const Field* Find(const std::string& name) const;
  const std::map<std::string, Field>& fields() const { return fields_; }
  bool changed() const { return changed_; }
  void clear_changed() { changed_ = false; }

 private:
  std::map<std::string, Field> fields_;
  bool changed_ = false;
};

// The stemming language each indexed source was written with, so that a query stems its words
// as the documents it is meant to match were stemmed. Kept in the index's metadata.
class SourceLanguages {
 public:
  static SourceLanguages FromJson(const std::string& text);  // "" or bad JSON: empty
  std::string ToJson() const;

  void Set(const std::string& source, const std::string& language);
  void Erase(const std::string& source);
  const std::map<std::string, std::string>& by_source() const { return by_source_; }
  bool changed() const { return changed_; }
  void clear_changed() { changed_ = false; }

 private:
  std::map<std::string, std::string> by_source_;
  bool changed_ = false;
};

using octohub::ParseTimestamp;

}  // namespace octohub::indexer::schema
