#pragma once
// Thin RAII wrappers over the SQLite C API for the store. Internal to broker/store.
// Every value reaches SQL through sqlite3_bind_*; SQL text is always a literal of ours.
#include <cstdint>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace x2gojump {

// Throws StoreError "<what>: <sqlite3_errmsg(db)>".
[[noreturn]] void throw_store_error(sqlite3* db, std::string_view what);

// Runs SQL of ours that takes no parameters (pragmas, migrations). Throws StoreError on failure.
void exec_sql(sqlite3* db, const std::string& sql);

class Statement {
 public:
  // Prepares one statement. Throws StoreError on a syntax or schema error.
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are 1-based, as in SQLite. Text is copied, may be empty, and is stored verbatim.
  Statement& bind_text(int index, std::string_view text);
  Statement& bind_int(int index, std::int64_t value);
  Statement& bind_double(int index, double value);

  // Advances: true when a row is available, false when the statement is done. Throws StoreError.
  bool step();
  // Steps a statement that returns no rows to completion and resets it, so it can be bound and
  // run again; returns the number of rows changed.
  int run();

  // Columns are 0-based. text() of NULL is empty; use is_null() to tell the two apart.
  bool is_null(int column) const;
  std::string text(int column) const;
  std::int64_t integer(int column) const;
  double real(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE on construction (takes the write lock up front, so no deadlock-prone lock
// upgrade later); ROLLBACK on destruction unless commit() succeeded.
class Transaction {
 public:
  explicit Transaction(sqlite3* db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void commit();

 private:
  sqlite3* db_;
  bool open_ = true;
};

}  // namespace x2gojump
