// The ceiling for tests/bench/api: the least a Pistache 0.0.5 server can do per request — a
// fixed body for any request, with HTTP/1.1 keep-alive restored as api/src/http_server.cpp
// does — on the same number of reactor threads as octohub serve.
//   octohub-bench-ceiling --listen 127.0.0.1:0 --threads 2 --body '{"status":"ok"}'
// Prints "listening on HOST:PORT" and serves until SIGINT or SIGTERM.
#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <iostream>

namespace Http = Pistache::Http;

class FixedHandler : public Http::Handler {
 public:
  HTTP_PROTOTYPE(FixedHandler)
  explicit FixedHandler(std::string body) : body_(std::move(body)) {}
  void onRequest(const Http::Request& request, Http::ResponseWriter writer) override {
    auto connection = request.headers().tryGet<Http::Header::Connection>();
    const bool keep_alive = !connection || connection->control() != Http::ConnectionControl::Close;
    writer.headers().remove<Http::Header::Connection>();
    writer.headers().add<Http::Header::Connection>(keep_alive ? Http::ConnectionControl::KeepAlive
                                                              : Http::ConnectionControl::Close);
    writer.setMime(MIME(Application, Json));
    writer.send(Http::Code::Ok, body_);
  }

 private:
  std::string body_;
};

int main(int argc, char** argv) {
  CLI::App app("fixed-body Pistache server, the ceiling of the API benchmark");
  std::string listen = "127.0.0.1:0", body = R"({"status":"ok"})";
  int threads = 2;
  app.add_option("--listen", listen);
  app.add_option("--threads", threads);
  app.add_option("--body", body);
  CLI11_PARSE(app, argc, argv);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  auto colon = listen.rfind(':');
  Pistache::Address address(
      listen.substr(0, colon),
      Pistache::Port(static_cast<uint16_t>(std::stoi(listen.substr(colon + 1)))));
  Http::Endpoint endpoint(address);
  endpoint.init(
      Http::Endpoint::options().threads(threads).flags(Pistache::Tcp::Options::ReuseAddr));
  endpoint.setHandler(Http::make_handler<FixedHandler>(body));
  endpoint.serveThreaded();
  std::cout << "listening on " << listen.substr(0, colon) << ":" << endpoint.getPort() << std::endl;
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  endpoint.shutdown();
  return 0;
}
