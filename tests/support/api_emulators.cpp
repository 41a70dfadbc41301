// The emulator list and the helpers every emulator shares (api_emulator_kit.h).
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iterator>

#include "api_emulator_kit.h"

namespace octohub::testing {
namespace emulation {
namespace {

constexpr std::int64_t kFirstUpdate = 1704067200;  // 2024-01-01T00:00:00Z

const char* const kSubjects[] = {"Harvest",      "Search index", "Export",  "Webhook",
                                 "Scheduler",    "Forwarding",   "Web UI",  "Cursor",
                                 "Rate limiter", "Record view",  "Preview", "OAuth client"};
const char* const kProblems[] = {"stalls after a restart",   "drops the last page",
                                 "repeats a record",         "ignores the page size",
                                 "times out on large pages", "loses its cursor",
                                 "reports the wrong total"};

}  // namespace

std::vector<SampleRecord> SampleRecords(int count) {
  std::vector<SampleRecord> records;
  records.reserve(count);
  for (int n = 1; n <= count; ++n) {
    SampleRecord r;
    r.number = n;
    const std::string subject = kSubjects[n % std::size(kSubjects)];
    const std::string problem = kProblems[n % std::size(kProblems)];
    // Every 7th title has a comma, every 5th body quotes, every 9th body spans two lines:
    // the CSV emulator needs them, and JSON emulators lose nothing by carrying them too.
    r.title = n % 7 == 0 ? subject + ", again, " + problem : subject + " " + problem;
    r.body = "Seen in run " + Padded(n, 4) + ": the " + subject + " " + problem + ".";
    if (n % 5 == 0) r.body += " The log says \"retry later\" twice.";
    if (n % 9 == 0)
      r.body += "\nSecond line: it happens on page " + std::to_string(n % 4 + 2) + ".";
    r.state = n % 3 == 0 ? "closed" : "open";
    r.updated_epoch = kFirstUpdate + static_cast<std::int64_t>(n) * 5400;
    r.updated_at = Rfc3339(r.updated_epoch);
    r.comments = (n * 7) % 23;
    records.push_back(std::move(r));
  }
  return records;
}

HostedEmulator::HostedEmulator(std::string name, std::string documentation,
                               std::shared_ptr<ApiModel> model)
    : name_(std::move(name)),
      documentation_(std::move(documentation)),
      model_(std::move(model)),
      server_([model = model_](const TestRequest& request) { return model->Handle(request); }) {}

std::string HostedEmulator::SourceDocument() const {
  json::object source = model_->Source(server_.url(""));
  source["name"] = name_;
  return json::serialize(source);
}

TestResponse JsonResponse(int status, const json::value& body, std::string content_type) {
  TestResponse response;
  response.status = status;
  response.body = json::serialize(body);
  response.headers = {{"Content-Type", std::move(content_type)}};
  return response;
}

TestResponse TextResponse(int status, std::string body, std::string content_type) {
  TestResponse response;
  response.status = status;
  response.body = std::move(body);
  response.headers = {{"Content-Type", std::move(content_type)}};
  return response;
}

void SetHeader(TestResponse& response, std::string name, std::string value) {
  response.headers.emplace_back(std::move(name), std::move(value));
}

std::string LinkHeader(const std::vector<std::pair<std::string, std::string>>& rel_urls) {
  std::string out;
  for (const auto& [rel, url] : rel_urls) {
    if (!out.empty()) out += ", ";
    out += "<" + url + ">; rel=\"" + rel + "\"";
  }
  return out;
}

std::string HeaderOf(const TestRequest& request, const std::string& lower_case_name) {
  auto it = request.headers.find(lower_case_name);
  return it == request.headers.end() ? std::string() : it->second;
}

std::optional<std::string> QueryOf(const TestRequest& request, const std::string& name) {
  auto it = request.query.find(name);
  if (it == request.query.end()) return std::nullopt;
  return it->second;
}

namespace {

// "Scheme credentials" with a case-insensitive scheme (RFC 9110 §11.1).
std::optional<std::string> AuthorizationWithScheme(const TestRequest& request,
                                                   std::string_view scheme) {
  const std::string header = HeaderOf(request, "authorization");
  if (header.size() <= scheme.size() + 1 || header[scheme.size()] != ' ') return std::nullopt;
  for (size_t i = 0; i < scheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) !=
        std::tolower(static_cast<unsigned char>(scheme[i]))) {
      return std::nullopt;
    }
  }
  return header.substr(scheme.size() + 1);
}

}  // namespace

std::optional<std::string> BearerToken(const TestRequest& request) {
  return AuthorizationWithScheme(request, "Bearer");
}

std::optional<Credentials> BasicCredentials(const TestRequest& request) {
  auto encoded = AuthorizationWithScheme(request, "Basic");
  if (!encoded) return std::nullopt;
  auto decoded = FromBase64(*encoded);
  if (!decoded) return std::nullopt;
  const size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return Credentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

std::string BaseUrl(const TestRequest& request) { return "http://" + HeaderOf(request, "host"); }

std::optional<std::int64_t> ParseInteger(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::int64_t value = 0;
  size_t i = text[0] == '-' ? 1 : 0;
  if (i == text.size()) return std::nullopt;
  for (; i < text.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return text[0] == '-' ? -value : value;
}

std::optional<json::value> ParseJson(std::string_view text) {
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec) return std::nullopt;
  return value;
}

std::map<std::string, std::string> ParseForm(std::string_view body) {
  auto decode = [](std::string_view text) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '+') {
        out += ' ';
      } else if (text[i] == '%' && i + 2 < text.size() &&
                 std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
                 std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
        out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
        i += 2;
      } else {
        out += text[i];
      }
    }
    return out;
  };
  std::map<std::string, std::string> fields;
  while (!body.empty()) {
    const size_t amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    fields[decode(pair.substr(0, eq))] =
        eq == std::string_view::npos ? std::string() : decode(pair.substr(eq + 1));
  }
  return fields;
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    // Unreserved characters (RFC 3986) plus a few that are plain in query strings; "+" is
    // encoded because servers read a bare "+" as a space.
    if (std::isalnum(c) ||
        std::string_view("-._~$,:@/").find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

std::string WithQuery(const std::string& url,
                      const std::vector<std::pair<std::string, std::string>>& params) {
  // A later value for the same name replaces the earlier one, in the earlier one's place.
  std::vector<std::pair<std::string, std::string>> unique;
  for (const auto& [key, value] : params) {
    auto it = std::find_if(unique.begin(), unique.end(),
                           [&key = key](const auto& kept) { return kept.first == key; });
    if (it == unique.end()) {
      unique.emplace_back(key, value);
    } else {
      it->second = value;
    }
  }
  std::string out = url.substr(0, url.find('?'));
  char separator = '?';
  for (const auto& [key, value] : unique) {
    out += separator;
    out += PercentEncode(key) + "=" + PercentEncode(value);
    separator = '&';
  }
  return out;
}

namespace {
constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}

std::string Base64(std::string_view bytes) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kBase64Alphabet[(buffer >> bits) & 0x3f];
    }
  }
  if (bits > 0) out += kBase64Alphabet[(buffer << (6 - bits)) & 0x3f];
  while (out.size() % 4 != 0) out += '=';
  return out;
}

std::optional<std::string> FromBase64(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    const size_t index = kBase64Alphabet.find(c);
    if (index == std::string_view::npos) return std::nullopt;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(index);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

std::vector<std::string> SplitCommas(std::string_view text) {
  std::vector<std::string> parts;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    parts.emplace_back(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  return parts;
}

std::string UrlToken(std::string_view text) {
  std::string token = Base64(text);
  while (!token.empty() && token.back() == '=') token.pop_back();
  std::replace(token.begin(), token.end(), '+', '-');
  std::replace(token.begin(), token.end(), '/', '_');
  return token;
}

std::optional<std::string> FromUrlToken(std::string token) {
  std::replace(token.begin(), token.end(), '-', '+');
  std::replace(token.begin(), token.end(), '_', '/');
  return FromBase64(token);
}

std::optional<std::int64_t> PositionIn(const std::string& token, const std::string& prefix,
                                       std::int64_t limit) {
  auto text = FromUrlToken(token);
  if (!text || text->rfind(prefix, 0) != 0) return std::nullopt;
  auto position = ParseInteger(text->substr(prefix.size()));
  if (!position || *position < 0 || *position > limit ||
      UrlToken(prefix + std::to_string(*position)) != token) {
    return std::nullopt;
  }
  return position;
}

std::string Padded(std::int64_t number, int width) {
  std::string digits = std::to_string(number);
  if (digits.size() < static_cast<size_t>(width)) digits.insert(0, width - digits.size(), '0');
  return digits;
}

std::string Rfc3339(std::int64_t epoch_seconds) {
  const std::time_t time = static_cast<std::time_t>(epoch_seconds);
  std::tm utc{};
  gmtime_r(&time, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string Uuid(int number, int salt) {
  char text[40];
  std::snprintf(text, sizeof text, "%08x-%04x-4%03x-8%03x-%012x", 0x5eed0000 + salt,
                (number * 2654435761u) & 0xffff, number & 0xfff, salt & 0xfff, number);
  return text;
}

std::int64_t NowEpochSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json::object IndexFields(std::string title, std::vector<std::string> text,
                         std::vector<std::pair<std::string, std::string>> facets,
                         std::vector<std::pair<std::string, std::string>> dates,
                         std::vector<std::pair<std::string, std::string>> numbers) {
  auto named = [](const std::vector<std::pair<std::string, std::string>>& pairs) {
    json::object out;
    for (const auto& [name, pointer] : pairs) out[name] = pointer;
    return out;
  };
  json::array text_pointers;
  for (auto& pointer : text) text_pointers.emplace_back(std::move(pointer));
  return {{"title", std::move(title)}, {"text", std::move(text_pointers)},
          {"facets", named(facets)},   {"dates", named(dates)},
          {"numbers", named(numbers)}, {"language", "english"}};
}

}  // namespace emulation

namespace {

using Factory = std::unique_ptr<ApiEmulator> (*)();

struct NamedFactory {
  const char* name;
  Factory make;
};

std::unique_ptr<ApiEmulator> MakeOAuth2() { return std::make_unique<OAuth2Emulator>(); }
std::unique_ptr<ApiEmulator> MakeParentChild() { return std::make_unique<ParentChildEmulator>(); }

// In the order of the brief that defined them; names are also the source names.
const NamedFactory kEmulators[] = {
    {"github_rest", emulation::MakeGithubRestEmulator},
    {"stripe", emulation::MakeStripeEmulator},
    {"slack", emulation::MakeSlackEmulator},
    {"jira", emulation::MakeJiraEmulator},
    {"hubspot", emulation::MakeHubspotEmulator},
    {"zendesk", emulation::MakeZendeskEmulator},
    {"notion", emulation::MakeNotionEmulator},
    {"github_graphql", emulation::MakeGithubGraphqlEmulator},
    {"elasticsearch", emulation::MakeElasticsearchEmulator},
    {"oauth2", MakeOAuth2},
    {"reddit", emulation::MakeRedditEmulator},
    {"twitter", emulation::MakeTwitterEmulator},
    {"shopify", emulation::MakeShopifyEmulator},
    {"wordpress", emulation::MakeWordpressEmulator},
    {"jsonapi", emulation::MakeJsonApiEmulator},
    {"odata", emulation::MakeODataEmulator},
    {"ndjson", emulation::MakeNdjsonEmulator},
    {"csv", emulation::MakeCsvEmulator},
    {"parent_child", MakeParentChild},
};

}  // namespace

std::vector<std::unique_ptr<ApiEmulator>> MakeApiEmulators() {
  std::vector<std::unique_ptr<ApiEmulator>> emulators;
  for (const auto& entry : kEmulators) emulators.push_back(entry.make());
  return emulators;
}

std::unique_ptr<ApiEmulator> MakeApiEmulator(const std::string& name) {
  for (const auto& entry : kEmulators) {
    if (name == entry.name) return entry.make();
  }
  return nullptr;
}

}  // namespace octohub::testing
