#include "server/http/http_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <list>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace seg::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hexValue(s[i + 1]) >= 0 && hexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(hexValue(s[i + 1]) * 16 + hexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

void splitTarget(Request& r) {
  const std::size_t q = r.target.find('?');
  r.path = decode(std::string_view(r.target).substr(0, q));
  if (q == std::string::npos) return;
  std::string_view rest = std::string_view(r.target).substr(q + 1);
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    const std::size_t eq = pair.find('=');
    r.query[decode(pair.substr(0, eq))] = eq == std::string_view::npos ? "" : decode(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
}

}  // namespace

std::string Request::header(std::string_view name) const {
  const std::string wanted = lower(name);
  for (const auto& [k, v] : headers) {
    if (k == wanted) return v;
  }
  return "";
}

std::string Request::param(const std::string& name, const std::string& otherwise) const {
  const auto it = query.find(name);
  return it == query.end() ? otherwise : it->second;
}

Response Response::text(int status, std::string body, std::string contentType) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  r.contentType = std::move(contentType);
  return r;
}

Response Response::error(int status, const std::string& message) {
  Response r;
  r.status = status;
  r.body = nlohmann::json{{"error", message}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  return r;
}

class Session;

struct Server::Impl {
  // Declared before the I/O context: sessions it still holds when it is
  // destroyed count themselves out of these.
  ServerOptions options;
  std::vector<Route> routes;
  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> inFlight{0};
  std::atomic<std::uint64_t> refused{0};
  std::atomic<std::uint64_t> spooled{0};
  std::atomic<bool> stopping{false};
  std::mutex sessionsMutex;
  std::list<std::weak_ptr<Session>> sessions;
  unsigned short port = 0;
  asio::io_context ioc;
  std::optional<tcp::acceptor> acceptor;
  std::unique_ptr<asio::thread_pool> handlers;
  std::vector<std::thread> network;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;

  Impl(ServerOptions o, std::vector<Route> r) : options(std::move(o)), routes(std::move(r)) {}
  void accept();
  // The route for a method and path; `pathKnown` says whether another
  // method would have matched (405 rather than 404).
  const Route* find(const std::string& method, const std::string& path, std::string& allowed) const {
    for (const Route& route : routes) {
      if (route.prefix ? !path.starts_with(route.path) : route.path != path) continue;
      if (route.method == method) return &route;
      allowed += (allowed.empty() ? "" : ", ") + route.method;
    }
    return nullptr;
  }
};

// One connection: requests in turn (keep-alive), each read with deadlines,
// handled on the handler pool, answered, until the client or the server
// closes it.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Server::Impl& server) : stream_(std::move(socket)), server_(server) {
    beast::error_code ec;
    const auto endpoint = stream_.socket().remote_endpoint(ec);
    remote_ = ec ? "" : endpoint.address().to_string();
  }
  ~Session() { --server_.connections; }

  void start() { readHeader(); }
  void refuse() {
    Response r = Response::error(503, "too many connections; try again shortly");
    keepAlive_ = false;
    write(std::move(r));
  }
  // Closes the connection unless a request is being handled (which then
  // closes it after its response).
  void closeIfIdle() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      if (!self->busy_) {
        beast::error_code ec;
        self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        self->stream_.close();
      }
    });
  }

 private:
  void readHeader() {
    header_.emplace();
    header_->header_limit(static_cast<std::uint32_t>(server_.options.maxHeaderBytes));
    // The route's limit applies once the route is known (onHeader).
    header_->body_limit(boost::none);
    stream_.expires_after(server_.options.headerTimeout);
    bhttp::async_read_header(stream_, buffer_, *header_,
                             [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onHeader(ec); });
  }

  void onHeader(beast::error_code ec) {
    if (ec == bhttp::error::header_limit) return fail(431, "the request header is too large");
    if (ec) return close();  // the client went, timed out, or sent garbage
    busy_ = true;
    started_ = Clock::now();
    const auto& h = header_->get();
    request_ = Request();
    request_.method = std::string(h.method_string());
    request_.target = std::string(h.target());
    request_.remote = remote_;
    for (const auto& field : h) request_.headers.emplace_back(lower(field.name_string()), std::string(field.value()));
    splitTarget(request_);
    keepAlive_ = h.keep_alive() && !server_.stopping;
    std::string allowed;
    route_ = server_.find(request_.method, request_.path, allowed);
    if (route_ == nullptr) {
      keepAlive_ = false;  // the body, if any, is not read
      Response r = allowed.empty() ? Response::error(404, fmt::format("nothing at {}", request_.path))
                                   : Response::error(405, fmt::format("{} takes {}", request_.path, allowed));
      if (!allowed.empty()) r.headers.emplace_back("Allow", allowed);
      return write(std::move(r));
    }
    const auto length = header_->content_length();
    if (length && *length > route_->maxBodyBytes) return fail(413, bodyTooLarge());
    if (h[bhttp::field::expect] == "100-continue") {
      auto proceed = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
      stream_.expires_after(server_.options.writeTimeout);
      return bhttp::async_write(stream_, *proceed, [self = shared_from_this(), proceed](beast::error_code e, std::size_t) {
        if (e) return self->close();
        self->readBody();
      });
    }
    readBody();
  }

  std::string bodyTooLarge() const { return fmt::format("the body is larger than {} bytes", route_->maxBodyBytes); }

  void readBody() {
    bodyDeadline_ = Clock::now() + server_.options.bodyTimeout;
    if (route_->spoolBody) return startSpool();
    body_.emplace(std::move(*header_));
    body_->body_limit(route_->maxBodyBytes);
    stream_.expires_at(bodyDeadline_);
    bhttp::async_read(stream_, buffer_, *body_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec == bhttp::error::body_limit) return self->fail(413, self->bodyTooLarge());
      if (ec) return self->fail(400, "the body could not be read: " + ec.message());
      self->request_.body = std::move(self->body_->get().body());
      self->request_.bodyBytes = self->request_.body.size();
      self->dispatch();
    });
  }

  void startSpool() {
    spool_.emplace(std::move(*header_));
    spool_->body_limit(route_->maxBodyBytes);
    const std::uint64_t n = ++server_.spooled;
    request_.bodyFile = (std::filesystem::path(server_.options.spoolDirectory) / fmt::format("seg-body-{}-{}", ::getpid(), n)).string();
    file_ = std::fopen(request_.bodyFile.c_str(), "wb");
    if (file_ == nullptr) return fail(500, "cannot spool the body: " + std::string(std::strerror(errno)));
    chunk_.resize(64 << 10);
    readSpool();
  }

  void readSpool() {
    if (spool_->is_done()) {
      std::fclose(std::exchange(file_, nullptr));
      return dispatch();
    }
    spool_->get().body().data = chunk_.data();
    spool_->get().body().size = chunk_.size();
    stream_.expires_at(bodyDeadline_);
    bhttp::async_read(stream_, buffer_, *spool_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec == bhttp::error::body_limit) return self->fail(413, self->bodyTooLarge());
      if (ec) return self->fail(400, "the body could not be read: " + ec.message());
      const std::size_t got = self->chunk_.size() - self->spool_->get().body().size;
      if (got > 0 && std::fwrite(self->chunk_.data(), 1, got, self->file_) != got) return self->fail(507, "cannot spool the body: disk full?");
      self->request_.bodyBytes += got;
      self->readSpool();
    });
  }

  // The handler runs on the pool; its response comes back to this
  // connection's executor.
  void dispatch() {
    ++server_.inFlight;
    asio::post(*server_.handlers, [self = shared_from_this()] {
      Response response;
      try {
        response = self->route_->handle(self->request_);
      } catch (const std::exception& e) {
        response = Response::error(500, std::string("internal error: ") + e.what());
      }
      if (!self->request_.bodyFile.empty()) std::remove(self->request_.bodyFile.c_str());
      asio::post(self->stream_.get_executor(), [self, response = std::move(response)]() mutable {
        --self->server_.inFlight;
        self->write(std::move(response));
      });
    });
  }

  // An error before the handler: answered, and the connection closed (the
  // rest of a body is not read).
  void fail(int status, const std::string& message) {
    if (file_ != nullptr) {
      std::fclose(std::exchange(file_, nullptr));
      std::remove(request_.bodyFile.c_str());
    }
    keepAlive_ = false;
    linger_ = true;
    write(Response::error(status, message));
  }

  // After an answer given before the body was read (413...): the client may
  // still be sending, and closing at once would reset the connection before
  // it reads the answer. Stop sending, drain what comes for a moment, close.
  void lingerThenClose() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return close();
    drain_.resize(16 << 10);
    stream_.expires_after(std::chrono::seconds(2));
    drainSome(0);
  }
  void drainSome(std::size_t drained) {
    // Up to 64 MiB: a client that keeps sending after that is cut off.
    if (drained > (64u << 20)) return close();
    stream_.async_read_some(asio::buffer(drain_), [self = shared_from_this(), drained](beast::error_code ec, std::size_t n) {
      if (ec) return self->close();
      self->drainSome(drained + n);
    });
  }

  void write(Response r) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(static_cast<bhttp::status>(r.status), 11);
    res->set(bhttp::field::server, "seg");
    res->set(bhttp::field::content_type, r.contentType);
    for (const auto& [k, v] : r.headers) res->set(k, v);
    res->body() = std::move(r.body);
    res->keep_alive(keepAlive_ && !server_.stopping);
    res->prepare_payload();
    const int status = r.status;
    stream_.expires_after(server_.options.writeTimeout);
    bhttp::async_write(stream_, *res, [self = shared_from_this(), res, status](beast::error_code ec, std::size_t) {
      self->busy_ = false;
      if (self->server_.options.observe && !self->request_.method.empty()) {
        self->server_.options.observe(self->request_, status, std::chrono::duration<double>(Clock::now() - self->started_).count());
      }
      // Beast reports a written "Connection: close" answer as end_of_stream.
      if (ec == bhttp::error::end_of_stream) ec = {};
      if (!ec && self->linger_) return self->lingerThenClose();
      if (ec || !res->keep_alive()) return self->close();
      self->readHeader();
    });
  }

  void close() {
    busy_ = false;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  Server::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::empty_body>> header_;
  std::optional<bhttp::request_parser<bhttp::string_body>> body_;
  std::optional<bhttp::request_parser<bhttp::buffer_body>> spool_;
  std::vector<char> chunk_;
  std::FILE* file_ = nullptr;
  Request request_;
  const Route* route_ = nullptr;
  std::string remote_;
  bool keepAlive_ = false;
  bool linger_ = false;  // answered before the body was read
  std::vector<char> drain_;
  std::atomic<bool> busy_{false};
  Clock::time_point started_, bodyDeadline_;
};

void Server::Impl::accept() {
  acceptor->async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (!stopping && acceptor->is_open()) accept();
      return;
    }
    ++connections;
    auto session = std::make_shared<Session>(std::move(socket), *this);
    if (connections > options.maxConnections) {
      ++refused;
      session->refuse();
    } else {
      {
        std::lock_guard lock(sessionsMutex);
        std::erase_if(sessions, [](const std::weak_ptr<Session>& s) { return s.expired(); });
        sessions.push_back(session);
      }
      session->start();
    }
    if (!stopping) accept();
  });
}

std::vector<Route> routesUnder(const std::string& prefix, std::size_t maxBodyBytes, std::function<Response(Request&)> handle) {
  std::vector<Route> routes;
  for (const char* method : {"GET", "POST", "PUT", "DELETE"}) {
    Route route;
    route.method = method;
    route.path = prefix;
    route.prefix = true;
    route.maxBodyBytes = maxBodyBytes;
    route.handle = handle;
    routes.push_back(std::move(route));
  }
  return routes;
}

Server::Server(ServerOptions options, std::vector<Route> routes)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(routes))) {}

Server::~Server() { stop(std::chrono::milliseconds(0)); }

void Server::start() {
  Impl& s = *impl_;
  s.handlers = std::make_unique<asio::thread_pool>(std::max<std::size_t>(1, s.options.handlerThreads));
  beast::error_code ec;
  const auto address = asio::ip::make_address(s.options.address, ec);
  if (ec) throw std::runtime_error(fmt::format("cannot listen on `{}`: {}", s.options.address, ec.message()));
  const tcp::endpoint endpoint(address, s.options.port);
  s.acceptor.emplace(s.ioc);
  s.acceptor->open(endpoint.protocol(), ec);
  if (!ec) s.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor->bind(endpoint, ec);
  if (!ec) s.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error(fmt::format("cannot listen on {}:{}: {}", s.options.address, s.options.port, ec.message()));
  s.port = s.acceptor->local_endpoint().port();
  s.work.emplace(s.ioc.get_executor());
  s.accept();
  for (std::size_t i = 0; i < std::max<std::size_t>(1, s.options.networkThreads); ++i) s.network.emplace_back([&s] { s.ioc.run(); });
}

unsigned short Server::port() const { return impl_->port; }
std::size_t Server::activeConnections() const { return impl_->connections; }
std::uint64_t Server::refusedConnections() const { return impl_->refused; }

void Server::stop(std::chrono::milliseconds grace) {
  Impl& s = *impl_;
  if (s.network.empty()) return;
  s.stopping = true;
  asio::post(s.ioc, [&s] {
    beast::error_code ec;
    if (s.acceptor) s.acceptor->close(ec);
  });
  // Idle connections close now; those handling a request close after it.
  {
    std::lock_guard lock(s.sessionsMutex);
    for (const auto& weak : s.sessions) {
      if (auto session = weak.lock()) session->closeIfIdle();
    }
  }
  const auto deadline = Clock::now() + grace;
  while (s.inFlight > 0 && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  // Responses in flight get a moment to be written.
  while (s.connections > 0 && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  s.work.reset();
  s.ioc.stop();
  for (std::thread& t : s.network) t.join();
  s.network.clear();
  s.handlers->join();
}

}  // namespace seg::http
