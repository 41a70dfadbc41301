// More of the demo's material, read from this machine at run time (never shipped): Debian
// changelogs (/usr/share/doc/*/changelog.Debian.gz), manual page descriptions (`apropos`),
// and copyright files (/usr/share/doc/*/copyright). Parsers are pure; readers do the I/O and
// return what they found (an empty list when the machine has none). Private to hub/.
#pragma once

#include <boost/json/object.hpp>
#include <filesystem>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

namespace octohub::hub {

// Entries of one Debian changelog, newest first: {"id": "source/version", "package",
// "version", "distribution", "urgency", "maintainer", "date" (RFC 3339), "year", "changes",
// "closes": [bug numbers], "bugs_closed"}. Entries without a trailer line are skipped.
std::vector<boost::json::object> ParseChangelog(std::istream& in);

// `apropos -l` lines "name (section) - description" as {"id": "name.section", "name",
// "section", "section_title", "summary"}.
std::vector<boost::json::object> ParseManIndex(std::istream& in);

// One copyright file: {"id", "package", "format": "machine-readable"|"free-form",
// "upstream_name", "source", "licenses": [short names], "copyright": [holders],
// "text": the first lines}.
boost::json::object ParseCopyright(std::string_view package, std::istream& in);

// "Mon, 02 Jan 2023 13:06:21 +0100" -> "2023-01-02T13:06:21+01:00"; "" when unreadable.
std::string Rfc2822ToRfc3339(std::string_view date);

// Every changelog entry under doc_dir, each source version once.
std::vector<boost::json::object> ReadChangelogs(const std::filesystem::path& doc_dir);
std::vector<boost::json::object> ReadManIndex();
std::vector<boost::json::object> ReadCopyrights(const std::filesystem::path& doc_dir);

}  // namespace octohub::hub
