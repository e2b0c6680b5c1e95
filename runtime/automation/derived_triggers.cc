// Triggers no inbound event carries: a date attribute's day each year
// (`on birthday at 09:00`) and a friend entering or leaving a segment
// (`on enter vip`, `on leave vip`).
//
// A yearly trigger runs once a day at its time, for the friends whose date
// falls on that day (February 29 falls on February 28 in common years), in
// one unit of work recorded as KEY@OCCURRENCE, so a crash or a restart
// never runs it twice.
//
// A watched segment's members are marked with an internal tag
// (`seg:in:SEGMENT`). After each unit of work that touches a friend, and
// at each day start (for conditions on time), membership is compared with
// the mark: a difference fires `enter` or `leave` and moves the mark in the
// same unit of work. The first time a segment is watched, its members are
// marked without firing: adding `on enter vip` to a program does not greet
// every current VIP.
#include <fmt/format.h>

#include "base/civil_time.h"
#include "runtime/automation/engine.h"

namespace seg {
namespace {

using Kind = TimelineEntry::Kind;

std::string markTag(const std::string& segment) { return "seg:in:" + segment; }
std::string baselineRecord(const std::string& segment) { return "watch:" + segment; }

// Whether a date (days since 1970) has its yearly day on `day`.
bool yearlyOn(std::int32_t date, std::int32_t day) {
  const civil::YearMonthDay d = civil::civilFromDays(date);
  Recurrence yearly;
  yearly.unit = Recurrence::Unit::Year;
  yearly.month = d.month;
  yearly.dayOfMonth = d.day;
  return yearly.fallsOn(day);
}

}  // namespace

void AutomationEngine::planDerivedTriggers() {
  const auto plan = [&](const ir::TriggerIr& t) {
    if (t.kind == ir::TriggerIr::Kind::Yearly) {
      const std::string key = fmt::format("yearly:{}@{}", program_.schema.attributes[t.attribute].name, civil::formatClock(t.atSecondsOfDay));
      for (const YearlyJob& job : yearly_) {
        if (job.key == key) return;
      }
      Recurrence daily;
      daily.atSecondsOfDay = t.atSecondsOfDay;
      yearly_.push_back({key, daily, t.attribute});
    } else if (t.kind == ir::TriggerIr::Kind::Enter || t.kind == ir::TriggerIr::Kind::Leave) {
      if (std::find(watchedSegments_.begin(), watchedSegments_.end(), t.segment) == watchedSegments_.end()) {
        watchedSegments_.push_back(t.segment);
      }
    }
  };
  for (const ir::RuleIr& r : automation_.rules) plan(r.trigger);
  for (const ir::ScenarioIr& s : automation_.scenarios) plan(s.trigger);
}

void AutomationEngine::runYearly(const YearlyJob& job, std::int64_t occurrence, std::int64_t now) {
  Mutation record = Mutation::of(Mutation::Kind::CampaignRan);
  record.name = fmt::format("{}@{}", job.key, occurrence);
  record.time = now;
  if (now - occurrence > kScheduleGrace) {
    record.value = Value::ofString(fmt::format("missed: it was due at {} and found a day later", zone_.formatInstant(occurrence)));
    stage(std::move(record));
    commit();
    return;
  }
  const std::int32_t day = zone_.localDay(occurrence);
  const AttributeColumn& column = evaluator_->bound().attribute(job.attribute);
  const std::string& attribute = program_.schema.attributes[job.attribute].name;
  const std::string why = fmt::format("on {} at {}", attribute, civil::formatClock(job.daily.atSecondsOfDay));
  const auto matches = [&](const ir::TriggerIr& t) {
    return t.kind == ir::TriggerIr::Kind::Yearly && t.attribute == job.attribute && t.atSecondsOfDay == job.daily.atSecondsOfDay;
  };
  const std::uint32_t friends = state().friends().size();
  for (std::uint32_t id = 0; id < friends; ++id) {
    if (!column.has(id) || state().blocked().contains(id)) continue;
    if (!yearlyOn(static_cast<std::int32_t>(column.intAt(id)), day)) continue;
    fire(id, now, matches, why, fmt::format("{}/{}", job.key, occurrence));
  }
  stage(std::move(record));
  commit();
}

void AutomationEngine::baselineWatchedSegments(std::int64_t now) {
  for (std::uint32_t segment : watchedSegments_) {
    const std::string& name = program_.segments[segment].name;
    if (state().automation().campaignRecord(baselineRecord(name)) != nullptr) continue;
    const Bitmap members = evaluator_->evaluate(name, now, Engine::Auto).friends - state().blocked();
    std::vector<Mutation> changes;
    for (std::uint32_t id : members.toVector()) {
      Mutation mark = Mutation::of(Mutation::Kind::Tag, state().friends().user(id));
      mark.name = markTag(name);
      mark.on = true;
      changes.push_back(std::move(mark));
    }
    Mutation record = Mutation::of(Mutation::Kind::CampaignRan);
    record.name = baselineRecord(name);
    record.time = now;
    changes.push_back(std::move(record));
    writer_.stage(std::move(changes));
    commit();
  }
}

void AutomationEngine::segmentChanged(std::uint32_t segment, std::uint32_t friendId, bool entered, std::int64_t now) {
  const std::string& name = program_.segments[segment].name;
  Mutation mark = Mutation::of(Mutation::Kind::Tag, state().friends().user(friendId));
  mark.name = markTag(name);
  mark.on = entered;
  stage(std::move(mark));
  if (state().blocked().contains(friendId)) return;  // marked, but nothing is sent to a friend who blocked
  const ir::TriggerIr::Kind kind = entered ? ir::TriggerIr::Kind::Enter : ir::TriggerIr::Kind::Leave;
  const std::string why = fmt::format("on {} {}", entered ? "enter" : "leave", name);
  fire(friendId, now, [&](const ir::TriggerIr& t) { return t.kind == kind && t.segment == segment; }, why,
       fmt::format("{}/{}", why.substr(3), now));
}

void AutomationEngine::checkSegmentChanges(std::uint32_t friendId, std::int64_t now) {
  if (watchedSegments_.empty()) return;
  const Interpreter interpreter(evaluator_->bound(), EvalTime::at(now, zone_));
  for (std::uint32_t segment : watchedSegments_) {
    const std::string& name = program_.segments[segment].name;
    if (state().automation().campaignRecord(baselineRecord(name)) == nullptr) continue;
    const auto tag = state().tags().find(markTag(name));
    const bool marked = tag != state().tags().end() && tag->second.contains(friendId);
    const bool member = !state().blocked().contains(friendId) && interpreter.test(program_.segments[segment].root, friendId);
    if (member != marked) segmentChanged(segment, friendId, member, now);
  }
}

void AutomationEngine::checkSegmentChanges(std::int64_t now) {
  for (std::uint32_t segment : watchedSegments_) {
    const std::string& name = program_.segments[segment].name;
    if (state().automation().campaignRecord(baselineRecord(name)) == nullptr) continue;
    const Bitmap members = evaluator_->evaluate(name, now, Engine::Auto).friends - state().blocked();
    const auto tag = state().tags().find(markTag(name));
    const Bitmap marked = tag != state().tags().end() ? tag->second : Bitmap();
    for (std::uint32_t id : (members - marked).toVector()) segmentChanged(segment, id, true, now);
    for (std::uint32_t id : (marked - members).toVector()) segmentChanged(segment, id, false, now);
    commit();
  }
}

}  // namespace seg
