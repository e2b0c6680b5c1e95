// libFuzzer: any bytes as what a client writes to seg's service. One
// service (segd's, in process, on a store in a temporary directory) runs
// for the whole fuzzing session; each input is written to its public
// listener (webhooks, signed with a secret the input cannot know) and to
// its admin listener (feeds, admin API, program reload), the connection is
// half-closed and the answer read to its end. A crash, a sanitizer report,
// a hang or a store failure (the service calls its fatal handler) is a
// finding; an error answer is not.
//
// The store keeps what earlier inputs posted (friends, events, a reloaded
// program), so a finding may need the inputs before it: rerun with the
// corpus, not only the one file.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstddef>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "server/service/service.h"

namespace {

const char* kProgram = R"(
use line
schema {
  rank: enum(regular, gold)
  points: int
  event cart_add(product: string, price: int)
}
segment gold = rank == gold
message welcome = text "ようこそ{{name|}}"
message reminder(product: string) = text "カートに「{{product}}」"
scenario welcome_series on follow {
  day 0: send welcome
}
scenario cart_recovery on cart_add as e {
  after 1h: send reminder(product: e.product)
}
on message where text contains "hello" { reply welcome }
)";

class FuzzedService {
 public:
  FuzzedService() : log_(seg::service::Logger::Level::Error, true) {
    char pattern[] = "/tmp/seg-fuzz-http-XXXXXX";
    if (!::mkdtemp(pattern)) std::abort();
    dir_ = pattern;
    std::ofstream(dir_ + "/program.seg") << kProgram;
    seg::service::ServiceConfig config;
    config.program = dir_ + "/program.seg";
    config.store = dir_ + "/store";
    config.publicListen = {"127.0.0.1", 0};
    config.adminListen = {"127.0.0.1", 0};
    config.channelSecret = "a secret the fuzzer does not know";
    config.spoolDirectory = dir_;
    config.headerTimeoutMs = 2000;
    config.bodyTimeoutMs = 2000;
    config.webhookMaxBytes = 64 << 10;
    config.feedMaxBytes = 1 << 20;
    config.inboxLimit = 10000;
    config.handlerThreads = 2;
    service_ = std::make_unique<seg::service::Service>(config, log_, [](const std::string& why) {
      std::fprintf(stderr, "fuzz_http: the service failed: %s\n", why.c_str());
      std::abort();
    });
    service_->start();
  }
  ~FuzzedService() {
    service_->stop();
    std::filesystem::remove_all(dir_);
  }

  void send(const std::uint8_t* data, std::size_t size) {
    exchange(service_->publicPort(), data, size);
    exchange(service_->adminPort(), data, size);
  }

 private:
  // libFuzzer's timer signal can interrupt connect: the connection then
  // goes on, and is waited for.
  static bool connectTo(int fd, const sockaddr_in& address) {
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) return true;
    if (errno != EINTR) return false;
    pollfd writable{fd, POLLOUT, 0};
    while (::poll(&writable, 1, 5000) < 0 && errno == EINTR) {
    }
    int error = 0;
    socklen_t length = sizeof error;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
    errno = error;
    return error == 0;
  }

  // Writes the bytes, half-closes and reads until the service closes (or
  // 5 s pass: then the service hung on this input).
  static void exchange(unsigned short port, const std::uint8_t* data, std::size_t size) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) std::abort();
    timeval timeout{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // Closed with a reset: tens of thousands of connections a minute would
    // otherwise leave loopback's ports in TIME_WAIT, and connect would fail.
    linger reset{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    if (!connectTo(fd, address)) {
      std::fprintf(stderr, "fuzz_http: cannot connect to port %u: %s\n", port, std::strerror(errno));
      std::abort();
    }
    // The service may answer (413, 400) and close before it has read
    // everything: a failed write is an answer too.
    std::size_t written = 0;
    while (written < size) {
      const ssize_t n = ::send(fd, data + written, size - written, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;  // libFuzzer's timer signal
      if (n <= 0) break;
      written += static_cast<std::size_t>(n);
    }
    ::shutdown(fd, SHUT_WR);
    char buffer[8192];
    for (;;) {
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n > 0 || (n < 0 && errno == EINTR)) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        std::fprintf(stderr, "fuzz_http: no end of answer from port %u within 5 s\n", port);
        std::abort();
      }
      break;
    }
    ::close(fd);
  }

  std::string dir_;
  seg::service::Logger log_;
  std::unique_ptr<seg::service::Service> service_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static FuzzedService service;
  service.send(data, size);
  return 0;
}
