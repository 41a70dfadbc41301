// Status mapping details behind http_server.h. Private to api/.
#pragma once

#include "octohub/api/http_server.h"

namespace octohub::api {

int HttpStatusFor(StatusCode code);

}  // namespace octohub::api
