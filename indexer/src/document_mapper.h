// Record -> Xapian document, following the source's index mapping. Pure apart from the
// TermGenerator it is given; one mapper per thread.
#pragma once

#include <simdjson.h>
#include <xapian.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "index_schema.h"
#include "octohub/core/json_pointer.h"
#include "octohub/core/source_spec.h"
#include "octohub/core/status.h"

namespace octohub::indexer {

struct RecordRow {
  std::string source;
  std::string id;
  std::string data;  // the record's JSON
  std::string updated_at;
  bool deleted = false;
};

struct CompiledMapping {
  std::optional<JsonPointer> title;
  std::vector<JsonPointer> text;
  std::vector<std::pair<std::string, JsonPointer>> facets;
  std::vector<std::pair<std::string, JsonPointer>> dates;
  std::vector<std::pair<std::string, JsonPointer>> numbers;
  std::string language;
  bool typos = true;
  std::vector<std::vector<std::string>> synonyms;

  static Result<CompiledMapping> From(const IndexSpec& spec);
};

class DocumentMapper {
 public:
  // Fails (kInvalidArgument) when data is not JSON; the caller skips such a record. New
  // field names get value slots in `fields`.
  Result<Xapian::Document> Map(const RecordRow& record, const CompiledMapping& mapping,
                               schema::FieldSlots& fields);

 private:
  simdjson::dom::parser parser_;
  Xapian::TermGenerator generator_;
};

}  // namespace octohub::indexer
