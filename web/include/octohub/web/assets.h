// The browser UI (web/static), compiled into the binary.
#pragma once

#include <vector>

#include "octohub/core/embedded_file.h"

namespace octohub::web {

const std::vector<EmbeddedFile>& Assets();

}  // namespace octohub::web
