#include "package_catalog.h"

#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <sstream>

namespace octohub::hub {
namespace json = boost::json;
namespace {

std::string Trim(const std::string& text) {
  size_t begin = text.find_first_not_of(" \t");
  size_t end = text.find_last_not_of(" \t\r");
  return begin == std::string::npos ? "" : text.substr(begin, end - begin + 1);
}

// "a (>= 1), b | c" -> ["a", "b", "c"]: names only, alternatives flattened.
json::array PackageNames(const std::string& field) {
  json::array out;
  std::string name;
  bool in_version = false;
  for (char c : field + ",") {
    if (c == '(') in_version = true;
    if (c == ')') in_version = false;
    if (c == ',' || c == '|') {
      std::string trimmed = Trim(name);
      if (auto colon = trimmed.find(':'); colon != std::string::npos) trimmed.resize(colon);
      if (!trimmed.empty()) out.emplace_back(trimmed);
      name.clear();
    } else if (!in_version && c != ' ') {
      name += c;
    } else if (!in_version && c == ' ' && !name.empty()) {
      name += ' ';
    }
  }
  return out;
}

json::array Tags(const std::string& field) {
  json::array out;
  std::stringstream in(field);
  for (std::string tag; std::getline(in, tag, ',');) {
    tag = Trim(tag);
    if (!tag.empty()) out.emplace_back(tag);
  }
  return out;
}

}  // namespace

std::vector<json::object> ParsePackageIndex(std::istream& in) {
  std::vector<json::object> packages;
  std::set<std::string> seen;
  std::map<std::string, std::string> fields;
  std::string last_key;
  auto flush = [&] {
    auto name = fields.find("Package");
    if (name != fields.end() && seen.insert(name->second).second) {
      json::object record{{"id", name->second},
                          {"name", name->second},
                          {"version", fields["Version"]},
                          {"section", fields["Section"]},
                          {"priority", fields["Priority"]},
                          {"maintainer", fields["Maintainer"]},
                          {"homepage", fields["Homepage"]},
                          {"summary", fields["Description"]},
                          {"tags", Tags(fields["Tag"])},
                          {"depends", PackageNames(fields["Depends"])},
                          {"installed_size_kb", std::atoll(fields["Installed-Size"].c_str())}};
      packages.push_back(std::move(record));
    }
    fields.clear();
    last_key.clear();
  };
  for (std::string line; std::getline(in, line);) {
    if (Trim(line).empty()) {
      flush();
    } else if (line[0] == ' ' || line[0] == '\t') {
      if (!last_key.empty()) fields[last_key] += " " + Trim(line);  // continuation line
    } else if (auto colon = line.find(':'); colon != std::string::npos) {
      last_key = line.substr(0, colon);
      fields[last_key] = Trim(line.substr(colon + 1));
    }
  }
  flush();
  return packages;
}

Result<std::vector<json::object>> ReadPackageCatalog() {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen("apt-cache dumpavail 2>/dev/null", "r"), pclose);
  if (!pipe) return FailedPrecondition("cannot run apt-cache");
  std::string text;
  char buffer[1 << 16];
  for (size_t n; (n = fread(buffer, 1, sizeof(buffer), pipe.get())) > 0;) text.append(buffer, n);
  std::istringstream in(text);
  auto packages = ParsePackageIndex(in);
  if (packages.empty()) {
    return FailedPrecondition(
        "the demo serves this machine's Debian package index, but apt knows no packages; "
        "run `sudo apt-get update` first");
  }
  return packages;
}

}  // namespace octohub::hub
