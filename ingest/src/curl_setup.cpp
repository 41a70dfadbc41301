#include "octohub/ingest/curl_setup.h"

#include <sys/socket.h>

#include <mutex>

#include "octohub/core/network_guard.h"

namespace octohub::ingest {
namespace {

curl_socket_t OpenCheckedSocket(void* refusal, curlsocktype purpose, curl_sockaddr* address) {
  if (purpose == CURLSOCKTYPE_IPCXN) {
    if (auto reason = CurrentNetworkGuard()->Refusal(&address->addr)) {
      *static_cast<std::string*>(refusal) = *reason;
      return CURL_SOCKET_BAD;
    }
  }
  return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

}  // namespace

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

void GuardConnections(CURL* handle, std::string* refusal) {
  curl_easy_setopt(handle, CURLOPT_OPENSOCKETFUNCTION, &OpenCheckedSocket);
  curl_easy_setopt(handle, CURLOPT_OPENSOCKETDATA, refusal);
}

}  // namespace octohub::ingest
