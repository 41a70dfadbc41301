// The numbered migrations of sql/, compiled into the binary, sorted by file name.
#pragma once

#include <vector>

#include "octohub/core/embedded_file.h"

namespace octohub::sql {

const std::vector<EmbeddedFile>& Migrations();

}  // namespace octohub::sql
