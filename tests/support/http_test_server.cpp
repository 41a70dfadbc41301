#include "http_test_server.h"

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <thread>

namespace octohub::testing {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpTestServer::Impl {
  Handler handler;
  std::string host;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::thread accept_thread;
  std::vector<std::thread> connection_threads;
  std::vector<std::shared_ptr<tcp::socket>> sockets;
  mutable std::mutex mutex;
  std::vector<TestRequest> requests;
  std::atomic<int> accepted{0};
  std::atomic<bool> stopping{false};
  std::uint16_t port = 0;

  void Serve(std::shared_ptr<tcp::socket> socket) {
    beast::flat_buffer buffer;
    beast::error_code ec;
    while (!stopping) {
      http::request<http::string_body> request;
      http::read(*socket, buffer, request, ec);
      if (ec) return;
      TestRequest seen;
      seen.method = std::string(request.method_string());
      seen.target = std::string(request.target());
      auto url = boost::urls::parse_origin_form(seen.target);
      if (url) {
        seen.path = std::string(url->path());
        for (auto param : url->params()) seen.query[param.key] = param.value;
      }
      for (const auto& field : request) {
        std::string name(field.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        seen.headers[name] = std::string(field.value());
      }
      seen.body = request.body();
      {
        std::lock_guard lock(mutex);
        requests.push_back(seen);
      }
      TestResponse answer = handler(seen);
      if (answer.reset) {
        socket->set_option(asio::socket_base::linger(true, 0), ec);  // RST, not FIN
        socket->close(ec);
        return;
      }
      http::response<http::string_body> response{static_cast<http::status>(answer.status),
                                                 request.version()};
      for (const auto& [name, value] : answer.headers) response.set(name, value);
      response.body() = answer.body;
      response.keep_alive(request.keep_alive());
      response.prepare_payload();
      http::write(*socket, response, ec);
      if (ec || !request.keep_alive()) return;
    }
  }
};

HttpTestServer::HttpTestServer(Handler handler, std::string host) : impl_(new Impl) {
  impl_->handler = std::move(handler);
  impl_->host = std::move(host);
  tcp::endpoint endpoint(asio::ip::make_address(impl_->host), 0);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->accept_thread = std::thread([this] {
    while (!impl_->stopping) {
      auto socket = std::make_shared<tcp::socket>(impl_->io);
      beast::error_code ec;
      impl_->acceptor.accept(*socket, ec);
      if (ec || impl_->stopping) return;
      ++impl_->accepted;
      std::lock_guard lock(impl_->mutex);
      impl_->sockets.push_back(socket);
      impl_->connection_threads.emplace_back([this, socket] { impl_->Serve(socket); });
    }
  });
}

HttpTestServer::~HttpTestServer() {
  impl_->stopping = true;
  beast::error_code ec;
  impl_->acceptor.cancel(ec);
  impl_->acceptor.close(ec);
  // A blocking accept() is not woken by close() on every platform: connect once to wake it.
  {
    tcp::socket wake(impl_->io);
    wake.connect(tcp::endpoint(asio::ip::make_address(impl_->host), port()), ec);
  }
  impl_->accept_thread.join();
  {
    std::lock_guard lock(impl_->mutex);
    for (auto& socket : impl_->sockets) socket->shutdown(tcp::socket::shutdown_both, ec);
  }
  for (auto& thread : impl_->connection_threads) thread.join();
}

std::uint16_t HttpTestServer::port() const { return impl_->port; }

std::string HttpTestServer::url(const std::string& path) const {
  return "http://" + impl_->host + ":" + std::to_string(port()) + path;
}

std::vector<TestRequest> HttpTestServer::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->requests;
}

int HttpTestServer::connections_accepted() const { return impl_->accepted; }

}  // namespace octohub::testing
