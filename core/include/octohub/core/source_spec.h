// SourceSpec: a registered API as described in SPEC §3, parsed and validated.
// Shared by ingest (fetching) and indexer (the index mapping). Pure; thread-safe.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "octohub/core/status.h"

namespace octohub {

using NamedValues = std::vector<std::pair<std::string, std::string>>;

// A secret is given literally or as the name of an environment variable read at run time.
struct Secret {
  std::string value;
  std::string env;  // non-empty: read this variable when the value is needed
  bool operator==(const Secret&) const = default;
};

struct AuthSpec {
  enum class Type { kNone, kBearer, kBasic, kHeader, kQuery };
  Type type = Type::kNone;
  Secret token;      // bearer
  Secret username;   // basic
  Secret password;   // basic
  std::string name;  // header / query: the header or parameter name
  Secret value;      // header / query
  bool operator==(const AuthSpec&) const = default;
};

struct PaginationSpec {
  enum class Type { kNone, kPage, kOffset, kCursor, kNextUrl, kLinkHeader };
  Type type = Type::kNone;
  std::string param;        // page / offset / cursor: the query parameter to set
  std::int64_t start = 0;   // first page number (page: default 1) or offset (default 0)
  std::string size_param;   // optional page-size parameter
  std::int64_t size = 0;    // 0 = do not send a size
  std::string cursor_path;  // cursor: where the next cursor is in the page
  std::string next_path;    // next_url: where the next URL is in the page
  bool operator==(const PaginationSpec&) const = default;
};

struct IncrementalSpec {
  std::string cursor;  // JSON Pointer into each record; its largest value is the next cursor
  std::string param;   // query parameter that carries the stored cursor
  bool operator==(const IncrementalSpec&) const = default;
};

struct IndexSpec {
  std::string title;              // JSON Pointer, may be empty
  std::vector<std::string> text;  // JSON Pointers, "*" walks arrays
  NamedValues facets;             // name -> pointer
  NamedValues dates;
  NamedValues numbers;
  std::string language = "english";
  bool operator==(const IndexSpec&) const = default;
};

struct SourceSpec {
  std::string name;
  std::string url;
  std::string method = "GET";
  NamedValues headers;
  NamedValues query;
  std::optional<std::string> body;  // serialized JSON, POST only
  AuthSpec auth;
  std::string records;            // JSON Pointer; "" = the page is the array
  std::optional<std::string> id;  // JSON Pointer; absent = hash of the record
  PaginationSpec pagination;
  std::optional<IncrementalSpec> incremental;
  enum class Mode { kIncremental, kFullRefresh };
  Mode mode = Mode::kIncremental;
  std::string schedule;            // empty = manual only
  double requests_per_second = 0;  // 0 = unlimited
  std::int64_t max_pages = 10000;
  double timeout_s = 30;
  IndexSpec index;
  bool operator==(const SourceSpec&) const = default;
};

// Validates a source document and reports every problem at once, each with a JSON Pointer
// into the document and a reason (status kInvalidArgument with field_errors).
Result<SourceSpec> ParseSourceSpec(const boost::json::value& document);

// The canonical JSON form. With redact_secrets, literal secret values become "***"
// (environment variable names are kept: they are not secret).
boost::json::object SourceSpecToJson(const SourceSpec& spec, bool redact_secrets);

// The "auth" member of a document (sources, targets): absent = none. Problems are added to
// errors with pointers under "/auth".
AuthSpec ParseAuthMember(const boost::json::object& document, std::vector<FieldError>& errors);
// The "auth" object, secrets redacted as "***" with redact_secrets.
boost::json::object AuthSpecToJson(const AuthSpec& auth, bool redact_secrets);

// Stemming languages Xapian 1.4 knows, plus "none".
const std::vector<std::string>& IndexLanguages();

}  // namespace octohub
