// Index generations behind a Xapian stub file. Private to indexer/.
//   index/XAPIANDB        "auto gen-000002"  (Xapian opens the directory through this stub)
//   index/gen-000002/     the current glass database
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "octohub/core/status.h"

namespace octohub::indexer {

inline constexpr const char* kStubFile = "XAPIANDB";

// The generation the stub names, or nullopt when there is no index yet.
std::optional<std::string> CurrentGeneration(const std::filesystem::path& index_dir);

// A generation name greater than every one present.
std::string NextGeneration(const std::filesystem::path& index_dir);

// Points the stub at generation (atomically, by rename) and removes generations older than
// the one it replaces (readers may still be on that one for a moment).
Status SwapTo(const std::filesystem::path& index_dir, const std::string& generation);

}  // namespace octohub::indexer
