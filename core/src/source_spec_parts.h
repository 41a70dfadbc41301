// The parts of a source document, parsed and written by the files of source_spec.
#pragma once

#include <boost/json/object.hpp>

#include "octohub/core/document_checker.h"
#include "octohub/core/source_spec.h"

namespace octohub::source_parts {

// "auth" of a source (allow_oauth2) or a target.
void ParseAuth(DocumentChecker& c, const boost::json::object& document, AuthSpec& auth,
               bool allow_oauth2);
// "pagination", checked against the source's method, body and format already parsed.
void ParsePagination(DocumentChecker& c, const boost::json::object& document, SourceSpec& spec);
boost::json::object PaginationToJson(const PaginationSpec& p);

}  // namespace octohub::source_parts
