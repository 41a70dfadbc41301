#include "answer.h"

#include <pistache/peer.h>
#include <strings.h>
#include <sys/socket.h>

#include <algorithm>
#include <memory>
#include <unordered_map>

namespace octohub::http {
namespace {

constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

}  // namespace

bool WantsKeepAlive(const Http::Request& request) {
  auto connection = request.headers().tryGet<Http::Header::Connection>();
  if (request.version() == Http::Version::Http11) {
    return !connection || connection->control() != Http::ConnectionControl::Close;
  }
  return connection && connection->control() == Http::ConnectionControl::KeepAlive;
}

const Http::Mime::MediaType& MediaTypeOf(const std::string& content_type) {
  thread_local std::unordered_map<std::string, Http::Mime::MediaType> parsed;
  auto it = parsed.find(content_type);
  if (it == parsed.end()) {
    if (parsed.size() > 64) parsed.clear();
    it = parsed.emplace(content_type, Http::Mime::MediaType::fromString(content_type)).first;
  }
  return it->second;
}

const std::vector<std::pair<std::string, std::string>>& SecurityHeaders(const Reply& reply) {
  // Built once: every answer carries them.
  static const std::vector<std::pair<std::string, std::string>> kWithPolicy = {
      {"X-Content-Type-Options", "nosniff"},
      {"Referrer-Policy", "no-referrer"},
      {"Content-Security-Policy", kContentSecurityPolicy}};
  static const std::vector<std::pair<std::string, std::string>> kOwnPolicy(kWithPolicy.begin(),
                                                                           kWithPolicy.end() - 1);
  const bool has_policy =
      std::any_of(reply.headers.begin(), reply.headers.end(), [](const auto& header) {
        return strcasecmp(header.first.c_str(), "Content-Security-Policy") == 0;
      });
  return has_policy ? kOwnPolicy : kWithPolicy;
}

void SetHeaders(Http::ResponseWriter& writer, const Reply& reply, bool keep_alive) {
  auto& headers = writer.headers();
  headers.remove<Http::Header::Connection>();
  headers.add<Http::Header::Connection>(keep_alive ? Http::ConnectionControl::KeepAlive
                                                   : Http::ConnectionControl::Close);
  // Pistache writes Content-Type from the MIME type only; a raw header would be dropped.
  if (reply.status != 304) writer.setMime(MediaTypeOf(reply.content_type));
  for (const auto& [name, value] : reply.headers)
    headers.add(std::make_shared<NamedHeader>(name, value));
  for (const auto& [name, value] : SecurityHeaders(reply))
    headers.add(std::make_shared<NamedHeader>(name, value));
}

std::string StreamHead(const Reply& reply, bool keep_alive) {
  std::string head = "HTTP/1.1 " + std::to_string(reply.status) + " " +
                     Http::codeString(static_cast<Http::Code>(reply.status)) + "\r\n";
  head += "Content-Type: " + reply.content_type + "\r\n";
  head += "Transfer-Encoding: chunked\r\n";
  head += keep_alive ? "Connection: Keep-Alive\r\n" : "Connection: Close\r\n";
  for (const auto& [name, value] : reply.headers) head += name + ": " + value + "\r\n";
  for (const auto& [name, value] : SecurityHeaders(reply)) head += name + ": " + value + "\r\n";
  return head + "\r\n";
}

void Send(Http::ResponseWriter& writer, const Reply& reply, bool keep_alive) {
  SetHeaders(writer, reply, keep_alive);
  std::weak_ptr<Pistache::Tcp::Peer> weak = writer.getPeer();
  auto sent = writer.send(static_cast<Http::Code>(reply.status), reply.body);
  if (keep_alive) return;
  sent.then(
      [weak](ssize_t) {
        if (auto peer = weak.lock()) ::shutdown(peer->fd(), SHUT_WR);
      },
      [weak](const std::exception_ptr&) {
        if (auto peer = weak.lock()) ::shutdown(peer->fd(), SHUT_RDWR);
      });
}

}  // namespace octohub::http
