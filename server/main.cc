// segd: seg's service (docs/server.md).
//
//   segd PROGRAM --store DIR [--config FILE] [--listen ADDR:PORT] [--admin ADDR:PORT]
//
// SIGTERM or SIGINT: stop gracefully (exit 0). SIGHUP: reload the program.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "server/service/config.h"
#include "server/service/log.h"
#include "server/service/service.h"

namespace {

using namespace seg::service;

// Written once the service is ready, removed when it stops: where a
// supervisor or a test finds the ports it took (port 0: any free one).
void writeReadyFile(const std::string& path, const Service& service) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << nlohmann::json{{"pid", ::getpid()}, {"public_port", service.publicPort()}, {"admin_port", service.adminPort()}}.dump() << "\n";
  }
  std::filesystem::rename(temporary, path);
}

int run(ServiceConfig config, const std::string& readyFile) {
  // Signals are taken by this thread alone (sigwait), never by a handler.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGUSR1}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  Logger log(Logger::levelNamed(config.logLevel), config.logJson);
  Service service(std::move(config), log, [](const std::string&) { ::kill(::getpid(), SIGUSR1); });
  try {
    service.start();
  } catch (const ServiceError& e) {
    fmt::print(stderr, "segd: error: {}\n", e.what());
    return 1;
  }
  if (!readyFile.empty()) writeReadyFile(readyFile, service);
  int exitCode = 0;
  while (true) {
    int signal = 0;
    sigwait(&signals, &signal);
    if (signal == SIGHUP) {
      service.reloadFromFile();
      continue;
    }
    if (signal == SIGUSR1) exitCode = 1;  // the service failed (logged)
    log.info("stopping", {{"signal", signal == SIGUSR1 ? "failure" : signal == SIGHUP ? "SIGHUP" : signal == SIGINT ? "SIGINT" : "SIGTERM"}});
    break;
  }
  service.stop();
  if (!readyFile.empty()) std::remove(readyFile.c_str());
  return exitCode;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("segd: seg's service: LINE's webhooks, the data feeds, the scheduler and the admin API, on one store",
               "segd");
  std::string program, store, configFile, listen, admin, readyFile, logFormat, lineApi;
  bool allowUnsigned = false, deliver = false;
  app.add_option("program", program, "The .seg program (or `program` in the config file)");
  app.add_option("--store", store, "The friend store directory (or `store` in the config file)");
  app.add_option("--config", configFile, "A TOML config file (docs/server.md)");
  app.add_option("--listen", listen, "Where LINE's webhooks come in, ADDRESS:PORT (default 0.0.0.0:8080)");
  app.add_option("--admin", admin, "The admin API and feeds, ADDRESS:PORT (default 127.0.0.1:8081)");
  app.add_flag("--allow-unsigned", allowUnsigned, "Take webhooks without a channel secret to check them (local trials only)");
  app.add_option("--ready-file", readyFile, "Write {pid, ports} here once ready; removed at exit");
  app.add_flag("--deliver", deliver, "Make the outbox's requests to LINE (or delivery.enabled in the config file)");
  app.add_option("--line-api", lineApi, "LINE's API at another base URL, for both api and api-data (a local stand-in)");
  app.add_option("--log-format", logFormat, "json (default) or text")->check(CLI::IsMember({"json", "text"}));
  CLI11_PARSE(app, argc, argv);

  std::string error;
  auto config = loadConfig(configFile, error);
  if (!config) {
    fmt::print(stderr, "segd: error: {}\n", error);
    return 2;
  }
  if (!program.empty()) config->program = program;
  if (!store.empty()) config->store = store;
  if (allowUnsigned) config->allowUnsigned = true;
  if (deliver) config->delivery.enabled = true;
  if (!lineApi.empty()) config->delivery.apiBase = config->delivery.dataApiBase = lineApi;
  if (!logFormat.empty()) config->logJson = logFormat == "json";
  for (const auto& [option, text, target] : {std::tuple{"--listen", listen, &config->publicListen},
                                             std::tuple{"--admin", admin, &config->adminListen}}) {
    if (text.empty()) continue;
    const auto endpoint = parseEndpoint(text);
    if (!endpoint) {
      fmt::print(stderr, "segd: error: {}: `{}` is not ADDRESS:PORT\n", option, text);
      return 2;
    }
    *target = *endpoint;
  }
  return run(std::move(*config), readyFile);
}
