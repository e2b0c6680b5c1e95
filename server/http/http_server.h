// An HTTP/1.1 server for seg's service and its test stand-ins, on Boost.Beast
// and Asio (the only files that include them are http_server.cc and
// http_server_test helpers: replacing the stack touches this module only).
//
// What it guards against, so handlers need not: connections beyond a limit
// (answered 503 and closed), slow clients (a deadline for the header, for
// the body and for each response), idle keep-alive connections, headers and
// bodies over their limits (431, 413), unknown paths (404) and methods (405).
// Handlers run on a pool of their own threads, so one may block (waiting for
// an fsync, for the automation engine) without holding up the network.
// A route may have its body spooled to a file as it arrives, so a 1 GB feed
// never sits in memory.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace seg::http {

struct Request {
  std::string method;  // "GET", "POST"...
  std::string target;  // as sent: path and query
  std::string path;    // without the query
  std::map<std::string, std::string> query;  // decoded
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::string body;      // the whole body, unless the route spools it
  std::string bodyFile;  // the spooled body (a temporary file, removed after the handler)
  std::uint64_t bodyBytes = 0;
  std::string remote;  // the peer's address

  // The header's value; "" when absent. Names are compared in lower case.
  std::string header(std::string_view name) const;
  std::string param(const std::string& name, const std::string& otherwise = "") const;
};

struct Response {
  int status = 200;
  std::string contentType = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  static Response text(int status, std::string body, std::string contentType = "text/plain; charset=utf-8");
  // {"error": message} with the status.
  static Response error(int status, const std::string& message);
};

struct Route {
  std::string method;  // GET, POST, ...
  std::string path;    // exact, or the start of the path with `prefix`
  std::size_t maxBodyBytes = 1 << 20;
  bool spoolBody = false;  // the body goes to Request::bodyFile, not Request::body
  std::function<Response(Request&)> handle;
  bool prefix = false;
};

// Routes for every method (GET, POST, PUT, DELETE) and every path under
// `prefix` to one handler: a proxy, a stand-in for another service.
std::vector<Route> routesUnder(const std::string& prefix, std::size_t maxBodyBytes, std::function<Response(Request&)> handle);

struct ServerOptions {
  std::string address = "127.0.0.1";
  unsigned short port = 0;  // 0: any free port (see Server::port())
  std::size_t maxConnections = 512;
  std::size_t maxHeaderBytes = 16 << 10;
  std::chrono::milliseconds headerTimeout{10000};  // from connection or previous response to a whole header
  std::chrono::milliseconds bodyTimeout{120000};   // for the whole body
  std::chrono::milliseconds writeTimeout{30000};
  std::size_t networkThreads = 2;
  std::size_t handlerThreads = 8;
  std::string spoolDirectory = "/tmp";
  // Called after each response: for metrics and logs.
  std::function<void(const Request&, int status, double seconds)> observe;
};

class Server {
 public:
  Server(ServerOptions options, std::vector<Route> routes);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens; throws std::runtime_error with the reason.
  void start();
  unsigned short port() const;
  // Stops accepting; lets requests in flight finish (up to `grace`); closes
  // the rest. Returns when everything is stopped.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(10000));

  std::size_t activeConnections() const;
  std::uint64_t refusedConnections() const;

  struct Impl;  // http_server.cc's (its connections use it too)

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace seg::http
