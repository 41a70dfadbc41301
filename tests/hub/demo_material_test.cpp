// The demo's material parsers and its sample APIs.
#include "demo/demo_material.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <sstream>
#include <thread>

#include "demo/demo_apis.h"
#include "octohub/core/source_spec.h"

namespace json = boost::json;
using namespace octohub::hub;

namespace {

const char* kChangelog = R"(bash (5.2.15-2) unstable; urgency=medium

  * Remove one more pdf file without source. Closes: #1024598.
  * Fix #1024598 again, and #99999.

 -- Matthias Klose <doko@debian.org>  Mon, 02 Jan 2023 13:06:21 +0100

bash (5.2-3) unstable; urgency=low, binary-only=yes

  * Apply upstream patches.

 -- Someone Else <else@example.org>  Sat, 31 Dec 2022 16:40:30 -0530

broken (1.0) unstable; urgency=low

  * An entry without a trailer is skipped.
)";

json::object Call(const DemoSource& source, const std::string& path,
                  std::vector<std::pair<std::string, std::string>> query,
                  octohub::api::Reply* reply_out = nullptr) {
  for (const auto& route : source.routes) {
    if (route.pattern != path) continue;
    octohub::api::RequestView request;
    request.method = "GET";
    request.path = path;
    request.query = std::move(query);
    auto reply = route.handler(request);
    if (reply_out != nullptr) *reply_out = reply;
    json::value body = json::parse(reply.body);
    return body.is_object() ? body.as_object() : json::object{{"array", body}};
  }
  FAIL("no route " << path);
  return {};
}

DemoMaterial SmallMaterial() {
  DemoMaterial material;
  for (int i = 0; i < 7; ++i) {
    material.packages.push_back({{"id", "p" + std::to_string(i)}, {"name", "p"}});
    material.man_pages.push_back({{"id", "m" + std::to_string(i)}, {"name", "m"}});
    material.copyrights.push_back({{"id", "c" + std::to_string(i)}, {"package", "c"}});
  }
  std::istringstream in(kChangelog);
  material.changelogs = ParseChangelog(in);
  return material;
}

}  // namespace

TEST_CASE("changelog entries carry version, urgency, date, year and the bugs they close",
          "[unit]") {
  std::istringstream in(kChangelog);
  auto entries = ParseChangelog(in);
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].at("id") == "bash/5.2.15-2");
  CHECK(entries[0].at("distribution") == "unstable");
  CHECK(entries[0].at("urgency") == "medium");
  CHECK(entries[0].at("maintainer") == "Matthias Klose");
  CHECK(entries[0].at("date") == "2023-01-02T13:06:21+01:00");
  CHECK(entries[0].at("year") == "2023");
  CHECK(json::serialize(entries[0].at("closes")) == "[1024598,99999]");
  CHECK(entries[0].at("bugs_closed") == 2);
  CHECK(entries[0].at("changes").as_string().starts_with("* Remove one more pdf"));
  CHECK(entries[1].at("urgency") == "low");
  CHECK(entries[1].at("date") == "2022-12-31T16:40:30-05:30");
}

TEST_CASE("RFC 2822 dates become RFC 3339, and junk becomes empty", "[unit]") {
  CHECK(Rfc2822ToRfc3339("Mon, 02 Jan 2023 13:06:21 +0100") == "2023-01-02T13:06:21+01:00");
  CHECK(Rfc2822ToRfc3339("2 Feb 2021 01:02:03 -0000") == "2021-02-02T01:02:03-00:00");
  CHECK(Rfc2822ToRfc3339("Thu, 31 Foo 2021 01:02:03 +0000").empty());
  CHECK(Rfc2822ToRfc3339("yesterday").empty());
}

TEST_CASE("apropos lines become manual pages with their section", "[unit]") {
  std::istringstream in(
      "ls (1)               - list directory contents\n"
      "ls (1)               - the same page again\n"
      "crontab (5)          - tables for driving cron\n"
      "not a man line\n");
  auto pages = ParseManIndex(in);
  REQUIRE(pages.size() == 2);
  CHECK(pages[0].at("id") == "ls.1");
  CHECK(pages[0].at("summary") == "list directory contents");
  CHECK(pages[1].at("section_title") == "File formats");
}

TEST_CASE("machine-readable copyright files give their licenses and holders", "[unit]") {
  std::istringstream in(
      "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
      "Upstream-Name: acl\n"
      "Source: https://savannah.nongnu.org/projects/acl\n"
      "\n"
      "Files: *\n"
      "Copyright: 1999-2002 Andreas Gruenbacher\n"
      "           2009 Free Software Foundation\n"
      "License: GPL-2+\n"
      " This program is free software.\n"
      "\n"
      "Files: doc/*\n"
      "License: LGPL-2.1+ or GPL-2+\n");
  auto file = ParseCopyright("acl", in);
  CHECK(file.at("format") == "machine-readable");
  CHECK(file.at("upstream_name") == "acl");
  CHECK(json::serialize(file.at("licenses")) == R"(["GPL-2+","LGPL-2.1+"])");
  CHECK(json::serialize(file.at("copyright")) ==
        R"(["1999-2002 Andreas Gruenbacher","2009 Free Software Foundation"])");
}

TEST_CASE("every demo source document is a valid source", "[unit]") {
  auto sources = BuildDemoSources(SmallMaterial());
  REQUIRE(sources.size() == 5);
  for (const auto& source : sources) {
    INFO(source.name);
    auto spec = octohub::ParseSourceSpec(json::parse(SpecFor(source, "http://127.0.0.1:1")));
    CHECK(spec.ok());
    CHECK(spec->name == source.name);
    CHECK(!source.routes.empty());
  }
}

TEST_CASE("the sample APIs page in their own styles to the end", "[unit]") {
  auto sources = BuildDemoSources(SmallMaterial());
  auto named = [&](const std::string& name) -> const DemoSource& {
    for (const auto& s : sources)
      if (s.name == name) return s;
    FAIL(name);
    return sources[0];
  };
  CHECK(Call(named("debian-packages"), "/packages", {{"page", "2"}, {"per_page", "5"}})
            .at("items")
            .as_array()
            .size() == 2);
  auto first = Call(named("debian-changelogs"), "/changelogs", {{"limit", "1"}});
  CHECK(first.at("entries").as_array().size() == 1);
  auto last = Call(named("debian-changelogs"), "/changelogs",
                   {{"limit", "1"}, {"cursor", std::string(first.at("next_cursor").as_string())}});
  CHECK(last.at("entries").as_array().size() == 1);
  CHECK(!last.contains("next_cursor"));
  octohub::api::Reply reply;
  Call(named("man-pages"), "/manpages", {{"page", "1"}, {"per_page", "4"}}, &reply);
  REQUIRE(reply.headers.size() == 1);
  CHECK(reply.headers[0].second == "</manpages?page=2&per_page=4>; rel=\"next\"");
  Call(named("man-pages"), "/manpages", {{"page", "2"}, {"per_page", "4"}}, &reply);
  CHECK(reply.headers.empty());
  CHECK(Call(named("copyrights"), "/copyrights", {{"offset", "5"}, {"limit", "5"}})
            .at("results")
            .as_array()
            .size() == 2);
}

TEST_CASE("the build queue moves on with time, and since returns only what changed", "[unit]") {
  auto sources = BuildDemoSources(SmallMaterial(), std::chrono::seconds(1));
  const DemoSource* queue = nullptr;
  for (const auto& s : sources)
    if (s.name == "build-queue") queue = &s;
  REQUIRE(queue != nullptr);
  auto page = Call(*queue, "/uploads", {});
  const auto& uploads = page.at("uploads").as_array();
  REQUIRE(!uploads.empty());
  std::string latest;
  for (const auto& upload : uploads) {
    latest = std::max(latest, std::string(upload.at("updated_at").as_string()));
  }
  CHECK(Call(*queue, "/uploads", {{"since", latest}}).at("uploads").as_array().empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto later = Call(*queue, "/uploads", {{"since", latest}});
  CHECK(!later.at("uploads").as_array().empty());
  for (const auto& upload : later.at("uploads").as_array()) {
    CHECK(std::string(upload.at("updated_at").as_string()) > latest);
  }
}
