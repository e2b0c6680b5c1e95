// Profiles fetched after a follow, so that the friend's display name is
// known when the follow's actions run (`{{name}}` in a welcome). The loop
// asks; the sender fetches (GET /v2/bot/profile/{userId}, LINE's 2,000 a
// second); the loop holds the follow until the answer, for `wait` at most,
// then acts without it. Nothing is kept durably: after a crash the follow
// is still in the inbox and its profile is asked for again.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "runtime/automation/engine.h"
#include "server/delivery/sender.h"

namespace seg::delivery {

class ProfileFetches {
 public:
  explicit ProfileFetches(SteadyClock::duration wait) : wait_(wait) {}

  struct Lookup {
    bool ready = false;       // false: wait for the answer
    std::string displayName;  // "" when LINE gave none (not a friend, an error, no answer in time)
  };
  // Asks for `user`'s profile the first time; ready once LINE answered or
  // the wait is over.
  Lookup lookup(const std::string& user, SteadyClock::time_point now);
  // The profile was used: the next follow asks again (names change).
  void forget(const std::string& user) { asked_.erase(user); }

  // Fetches to hand to the sender (each once).
  std::vector<HandOut> takeRequests(std::int64_t now);
  static bool isFetch(const std::string& key);
  void record(const Completion& completion);

 private:
  struct Asked {
    SteadyClock::time_point at;
    bool offered = false, answered = false;
    std::string displayName;
  };
  SteadyClock::duration wait_;
  std::map<std::string, Asked> asked_;
};

}  // namespace seg::delivery
