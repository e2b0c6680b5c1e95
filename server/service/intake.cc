// What comes in: LINE's webhooks (public listener) and the data feeds
// (admin listener). Both check what they get exactly as `segc import` does,
// put each good event in the store's inbox durably, and answer only then.
#include <filesystem>

#include <fmt/format.h>

#include "runtime/automation/inbox.h"
#include "server/service/core.h"

namespace seg::service {
namespace {

nlohmann::json errorsJson(const ImportReport& report) {
  nlohmann::json errors = nlohmann::json::array();
  for (const RecordError& e : report.errors) {
    nlohmann::json one = {{"line", e.line}, {"message", e.message}};
    if (!e.field.empty()) one["field"] = e.field;
    errors.push_back(std::move(one));
  }
  return errors;
}

bool isJsonType(const std::string& type) { return type == "application/json"; }

}  // namespace

std::string mediaType(const http::Request& request) {
  std::string type = request.header("content-type");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return type;
}

http::Response jsonResponse(int status, const nlohmann::json& body) {
  http::Response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  return r;
}

InboxEntry Service::Core::toInbox(InboundRecord record, std::int64_t at) {
  auto lock = store->readLock();
  return inboxEntry(std::move(record), at, store->state().schema());
}

// ---------------------------------------------------------------- webhook

std::vector<http::Route> Service::Core::publicRoutes() {
  std::vector<http::Route> routes;
  http::Route hook;
  hook.method = "POST";
  hook.path = config.webhookPath;
  hook.maxBodyBytes = config.webhookMaxBytes;
  hook.handle = [this](http::Request& r) { return webhook(r); };
  routes.push_back(std::move(hook));
  routes.push_back({"GET", "/healthz", 1024, false, [](http::Request&) { return jsonResponse(200, {{"status", "ok"}}); }});
  return routes;
}

http::Response Service::Core::webhook(http::Request& request) {
  const auto outcome = [&](const char* what) { metrics.add("seg_webhook_requests_total", {{"outcome", what}}); };
  if (!ready) {
    outcome("unavailable");
    return http::Response::error(503, stopping ? "seg is stopping; LINE redelivers later" : "seg is starting; LINE redelivers later");
  }
  if (!isJsonType(mediaType(request))) {
    outcome("bad_request");
    return http::Response::error(415, fmt::format("a webhook body is application/json, not `{}`", request.header("content-type")));
  }
  if (!config.channelSecret.empty()) {
    const std::string signature = request.header("x-line-signature");
    if (signature.empty()) {
      outcome("unsigned");
      return http::Response::error(401, "no x-line-signature header: LINE signs every webhook");
    }
    if (!signatureMatches(config.channelSecret, request.body, signature)) {
      outcome("bad_signature");
      log.warning("a webhook's signature does not match; refused", {{"remote", request.remote}});
      return http::Response::error(401, "the signature does not match the body: not sent by LINE for this channel, or changed");
    }
  }
  const std::int64_t at = now();
  std::map<std::string, double> accepted;  // by event type
  std::size_t ignored = 0;
  std::vector<std::string> ids;
  ImportOptions options;
  options.now = at;
  options.timezone = timezoneName;
  options.asChange = [&](InboundRecord record) {
    InboxEntry entry = toInbox(std::move(record), at);
    if (entry.type.empty()) {
      ++ignored;
    } else {
      ++accepted[entry.type];
      ids.push_back(entry.change.name);
    }
    return std::move(entry.change);
  };
  const auto taken = SteadyClock::now();
  const ImportReport report = importBytes(*store, ImportKind::Webhook, "webhook body", request.body, options);
  if (!report.fatal.empty()) {
    outcome("bad_request");
    return http::Response::error(400, report.fatal);
  }
  {
    std::lock_guard lock(loopMutex);
    if (takenAt.size() > 100000) takenAt.clear();  // only for latency figures: never let it grow
    for (const std::string& id : ids) takenAt.emplace(id, taken);
  }
  wakeLoop();
  for (const auto& [type, n] : accepted) metrics.add("seg_webhook_events_total", {{"type", type}, {"outcome", "accepted"}}, n);
  if (ignored > 0) metrics.add("seg_webhook_events_total", {{"type", "other"}, {"outcome", "ignored"}}, static_cast<double>(ignored));
  if (report.duplicates > 0) {
    metrics.add("seg_webhook_events_total", {{"type", "any"}, {"outcome", "redelivered"}}, static_cast<double>(report.duplicates));
  }
  nlohmann::json body = {{"accepted", report.applied}, {"redelivered", report.duplicates}, {"ignored", report.ignored}};
  if (report.errorCount > 0) {
    // The good events are taken; the bad ones are named (LINE shows the
    // status in its console, and redelivers: the good ones are not taken twice).
    metrics.add("seg_webhook_events_total", {{"type", "any"}, {"outcome", "rejected"}}, static_cast<double>(report.errorCount));
    log.warning("webhook events refused", {{"count", report.errorCount}, {"first", report.errors.front().field + ": " + report.errors.front().message}});
    body["rejected"] = report.errorCount;
    body["errors"] = errorsJson(report);
    outcome("some_rejected");
    return jsonResponse(400, body);
  }
  outcome("ok");
  return jsonResponse(200, body);
}

// ------------------------------------------------------------------ feeds

std::vector<http::Route> Service::Core::feedRoutes() {
  std::vector<http::Route> routes;
  for (const auto& [path, kind] : {std::pair{"/v1/friends", ImportKind::Friends}, std::pair{"/v1/events", ImportKind::Events},
                                   std::pair{"/v1/catalog", ImportKind::Catalog}}) {
    http::Route route;
    route.method = "POST";
    route.path = path;
    route.maxBodyBytes = config.feedMaxBytes;
    route.spoolBody = true;  // a 1 GB feed goes to disk, not memory
    route.handle = [this, kind = kind](http::Request& r) {
      if (auto refused = refuseUnauthorized(r)) return *refused;
      return feed(r, kind);
    };
    routes.push_back(std::move(route));
  }
  return routes;
}

// Feeds wait here, between batches, while the loop works through a full inbox.
void Service::Core::waitForInboxRoom() {
  std::unique_lock lock(loopMutex);
  while (true) {
    if (stopping || failed) throw Cancelled("seg is stopping; post the same body again to go on where it stopped");
    lock.unlock();
    const std::size_t size = inboxSize();
    lock.lock();
    if (size < config.inboxLimit) return;
    inboxRoom.wait_for(lock, std::chrono::milliseconds(200));
  }
}

http::Response Service::Core::feed(http::Request& request, ImportKind kind) {
  const char* feedName = kind == ImportKind::Friends ? "friends" : kind == ImportKind::Catalog ? "catalog" : "events";
  const bool csvAllowed = kind == ImportKind::Friends || kind == ImportKind::Catalog;
  if (!ready) return http::Response::error(503, "seg is not ready; try again shortly");
  const std::string type = mediaType(request);
  std::string extension;
  if (type == "application/x-ndjson" || type == "application/jsonl" || type == "application/json-lines" || type == "application/json") {
    extension = ".jsonl";
  } else if (type == "text/csv" && csvAllowed) {
    extension = ".csv";
  } else {
    return http::Response::error(415, fmt::format("{} takes {} (one JSON object a line){}, not `{}`", request.path,
                                                  "application/x-ndjson", csvAllowed ? " or text/csv" : "",
                                                  request.header("content-type")));
  }
  const std::string strictParam = request.param("strict", "false"), againParam = request.param("again", "false");
  for (const auto& [name, value] : {std::pair{"strict", strictParam}, std::pair{"again", againParam}}) {
    if (value != "true" && value != "false") {
      return http::Response::error(400, fmt::format("`{}` is true or false, not `{}`", name, value));
    }
  }
  // The importer tells CSV from JSON lines by the name.
  const std::string path = request.bodyFile + extension;
  std::error_code ec;
  std::filesystem::rename(request.bodyFile, path, ec);
  if (ec) return http::Response::error(500, "cannot read the spooled body: " + ec.message());
  struct Remove {
    std::string path;
    ~Remove() { std::remove(path.c_str()); }
  } removeAfter{path};

  ImportOptions options;
  options.now = now();
  options.timezone = timezoneName;
  options.strict = strictParam == "true";
  options.again = againParam == "true";
  // Friends and events go through the inbox to the automation engine;
  // catalog rows (no friend to act for) go straight to the store.
  options.catalogName = request.param("name");
  if (kind != ImportKind::Catalog) {
    options.asChange = [&](InboundRecord record) { return toInbox(std::move(record), options.now).change; };
    options.beforeCommit = [&] { waitForInboxRoom(); };
  }
  ImportReport report;
  try {
    report = importFile(*store, kind, path, options);
  } catch (const Cancelled& e) {
    return http::Response::error(503, e.what());
  }
  wakeLoop();
  metrics.add("seg_feed_records_total", {{"feed", feedName}, {"outcome", "accepted"}}, static_cast<double>(report.applied));
  metrics.add("seg_feed_records_total", {{"feed", feedName}, {"outcome", "rejected"}}, static_cast<double>(report.errorCount));
  if (!report.fatal.empty()) return http::Response::error(400, report.fatal);
  if (report.alreadyImported) {
    return jsonResponse(200, {{"already_imported", true},
                              {"records", report.alreadyImported->records},
                              {"note", "the store has all of this content already; ?again=true takes it again"}});
  }
  nlohmann::json body = {{"records", report.records},
                         {"accepted", report.aborted ? 0 : report.applied},
                         {"rejected", report.errorCount},
                         {"resumed", report.resumed}};
  if (report.errorCount > 0) {
    body["errors"] = errorsJson(report);
    if (report.errorCount > report.errors.size()) body["errors_not_listed"] = report.errorCount - report.errors.size();
  }
  if (report.aborted) {
    body["note"] = "strict: nothing was taken";
    return jsonResponse(422, body);
  }
  return jsonResponse(report.errorCount > 0 && report.applied == 0 ? 422 : 200, body);
}

}  // namespace seg::service
