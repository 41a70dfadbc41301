// How records are laid out in Xapian: term prefixes, value slots, metadata keys. Shared by
// the mapper (writing) and the searcher (reading); private to indexer/.
#pragma once

#include <xapian.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "octohub/core/source_spec.h"
#include "octohub/core/timestamp.h"

namespace octohub::indexer::schema {

inline constexpr std::string_view kUniquePrefix = "Q";       // source ":" id, one per document
inline constexpr std::string_view kSourcePrefix = "XS";      // boolean: the source name
inline constexpr std::string_view kTitlePrefix = "S";        // free text of the title
inline constexpr std::string_view kWholeTitlePrefix = "XT";  // boolean: the whole title

inline constexpr unsigned kUpdatedAtSlot = 0;  // RFC 3339 text, sorts as time

inline constexpr const char* kCheckpointKey = "octohub.checkpoint";
inline constexpr const char* kDatabaseIdKey = "octohub.database_id";
// How documents are laid out. A generation written in another layout is rebuilt from
// PostgreSQL when the index is opened. 2: every value of a multi-valued facet in its slot;
// 3: a title term per document, per-source settings, no spelling table; 4: shards and an
// order key per document.
inline constexpr const char* kLayoutKey = "octohub.layout";
inline constexpr const char* kLayoutVersion = "4";
inline constexpr const char* kShardsKey = "octohub.shards";  // local shards of the generation
inline constexpr const char* kRemoteShardsKey = "octohub.remote_shards";  // "host:port,…"
inline constexpr const char* kGenerationKey = "octohub.generation";
inline constexpr const char* kFieldsKey = "octohub.fields";    // the FieldRegistry, as JSON
inline constexpr const char* kSourcesKey = "octohub.sources";  // SourceSettings, as JSON

// Text kept per document for snippets.
inline constexpr size_t kMaxSnippetSource = size_t{16} * 1024;

// Documents that rank alike are ordered by this key: the newest first, then by source and id,
// so that an answer does not depend on how the index is split into shards.
inline constexpr unsigned kOrderSlot = 0xfffffff0;
std::string OrderKey(std::string_view updated_at, std::string_view source, std::string_view id);

// Xapian terms are at most 245 bytes; long ids are replaced by their hash.
std::string UniqueTerm(std::string_view source, std::string_view id);
inline std::string SourceTerm(std::string_view source) {
  return std::string(kSourcePrefix) + std::string(source);
}
// The documents of any of these sources.
template <typename Names>
Xapian::Query AnySource(const Names& sources) {
  std::vector<Xapian::Query> terms;
  terms.reserve(sources.size());
  for (const auto& source : sources) terms.emplace_back(SourceTerm(source));
  return Xapian::Query(Xapian::Query::OP_OR, terms.begin(), terms.end());
}
// A whole title, or a query compared with titles: lower case, each run of spaces and of the
// joiners "-", "_" and "/" as one space, trimmed.
std::string TitleKey(std::string_view text);
// Boolean term of TitleKey(text), cut to fit a term; "" for a blank text.
std::string TitleTerm(std::string_view text);
// Boolean term of a facet value: "XF" name ":" value (cut to fit a term).
std::string FacetTerm(std::string_view field, std::string_view value);
inline std::string FacetPrefix(std::string_view field) { return "XF" + std::string(field) + ":"; }

// A facet's values in its value slot, where the counts are read from. One value is kept as it
// is; several as kFacetListMark, then each as its length (7 bits a byte, high bit = more)
// and its bytes. UTF-8 text never starts with 0xff, so the two cannot be confused.
inline constexpr char kFacetListMark = '\xff';
std::string FacetSlotValue(const std::vector<std::string>& values);
// Calls visit(std::string_view) for each value in a slot written by FacetSlotValue; a slot
// cut short ends the visit.
template <typename Visit>
void ForEachFacetValue(std::string_view slot, Visit&& visit) {
  if (slot.empty()) return;
  if (slot.front() != kFacetListMark) {
    visit(slot);
    return;
  }
  std::size_t at = 1;
  while (at < slot.size()) {
    std::size_t length = 0;
    int shift = 0;
    while (at < slot.size() && shift < 32) {
      const auto byte = static_cast<unsigned char>(slot[at++]);
      length |= static_cast<std::size_t>(byte & 0x7f) << shift;
      shift += 7;
      if ((byte & 0x80) == 0) break;
    }
    if (length > slot.size() - at) return;
    visit(slot.substr(at, length));
    at += length;
  }
}

// Mapped fields across every source: each name has a kind and one value slot, the same for
// the writer and every reader of the index. Kept in the index's metadata.
enum class FieldKind { kFacet, kDate, kNumber };
struct Field {
  FieldKind kind;
  unsigned slot;
};
// What the document mapper asks of a registry.
class FieldSlots {
 public:
  // The field's slot, assigning the next free one to a new name (slot 0 is updated_at).
  // A name first mapped with another kind keeps its first kind; nullopt then.
  virtual std::optional<unsigned> SlotFor(const std::string& name, FieldKind kind) = 0;

 protected:
  ~FieldSlots() = default;
};
class FieldRegistry final : public FieldSlots {
 public:
  static FieldRegistry FromJson(const std::string& text);  // "" or bad JSON: empty
  std::string ToJson() const;

  std::optional<unsigned> SlotFor(const std::string& name, FieldKind kind) override;
  const Field* Find(const std::string& name) const;
  const std::map<std::string, Field>& fields() const { return fields_; }
  bool changed() const { return changed_; }
  void clear_changed() { changed_ = false; }

 private:
  std::map<std::string, Field> fields_;
  bool changed_ = false;
};

// A registry that shard writers share while they map documents in parallel.
class SharedFieldRegistry final : public FieldSlots {
 public:
  // A registry loaded with fields counts as news to every shard, so each writes it once.
  explicit SharedFieldRegistry(FieldRegistry registry)
      : registry_(std::move(registry)), version_(registry_.fields().empty() ? 0 : 1) {}
  std::optional<unsigned> SlotFor(const std::string& name, FieldKind kind) override {
    std::lock_guard lock(mutex_);
    auto slot = registry_.SlotFor(name, kind);
    if (registry_.changed()) {
      registry_.clear_changed();
      ++version_;
    }
    return slot;
  }
  // The registry as JSON if a field was added since the version the caller saw last (which
  // is then updated). Fields are only ever added, so a later copy holds every earlier one.
  std::optional<std::string> JsonIfNewer(std::uint64_t& seen) {
    std::lock_guard lock(mutex_);
    if (version_ == seen) return std::nullopt;
    seen = version_;
    return registry_.ToJson();
  }

 private:
  std::mutex mutex_;
  FieldRegistry registry_;
  std::uint64_t version_;
};

// How each indexed source is searched: the stemming language its documents were written with
// (a query stems its words as the documents it is meant to match were stemmed), whether
// typos are tolerated in it, and its synonym groups. Kept in the index's metadata.
struct SourceSearch {
  std::string language = "english";
  bool typos = true;
  std::vector<std::vector<std::string>> synonyms;
  bool operator==(const SourceSearch&) const = default;
};
class SourceSettings {
 public:
  static SourceSettings FromJson(const std::string& text);  // "" or bad JSON: empty
  std::string ToJson() const;

  void Set(const std::string& source, const SourceSearch& settings);
  void Erase(const std::string& source);
  const std::map<std::string, SourceSearch>& by_source() const { return by_source_; }
  // The sources with typo tolerance turned off.
  std::vector<std::string> TyposOff() const;
  bool changed() const { return changed_; }
  void clear_changed() { changed_ = false; }

 private:
  std::map<std::string, SourceSearch> by_source_;
  bool changed_ = false;
};

using octohub::ParseTimestamp;

}  // namespace octohub::indexer::schema
