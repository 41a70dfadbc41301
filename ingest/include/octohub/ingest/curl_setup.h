// What every libcurl client of Octohub shares: the global set-up, and the process's network
// guard (octohub/core/network_guard.h) on each handle.
#pragma once

#include <curl/curl.h>

#include <string>

namespace octohub::ingest {

// curl_global_init, once per process, whichever client comes first.
void InitCurlOnce();

// Every connection `handle` opens from now on (redirects and retries included) is checked
// against CurrentNetworkGuard() on the address it resolved to; a refused one fails the
// transfer with CURLE_COULDNT_CONNECT and leaves the reason in `*refusal`, which must outlive
// the transfer. Set again after curl_easy_reset.
void GuardConnections(CURL* handle, std::string* refusal);

}  // namespace octohub::ingest
