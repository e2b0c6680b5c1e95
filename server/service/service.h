// segd: one long-running process that holds a store and a program and
// does everything seg does while it runs (docs/server.md):
//
//   public listener   LINE's webhooks (signed), /healthz
//   admin listener    the data feeds (POST /v1/friends, /v1/events), the
//                     admin API (segments, explain, campaigns, outbox,
//                     stats, program reload), /healthz, /readyz, /metrics;
//                     on loopback unless a bearer token guards it
//   automation loop   one thread that owns the automation engine: it acts
//                     on the inbox (events taken durably by the listeners),
//                     runs what is due within a second of its time, and
//                     carries out admin work that changes the store
//
// A webhook or feed record is durable (in the store's inbox, synced) before
// its request is answered; the loop then acts on it once, in a transaction
// that also marks it done. After a crash the inbox is acted on again from
// where the last committed batch ended.
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "server/service/config.h"
#include "server/service/log.h"

namespace seg::service {

struct ServiceError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ReloadOutcome {
  bool reloaded = false;
  std::string diagnostics;  // as `segc check` prints them
  std::string error;        // why the old program keeps running ("" when reloaded)
};

class Service {
 public:
  // `onFatal` is called (once, from any thread) when the service cannot go
  // on (its store failed): the process should stop and be restarted.
  Service(ServiceConfig config, Logger& log, std::function<void(const std::string&)> onFatal);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Listens, opens the store, loads the program and starts the loop.
  // Throws ServiceError with the reason.
  void start();
  // Stops taking requests, lets those in flight finish, acts on what is in
  // the inbox for a moment more, checkpoints the store and closes it.
  void stop();
  // The configured program file again (SIGHUP).
  ReloadOutcome reloadFromFile();

  unsigned short publicPort() const;
  unsigned short adminPort() const;

 private:
  struct Core;
  std::unique_ptr<Core> core_;
};

}  // namespace seg::service
