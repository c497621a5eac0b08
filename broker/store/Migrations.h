#pragma once
// Versioned schema migrations, embedded from schema/NNN_name.sql at build time. Internal to
// broker/store; tests use apply_migrations() to build databases at older versions.
#include <span>
#include <string_view>

struct sqlite3;

namespace x2gojump {

struct Migration {
  int version;            // NNN of the file; PRAGMA user_version after it is applied
  std::string_view name;  // file name, for error messages
  std::string_view sql;
};

// All migrations in version order, numbered 1..N without gaps (checked by CMake).
std::span<const Migration> embedded_migrations();

// The schema version this binary creates and understands: N.
int latest_schema_version();

// Reads PRAGMA user_version.
int schema_version_of(sqlite3* db);

// Applies the migrations after the database's current version up to and including up_to, each
// in its own IMMEDIATE transaction that also sets user_version. Throws StoreError when the
// database is newer than this binary, up_to is out of range, or a migration fails (that
// migration is rolled back; earlier ones stay applied).
void apply_migrations(sqlite3* db, int up_to);

}  // namespace x2gojump
