#include "index_suggestion.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <map>
#include <set>

#include "octohub/core/document_checker.h"
#include "octohub/core/json_pointer.h"
#include "octohub/core/timestamp.h"

namespace octohub::ingest {
namespace json = boost::json;
namespace {

constexpr std::size_t kCutText = 200;
constexpr int kMaxDepth = 4;
// Longer strings read as text rather than as a title (unless named like one).
constexpr double kTitleLength = 40;

std::string Cut(std::string text) {
  if (text.size() > kCutText) {
    text.resize(kCutText);
    while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xC0) == 0x80) {
      text.pop_back();  // not in the middle of a UTF-8 character
    }
    if (!text.empty() && static_cast<unsigned char>(text.back()) >= 0xC0) text.pop_back();
    text += "…";
  }
  return text;
}

json::array ValuesAt(const std::string& pointer_text, simdjson::dom::element record, bool cut) {
  json::array out;
  auto pointer = JsonPointer::Parse(pointer_text, true);
  if (!pointer.ok()) return out;
  pointer->Visit(record, [&](simdjson::dom::element value) {
    std::string text = ScalarText(value);
    if (!text.empty()) out.emplace_back(cut ? Cut(std::move(text)) : std::move(text));
  });
  return out;
}

json::object Named(const NamedValues& fields, simdjson::dom::element record, bool many) {
  json::object out;
  for (const auto& [name, pointer] : fields) {
    json::array values = ValuesAt(pointer, record, true);
    if (values.empty()) continue;
    out[name] = many ? json::value(std::move(values)) : values.front();
  }
  return out;
}

// What the samples hold at one pointer.
struct Stats {
  int records = 0;  // records with a value here
  int strings = 0, numbers = 0, booleans = 0, dates = 0, urls = 0;
  std::size_t length = 0;  // of the strings, in bytes
  std::set<std::string> distinct;
  bool multi = false;  // reached through "*"
  double average() const { return strings == 0 ? 0 : static_cast<double>(length) / strings; }
};

class Survey {
 public:
  void Record(simdjson::dom::element record) {
    seen_.clear();
    Walk(record, "", 0, false);
    for (const auto& pointer : seen_) ++stats_[pointer].records;
  }
  const std::map<std::string, Stats>& stats() const { return stats_; }

 private:
  void Walk(simdjson::dom::element value, const std::string& at, int depth, bool multi) {
    simdjson::dom::object object;
    simdjson::dom::array array;
    if (value.get_object().get(object) == simdjson::SUCCESS) {
      if (depth >= kMaxDepth) return;
      for (auto field : object) {
        Walk(field.value, at + "/" + EscapePointerToken(field.key), depth + 1, multi);
      }
    } else if (value.get_array().get(array) == simdjson::SUCCESS) {
      if (depth >= kMaxDepth || multi) return;  // one "*" per pointer
      for (simdjson::dom::element item : array) Walk(item, at + "/*", depth + 1, true);
    } else if (!at.empty() && !value.is_null()) {
      Stats& s = stats_[at];
      s.multi = s.multi || multi;
      seen_.insert(at);
      if (value.is_string()) {
        const std::string_view text = value.get_string().value_unsafe();
        ++s.strings;
        s.length += text.size();
        if (s.distinct.size() < 1000) s.distinct.emplace(text.substr(0, 200));
        if (ParseTimestamp(text)) ++s.dates;
        if (text.starts_with("http://") || text.starts_with("https://")) ++s.urls;
      } else if (value.is_bool()) {
        ++s.booleans;
        s.distinct.insert(value.get_bool().value_unsafe() ? "true" : "false");
      } else {
        ++s.numbers;
      }
    }
  }

  std::map<std::string, Stats> stats_;
  std::set<std::string> seen_;
};

// A field name from a pointer's last named token: lower case, [a-z0-9_], not reserved.
std::string FieldName(const std::string& pointer, std::set<std::string>& taken) {
  std::string token;
  for (std::size_t end = pointer.size(); end > 0;) {
    const std::size_t slash = pointer.rfind('/', end - 1);
    token = pointer.substr(slash + 1, end - slash - 1);
    if (token != "*") break;
    end = slash;
  }
  std::string name;
  for (char c : token) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) {
      name += static_cast<char>(std::tolower(u));
    } else if (!name.empty() && name.back() != '_') {
      name += '_';
    }
  }
  while (!name.empty() && name.back() == '_') name.pop_back();
  if (name.empty()) name = "field";
  if (name.size() > 60) name.resize(60);
  static const std::set<std::string> kReserved = {"source", "id",         "title",
                                                  "text",   "updated_at", "data"};
  if (kReserved.count(name) != 0) name += "_field";
  std::string unique = name;
  for (int n = 2; !taken.insert(unique).second; ++n) unique = name + "_" + std::to_string(n);
  return unique;
}

bool NameLike(const std::string& pointer) {
  static const std::set<std::string> kNames = {"title",   "name",     "subject",
                                               "summary", "headline", "label"};
  const std::string last = pointer.substr(pointer.rfind('/') + 1);
  std::string lower;
  for (char c : last) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return kNames.count(lower) != 0;
}

}  // namespace

json::object IndexFieldsOf(const IndexSpec& index, simdjson::dom::element record) {
  json::object out;
  if (!index.title.empty()) {
    json::array title = ValuesAt(index.title, record, true);
    out["title"] = title.empty() ? json::value(nullptr) : title.front();
  }
  json::array text;
  for (const auto& pointer : index.text) {
    for (auto& value : ValuesAt(pointer, record, true)) text.push_back(std::move(value));
  }
  out["text"] = std::move(text);
  out["facets"] = Named(index.facets, record, true);
  out["dates"] = Named(index.dates, record, false);
  out["numbers"] = Named(index.numbers, record, false);
  return out;
}

IndexSpec SuggestIndex(const std::vector<std::string>& records,
                       const std::optional<std::string>& id_pointer) {
  Survey survey;
  simdjson::dom::parser parser;
  for (const auto& text : records) {
    simdjson::dom::element record;
    if (parser.parse(text).get(record) == simdjson::SUCCESS && record.is_object()) {
      survey.Record(record);
    }
  }
  IndexSpec index;
  std::set<std::string> taken;
  struct Candidate {
    std::string pointer;
    const Stats* stats;
  };
  std::vector<Candidate> strings;
  for (const auto& [pointer, s] : survey.stats()) {
    if (id_pointer && pointer == *id_pointer) continue;
    const int values = s.strings + s.numbers + s.booleans;
    if (s.numbers * 10 >= values * 9 && !s.multi) {
      if (index.numbers.size() < 10) index.numbers.emplace_back(FieldName(pointer, taken), pointer);
    } else if (s.strings > 0 && s.dates * 10 >= s.strings * 9 && !s.multi) {
      if (index.dates.size() < 5) index.dates.emplace_back(FieldName(pointer, taken), pointer);
    } else if (s.booleans * 10 >= values * 9 ||
               (s.strings > 1 && s.urls * 2 < s.strings && s.average() <= 40 &&
                s.distinct.size() * 2 <= static_cast<std::size_t>(s.strings))) {
      // Short strings that repeat (and booleans): values worth counting.
      if (index.facets.size() < 10) index.facets.emplace_back(FieldName(pointer, taken), pointer);
    } else if (s.strings > 0 && s.urls * 2 < s.strings) {
      strings.push_back({pointer, &s});
    }
  }
  // The title: a name-like member, else the most common distinct, short-ish string.
  auto title = std::find_if(strings.begin(), strings.end(), [](const Candidate& c) {
    return NameLike(c.pointer) && !c.stats->multi;
  });
  if (title == strings.end()) {
    title = std::max_element(
        strings.begin(), strings.end(), [](const Candidate& a, const Candidate& b) {
          auto score = [](const Candidate& c) {
            const Stats& s = *c.stats;
            const bool fits = !s.multi && s.average() >= 3 && s.average() <= kTitleLength &&
                              s.distinct.size() * 10 >= static_cast<std::size_t>(s.strings) * 9;
            return fits ? s.records : -1;
          };
          return score(a) < score(b);
        });
    if (title != strings.end()) {
      const Stats& s = *title->stats;
      const bool fits = !s.multi && s.average() >= 3 && s.average() <= kTitleLength &&
                        s.distinct.size() * 10 >= static_cast<std::size_t>(s.strings) * 9;
      if (!fits) title = strings.end();
    }
  }
  if (title != strings.end()) {
    index.title = title->pointer;
    strings.erase(title);
  }
  // The text: the longest strings, longest first.
  std::sort(strings.begin(), strings.end(), [](const Candidate& a, const Candidate& b) {
    return a.stats->average() > b.stats->average();
  });
  for (const auto& candidate : strings) {
    if (index.text.size() == 3 || candidate.stats->average() < 20) break;
    index.text.push_back(candidate.pointer);
  }
  return index;
}

}  // namespace octohub::ingest
