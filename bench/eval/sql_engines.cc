#include "bench/eval/sql_engines.h"

#include <sqlite3.h>

#include <stdexcept>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#ifdef SEG_WITH_DUCKDB
#include <duckdb.h>
#endif

namespace seg::bench {
namespace {

enum class SqlType { Integer, Text, Date };

struct SqlColumn {
  std::string name;
  SqlType type;
};

// Where copyStore() writes rows; one implementation per engine.
class TableSink {
 public:
  virtual ~TableSink() = default;
  virtual void begin(const std::string& table, const std::vector<SqlColumn>& columns) = 0;
  virtual void null() = 0;
  virtual void integer(std::int64_t value) = 0;
  virtual void text(std::string_view value) = 0;
  virtual void date(std::int32_t days) = 0;
  virtual void endRow() = 0;
  virtual void end() = 0;
};

SqlType sqlType(ir::ValueType type) {
  switch (type) {
    case ir::ValueType::String: return SqlType::Text;
    case ir::ValueType::Date: return SqlType::Date;
    default: return SqlType::Integer;
  }
}

void writeValue(TableSink& sink, const Value& value, SqlType type) {
  if (value.isMissing()) return sink.null();
  if (type == SqlType::Text) return sink.text(value.s);
  if (type == SqlType::Date) return sink.date(static_cast<std::int32_t>(value.i));
  sink.integer(value.i);
}

void copyFriends(const StoreState& state, TableSink& sink) {
  const ir::Schema& schema = state.schema();
  std::vector<SqlColumn> columns{{"id", SqlType::Integer}};
  for (const ir::ColumnSpec& a : schema.attributes) columns.push_back({a.name, sqlType(a.type)});
  sink.begin("friends", columns);
  for (std::uint32_t id = 0; id < state.friendCount(); ++id) {
    sink.integer(id);
    for (std::size_t a = 0; a < schema.attributes.size(); ++a) writeValue(sink, state.attribute(a).get(id), columns[a + 1].type);
    sink.endRow();
  }
  sink.end();
}

void copyTags(const StoreState& state, TableSink& sink) {
  sink.begin("tags", {{"id", SqlType::Integer}, {"tag", SqlType::Text}});
  for (const auto& [tag, members] : state.tags()) {
    members.forEach([&](std::uint32_t id) {
      sink.integer(id);
      sink.text(tag);
      sink.endRow();
      return true;
    });
  }
  sink.end();
}

void copyEvents(const StoreState& state, const ir::EventSpec& spec, TableSink& sink) {
  const EventLog& log = *state.events(spec.name);
  std::vector<SqlColumn> columns{{"friend", SqlType::Integer}, {"time", SqlType::Integer}};
  for (std::size_t f = 0; f < log.fieldCount(); ++f) columns.push_back({log.field(f).spec().name, sqlType(log.field(f).spec().type)});
  sink.begin("ev_" + spec.name, columns);
  for (std::size_t row = 0; row < log.size(); ++row) {
    sink.integer(log.friendAt(row));
    sink.integer(log.timeAt(row));
    for (std::size_t f = 0; f < log.fieldCount(); ++f) {
      const FieldColumn& field = log.field(f);
      const SqlType type = columns[f + 2].type;
      if (type == SqlType::Text) {
        const std::uint32_t code = field.codeAt(row);
        code == 0 ? sink.null() : sink.text(field.dict().at(code));
      } else {
        const std::int64_t v = field.intAt(row);
        v == FieldColumn::kMissing ? sink.null() : type == SqlType::Date ? sink.date(static_cast<std::int32_t>(v)) : sink.integer(v);
      }
    }
    sink.endRow();
  }
  sink.end();
}

void copyStore(const StoreState& state, TableSink& sink) {
  copyFriends(state, sink);
  copyTags(state, sink);
  for (const ir::EventSpec& e : state.schema().events) copyEvents(state, e, sink);
}

std::string createTable(const std::string& table, const std::vector<SqlColumn>& columns, const char* dateType) {
  std::string sql = "CREATE TABLE " + table + " (";
  for (std::size_t i = 0; i < columns.size(); ++i) {
    const char* type = columns[i].type == SqlType::Text ? "VARCHAR" : columns[i].type == SqlType::Date ? dateType : "BIGINT";
    sql += fmt::format("{}\"{}\" {}", i ? ", " : "", columns[i].name, type);
  }
  return sql + ")";
}

// ------------------------------------------------------------------ SQLite

class Sqlite final : public SqlEngine, private TableSink {
 public:
  Sqlite() {
    if (sqlite3_open(":memory:", &db_) != SQLITE_OK) throw std::runtime_error("sqlite3_open failed");
  }
  ~Sqlite() override {
    sqlite3_finalize(insert_);
    sqlite3_close(db_);
  }
  std::string name() const override { return "sqlite"; }

  void load(const StoreState& state) override {
    exec("BEGIN");
    copyStore(state, *this);
    // What a SQLite user would index for these queries: the filtered
    // attributes, tags by name, events by time.
    for (const char* column : {"member_rank", "prefecture", "points", "last_order_at"}) {
      if (state.schema().attribute(column)) exec(fmt::format("CREATE INDEX friends_{0} ON friends ({0})", column));
    }
    exec("CREATE INDEX tags_tag ON tags (tag, id)");
    for (const ir::EventSpec& e : state.schema().events) exec(fmt::format("CREATE INDEX ev_{0}_time ON ev_{0} (time, friend)", e.name));
    exec("COMMIT");
    exec("ANALYZE");
  }

  Selection select(const std::string& sql) override {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) fail(sql);
    Selection out;
    if (sqlite3_step(statement) == SQLITE_ROW) {
      out.count = static_cast<std::uint64_t>(sqlite3_column_int64(statement, 0));
      out.idSum = static_cast<std::uint64_t>(sqlite3_column_int64(statement, 1));
    }
    const int rc = sqlite3_finalize(statement);
    if (rc != SQLITE_OK) fail(sql);
    return out;
  }

  std::uint64_t memoryBytes() override { return static_cast<std::uint64_t>(sqlite3_memory_used()); }

 private:
  void begin(const std::string& table, const std::vector<SqlColumn>& columns) override {
    exec(createTable(table, columns, "INTEGER"));
    std::string marks;
    for (std::size_t i = 0; i < columns.size(); ++i) marks += i ? ", ?" : "?";
    const std::string sql = fmt::format("INSERT INTO {} VALUES ({})", table, marks);
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &insert_, nullptr) != SQLITE_OK) fail(sql);
    column_ = 1;
  }
  void null() override { sqlite3_bind_null(insert_, column_++); }
  void integer(std::int64_t value) override { sqlite3_bind_int64(insert_, column_++, value); }
  void text(std::string_view value) override {
    sqlite3_bind_text(insert_, column_++, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  }
  void date(std::int32_t days) override { integer(days); }
  void endRow() override {
    if (sqlite3_step(insert_) != SQLITE_DONE) fail("INSERT");
    sqlite3_reset(insert_);
    column_ = 1;
  }
  void end() override {
    sqlite3_finalize(insert_);
    insert_ = nullptr;
  }

  void exec(const std::string& sql) {
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) fail(sql);
  }
  [[noreturn]] void fail(const std::string& sql) {
    throw std::runtime_error(fmt::format("sqlite: {} in {}", sqlite3_errmsg(db_), sql.substr(0, 200)));
  }

  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  int column_ = 1;
};

// ------------------------------------------------------------------ DuckDB

#ifdef SEG_WITH_DUCKDB
class DuckDb final : public SqlEngine, private TableSink {
 public:
  explicit DuckDb(int threads) {
    if (duckdb_open(nullptr, &db_) == DuckDBError || duckdb_connect(db_, &connection_) == DuckDBError) {
      throw std::runtime_error("duckdb: cannot open an in-memory database");
    }
    query(fmt::format("SET threads = {}", threads));
  }
  ~DuckDb() override {
    if (appender_) duckdb_appender_destroy(&appender_);
    duckdb_disconnect(&connection_);
    duckdb_close(&db_);
  }
  std::string name() const override { return "duckdb"; }

  void load(const StoreState& state) override { copyStore(state, *this); }

  Selection select(const std::string& sql) override {
    duckdb_result result;
    query(sql, &result);
    Selection out;
    if (duckdb_row_count(&result) > 0) {
      out.count = static_cast<std::uint64_t>(duckdb_value_int64(&result, 0, 0));
      out.idSum = static_cast<std::uint64_t>(duckdb_value_int64(&result, 1, 0));
    }
    duckdb_destroy_result(&result);
    return out;
  }

  std::uint64_t memoryBytes() override {
    return select("SELECT sum(memory_usage_bytes), 0 FROM duckdb_memory()").count;
  }

 private:
  void begin(const std::string& table, const std::vector<SqlColumn>& columns) override {
    query(createTable(table, columns, "DATE"));
    if (duckdb_appender_create(connection_, nullptr, table.c_str(), &appender_) == DuckDBError) {
      throw std::runtime_error("duckdb: cannot append to " + table);
    }
  }
  void null() override { check(duckdb_append_null(appender_)); }
  void integer(std::int64_t value) override { check(duckdb_append_int64(appender_, value)); }
  void text(std::string_view value) override { check(duckdb_append_varchar_length(appender_, value.data(), value.size())); }
  void date(std::int32_t days) override { check(duckdb_append_date(appender_, duckdb_date{days})); }
  void endRow() override { check(duckdb_appender_end_row(appender_)); }
  void end() override {
    check(duckdb_appender_close(appender_));
    duckdb_appender_destroy(&appender_);
    appender_ = nullptr;
  }

  void check(duckdb_state state) {
    if (state == DuckDBError) throw std::runtime_error(std::string("duckdb appender: ") + duckdb_appender_error(appender_));
  }
  void query(const std::string& sql, duckdb_result* into = nullptr) {
    duckdb_result local;
    duckdb_result* result = into ? into : &local;
    if (duckdb_query(connection_, sql.c_str(), result) == DuckDBError) {
      const std::string message = duckdb_result_error(result);
      duckdb_destroy_result(result);
      throw std::runtime_error(fmt::format("duckdb: {} in {}", message, sql.substr(0, 200)));
    }
    if (!into) duckdb_destroy_result(&local);
  }

  duckdb_database db_ = nullptr;
  duckdb_connection connection_ = nullptr;
  duckdb_appender appender_ = nullptr;
};
#endif

}  // namespace

std::unique_ptr<SqlEngine> makeSqlite() { return std::make_unique<Sqlite>(); }

std::unique_ptr<SqlEngine> makeDuckDb([[maybe_unused]] int threads) {
#ifdef SEG_WITH_DUCKDB
  return std::make_unique<DuckDb>(threads);
#else
  return nullptr;
#endif
}

}  // namespace seg::bench
