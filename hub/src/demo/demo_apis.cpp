#include "demo_apis.h"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <ctime>
#include <future>
#include <mutex>
#include <random>

#include "demo_material.h"
#include "package_catalog.h"

namespace octohub::hub {
namespace json = boost::json;
namespace {

using Records = std::shared_ptr<const std::vector<std::string>>;

Records Serialize(const std::vector<json::object>& objects) {
  auto out = std::make_shared<std::vector<std::string>>();
  out->reserve(objects.size());
  for (const auto& object : objects) out->push_back(json::serialize(object));
  return out;
}

// A whole-number query parameter of at least 0 (at least 1 for page numbers).
std::size_t Param(const api::RequestView& request, const std::string& name, std::size_t fallback,
                  std::size_t max = SIZE_MAX) {
  for (const auto& [key, value] : request.query) {
    std::size_t parsed = 0;
    auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), parsed);
    if (key == name && error == std::errc() && end == value.data() + value.size()) {
      return std::min(parsed, max);
    }
  }
  return fallback;
}

std::string Param(const api::RequestView& request, const std::string& name) {
  for (const auto& [key, value] : request.query) {
    if (key == name) return value;
  }
  return "";
}

// records[first, first + count) joined as a JSON array.
std::string Slice(const std::vector<std::string>& records, std::size_t first, std::size_t count) {
  std::string body = "[";
  for (std::size_t i = first; i < records.size() && i < first + count; ++i) {
    if (i != first) body += ',';
    body += records[i];
  }
  return body + "]";
}

api::Reply Json(std::string body) { return {200, "application/json", std::move(body), {}}; }

// page: GET /packages?page=N&per_page=M -> {"page": N, "items": [...]}; an empty page ends.
DemoSource Packages(const std::vector<json::object>& packages) {
  Records records = Serialize(packages);
  DemoSource source{"debian-packages",
                    "Debian packages from this machine's apt index (paged by page number)",
                    {},
                    R"({
    "name": "debian-packages",
    "url": "{base}/packages",
    "records": "/items",
    "id": "/id",
    "pagination": {"type": "page", "param": "page", "size_param": "per_page", "size": 500},
    "index": {
      "title": "/name",
      "text": ["/summary", "/maintainer", "/tags/*", "/depends/*", "/homepage"],
      "facets": {"section": "/section", "priority": "/priority", "tag": "/tags/*"},
      "numbers": {"installed_size_kb": "/installed_size_kb"}
    }
  })",
                    records->size()};
  source.routes.push_back({"GET", "/packages",
                           [records](const api::RequestView& r) {
                             const std::size_t page = std::max<std::size_t>(1, Param(r, "page", 1));
                             const std::size_t size = Param(r, "per_page", 250, 1000);
                             return Json("{\"page\":" + std::to_string(page) + ",\"items\":" +
                                         Slice(*records, (page - 1) * size, size) + "}");
                           },
                           false});
  return source;
}

// cursor: GET /changelogs?cursor=C&limit=N -> {"entries": [...], "next_cursor": "…"}, the
// cursor absent on the last page.
DemoSource Changelogs(std::vector<json::object> entries) {
  for (auto& entry : entries) {
    std::string changes(entry["changes"].as_string());
    std::string first = changes.substr(0, changes.find('\n'));
    if (first.rfind("* ", 0) == 0) first.erase(0, 2);
    entry["headline"] = std::string(entry["package"].as_string()) + " " +
                        std::string(entry["version"].as_string()) + ": " + first.substr(0, 160);
  }
  Records records = Serialize(entries);
  DemoSource source{"debian-changelogs",
                    "entries of the Debian changelogs under /usr/share/doc (paged by cursor)",
                    {},
                    R"({
    "name": "debian-changelogs",
    "url": "{base}/changelogs",
    "query": {"limit": "500"},
    "records": "/entries",
    "id": "/id",
    "pagination": {"type": "cursor", "param": "cursor", "cursor_path": "/next_cursor"},
    "index": {
      "title": "/headline",
      "text": ["/changes", "/maintainer", "/package"],
      "facets": {"distribution": "/distribution", "urgency": "/urgency", "year": "/year",
                 "maintainer": "/maintainer", "package": "/package"},
      "dates": {"released": "/date"},
      "numbers": {"bugs_closed": "/bugs_closed"}
    }
  })",
                    records->size()};
  source.routes.push_back(
      {"GET", "/changelogs",
       [records](const api::RequestView& r) {
         // An opaque-looking cursor: "c" and the offset in hex.
         std::size_t offset = 0;
         const std::string cursor = Param(r, "cursor");
         if (cursor.size() > 1 && cursor[0] == 'c') {
           std::from_chars(cursor.data() + 1, cursor.data() + cursor.size(), offset, 16);
         }
         const std::size_t limit = std::max<std::size_t>(1, Param(r, "limit", 100, 1000));
         std::string body = "{\"entries\":" + Slice(*records, offset, limit);
         if (offset + limit < records->size()) {
           char next[32];
           std::snprintf(next, sizeof(next), "c%zx", offset + limit);
           body += ",\"next_cursor\":\"" + std::string(next) + "\"";
         }
         return Json(body + "}");
       },
       false});
  return source;
}

// link_header: GET /manpages?page=N&per_page=M -> a bare array, with
// Link: </manpages?page=N+1&per_page=M>; rel="next" while there is more.
DemoSource ManPages(const std::vector<json::object>& pages) {
  Records records = Serialize(pages);
  DemoSource source{"man-pages",
                    "manual page descriptions from apropos (paged by Link headers)",
                    {},
                    R"({
    "name": "man-pages",
    "url": "{base}/manpages",
    "query": {"per_page": "400"},
    "records": "",
    "id": "/id",
    "pagination": {"type": "link_header"},
    "index": {
      "title": "/name",
      "text": ["/summary", "/section_title"],
      "facets": {"man_section": "/section", "kind": "/section_title"}
    }
  })",
                    records->size()};
  source.routes.push_back(
      {"GET", "/manpages",
       [records](const api::RequestView& r) {
         const std::size_t page = std::max<std::size_t>(1, Param(r, "page", 1));
         const std::size_t size = std::max<std::size_t>(1, Param(r, "per_page", 100, 1000));
         api::Reply reply = Json(Slice(*records, (page - 1) * size, size));
         if (page * size < records->size()) {
           reply.headers.emplace_back("Link", "</manpages?page=" + std::to_string(page + 1) +
                                                  "&per_page=" + std::to_string(size) +
                                                  ">; rel=\"next\"");
         }
         return reply;
       },
       false});
  return source;
}

// offset: GET /copyrights?offset=N&limit=M -> {"total": T, "results": [...]}; an empty page
// ends.
DemoSource Copyrights(const std::vector<json::object>& files) {
  Records records = Serialize(files);
  DemoSource source{"copyrights",
                    "copyright files and their licenses under /usr/share/doc (paged by offset)",
                    {},
                    R"({
    "name": "copyrights",
    "url": "{base}/copyrights",
    "records": "/results",
    "id": "/id",
    "pagination": {"type": "offset", "param": "offset", "size_param": "limit", "size": 200},
    "index": {
      "title": "/package",
      "text": ["/upstream_name", "/copyright/*", "/text"],
      "facets": {"license": "/licenses/*", "format": "/format"},
      "numbers": {"lines": "/lines"}
    }
  })",
                    records->size()};
  source.routes.push_back({"GET", "/copyrights",
                           [records](const api::RequestView& r) {
                             const std::size_t offset = Param(r, "offset", 0);
                             const std::size_t limit = Param(r, "limit", 50, 1000);
                             return Json("{\"total\":" + std::to_string(records->size()) +
                                         ",\"results\":" + Slice(*records, offset, limit) + "}");
                           },
                           false});
  return source;
}

std::string Rfc3339(std::chrono::system_clock::time_point at) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char out[40];
  std::strftime(out, sizeof(out), "%Y-%m-%dT%H:%M:%S", &utc);
  char with_ms[48];
  std::snprintf(with_ms, sizeof(with_ms), "%s.%03dZ", out, static_cast<int>(ms % 1000));
  return with_ms;
}

// A build queue that moves on with the clock: every step, new uploads arrive and queued
// builds start, finish or fail. Thread-safe.
class UploadQueue {
 public:
  UploadQueue(std::vector<json::object> entries, std::chrono::seconds step)
      : entries_(std::move(entries)), step_(step), started_(std::chrono::system_clock::now()) {
    // Some history first, so the first run already finds every status.
    for (int i = 12; i > 0; --i) Step(started_ - i * step_);
  }

  // GET /uploads?since=T&until=T&offset=N -> {"uploads": [...], "next": "…" or null}:
  // uploads changed after since and at or before until, oldest change first. The first page
  // fixes until, so a run sees one consistent state however the queue moves meanwhile.
  api::Reply Page(const api::RequestView& request) {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::system_clock::now();
    while (started_ + (steps_ + 1) * step_ <= now) Step(started_ + (steps_ + 1) * step_);
    const std::string since = Param(request, "since");
    std::string until = Param(request, "until");
    if (until.empty()) until = latest_;
    const std::size_t offset = Param(request, "offset", 0);
    constexpr std::size_t kPage = 200;
    std::vector<const json::object*> changed;
    for (const auto& upload : uploads_) {
      const std::string_view at = upload.at("updated_at").as_string();
      if (at > since && at <= until) changed.push_back(&upload);
    }
    std::sort(changed.begin(), changed.end(), [](const json::object* a, const json::object* b) {
      return std::pair(a->at("updated_at").as_string(), a->at("id").as_string()) <
             std::pair(b->at("updated_at").as_string(), b->at("id").as_string());
    });
    json::array page;
    for (std::size_t i = offset; i < changed.size() && i < offset + kPage; ++i) {
      page.push_back(*changed[i]);
    }
    json::value next = nullptr;
    if (offset + kPage < changed.size()) {
      next = "/uploads?since=" + since + "&until=" + until +
             "&offset=" + std::to_string(offset + kPage);
    }
    return Json(json::serialize(json::object{{"uploads", std::move(page)}, {"next", next}}));
  }

 private:
  void Step(std::chrono::system_clock::time_point at) {
    ++steps_;
    const std::string when = Rfc3339(at);
    latest_ = when;
    static const char* kArchitectures[] = {"amd64",   "arm64", "armhf",  "i386",
                                           "ppc64el", "s390x", "riscv64"};
    for (auto& upload : uploads_) {
      const std::string status(upload["status"].as_string());
      if (status == "building" && rng_() % 3 != 0) {
        upload["status"] = rng_() % 10 == 0 ? "failed" : "built";
        upload["build_seconds"] = static_cast<std::int64_t>(30 + rng_() % 1800);
        upload["updated_at"] = when;
      } else if (status == "queued" && rng_() % 2 == 0) {
        upload["status"] = "building";
        upload["updated_at"] = when;
      }
    }
    for (int i = 0; i < 15 && !entries_.empty(); ++i) {
      const json::object& entry = entries_[rng_() % entries_.size()];
      char id[32];
      std::snprintf(id, sizeof(id), "upload-%06zu", uploads_.size() + 1);
      uploads_.push_back({{"id", id},
                          {"package", entry.at("package")},
                          {"version", entry.at("version")},
                          {"architecture", kArchitectures[rng_() % 7]},
                          {"status", "queued"},
                          {"uploader", entry.at("maintainer")},
                          {"changes", entry.at("changes")},
                          {"queued_at", when},
                          {"updated_at", when}});
    }
  }

  std::mutex mutex_;
  const std::vector<json::object> entries_;
  const std::chrono::seconds step_;
  const std::chrono::system_clock::time_point started_;
  std::mt19937 rng_{20261122};
  std::vector<json::object> uploads_;
  std::int64_t steps_ = -12;  // the history steps count up to 0 at the start
  std::string latest_;
};

// next_url + incremental + schedule: GET /uploads?since=T -> {"uploads", "next"}.
DemoSource Uploads(std::vector<json::object> entries, std::chrono::seconds step) {
  auto queue = std::make_shared<UploadQueue>(std::move(entries), step);
  DemoSource source{"build-queue",
                    "a package build queue that changes as you watch (next URL, incremental, "
                    "every 30 s)",
                    {},
                    R"({
    "name": "build-queue",
    "url": "{base}/uploads",
    "records": "/uploads",
    "id": "/id",
    "pagination": {"type": "next_url", "next_path": "/next"},
    "incremental": {"cursor": "/updated_at", "param": "since"},
    "schedule": "every 30s",
    "index": {
      "title": "/package",
      "text": ["/changes", "/uploader", "/version"],
      "facets": {"status": "/status", "architecture": "/architecture"},
      "dates": {"queued": "/queued_at", "changed": "/updated_at"},
      "numbers": {"build_seconds": "/build_seconds"}
    }
  })",
                    0};
  source.routes.push_back(
      {"GET", "/uploads", [queue](const api::RequestView& r) { return queue->Page(r); }, false});
  return source;
}

}  // namespace

DemoMaterial ReadDemoMaterial() {
  auto packages = std::async(std::launch::async, [] {
    auto catalog = ReadPackageCatalog();
    return catalog.ok() ? std::move(*catalog) : std::vector<json::object>();
  });
  auto changelogs = std::async(std::launch::async, [] { return ReadChangelogs("/usr/share/doc"); });
  auto man_pages = std::async(std::launch::async, [] { return ReadManIndex(); });
  DemoMaterial material;
  material.copyrights = ReadCopyrights("/usr/share/doc");
  material.packages = packages.get();
  material.changelogs = changelogs.get();
  material.man_pages = man_pages.get();
  return material;
}

std::vector<DemoSource> BuildDemoSources(DemoMaterial material, std::chrono::seconds upload_step) {
  std::vector<DemoSource> sources;
  if (!material.packages.empty()) sources.push_back(Packages(material.packages));
  if (!material.changelogs.empty()) {
    sources.push_back(Uploads(material.changelogs, upload_step));
    sources.push_back(Changelogs(std::move(material.changelogs)));
  }
  if (!material.man_pages.empty()) sources.push_back(ManPages(material.man_pages));
  if (!material.copyrights.empty()) sources.push_back(Copyrights(material.copyrights));
  return sources;
}

std::string SpecFor(const DemoSource& source, const std::string& base) {
  std::string spec = source.spec;
  for (std::size_t at; (at = spec.find("{base}")) != std::string::npos;) {
    spec.replace(at, 6, base);
  }
  return spec;
}

}  // namespace octohub::hub
