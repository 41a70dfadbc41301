#include "demo_material.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <regex>
#include <set>
#include <sstream>

namespace octohub::hub {
namespace json = boost::json;
namespace fs = std::filesystem;
namespace {

std::string Trim(std::string_view text) {
  const size_t begin = text.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return "";
  const size_t end = text.find_last_not_of(" \t\r");
  return std::string(text.substr(begin, end - begin + 1));
}

std::string ReadGzip(const fs::path& path) {
  std::string out;
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) return out;
  char buffer[1 << 15];
  for (int n; (n = gzread(file, buffer, sizeof(buffer))) > 0;) out.append(buffer, n);
  gzclose(file);
  return out;
}

const char* SectionTitle(const std::string& section) {
  switch (section.empty() ? '?' : section[0]) {
    case '1':
      return "User commands";
    case '2':
      return "System calls";
    case '3':
      return "Library calls";
    case '4':
      return "Special files";
    case '5':
      return "File formats";
    case '6':
      return "Games";
    case '7':
      return "Overviews and conventions";
    case '8':
      return "System administration";
    default:
      return "Other";
  }
}

}  // namespace

std::string Rfc2822ToRfc3339(std::string_view date) {
  static const std::regex kDate(
      R"(^(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Za-z]{3})[a-z]*\s+(\d{4})\s+(\d{2}):(\d{2}):(\d{2})\s+([+-]\d{2})(\d{2}))");
  static const std::string kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
  std::cmatch m;
  if (!std::regex_search(date.data(), date.data() + date.size(), m, kDate)) return "";
  const size_t month = kMonths.find(m[2].str());
  if (month == std::string::npos || month % 3 != 0) return "";
  char out[40];
  std::snprintf(out, sizeof(out), "%s-%02zu-%02d T%s:%s:%s%s:%s", m[3].str().c_str(), month / 3 + 1,
                std::stoi(m[1].str()), m[4].str().c_str(), m[5].str().c_str(), m[6].str().c_str(),
                m[7].str().c_str(), m[8].str().c_str());
  std::string text(out);
  text.erase(text.find(' '), 1);
  return text;
}

std::vector<json::object> ParseChangelog(std::istream& in) {
  static const std::regex kHeader(R"(^([a-z0-9][a-z0-9+.-]*) \(([^)]+)\) ([^;]*); (.*)$)");
  static const std::regex kTrailer(R"(^ -- (.*?) <([^>]*)>\s+(.*)$)");
  static const std::regex kCloses(R"(#(\d{3,7}))");
  std::vector<json::object> entries;
  json::object entry;
  std::string changes;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, kHeader)) {
      entry = {
          {"package", m[1].str()}, {"version", m[2].str()}, {"distribution", Trim(m[3].str())}};
      const std::string options = m[4].str();
      const size_t urgency = options.find("urgency=");
      entry["urgency"] =
          urgency == std::string::npos
              ? std::string("unknown")
              : options.substr(urgency + 8, options.find_first_of(" ,", urgency) - (urgency + 8));
      changes.clear();
    } else if (!entry.empty() && std::regex_match(line, m, kTrailer)) {
      const std::string date = Rfc2822ToRfc3339(m[3].str());
      if (!date.empty()) {
        json::array closes;
        std::set<std::string> seen;
        for (std::sregex_iterator it(changes.begin(), changes.end(), kCloses), end; it != end;
             ++it) {
          if (seen.insert((*it)[1].str()).second) closes.emplace_back(std::stoll((*it)[1].str()));
        }
        entry["id"] = std::string(entry["package"].as_string()) + "/" +
                      std::string(entry["version"].as_string());
        entry["maintainer"] = Trim(m[1].str());
        entry["date"] = date;
        entry["year"] = date.substr(0, 4);
        entry["changes"] = Trim(changes);
        entry["bugs_closed"] = static_cast<std::int64_t>(closes.size());
        entry["closes"] = std::move(closes);
        entries.push_back(std::move(entry));
      }
      entry = {};
    } else if (!entry.empty()) {
      std::string text = Trim(line);
      if (!text.empty()) changes += (changes.empty() ? "" : "\n") + text;
    }
  }
  return entries;
}

std::vector<json::object> ParseManIndex(std::istream& in) {
  static const std::regex kLine(R"(^(\S+(?:, \S+)*) \(([0-9a-z]+)\)\s+- (.*)$)");
  std::vector<json::object> pages;
  std::set<std::string> seen;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (!std::regex_match(line, m, kLine)) continue;
    const std::string name = m[1].str(), section = m[2].str();
    if (!seen.insert(name + "." + section).second) continue;
    pages.push_back({{"id", name + "." + section},
                     {"name", name},
                     {"section", section},
                     {"section_title", SectionTitle(section)},
                     {"summary", Trim(m[3].str())}});
  }
  return pages;
}

json::object ParseCopyright(std::string_view package, std::istream& in) {
  std::string text, upstream, source, format = "free-form";
  json::array licenses, holders;
  std::set<std::string> seen_licenses, seen_holders;
  std::string last_key;
  int lines = 0;
  for (std::string line; std::getline(in, line);) {
    if (lines++ < 40) text += line + "\n";
    if (line.empty()) {
      last_key.clear();
      continue;
    }
    const bool continuation = line[0] == ' ' || line[0] == '\t';
    const size_t colon = line.find(':');
    if (!continuation && colon != std::string::npos && line.find(' ') > colon) {
      last_key = line.substr(0, colon);
      const std::string value = Trim(line.substr(colon + 1));
      if (last_key == "Format") format = "machine-readable";
      if (last_key == "Upstream-Name") upstream = value;
      if (last_key == "Source") source = value;
      if (last_key == "License") {
        std::string name = value.substr(0, value.find(' '));
        if (!name.empty() && seen_licenses.insert(name).second) licenses.emplace_back(name);
      }
      if (last_key == "Copyright" && !value.empty() && holders.size() < 10 &&
          seen_holders.insert(value).second) {
        holders.emplace_back(value);
      }
    } else if (continuation && last_key == "Copyright" && holders.size() < 10) {
      std::string value = Trim(line);
      if (!value.empty() && value != "." && seen_holders.insert(value).second) {
        holders.emplace_back(value);
      }
    }
  }
  return {{"id", std::string(package)},
          {"package", std::string(package)},
          {"format", format},
          {"upstream_name", upstream},
          {"source", source},
          {"licenses", std::move(licenses)},
          {"copyright", std::move(holders)},
          {"lines", lines},
          {"text", text}};
}

std::vector<json::object> ReadChangelogs(const fs::path& doc_dir) {
  std::vector<json::object> entries;
  std::set<std::string> seen;
  std::error_code error;
  std::vector<fs::path> files;
  for (const auto& dir : fs::directory_iterator(doc_dir, error)) {
    fs::path file = dir.path() / "changelog.Debian.gz";
    if (fs::exists(file, error)) files.push_back(file);
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    std::istringstream in(ReadGzip(file));
    for (auto& entry : ParseChangelog(in)) {
      if (seen.insert(std::string(entry["id"].as_string())).second) {
        entries.push_back(std::move(entry));
      }
    }
  }
  return entries;
}

std::vector<json::object> ReadManIndex() {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen("apropos -l . 2>/dev/null", "r"), pclose);
  if (!pipe) return {};
  std::string text;
  char buffer[1 << 15];
  for (size_t n; (n = fread(buffer, 1, sizeof(buffer), pipe.get())) > 0;) text.append(buffer, n);
  std::istringstream in(text);
  return ParseManIndex(in);
}

std::vector<json::object> ReadCopyrights(const fs::path& doc_dir) {
  std::vector<json::object> out;
  std::error_code error;
  std::vector<fs::path> dirs;
  for (const auto& dir : fs::directory_iterator(doc_dir, error)) dirs.push_back(dir.path());
  std::sort(dirs.begin(), dirs.end());
  for (const auto& dir : dirs) {
    // A symlinked doc directory belongs to another package: its copyright is that one's.
    if (fs::is_symlink(dir, error)) continue;
    std::ifstream in(dir / "copyright");
    if (!in) continue;
    out.push_back(ParseCopyright(dir.filename().string(), in));
  }
  return out;
}

}  // namespace octohub::hub
