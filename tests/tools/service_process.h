// segd as a child process for tests and benchmarks: started on loopback
// ports it picks itself, waited for until ready, and always stopped (also
// when a test fails: the destructor kills it).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace seg::testing {

struct ServiceOptions {
  std::string program;
  std::string store;
  std::string secret = "test-channel-secret";  // "" with allowUnsigned: no secret
  bool allowUnsigned = false;
  std::string adminToken;  // SEG_ADMIN_TOKEN, when set
  std::string accessToken;  // LINE_CHANNEL_ACCESS_TOKEN, when set
  std::string config;      // a config file, when set
  std::vector<std::string> extraArgs;
  std::string logFile;     // the service's stderr; a temporary file when empty
};

// The segd the tests run: SEGD_UNDER_TEST, or the one just built.
std::string segdPath();

class ServiceProcess {
 public:
  explicit ServiceProcess(ServiceOptions options);
  ~ServiceProcess();
  ServiceProcess(const ServiceProcess&) = delete;
  ServiceProcess& operator=(const ServiceProcess&) = delete;

  // Starts segd and waits (up to `timeoutSeconds`) for its ready file;
  // false if it exited first or never got ready (see log()).
  bool start(double timeoutSeconds = 120);
  // SIGTERM and wait: the exit code (-1 when killed by a signal).
  int stop();
  void kill9();
  bool running() const { return pid_ > 0; }
  // Another SIGnal (SIGHUP: reload).
  void signal(int signal);

  std::string webhookUrl() const;  // http://127.0.0.1:PORT/callback
  std::string adminUrl() const;    // http://127.0.0.1:PORT
  std::string log() const;
  pid_t pid() const { return pid_; }

 private:
  ServiceOptions options_;
  std::string readyFile_;
  pid_t pid_ = -1;
  unsigned short publicPort_ = 0, adminPort_ = 0;
};

}  // namespace seg::testing
