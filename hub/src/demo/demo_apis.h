// The sample APIs `octohub demo` serves on loopback, and the sources that harvest them. Each
// pages in its own style over real text from this machine (read at run time), with an index
// mapping whose facets, dates and numbers make search and the UI worth a look. Private to
// hub/.
//
// The demo wires a list of these; further demo pieces (a target and a rule that forwards to
// a loopback sink, say) are more entries of the same kind: routes to serve, and documents
// to apply once serve is up.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "octohub/api/http.h"

namespace octohub::hub {

struct DemoSource {
  std::string name;                // the source's name
  std::string summary;             // one line for the banner: what it holds and how it pages
  std::vector<api::Route> routes;  // what the loopback server answers for it
  // The source document; "{base}" stands for the loopback server's http://host:port.
  std::string spec;
  std::size_t records = 0;  // how many it serves now
};

struct DemoMaterial {
  std::vector<boost::json::object> packages;    // ReadPackageCatalog
  std::vector<boost::json::object> changelogs;  // ReadChangelogs
  std::vector<boost::json::object> man_pages;   // ReadManIndex
  std::vector<boost::json::object> copyrights;  // ReadCopyrights
};

// Reads everything above from this machine, in parallel. Missing material gives an empty
// list, and its source is left out.
DemoMaterial ReadDemoMaterial();

// The demo's sources over this material. The upload queue (every_s > 0) moves on by itself
// as time passes: new uploads arrive and builds finish, so its scheduled incremental runs
// find new and changed records.
std::vector<DemoSource> BuildDemoSources(
    DemoMaterial material, std::chrono::seconds upload_step = std::chrono::seconds(10));

// "{base}" in spec replaced by base.
std::string SpecFor(const DemoSource& source, const std::string& base);

}  // namespace octohub::hub
