// What the unit tests of the page planner and extractor share: a source from JSON text, a
// page extracted from a body, the ids it holds, and a query parameter of a planned URL.
#pragma once

#include <boost/json.hpp>
#include <boost/url.hpp>
#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "page_extractor.h"

namespace octohub::ingest {

// A source from JSON text; name and url default to a fixed test source.
inline SourceSpec SpecFrom(std::string_view text) {
  boost::json::object document = boost::json::parse(text).as_object();
  if (!document.contains("name")) document["name"] = "s";
  if (!document.contains("url")) document["url"] = "http://h/api";
  auto spec = ParseSourceSpec(document);
  INFO(spec.status().ToString());
  REQUIRE(spec.ok());
  return std::move(spec).value();
}

inline Result<ExtractedPage> Extract(const SourceSpec& spec, std::string_view body) {
  auto extractor = PageExtractor::ForSpec(spec);
  REQUIRE(extractor.ok());
  return extractor->Extract(body);
}

inline ExtractedPage ExtractOk(const SourceSpec& spec, std::string_view body) {
  auto page = Extract(spec, body);
  INFO(page.status().ToString());
  REQUIRE(page.ok());
  return std::move(page).value();
}

inline std::vector<std::string> Ids(const ExtractedPage& page) {
  std::vector<std::string> out;
  for (const auto& record : page.records) out.push_back(record.id);
  return out;
}

// The decoded value of a query parameter of `url`, if present.
inline std::optional<std::string> Param(const std::string& url, std::string_view key) {
  boost::urls::url_view view = boost::urls::parse_uri(url).value();
  auto it = view.params().find(key);
  if (it == view.params().end()) return std::nullopt;
  return std::string((*it).value);
}

}  // namespace octohub::ingest
