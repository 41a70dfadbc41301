#include "index_schema.h"

#include <xapian.h>

#include <boost/json.hpp>
#include <charconv>
#include <cstdio>
#include <ctime>

#include "octohub/core/content_hash.h"

namespace octohub::indexer::schema {
namespace json = boost::json;

std::string OrderKey(std::string_view updated_at, std::string_view source, std::string_view id) {
  std::string key;
  key.reserve(updated_at.size() + source.size() + id.size() + 2);
  // RFC 3339 times of one width sort as text; each byte inverted puts the newest first.
  for (char c : updated_at) key.push_back(static_cast<char>(0xff - static_cast<unsigned char>(c)));
  key.push_back('\0');
  key.append(source).push_back('\0');
  key.append(id);
  return key;
}

std::string UniqueTerm(std::string_view source, std::string_view id) {
  std::string term = std::string(kUniquePrefix) + std::string(source) + ":" + std::string(id);
  if (term.size() <= 240) return term;
  return std::string(kUniquePrefix) + std::string(source) + ":#" + ContentHash(id);
}

std::string TitleKey(std::string_view text) {
  std::string key;
  for (const char c : text) {
    // Spaces and the joiners of compound names are one separator: "nova-api" is "nova api".
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '-' || c == '_' || c == '/') {
      if (!key.empty() && key.back() != ' ') key += ' ';
    } else {
      key += c;
    }
  }
  if (!key.empty() && key.back() == ' ') key.pop_back();
  return Xapian::Unicode::tolower(key);
}

std::string TitleTerm(std::string_view text) {
  const std::string key = TitleKey(text);
  if (key.empty()) return {};
  std::string term = std::string(kWholeTitlePrefix) + key;
  if (term.size() <= 240) return term;
  return std::string(kWholeTitlePrefix) + "#" + ContentHash(term);
}

std::string FacetTerm(std::string_view field, std::string_view value) {
  std::string term = FacetPrefix(field) + std::string(value);
  if (term.size() <= 240) return term;
  return FacetPrefix(field) + "#" + ContentHash(value);
}

std::string FacetSlotValue(const std::vector<std::string>& values) {
  if (values.size() == 1) return values.front();
  std::string slot(1, kFacetListMark);
  for (const auto& value : values) {
    std::size_t length = value.size();
    do {
      const auto low = static_cast<unsigned char>(length & 0x7f);
      length >>= 7;
      slot += static_cast<char>(length == 0 ? low : (low | 0x80));
    } while (length != 0);
    slot += value;
  }
  return slot;
}

FieldRegistry FieldRegistry::FromJson(const std::string& text) {
  FieldRegistry registry;
  json::error_code ec;
  json::value parsed = json::parse(text, ec);
  if (ec || !parsed.is_object()) return registry;
  for (const auto& [name, entry] : parsed.as_object()) {
    const auto* fields = entry.if_object();
    if (fields == nullptr || !fields->contains("kind") || !fields->contains("slot")) continue;
    const std::string kind(fields->at("kind").as_string());
    registry.fields_[std::string(name)] = {
        kind == "date"     ? FieldKind::kDate
        : kind == "number" ? FieldKind::kNumber
                           : FieldKind::kFacet,
        static_cast<unsigned>(fields->at("slot").to_number<std::int64_t>())};
  }
  return registry;
}

std::string FieldRegistry::ToJson() const {
  json::object out;
  for (const auto& [name, field] : fields_) {
    out[name] = {{"kind", field.kind == FieldKind::kDate     ? "date"
                          : field.kind == FieldKind::kNumber ? "number"
                                                             : "facet"},
                 {"slot", field.slot}};
  }
  return json::serialize(out);
}

std::optional<unsigned> FieldRegistry::SlotFor(const std::string& name, FieldKind kind) {
  auto it = fields_.find(name);
  if (it != fields_.end()) {
    if (it->second.kind != kind) return std::nullopt;
    return it->second.slot;
  }
  unsigned next = kUpdatedAtSlot + 1;
  for (const auto& entry : fields_) next = std::max(next, entry.second.slot + 1);
  fields_[name] = {kind, next};
  changed_ = true;
  return next;
}

const Field* FieldRegistry::Find(const std::string& name) const {
  auto it = fields_.find(name);
  return it == fields_.end() ? nullptr : &it->second;
}

SourceSettings SourceSettings::FromJson(const std::string& text) {
  SourceSettings settings;
  json::error_code ec;
  json::value parsed = json::parse(text, ec);
  if (ec || !parsed.is_object()) return settings;
  for (const auto& [source, entry] : parsed.as_object()) {
    const auto* fields = entry.if_object();
    if (fields == nullptr) continue;
    SourceSearch search;
    if (const auto* language = fields->if_contains("language"); language && language->is_string()) {
      search.language = std::string(language->get_string());
    }
    if (const auto* typos = fields->if_contains("typos"); typos && typos->is_bool()) {
      search.typos = typos->get_bool();
    }
    if (const auto* groups = fields->if_contains("synonyms"); groups && groups->is_array()) {
      for (const auto& group : groups->get_array()) {
        if (!group.is_array()) continue;
        std::vector<std::string> entries;
        for (const auto& entry : group.get_array()) {
          if (entry.is_string()) entries.emplace_back(entry.get_string());
        }
        search.synonyms.push_back(std::move(entries));
      }
    }
    settings.by_source_[std::string(source)] = std::move(search);
  }
  return settings;
}

std::string SourceSettings::ToJson() const {
  json::object out;
  for (const auto& [source, search] : by_source_) {
    json::array groups;
    for (const auto& group : search.synonyms) {
      json::array entries;
      for (const auto& entry : group) entries.emplace_back(entry);
      groups.emplace_back(std::move(entries));
    }
    out[source] = {
        {"language", search.language}, {"typos", search.typos}, {"synonyms", std::move(groups)}};
  }
  return json::serialize(out);
}

void SourceSettings::Set(const std::string& source, const SourceSearch& settings) {
  auto [it, inserted] = by_source_.try_emplace(source, settings);
  if (!inserted && it->second == settings) return;
  it->second = settings;
  changed_ = true;
}

void SourceSettings::Erase(const std::string& source) {
  if (by_source_.erase(source) > 0) changed_ = true;
}

std::vector<std::string> SourceSettings::TyposOff() const {
  std::vector<std::string> off;
  for (const auto& [source, search] : by_source_) {
    if (!search.typos) off.push_back(source);
  }
  return off;
}

}  // namespace octohub::indexer::schema
