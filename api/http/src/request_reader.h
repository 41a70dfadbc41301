// Reading requests off Pistache's connections (replacing Http::Handler::onInput): header and
// body limits enforced as soon as they are crossed, framing checked before Pistache parses
// (request_framing.h), pipelining answered with a close, every protocol error as
// problem+json. Private to api/http/.
#pragma once

#include <pistache/http.h>

#include <cstddef>
#include <functional>
#include <memory>

#include "send_watchdog.h"

namespace octohub::http {

using RequestFn =
    std::function<void(const Pistache::Http::Request&, Pistache::Http::ResponseWriter)>;

struct Limits {
  std::size_t max_header_bytes;
  std::size_t max_body_bytes;
};

// The handler for an endpoint: each complete request goes to `fn`.
std::shared_ptr<Pistache::Http::Handler> MakeRequestReader(std::shared_ptr<RequestFn> fn,
                                                           Limits limits,
                                                           std::shared_ptr<SendWatchdog> watchdog);

}  // namespace octohub::http
