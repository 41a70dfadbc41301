// The demo's material: this machine's Debian package index (`apt-cache dumpavail`), read at
// run time, as JSON records. Private to hub/.
#pragma once

#include <boost/json/object.hpp>
#include <istream>
#include <string>
#include <vector>

#include "octohub/core/status.h"

namespace octohub::hub {

// Parses deb822 paragraphs into {"id", "name", "version", "section", "priority",
// "maintainer", "homepage", "summary", "tags": [...], "depends": [...], "installed_size_kb"}.
// Pure; the first paragraph of each package wins.
std::vector<boost::json::object> ParsePackageIndex(std::istream& in);

// Runs `apt-cache dumpavail` and parses it; FailedPrecondition when apt knows no packages.
Result<std::vector<boost::json::object>> ReadPackageCatalog();

}  // namespace octohub::hub
