// Seeds sources and records the way the hub itself stores them (the source registry and
// ingest's record writer), so tests see real hashes, change sequences and notifications.
#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <string>
#include <vector>

#include "octohub/core/database.h"

namespace octohub::testing {

// Creates or replaces a source from its spec (JSON text); fails the test if it is invalid.
void SeedSource(const Database& db, const std::string& spec_json);

// Stores one record with this id; json is its text, stored as given.
void SeedRecord(const Database& db, const std::string& source, const std::string& id,
                const std::string& json);
// Stores records (each identified by its "id" member, a string or a number) into a source
// that exists, in pages of 1,000 as a harvest would.
void SeedRecords(const Database& db, const std::string& source,
                 const std::vector<boost::json::object>& records);
// Stores make(1) … make(count).
void SeedRecords(const Database& db, const std::string& source, int count,
                 const std::function<boost::json::object(int)>& make);

}  // namespace octohub::testing
