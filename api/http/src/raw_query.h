// The query string exactly as the client sent it. Pistache 0.0.5 keeps query parameters in a
// map that drops repeated names, but the contract has repeatable ones (filter.FIELD=value);
// the request's own bytes are still in its connection's parser while onRequest runs.
#pragma once

#include <pistache/http.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace octohub::http {

// The part after '?' of the request target, "" when there is none; nullopt when the request
// line cannot be recovered (the caller then falls back to Pistache's parsed map). Must be
// called on the reactor thread, inside onRequest, before the parser is reset.
std::optional<std::string> RawQueryOf(const Pistache::Http::ResponseWriter& writer);

// The query part of a request line ("GET /p?a=1 HTTP/1.1\r\n…" → "a=1"); nullopt when the
// text does not start with a complete request line.
std::optional<std::string_view> QueryOfRequestLine(std::string_view request);

// Splits "a=1&b=&c" into ordered, still percent-encoded pairs; repeated names are kept.
std::vector<std::pair<std::string_view, std::string_view>> SplitQuery(std::string_view query);

}  // namespace octohub::http
