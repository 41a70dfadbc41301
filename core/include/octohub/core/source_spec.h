// SourceSpec: a registered API as described in SPEC §3, parsed and validated.
// Shared by ingest (fetching) and indexer (the index mapping). Pure; thread-safe.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
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

struct OAuth2Spec {
  std::string token_url;
  enum class Grant { kClientCredentials, kRefreshToken };
  Grant grant = Grant::kClientCredentials;
  std::string client_id;
  Secret client_secret;
  Secret refresh_token;                     // refresh_token grant
  std::string scope;                        // empty = none asked
  enum class ClientAuth { kBasic, kBody };  // RFC 6749 §2.3.1: HTTP Basic or form fields
  ClientAuth client_auth = ClientAuth::kBasic;
  bool operator==(const OAuth2Spec&) const = default;
};

struct AuthSpec {
  enum class Type { kNone, kBearer, kBasic, kHeader, kQuery, kOAuth2 };
  Type type = Type::kNone;
  Secret token;      // bearer
  Secret username;   // basic
  Secret password;   // basic
  std::string name;  // header / query: the header or parameter name
  Secret value;      // header / query
  OAuth2Spec oauth2;
  bool operator==(const AuthSpec&) const = default;
};

struct PaginationSpec {
  enum class Type { kNone, kPage, kOffset, kCursor, kNextUrl, kLinkHeader };
  Type type = Type::kNone;
  std::string param;               // page / offset / cursor: the query parameter to set
  std::int64_t start = 0;          // first page number (page: default 1) or offset (default 0)
  std::string size_param;          // optional page-size parameter
  std::int64_t size = 0;           // 0 = do not send a size
  std::string cursor_path;         // cursor: where the next cursor is in the page
  std::string cursor_record_path;  // cursor: or where it is in the page's last record
  std::string next_path;           // next_url: where the next URL is in the page
  // POST sources: JSON Pointers into the body for the paging value and the size, used
  // instead of param and size_param.
  std::string body_param;
  std::string size_body_param;
  // Stop conditions besides an empty page and a missing cursor or link (JSON Pointers into
  // the page, or response header names).
  std::string more_path;   // a boolean: stop when false
  std::string done_path;   // a boolean: stop when true
  std::string total_path;  // total records: stop once that many were seen
  std::string total_header;
  std::string pages_path;  // total pages: stop after the last
  std::string pages_header;
  bool operator==(const PaginationSpec&) const = default;
};

struct IncrementalSpec {
  std::string cursor;  // JSON Pointer into each record; its largest value is the next cursor
  std::string param;   // query parameter that carries the stored cursor
  bool operator==(const IncrementalSpec&) const = default;
};

// Bounds on "index.synonyms": entries per group, entries in all, words per entry.
inline constexpr std::size_t kMaxSynonymsPerGroup = 50;
inline constexpr std::size_t kMaxSynonyms = 1000;
inline constexpr std::size_t kMaxSynonymWords = 8;

struct IndexSpec {
  std::string title;              // JSON Pointer, may be empty
  std::vector<std::string> text;  // JSON Pointers, "*" walks arrays
  NamedValues facets;             // name -> pointer
  NamedValues dates;
  NamedValues numbers;
  std::string language = "english";
  bool typos = true;  // queries also match words a typo or two away (SPEC §4)
  // Groups of words and phrases that match each other in this source, lower case, single
  // spaces; an entry belongs to one group.
  std::vector<std::vector<std::string>> synonyms;
  bool operator==(const IndexSpec&) const = default;
};

// Runs a child source once per stored record of its parent, with these variables taken from
// the parent record ("{name}" in url, query values, headers and body strings).
struct ForEachSpec {
  std::string source;
  NamedValues vars;  // name -> JSON Pointer into the parent record
  bool operator==(const ForEachSpec&) const = default;
};

// The schedule value that runs a child after each successful run of its parent.
inline constexpr const char* kAfterParentSchedule = "after_parent";

// A source that receives pushed records (webhooks): how their sender signs them.
struct PushSpec {
  enum class Signature { kGithub, kStripe, kStandardWebhooks, kHmacSha256 };
  Signature signature = Signature::kGithub;
  Secret secret;
  std::string header;  // hmac-sha256: the header carrying the signature
  bool operator==(const PushSpec&) const = default;
};
// "github", "stripe", "standard-webhooks", "hmac-sha256".
const char* PushSignatureName(PushSpec::Signature signature);

struct SourceSpec {
  std::string name;
  std::string url;  // empty for a source that only receives pushes
  std::string method = "GET";
  NamedValues headers;
  NamedValues query;
  std::optional<std::string> body;  // serialized JSON, POST only
  AuthSpec auth;
  enum class Format { kJson, kNdjson, kCsv };
  Format format = Format::kJson;
  std::string records;            // JSON Pointer; "" = the page is the array
  std::optional<std::string> id;  // JSON Pointer; absent = hash of the record
  PaginationSpec pagination;
  std::optional<IncrementalSpec> incremental;
  enum class Mode { kIncremental, kFullRefresh };
  Mode mode = Mode::kIncremental;
  std::string schedule;  // empty = manual only
  std::optional<ForEachSpec> for_each;
  double requests_per_second = 0;  // 0 = unlimited
  double max_wait_s = 900;         // the longest wait a rate-limit answer may ask for
  bool strict = false;             // correctness warnings fail the run
  double max_delete_ratio = 0.5;   // full_refresh: a larger share unseen fails the run
  std::int64_t max_pages = 10000;
  double timeout_s = 30;
  IndexSpec index;
  std::optional<PushSpec> push;
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

// The "{name}" placeholders of text (names of A-Z, a-z, 0-9 and _), in order.
std::vector<std::string> PlaceholderNames(std::string_view text);

// Stemming languages Xapian 1.4 knows, plus "none".
const std::vector<std::string>& IndexLanguages();

}  // namespace octohub
