#include "tests/tools/service_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

namespace seg::testing {
namespace {

std::string readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::string segdPath() {
  if (const char* path = std::getenv("SEGD_UNDER_TEST")) return path;
  return SEGD_PATH;
}

ServiceProcess::ServiceProcess(ServiceOptions options) : options_(std::move(options)) {
  static int serial = 0;
  const std::string base = (std::filesystem::temp_directory_path() / ("segd-test-" + std::to_string(::getpid()) + "-" + std::to_string(++serial))).string();
  readyFile_ = base + ".ready";
  if (options_.logFile.empty()) options_.logFile = base + ".log";
}

ServiceProcess::~ServiceProcess() {
  kill9();
  std::remove(readyFile_.c_str());
}

bool ServiceProcess::start(double timeoutSeconds) {
  std::remove(readyFile_.c_str());
  std::vector<std::string> args = {segdPath(), options_.program, "--store", options_.store, "--listen", "127.0.0.1:0",
                                   "--admin", "127.0.0.1:0", "--ready-file", readyFile_};
  if (options_.allowUnsigned) args.push_back("--allow-unsigned");
  if (!options_.config.empty()) {
    args.push_back("--config");
    args.push_back(options_.config);
  }
  for (const std::string& a : options_.extraArgs) args.push_back(a);
  pid_ = ::fork();
  if (pid_ == 0) {
    if (!options_.secret.empty()) ::setenv("LINE_CHANNEL_SECRET", options_.secret.c_str(), 1);
    else ::unsetenv("LINE_CHANNEL_SECRET");
    if (!options_.adminToken.empty()) ::setenv("SEG_ADMIN_TOKEN", options_.adminToken.c_str(), 1);
    else ::unsetenv("SEG_ADMIN_TOKEN");
    if (!options_.accessToken.empty()) ::setenv("LINE_CHANNEL_ACCESS_TOKEN", options_.accessToken.c_str(), 1);
    else ::unsetenv("LINE_CHANNEL_ACCESS_TOKEN");
    std::FILE* log = std::fopen(options_.logFile.c_str(), "a");
    if (log != nullptr) {
      ::dup2(::fileno(log), STDERR_FILENO);
      ::dup2(::fileno(log), STDOUT_FILENO);
    }
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeoutSeconds);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    const std::string ready = readAll(readyFile_);
    if (!ready.empty()) {
      const auto j = nlohmann::json::parse(ready);
      publicPort_ = j["public_port"].get<unsigned short>();
      adminPort_ = j["admin_port"].get<unsigned short>();
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill9();
  return false;
}

int ServiceProcess::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  // A stop that hangs is a failure too: killed after two minutes.
  for (int i = 0; i < 12000; ++i) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill9();
  return -1;
}

void ServiceProcess::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

void ServiceProcess::signal(int signal) {
  if (pid_ > 0) ::kill(pid_, signal);
}

std::string ServiceProcess::webhookUrl() const { return "http://127.0.0.1:" + std::to_string(publicPort_) + "/callback"; }
std::string ServiceProcess::adminUrl() const { return "http://127.0.0.1:" + std::to_string(adminPort_); }
std::string ServiceProcess::log() const { return readAll(options_.logFile); }

}  // namespace seg::testing
