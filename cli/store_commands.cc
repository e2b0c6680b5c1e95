// segc import, export and stats: moving data in and out of a store.
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/timezone.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/program_loader.h"
#include "cli/progress.h"
#include "compiler/ir/schema.h"
#include "runtime/automation/inbox.h"
#include "runtime/ingest/importer.h"
#include "runtime/ingest/values.h"
#include "runtime/store/store.h"
#include "runtime/synth/generator.h"

namespace seg::cli {
namespace {

namespace fs = std::filesystem;

// Opens the store named on the command line, bound to the program's
// schema when one is given.
std::unique_ptr<Store> openStore(const std::string& dir, const std::string& programPath, bool readOnly) {
  std::optional<ir::Schema> schema;
  if (!programPath.empty()) {
    auto loaded = loadProgram(programPath);
    if (!loaded) return nullptr;
    schema = ir::lowerSchema(loaded->program);
  }
  return cli::openStore(dir, schema ? &*schema : nullptr, !readOnly);
}

// ------------------------------------------------------------------ import

struct ImportCommand {
  std::string program;
  std::string store;
  std::vector<std::string> friends, events, audiences, webhooks, catalogs;
  std::string name;
  bool strict = false, again = false, act = false;
  std::string timezone = "Asia/Tokyo";
  std::string signature;
  std::string channelSecret;
  std::size_t shownErrors = 20;
  std::size_t batch = 20000;
};

void printReport(const std::string& path, const ImportReport& report, std::size_t shownErrors) {
  if (report.alreadyImported) {
    const ImportRecord& r = *report.alreadyImported;
    fmt::print("{}: already imported ({} records, the same content as `{}` imported at {}): nothing to do "
               "(--again imports it again)\n",
               path, r.records, r.file, TimeZone::find("UTC")->formatInstant(r.time));
    return;
  }
  for (std::size_t i = 0; i < report.errors.size() && i < shownErrors; ++i) {
    const RecordError& e = report.errors[i];
    const std::string field = e.field.empty() ? "" : fmt::format("field `{}`: ", e.field);
    fmt::print(stderr, "{}:{}: error: {}{}\n", path, e.line, field, e.message);
  }
  if (report.errorCount > std::min(shownErrors, report.errors.size())) {
    fmt::print(stderr, "{}: ... and {} more bad records\n", path, report.errorCount - std::min(shownErrors, report.errors.size()));
  }
  if (report.aborted) {
    fmt::print("{}: {} records checked, {} bad: nothing imported (--strict)\n", path, report.records, report.errorCount);
    return;
  }
  std::string line = fmt::format("{}: {} records, {} imported", path, report.records, report.applied);
  if (report.resumed) line += fmt::format(" ({} more were imported by an interrupted run)", report.resumed);
  if (report.skipped) line += fmt::format(", {} skipped", report.skipped);
  if (report.duplicates) line += fmt::format(", {} already seen (redelivered)", report.duplicates);
  if (report.ignored) line += fmt::format(", {} not used by seg", report.ignored);
  fmt::print("{}\n", line);
}

int runImport(const ImportCommand& command) {
  std::vector<std::pair<ImportKind, std::string>> files;
  for (const auto& f : command.friends) files.emplace_back(ImportKind::Friends, f);
  for (const auto& f : command.events) files.emplace_back(ImportKind::Events, f);
  for (const auto& f : command.audiences) files.emplace_back(ImportKind::Audience, f);
  for (const auto& f : command.webhooks) files.emplace_back(ImportKind::Webhook, f);
  for (const auto& f : command.catalogs) files.emplace_back(ImportKind::Catalog, f);
  if (files.empty()) {
    printToolError("nothing to import: give --friends, --events, --catalog, --audience or --webhook");
    return kExitUsage;
  }
  // --act: records go through the store's inbox to the automation engine,
  // as the service takes them (each acted on once, also after a crash).
  std::unique_ptr<AutomationSession> session;
  std::unique_ptr<Store> ownStore;
  if (command.act) {
    if (command.program.empty()) {
      printToolError("--act needs the program whose rules and scenarios act on the records");
      return kExitUsage;
    }
    session = openSession(command.program, command.store, true, true);
    if (!session) return kExitUsage;
  } else {
    ownStore = openStore(command.store, command.program, false);
    if (!ownStore) return kExitUsage;
  }
  Store* store = session ? session->store.get() : ownStore.get();
  ImportOptions options;
  options.strict = command.strict;
  options.again = command.again;
  options.recordsPerCommit = std::max<std::size_t>(1, command.batch);
  options.timezone = command.timezone;
  options.audienceName = command.name;
  options.catalogName = command.name;
  options.now = std::time(nullptr);
  options.signature = command.signature;
  options.channelSecret = channelSecret(command.channelSecret);
  std::size_t acted = 0, setAside = 0;
  const auto actOnAll = [&] {
    if (!session) return;
    while (true) {
      const InboxPass pass = actOnInbox(*session->engine, *store, *session->writer, 4096, options.now, std::chrono::seconds(1));
      session->batch->flush();
      acted += pass.acted;
      setAside += pass.setAside.size();
      for (const auto& [item, why] : pass.setAside) printToolError(fmt::format("an event could not be acted on: {}", why));
      for (const auto& [item, why] : pass.failed) printToolError(fmt::format("acting on an event failed part way: {}", why));
      if (store->state().inbox().empty()) return;
    }
  };
  int exit = kExitOk;
  // What an interrupted --act left in the inbox goes first.
  try {
    actOnAll();
  } catch (const std::exception& e) {
    printToolError(e.what());
    return kExitUsage;
  }
  for (const auto& [kind, path] : files) {
    Progress progress("importing " + fs::path(path).filename().string(), "bytes");
    options.progress = [&](std::uint64_t done, std::uint64_t total) { progress.update(done, total); };
    if (session && kind != ImportKind::Audience && kind != ImportKind::Catalog) {
      options.asChange = [&](InboundRecord record) { return inboxEntry(std::move(record), options.now, store->state().schema()).change; };
      options.beforeCommit = actOnAll;  // the inbox holds at most a batch or two
    } else {
      options.asChange = nullptr;
      options.beforeCommit = nullptr;
    }
    ImportReport report;
    try {
      report = importFile(*store, kind, path, options);
      actOnAll();
    } catch (const std::exception& e) {
      report.fatal = e.what();
    }
    progress.finish();
    if (!report.fatal.empty()) {
      printToolError(fmt::format("cannot import `{}`: {}", path, report.fatal));
      exit = std::max(exit, kExitErrors);
      continue;
    }
    printReport(path, report, command.shownErrors);
    if (report.errorCount > 0) exit = std::max(exit, kExitErrors);
  }
  if (session) {
    const std::size_t queued = store->state().automation().outbox().size();
    fmt::print("acted on {} events{}; {} LINE requests waiting in the outbox\n", acted,
               setAside ? fmt::format(" ({} set aside)", setAside) : "", queued);
  }
  // Leave the store quick to open: fold a long log into the snapshot.
  try {
    if (store->walBytes() > (16u << 20)) store->checkpoint();
  } catch (const std::exception& e) {
    printToolError(e.what());
    return kExitUsage;
  }
  return exit;
}

// ------------------------------------------------------------------ export

struct ExportCommand {
  std::string store;
  std::string friends, events, audiences, catalogs;
  std::string timezone = "Asia/Tokyo";
};

// A stored value in an export line, as the importers read it back.
void putValue(nlohmann::ordered_json& line, const ir::ColumnSpec& spec, const Value& value, const TimeZone& zone) {
  if (spec.type == ir::ValueType::Int) {
    line[spec.name] = value.i;
  } else if (spec.type == ir::ValueType::Bool) {
    line[spec.name] = value.i != 0;
  } else {
    line[spec.name] = valueToText(spec, value, zone);
  }
}

void exportFriends(const StoreState& state, const TimeZone& zone, std::ostream& out, Progress& progress) {
  // Tags by friend, from the tag bitmaps.
  std::vector<std::vector<const std::string*>> tagsOf(state.friendCount());
  for (const auto& [name, members] : state.tags()) {
    members.forEach([&](std::uint32_t id) {
      tagsOf[id].push_back(&name);
      return true;
    });
  }
  const ir::Schema& schema = state.schema();
  for (std::uint32_t id = 0; id < state.friendCount(); ++id) {
    nlohmann::ordered_json line = {{"user_id", state.friends().user(id).toString()}};
    for (std::size_t a = 0; a < schema.attributes.size(); ++a) {
      const AttributeColumn& column = state.attribute(a);
      if (!column.has(id)) continue;
      putValue(line, schema.attributes[a], column.get(id), zone);
    }
    if (!tagsOf[id].empty()) {
      nlohmann::json tags = nlohmann::json::array();
      for (const std::string* tag : tagsOf[id]) tags.push_back(*tag);
      line["tags"] = tags;
    }
    out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    if (id % 65536 == 0) progress.update(id, state.friendCount());
  }
}

void exportEvents(const StoreState& state, const TimeZone& zone, std::ostream& out, Progress& progress) {
  const ir::Schema& schema = state.schema();
  std::size_t total = 0, done = 0;
  for (std::size_t e = 0; e < schema.events.size(); ++e) total += state.events(e).size();
  for (std::size_t e = 0; e < schema.events.size(); ++e) {
    const EventLog& log = state.events(e);
    const ir::EventSpec& spec = schema.events[e];
    for (std::size_t row = 0; row < log.size(); ++row, ++done) {
      nlohmann::ordered_json line = {{"event", spec.name},
                                     {"user_id", state.friends().user(log.friendAt(row)).toString()},
                                     {"time", zone.formatInstant(log.timeAt(row))}};
      for (std::size_t f = 0; f < spec.fields.size(); ++f) {
        const Value value = log.field(f).get(row);
        if (!value.isMissing()) putValue(line, spec.fields[f], value, zone);
      }
      out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
      if (done % 65536 == 0) progress.update(done, total);
    }
  }
}

// Each catalog's rows, by id, as NAME.jsonl (`segc import --catalog` takes it back).
std::size_t exportCatalog(const StoreState& state, std::size_t catalog, const TimeZone& zone, std::ostream& out) {
  const ir::EventSpec& spec = state.schema().catalogs[catalog];
  std::vector<std::pair<const std::string*, const std::vector<Value>*>> rows;
  state.catalog(catalog).forEach([&](const std::string& id, const std::vector<Value>& row) { rows.emplace_back(&id, &row); });
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return *a.first < *b.first; });
  for (const auto& [id, row] : rows) {
    nlohmann::ordered_json line = nlohmann::ordered_json::object();
    for (std::size_t f = 0; f < spec.fields.size() && f < row->size(); ++f) {
      if (!(*row)[f].isMissing()) putValue(line, spec.fields[f], (*row)[f], zone);
    }
    out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  }
  return rows.size();
}

int runExport(const ExportCommand& command) {
  if (command.friends.empty() && command.events.empty() && command.audiences.empty() && command.catalogs.empty()) {
    printToolError("nothing to export: give --friends, --events, --catalogs or --audiences");
    return kExitUsage;
  }
  const auto zone = TimeZone::find(command.timezone);
  if (!zone) {
    printToolError(fmt::format("unknown time zone `{}`", command.timezone));
    return kExitUsage;
  }
  auto store = openStore(command.store, "", true);
  if (!store) return kExitUsage;
  auto lock = store->readLock();
  const StoreState& state = store->state();
  const auto openOut = [](const std::string& path, std::ofstream& out) {
    out.open(path, std::ios::binary | std::ios::trunc);
    if (!out) printToolError(fmt::format("cannot write `{}`", path));
    return static_cast<bool>(out);
  };
  if (!command.friends.empty()) {
    std::ofstream out;
    if (!openOut(command.friends, out)) return kExitUsage;
    Progress progress("exporting friends", "friends");
    exportFriends(state, *zone, out, progress);
    progress.finish();
    fmt::print("{}: {} friends\n", command.friends, state.friendCount());
  }
  if (!command.events.empty()) {
    std::ofstream out;
    if (!openOut(command.events, out)) return kExitUsage;
    Progress progress("exporting events", "events");
    exportEvents(state, *zone, out, progress);
    progress.finish();
    std::size_t total = 0;
    for (std::size_t e = 0; e < state.schema().events.size(); ++e) total += state.events(e).size();
    fmt::print("{}: {} events\n", command.events, total);
  }
  if (!command.audiences.empty()) {
    std::error_code ec;
    fs::create_directories(command.audiences, ec);
    for (const auto& [name, audience] : state.audiences()) {
      const std::string path = (fs::path(command.audiences) / (name + ".csv")).string();
      std::ofstream out;
      if (!openOut(path, out)) return kExitUsage;
      audience.members.forEach([&](std::uint32_t id) {
        out << state.friends().user(id).toString() << '\n';
        return true;
      });
      fmt::print("{}: {} user IDs\n", path, audience.members.cardinality());
    }
  }
  if (!command.catalogs.empty()) {
    std::error_code ec;
    fs::create_directories(command.catalogs, ec);
    for (std::size_t c = 0; c < state.schema().catalogs.size(); ++c) {
      const std::string path = (fs::path(command.catalogs) / (state.schema().catalogs[c].name + ".jsonl")).string();
      std::ofstream out;
      if (!openOut(path, out)) return kExitUsage;
      fmt::print("{}: {} rows\n", path, exportCatalog(state, c, *zone, out));
    }
  }
  return kExitOk;
}

// ------------------------------------------------------------------- stats

std::string bytesText(double bytes) {
  if (bytes >= 1 << 30) return fmt::format("{:.2f} GiB", bytes / (1 << 30));
  if (bytes >= 1 << 20) return fmt::format("{:.1f} MiB", bytes / (1 << 20));
  if (bytes >= 1 << 10) return fmt::format("{:.1f} KiB", bytes / (1 << 10));
  return fmt::format("{:.0f} B", bytes);
}

// Rows, by catalog.
nlohmann::ordered_json catalogRows(const StoreState& s) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (std::size_t c = 0; c < s.schema().catalogs.size(); ++c) out[s.schema().catalogs[c].name] = s.catalog(c).size();
  return out;
}

int runStats(const std::string& dir, bool json) {
  auto store = openStore(dir, "", true);
  if (!store) return kExitUsage;
  auto lock = store->readLock();
  const StoreState& s = store->state();
  const StoreState::Footprint f = s.footprint();
  std::size_t events = 0;
  for (std::size_t e = 0; e < s.schema().events.size(); ++e) events += s.events(e).size();
  const double perFriend = s.friendCount() ? static_cast<double>(f.friendBytes) / s.friendCount() : 0;
  const double perEvent = events ? static_cast<double>(f.eventBytes) / static_cast<double>(events) : 0;
  if (json) {
    nlohmann::ordered_json out = {
        {"friends", s.friendCount()}, {"blocked", s.blocked().cardinality()}, {"events", events},
        {"tags", s.tags().size()}, {"audiences", s.audiences().size()}, {"catalog_rows", catalogRows(s)},
        {"friend_bytes", f.friendBytes}, {"event_bytes", f.eventBytes}, {"index_bytes", f.indexBytes},
        {"bytes_per_friend", perFriend}, {"bytes_per_event", perEvent},
        {"open_seconds", store->recovery().seconds}, {"log_bytes", store->walBytes()},
        {"scenario_enrolments", s.automation().enrolmentCount()}, {"outbox", s.automation().outbox().size()},
        {"automation_bytes", s.automation().memoryBytes()}};
    fmt::print("{}\n", out.dump(2));
    return kExitOk;
  }
  fmt::print("store       {}\n", dir);
  fmt::print("friends     {} ({} blocked)\n", s.friendCount(), s.blocked().cardinality());
  for (std::size_t e = 0; e < s.schema().events.size(); ++e) {
    const EventLog& log = s.events(e);
    if (log.size() == 0) continue;
    fmt::print("events      {:<12} {:>12}  ({} days)\n", s.schema().events[e].name, log.size(), log.days().size());
  }
  for (std::size_t c = 0; c < s.schema().catalogs.size(); ++c) {
    fmt::print("catalog     {:<12} {:>12} rows\n", s.schema().catalogs[c].name, s.catalog(c).size());
  }
  fmt::print("tags        {}\n", s.tags().size());
  for (const auto& [name, audience] : s.audiences()) {
    fmt::print("audience    {:<20} {} IDs\n", name, audience.members.cardinality());
  }
  fmt::print("memory      friends {} ({}/friend), events {} ({}/event), indexes {}\n", bytesText(f.friendBytes),
             bytesText(perFriend), bytesText(f.eventBytes), bytesText(perEvent), bytesText(f.indexBytes));
  const AutomationState& a = s.automation();
  if (a.enrolmentCount() > 0 || !a.outbox().empty()) {
    fmt::print("automation  {} scenario enrolments, {} LINE requests waiting, {}\n", a.enrolmentCount(), a.outbox().size(),
               bytesText(static_cast<double>(a.memoryBytes())));
  }
  fmt::print("opened in   {:.3f}s (snapshot + {} logged transactions; log {})\n", store->recovery().seconds,
             store->recovery().replayedTransactions, bytesText(static_cast<double>(store->walBytes())));
  return kExitOk;
}

// -------------------------------------------------------------------- gen

struct GenCommand {
  std::string program;
  std::string store;
  std::uint64_t friends = 10000;
  std::uint64_t events = 100000;
  std::uint64_t seed = 1;
  std::string now = "2026-11-22T00:00:00+09:00";
};

int runGen(const GenCommand& command) {
  // A store numbers friends with 32 bits; generating is for trials and
  // benchmarks, which stay far below these.
  constexpr std::uint64_t kMaxFriends = 100'000'000, kMaxEvents = 2'000'000'000;
  if (command.friends > kMaxFriends || command.events > kMaxEvents) {
    printToolError(fmt::format("segc gen makes at most {} friends and {} events; asked for {} and {}", kMaxFriends, kMaxEvents,
                               command.friends, command.events));
    return kExitUsage;
  }
  std::string error;
  const auto zone = TimeZone::find("Asia/Tokyo");
  const auto now = instantFromText(command.now, *zone, error);
  if (!now) {
    printToolError(fmt::format("--now: {}", error));
    return kExitUsage;
  }
  auto store = openStore(command.store, command.program, false);
  if (!store) return kExitUsage;
  if (store->state().friendCount() > 0) {
    printToolError(fmt::format("`{}` already holds {} friends; generate into a new directory", command.store,
                               store->state().friendCount()));
    return kExitUsage;
  }
  GenerateOptions options;
  options.friends = command.friends;
  options.events = command.events;
  options.seed = command.seed;
  options.now = *now;
  Progress progress("generating", "records");
  options.progress = [&](std::uint64_t done, std::uint64_t total) { progress.update(done, total); };
  const auto start = std::chrono::steady_clock::now();
  const GenerateReport report = generate(*store, options);
  progress.finish();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("{}: {} friends and {} events generated (seed {}) in {:.1f}s\n", command.store, report.friends,
             report.events, command.seed, seconds);
  return kExitOk;
}

}  // namespace

Command addGenCommand(CLI::App& app) {
  auto c = std::make_shared<GenCommand>();
  CLI::App* cmd = app.add_subcommand("gen", "Generate a store of synthetic friends and events for a program");
  cmd->add_option("program", c->program, "Program whose schema to fill")->required();
  cmd->add_option("--store", c->store, "New store directory")->required();
  cmd->add_option("--friends", c->friends, "How many friends");
  cmd->add_option("--events", c->events, "How many events, over the year before --now");
  cmd->add_option("--seed", c->seed, "Seed: the same seed gives the same data");
  cmd->add_option("--now", c->now, "The end of the generated year");
  return {cmd, [c] { return runGen(*c); }};
}

Command addImportCommand(CLI::App& app) {
  auto c = std::make_shared<ImportCommand>();
  CLI::App* cmd = app.add_subcommand("import", "Import friends, events, audiences or LINE webhook bodies into a store");
  cmd->add_option("program", c->program, "Program whose schema the data follows (needed for a new store)");
  cmd->add_option("--store", c->store, "Store directory")->required();
  cmd->add_option("--friends", c->friends, "Friend attributes: JSONL, or CSV with a header row");
  cmd->add_option("--events", c->events, "Events: JSONL with event, user_id and time");
  cmd->add_option("--catalog", c->catalogs, "Catalog rows (products): JSONL, or CSV with a header row; `id` keys them");
  cmd->add_option("--audience", c->audiences, "Audience: CSV of user IDs, one a line");
  cmd->add_option("--name", c->name, "Audience or catalog name (default: the file's name; a program's only catalog)");
  cmd->add_option("--webhook", c->webhooks, "A LINE webhook request body (JSON)");
  cmd->add_option("--signature", c->signature, "The body's x-line-signature header");
  cmd->add_option("--channel-secret", c->channelSecret, "Channel secret to verify signatures (or LINE_CHANNEL_SECRET)");
  cmd->add_flag("--strict", c->strict, "Import nothing if any record is bad");
  cmd->add_flag("--again", c->again, "Import a file again that the store already has whole");
  cmd->add_option("--timezone", c->timezone, "Time zone of local times without an offset");
  cmd->add_option("--show-errors", c->shownErrors, "How many bad records to print");
  cmd->add_option("--batch", c->batch, "Records per commit without --strict (default 20000)");
  cmd->add_flag("--act", c->act,
                "Let the program act on friends, events and webhooks as they come in (rules, scenarios, menus), as "
                "`segd` does; for a store no service holds");
  return {cmd, [c] { return runImport(*c); }};
}

Command addExportCommand(CLI::App& app) {
  auto c = std::make_shared<ExportCommand>();
  CLI::App* cmd = app.add_subcommand("export", "Write a store's friends, events, catalogs or audiences in the import formats");
  cmd->add_option("--store", c->store, "Store directory")->required();
  cmd->add_option("--friends", c->friends, "Write friends (JSONL) here");
  cmd->add_option("--events", c->events, "Write events (JSONL) here");
  cmd->add_option("--audiences", c->audiences, "Write one CSV per audience into this directory");
  cmd->add_option("--catalogs", c->catalogs, "Write one JSONL per catalog (NAME.jsonl) into this directory");
  cmd->add_option("--timezone", c->timezone, "Time zone for times");
  return {cmd, [c] { return runExport(*c); }};
}

Command addStatsCommand(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("stats", "Counts, memory and index sizes of a store");
  cmd->add_option("--store", *dir, "Store directory")->required();
  cmd->add_flag("--json", *json, "Print JSON");
  return {cmd, [dir, json] { return runStats(*dir, *json); }};
}

}  // namespace seg::cli
