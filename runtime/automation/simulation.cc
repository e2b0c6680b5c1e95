#include "runtime/automation/simulation.h"

#include <fmt/format.h>

namespace seg {

std::size_t LineStandIn::take(AutomationEngine& engine, std::int64_t now) {
  std::size_t made = 0;
  for (std::vector<HandOut> due = engine.due(now); !due.empty(); due = engine.due(now)) {
    for (const HandOut& h : due) {
      if (observe) observe(h);
      std::string response;
      if (send::createsAudience(h.request)) {
        response = fmt::format("{{\"audienceGroupId\": {}}}", ++audienceIds_);
      }
      if (h.request.method == "GET" && h.request.path.rfind("/v2/bot/richmenu/alias/", 0) == 0) {
        std::string id = send::retryKey(h.request.path);
        std::erase(id, '-');
        response = fmt::format(R"({{"richMenuAliasId": "{}", "richMenuId": "richmenu-{}"}})",
                               h.request.path.substr(h.request.path.rfind('/') + 1), id);
      }
      engine.confirm(h.key, now, response);
      ++made;
    }
  }
  made_ += made;
  return made;
}

void playActivity(AutomationEngine& engine, const std::vector<Mutation>& changes, std::int64_t from, std::int64_t to,
                  LineStandIn& line) {
  constexpr std::int64_t kHour = 3600;
  engine.advanceTo(from);
  std::size_t inbound = 0;
  std::int64_t nextFlush = from + kHour;
  for (std::size_t i = 0; i < changes.size();) {
    InboundEvent event;
    const Mutation& head = changes[i];
    // A follow and the attributes that came with it are one event.
    while (i < changes.size() && changes[i].user == head.user && changes[i].time == head.time) event.changes.push_back(changes[i++]);
    event.webhookEventId = fmt::format("sim-{}", ++inbound);
    if (head.kind == Mutation::Kind::AppendEvent) event.replyToken = fmt::format("sim-reply-{}", inbound);
    while (head.time >= nextFlush) {
      engine.advanceTo(nextFlush);
      line.take(engine, nextFlush);
      nextFlush += kHour;
    }
    engine.handle(event, head.time);
  }
  for (; nextFlush <= to; nextFlush += kHour) {
    engine.advanceTo(nextFlush);
    line.take(engine, nextFlush);
  }
  engine.advanceTo(to);
  line.take(engine, to);
}

}  // namespace seg
