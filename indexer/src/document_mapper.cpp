#include "document_mapper.h"

#include <boost/json.hpp>

#include "index_schema.h"
#include "octohub/core/content_hash.h"

namespace octohub::indexer {
namespace json = boost::json;

namespace schema {

std::string UniqueTerm(std::string_view source, std::string_view id) {
  std::string term = std::string(kUniquePrefix) + std::string(source) + ":" + std::string(id);
  if (term.size() <= 240) return term;
  return std::string(kUniquePrefix) + std::string(source) + ":#" + ContentHash(id);
}

}  // namespace schema

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

// Every scalar the pointer reaches, as text, joined by spaces.
std::string TextOf(const JsonPointer& pointer, simdjson::dom::element root) {
  std::string out;
  pointer.Visit(root, [&](simdjson::dom::element value) {
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
                                             const CompiledMapping& mapping) {
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

  json::object fields;
  for (const auto& group : {&mapping.facets, &mapping.dates, &mapping.numbers}) {
    for (const auto& [name, pointer] : *group) {
      std::string value = TextOf(pointer, root);
      if (!value.empty()) fields[name] = value;
    }
  }

  doc.add_boolean_term(schema::UniqueTerm(record.source, record.id));
  doc.add_boolean_term(schema::SourceTerm(record.source));
  doc.add_value(schema::kUpdatedAtSlot, record.updated_at);
  doc.set_data(json::serialize(json::object{{"source", record.source},
                                            {"id", record.id},
                                            {"title", title},
                                            {"text", text},
                                            {"updated_at", record.updated_at},
                                            {"fields", std::move(fields)}}));
  return doc;
}

}  // namespace octohub::indexer
