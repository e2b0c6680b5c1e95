#include "server/delivery/sender.h"

#include <algorithm>
#include <random>

#include <fmt/format.h>

namespace seg::delivery {
namespace {

// 1 s, 2 s, 4 s... up to 5 minutes, each between half and one and a half
// times that, so that many retries do not come back together.
SteadyClock::duration backoff(unsigned attempts) {
  thread_local std::mt19937_64 random{std::random_device{}()};
  const double base = std::min(300.0, static_cast<double>(1u << std::min(attempts, 9u)) / 2);
  std::uniform_real_distribution<double> jitter(0.5, 1.5);
  return std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(base * jitter(random)));
}

}  // namespace

Sender::Sender(const service::DeliveryConfig& config, AccessToken& token, service::Metrics& metrics, service::Logger& log,
               std::function<void()> wake, std::function<std::int64_t()> clock)
    : config_(config),
      token_(token),
      metrics_(metrics),
      log_(log),
      wake_(std::move(wake)),
      clock_(std::move(clock)),
      limiter_(config.rateLimits) {
  for (std::size_t i = 0; i < config_.concurrency; ++i) workers_.emplace_back([this] { work(); });
}

Sender::~Sender() { stop(); }

void Sender::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && workers_.empty()) return;
    stopping_ = true;
  }
  limiter_.stop();
  ready_.notify_all();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
}

void Sender::offer(const std::vector<HandOut>& due, std::int64_t) {
  std::lock_guard lock(mutex_);
  if (stopping_) return;
  const auto now = SteadyClock::now();
  bool added = false;
  for (const HandOut& h : due) {
    if (!known_.emplace(h.key, h.lane).second) continue;
    Job job;
    job.handOut = h;
    job.endpoint = h.request.endpoint();
    job.endpoint = job.endpoint.substr(0, job.endpoint.find('?'));  // a progress query's id is not its endpoint
    job.mayHaveActed = h.triedAt != 0;  // by a process before this one
    job.firstTried = clock_();
    if (!h.lane.empty()) lanes_[h.lane].push_back(h.key);
    queue_.emplace(now, std::move(job));
    added = true;
  }
  if (added) ready_.notify_all();
}

std::vector<Completion> Sender::takeCompletions() {
  std::lock_guard lock(mutex_);
  std::vector<Completion> out;
  out.swap(completions_);
  for (const Completion& c : out) known_.erase(c.key);
  return out;
}

std::size_t Sender::pending() const {
  std::lock_guard lock(mutex_);
  return known_.size();
}

void Sender::work() {
  http::Client client(config_.timeoutSeconds, std::min(10.0, config_.timeoutSeconds));
  std::unique_lock lock(mutex_);
  while (true) {
    if (stopping_) return;
    const auto now = SteadyClock::now();
    const auto next = nextJob(now);
    if (next == queue_.end()) {
      // Nothing to make now: wait for the first time due (a request whose
      // friend has an earlier one under way waits for its completion).
      const auto due = std::find_if(queue_.begin(), queue_.end(), [&](const auto& q) { return q.first > now; });
      if (due == queue_.end()) {
        ready_.wait(lock);
      } else {
        ready_.wait_until(lock, due->first);
      }
      continue;
    }
    Job job = std::move(next->second);
    queue_.erase(next);
    lock.unlock();
    // LINE's pace: wait for this endpoint's slot (a stop cuts the wait short;
    // the request stays in the outbox for the next start).
    const auto slot = limiter_.reserve(job.endpoint);
    if (!slot) return;
    if (*slot > SteadyClock::now()) {
      lock.lock();
      if (ready_.wait_until(lock, *slot, [this] { return stopping_; })) {
        lock.unlock();
        limiter_.finished(job.endpoint);
        return;
      }
      lock.unlock();
    }
    std::string token;
    CallResult result;
    try {
      token = token_.current();
      result = call(client, config_, token, job.handOut.request);
    } catch (const std::exception& e) {
      result.outcome = Outcome::Unauthorized;
      result.error = e.what();
      result.nothingSent = true;
    }
    limiter_.finished(job.endpoint);
    if (result.outcome == Outcome::Unauthorized && !token.empty()) token_.refused(token);
    metrics_.add("seg_delivery_requests_total", {{"endpoint", job.endpoint}, {"outcome", outcomeName(result.outcome)}});
    if (result.status != 0) metrics_.observe("seg_delivery_request_seconds", {{"endpoint", job.endpoint}}, result.seconds);
    finish(job, result);
    lock.lock();
  }
}

std::multimap<SteadyClock::time_point, Sender::Job>::iterator Sender::nextJob(SteadyClock::time_point now) {
  for (auto it = queue_.begin(); it != queue_.end() && it->first <= now; ++it) {
    const std::string& lane = it->second.handOut.lane;
    if (lane.empty()) return it;
    const auto l = lanes_.find(lane);
    if (l == lanes_.end() || l->second.front() == it->second.handOut.key) return it;
  }
  return queue_.end();
}

bool Sender::pastHorizon(const Job& job) const {
  const std::int64_t first = job.handOut.triedAt != 0 ? job.handOut.triedAt : job.firstTried;
  return clock_() > first + static_cast<std::int64_t>(config_.retryHorizonSeconds);
}

void Sender::finish(Job& job, const CallResult& result) {
  ++job.attempts;
  const std::string& key = job.handOut.key;
  const send::LineRequest& request = job.handOut.request;
  switch (result.outcome) {
    case Outcome::Delivered:
      complete({Completion::Kind::Delivered, key, result.body,
                result.acceptedRequestId.empty() ? result.requestId : result.acceptedRequestId, "", ""});
      return;
    case Outcome::ReplyRefused:
      if (job.mayHaveActed) {
        // An earlier attempt got no answer and may have used the token:
        // taken as delivered rather than risk the friend getting it twice.
        log_.warning("a reply's token was refused after an attempt that got no answer; taken as delivered",
                     {{"key", key}, {"x-line-request-id", result.requestId}});
        complete({Completion::Kind::Delivered, key, "", result.requestId, "", ""});
      } else {
        complete({Completion::Kind::ReplyRefused, key, "", result.requestId, "",
                  "LINE refused the reply token (" + std::to_string(result.status) + ")"});
      }
      return;
    case Outcome::Refused:
      log_.error("LINE refused a request", {{"key", key}, {"endpoint", job.endpoint}, {"status", result.status},
                                             {"body", result.body}, {"x-line-request-id", result.requestId}});
      complete({Completion::Kind::Failed, key, "", result.requestId, result.failureJson(), ""});
      return;
    case Outcome::RateLimited: {
      const auto pause = result.retryAfter.count() > 0 ? std::chrono::duration_cast<SteadyClock::duration>(result.retryAfter)
                                                       : backoff(job.attempts);
      limiter_.pause(job.endpoint, pause);
      log_.warning("LINE answered 429: slowing down", {{"endpoint", job.endpoint}, {"pause_seconds", std::chrono::duration<double>(pause).count()}});
      again(std::move(job), pause);
      return;
    }
    case Outcome::Unauthorized:
      log_.error("LINE did not take the channel access token", {{"key", key}, {"status", result.status}, {"error", result.error}});
      again(std::move(job), std::max<SteadyClock::duration>(std::chrono::seconds(5), backoff(job.attempts)));
      return;
    case Outcome::Retry: break;
  }
  // No answer, a timeout or a 5xx: LINE may have acted on it.
  job.lastError = result.status == 0 ? result.error : fmt::format("{} {}", result.status, result.body);
  if (!result.nothingSent) job.mayHaveActed = true;
  if (job.mayHaveActed && !safeToRepeat(request)) {
    complete({Completion::Kind::Failed, key, "", result.requestId,
              fmt::format(R"({{"error":"no clear answer from LINE, and making this request again could act twice (it has no retry key): check at LINE before sending it again","last":{}}})",
                          nlohmann::json(job.lastError).dump()),
              ""});
    return;
  }
  if (pastHorizon(job)) {
    complete({Completion::Kind::Failed, key, "", result.requestId,
              fmt::format(R"({{"error":"not accepted by LINE within the time it keeps a retry key; not made again, so that nothing is sent twice","attempts":{},"last":{}}})",
                          job.attempts, nlohmann::json(job.lastError).dump()),
              ""});
    return;
  }
  metrics_.add("seg_delivery_retries_total", {{"endpoint", job.endpoint}});
  const auto delay = backoff(job.attempts);
  again(std::move(job), delay);
}

void Sender::again(Job job, SteadyClock::duration delay) {
  std::lock_guard lock(mutex_);
  queue_.emplace(SteadyClock::now() + delay, std::move(job));
  ready_.notify_one();
}

void Sender::complete(Completion completion) {
  {
    std::lock_guard lock(mutex_);
    const auto known = known_.find(completion.key);
    if (known != known_.end() && !known->second.empty()) {
      const auto l = lanes_.find(known->second);
      if (l != lanes_.end()) {
        std::erase(l->second, completion.key);
        if (l->second.empty()) lanes_.erase(l);
      }
    }
    completions_.push_back(std::move(completion));
  }
  ready_.notify_all();  // the next request of that friend may go
  wake_();
}

}  // namespace seg::delivery
