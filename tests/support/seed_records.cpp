#include "seed_records.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include "octohub/core/source_spec.h"
#include "octohub/ingest/ingest.h"
#include "octohub/ingest/record_store.h"

namespace octohub::testing {
namespace json = boost::json;

namespace {

constexpr size_t kPageSize = 1000;

std::string IdOf(const json::object& record) {
  const json::value* id = record.if_contains("id");
  REQUIRE(id != nullptr);
  if (id->is_string()) return std::string(id->get_string());
  REQUIRE(id->is_number());
  return json::serialize(*id);
}

void StorePage(const Database& db, const std::string& source,
               const std::vector<ingest::RecordToStore>& page) {
  auto stored = ingest::StoreRecords(db, source, page);
  INFO(stored.status().ToString());
  REQUIRE(stored.ok());
}

}  // namespace

void SeedSource(const Database& db, const std::string& spec_json) {
  auto spec = ParseSourceSpec(json::parse(spec_json));
  INFO(spec.status().ToString());
  REQUIRE(spec.ok());
  auto applied = ingest::SourceRegistry(db).Apply(*spec);
  INFO(applied.status().ToString());
  REQUIRE(applied.ok());
}

void SeedRecord(const Database& db, const std::string& source, const std::string& id,
                const std::string& json) {
  StorePage(db, source, {{id, json}});
}

void SeedRecords(const Database& db, const std::string& source,
                 const std::vector<json::object>& records) {
  std::vector<ingest::RecordToStore> page;
  for (const auto& record : records) {
    page.push_back({IdOf(record), json::serialize(record)});
    if (page.size() == kPageSize) {
      StorePage(db, source, page);
      page.clear();
    }
  }
  if (!page.empty()) StorePage(db, source, page);
}

void SeedRecords(const Database& db, const std::string& source, int count,
                 const std::function<json::object(int)>& make) {
  std::vector<json::object> records;
  records.reserve(static_cast<size_t>(count));
  for (int i = 1; i <= count; ++i) records.push_back(make(i));
  SeedRecords(db, source, records);
}

}  // namespace octohub::testing
