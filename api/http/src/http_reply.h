// Status mapping details behind http_server.h. Private to api/http/.
#pragma once

#include "octohub/http/types.h"

namespace octohub::http {

int HttpStatusFor(StatusCode code);

}  // namespace octohub::http
