#include "issue_generator.h"

#include <simdjson.h>

#include <array>
#include <boost/json.hpp>
#include <ctime>
#include <fstream>
#include <string_view>

namespace octohub::bench {
namespace json = boost::json;
namespace {

constexpr std::uint64_t kSeed = 0x0c70b0b5eedULL;

// SplitMix64: tiny, fully specified, and the same on every platform (unlike the standard
// library's distributions), which keeps the records identical everywhere.
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // In [low, high].
  std::int64_t Between(std::int64_t low, std::int64_t high) {
    return low + static_cast<std::int64_t>(Next() % static_cast<std::uint64_t>(high - low + 1));
  }
  template <typename T>
  const auto& Pick(const T& items) {
    return items[Next() % items.size()];
  }

 private:
  std::uint64_t state_;
};

// A person's name as shown, and as an ASCII login would spell it.
struct Name {
  std::string_view shown;
  std::string_view ascii;
};
constexpr std::array<Name, 12> kFirstNames = {{{"Ada", "ada"},
                                               {"Björn", "bjorn"},
                                               {"Chidi", "chidi"},
                                               {"Dana", "dana"},
                                               {"Émile", "emile"},
                                               {"Farah", "farah"},
                                               {"Grace", "grace"},
                                               {"Hiroshi", "hiroshi"},
                                               {"Inès", "ines"},
                                               {"Jonas", "jonas"},
                                               {"Keanu", "keanu"},
                                               {"Łucja", "lucja"}}};
constexpr std::array<Name, 12> kLastNames = {{{"Okafor", "okafor"},
                                              {"Lindqvist", "lindqvist"},
                                              {"Moreau", "moreau"},
                                              {"Nakamura", "nakamura"},
                                              {"O'Neill", "oneill"},
                                              {"Petrović", "petrovic"},
                                              {"Quispe", "quispe"},
                                              {"Rossi", "rossi"},
                                              {"Schmidt", "schmidt"},
                                              {"Tanaka", "tanaka"},
                                              {"Umarov", "umarov"},
                                              {"Varga", "varga"}}};
constexpr std::array<std::string_view, 10> kLabels = {
    "bug",      "enhancement", "documentation", "good first issue", "help wanted",
    "question", "regression",  "performance",   "wontfix",          "needs triage"};
constexpr std::array<std::string_view, 40> kWords = {
    "the",     "server", "returns", "an",      "error",   "when",   "page",    "request",
    "cache",   "index",  "query",   "after",   "update",  "build",  "fails",   "on",
    "startup", "with",   "large",   "records", "timeout", "config", "option",  "missing",
    "crash",   "memory", "leak",    "in",      "parser",  "slow",   "search",  "result",
    "header",  "client", "retry",   "token",   "expired", "during", "upgrade", "import"};

std::string MadeUpSentence(Random& random) {
  std::string sentence;
  for (std::int64_t i = 0, n = random.Between(5, 10); i < n; ++i) {
    if (i > 0) sentence += ' ';
    sentence += random.Pick(kWords);
  }
  sentence[0] = static_cast<char>(sentence[0] - 'a' + 'A');
  return sentence;
}

std::string Rfc3339(std::int64_t seconds) {
  const std::time_t t = seconds;
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace

IssueGenerator::IssueGenerator(std::vector<std::string> sentences)
    : sentences_(std::move(sentences)) {}

std::string IssueGenerator::Record(std::int64_t n) const {
  Random random(kSeed ^ (static_cast<std::uint64_t>(n) * 0xd1342543de82ef95ULL));
  auto sentence = [&]() -> std::string {
    return sentences_.empty() ? MadeUpSentence(random) : random.Pick(sentences_);
  };
  std::string body;
  for (std::int64_t i = 0, count = random.Between(11, 20); i < count; ++i) {
    if (i > 0) body += ' ';
    std::string text = sentence();
    // Package synopses start in lower case; sentences in an issue body do not.
    if (text[0] >= 'a' && text[0] <= 'z') text[0] = static_cast<char>(text[0] - 'a' + 'A');
    body += text;
    body += '.';
  }
  const Name& first = random.Pick(kFirstNames);
  const Name& last = random.Pick(kLastNames);
  const std::string login = std::string(first.ascii.substr(0, 1)) + std::string(last.ascii) +
                            std::to_string(random.Between(1, 99));
  json::array labels;
  for (std::int64_t i = 0, count = random.Between(0, 3); i < count; ++i) {
    labels.push_back(json::object{{"name", random.Pick(kLabels)}});
  }
  // One issue about every two minutes from 2021 on, updated up to 90 days later.
  const std::int64_t created = 1609459200 + n * 120 + random.Between(0, 119);
  const std::int64_t updated = created + random.Between(0, 90 * 86400);
  json::object record{
      {"id", n},
      {"title", sentence()},
      {"body", body},
      {"author", json::object{{"login", login},
                              {"name", std::string(first.shown) + " " + std::string(last.shown)}}},
      {"labels", std::move(labels)},
      {"created_at", Rfc3339(created)},
      {"updated_at", Rfc3339(updated)},
      {"comments", random.Between(0, 40)}};
  // Drawn last, so every other field is what it was before "state" existed.
  record["state"] = random.Between(1, 10) <= 3 ? "open" : "closed";
  return json::serialize(record);
}

std::vector<std::string> ReadSentences(const std::string& path) {
  std::vector<std::string> sentences;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    // A page with invalid UTF-8 would be refused by Octohub: such lines are left out.
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (simdjson::validate_utf8(line.data(), line.size())) sentences.push_back(line);
  }
  return sentences;
}

}  // namespace octohub::bench
