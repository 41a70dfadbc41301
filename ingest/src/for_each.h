// Parent → child sources (SPEC §3 for_each): the values a child takes from one parent record
// and the child's request with them filled in. Pure.
#pragma once

#include <string>
#include <string_view>

#include "octohub/core/source_spec.h"
#include "octohub/core/status.h"

namespace octohub::ingest {

// Each variable's text at its pointer in the parent record (JSON text); kNotFound naming the
// first variable the record has no scalar for.
Result<NamedValues> ParentValues(const ForEachSpec& for_each, std::string_view parent_json);

// The child source as sent for one parent: "{name}" replaced by its value in the URL
// (percent-encoded, so a value cannot change the path), in query and header values, and in
// the strings of the body.
SourceSpec ExpandForParent(const SourceSpec& child, const NamedValues& values);

// A child record's id: the parent record's id, "/", its own.
inline std::string ChildRecordId(std::string_view parent_id, std::string_view own_id) {
  std::string id(parent_id);
  id += '/';
  id += own_id;
  return id;
}

}  // namespace octohub::ingest
