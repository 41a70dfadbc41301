#include "document_mapper.h"

#include <algorithm>
#include <boost/json.hpp>

#include "index_schema.h"
#include "octohub/core/content_hash.h"

namespace octohub::indexer {
namespace json = boost::json;

namespace {

Result<std::vector<std::pair<std::string, JsonPointer>>> CompileNamed(const NamedValues& named) {
  std::vector<std::pair<std::string, JsonPointer>> out;
  for (const auto& [name, text] : named) {
    auto pointer = JsonPointer::Parse(text, true);
    if (!pointer.ok()) return pointer.status().WithContext(name);
    out.emplace_back(name, *pointer);
  }
  return out;
}

// Every scalar the pointer reaches; an array it reaches stands for its scalar elements, so
// "/labels" maps ["bug", "ui"] as "/labels/*" does.
template <typename Visit>
void VisitScalars(const JsonPointer& pointer, simdjson::dom::element root, Visit&& visit) {
  pointer.Visit(root, [&](simdjson::dom::element value) {
    simdjson::dom::array array;
    if (value.get_array().get(array) != simdjson::SUCCESS) {
      visit(value);
      return;
    }
    for (simdjson::dom::element element : array) {
      if (!element.is_array() && !element.is_object()) visit(element);
    }
  });
}

// Every scalar the pointer reaches, as text, joined by spaces.
std::string TextOf(const JsonPointer& pointer, simdjson::dom::element root) {
  std::string out;
  VisitScalars(pointer, root, [&](simdjson::dom::element value) {
    std::string text = ScalarText(value);
    if (text.empty()) return;
    if (!out.empty()) out += ' ';
    out += text;
  });
  return out;
}

}  // namespace

Result<CompiledMapping> CompiledMapping::From(const IndexSpec& spec) {
  CompiledMapping mapping;
  mapping.language = spec.language;
  mapping.typos = spec.typos;
  mapping.synonyms = spec.synonyms;
  if (!spec.title.empty()) {
    auto title = JsonPointer::Parse(spec.title, true);
    if (!title.ok()) return title.status();
    mapping.title = *title;
  }
  for (const auto& text : spec.text) {
    auto pointer = JsonPointer::Parse(text, true);
    if (!pointer.ok()) return pointer.status();
    mapping.text.push_back(*pointer);
  }
  auto facets = CompileNamed(spec.facets);
  auto dates = CompileNamed(spec.dates);
  auto numbers = CompileNamed(spec.numbers);
  if (!facets.ok()) return facets.status();
  if (!dates.ok()) return dates.status();
  if (!numbers.ok()) return numbers.status();
  mapping.facets = *facets;
  mapping.dates = *dates;
  mapping.numbers = *numbers;
  return mapping;
}

Result<Xapian::Document> DocumentMapper::Map(const RecordRow& record,
                                             const CompiledMapping& mapping,
                                             schema::FieldSlots& registry) {
  simdjson::dom::element root;
  if (auto error = parser_.parse(record.data).get(root)) {
    return InvalidArgument(std::string("record data is not JSON: ") +
                           simdjson::error_message(error));
  }
  Xapian::Document doc;
  generator_.set_document(doc);
  generator_.set_stemmer(mapping.language == "none" ? Xapian::Stem()
                                                    : Xapian::Stem(mapping.language));
  generator_.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
  generator_.set_termpos(0);

  std::string title = mapping.title ? TextOf(*mapping.title, root) : std::string();
  if (!title.empty()) {
    generator_.index_text(title, 1, std::string(schema::kTitlePrefix));
    generator_.increase_termpos();
    generator_.index_text(title, 2);  // title words also match unprefixed, weighted up
    generator_.increase_termpos();
    // A query equal to the title ranks the record first.
    if (auto whole = schema::TitleTerm(title); !whole.empty()) doc.add_boolean_term(whole);
  }
  std::string text;
  for (const auto& pointer : mapping.text) {
    std::string part = TextOf(pointer, root);
    if (part.empty()) continue;
    generator_.index_text(part);
    generator_.increase_termpos();
    if (text.size() < schema::kMaxSnippetSource) {
      if (!text.empty()) text += "\n";
      text += part;
    }
  }
  if (text.size() > schema::kMaxSnippetSource) {
    // Cut on a UTF-8 character boundary.
    size_t cut = schema::kMaxSnippetSource;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text.resize(cut);
  }

  // Facets: a boolean term per value (exact filters) and every value in the field's slot
  // (counts); dates and numbers: a sortable value (ranges, sorting).
  json::object fields;
  std::vector<std::string> values;
  for (const auto& facet : mapping.facets) {
    const std::string& name = facet.first;
    values.clear();
    VisitScalars(facet.second, root, [&](simdjson::dom::element element) {
      std::string value = ScalarText(element);
      if (value.empty()) return;
      doc.add_boolean_term(schema::FacetTerm(name, value));
      // A value listed twice in one record counts once.
      if (std::find(values.begin(), values.end(), value) == values.end()) {
        values.push_back(std::move(value));
      }
    });
    if (values.empty()) continue;
    if (auto slot = registry.SlotFor(name, schema::FieldKind::kFacet)) {
      doc.add_value(*slot, schema::FacetSlotValue(values));
    }
    if (values.size() == 1) {
      fields[name] = values[0];
    } else {
      json::array listed;
      for (const auto& value : values) listed.emplace_back(value);
      fields[name] = std::move(listed);
    }
  }
  for (const auto& [name, pointer] : mapping.dates) {
    auto found = pointer.Find(root);
    std::string text = found ? ScalarText(*found) : "";
    auto epoch = schema::ParseTimestamp(text);
    if (!epoch) continue;
    if (auto slot = registry.SlotFor(name, schema::FieldKind::kDate)) {
      doc.add_value(*slot, Xapian::sortable_serialise(*epoch));
    }
    fields[name] = text;
  }
  for (const auto& [name, pointer] : mapping.numbers) {
    auto found = pointer.Find(root);
    if (!found || !(found->is_number())) continue;
    double number = found->get_double().value_unsafe();
    if (auto slot = registry.SlotFor(name, schema::FieldKind::kNumber)) {
      doc.add_value(*slot, Xapian::sortable_serialise(number));
    }
    fields[name] = number;
  }

  doc.add_boolean_term(schema::UniqueTerm(record.source, record.id));
  doc.add_boolean_term(schema::SourceTerm(record.source));
  doc.add_value(schema::kUpdatedAtSlot, record.updated_at);
  doc.add_value(schema::kOrderSlot, schema::OrderKey(record.updated_at, record.source, record.id));
  doc.set_data(json::serialize(json::object{{"source", record.source},
                                            {"id", record.id},
                                            {"title", title},
                                            {"text", text},
                                            {"updated_at", record.updated_at},
                                            {"fields", std::move(fields)}}));
  return doc;
}

}  // namespace octohub::indexer
