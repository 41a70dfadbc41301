#include "octohub/ingest/curl_guard.h"

#include <sys/socket.h>

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

void GuardConnections(CURL* handle, std::string* refusal) {
  curl_easy_setopt(handle, CURLOPT_OPENSOCKETFUNCTION, &OpenCheckedSocket);
  curl_easy_setopt(handle, CURLOPT_OPENSOCKETDATA, refusal);
}

}  // namespace octohub::ingest
