#include "broker/store/Migrations.h"

#include <string>

#include "broker/store/SessionStore.h"
#include "broker/store/Statement.h"

namespace x2gojump {

int latest_schema_version() { return embedded_migrations().back().version; }

int schema_version_of(sqlite3* db) {
  Statement stmt(db, "PRAGMA user_version");
  stmt.step();
  return static_cast<int>(stmt.integer(0));
}

void apply_migrations(sqlite3* db, int up_to) {
  const int latest = latest_schema_version();
  if (up_to < 0 || up_to > latest) {
    throw StoreError("cannot migrate to schema version " + std::to_string(up_to) +
                     ": this binary knows versions 0.." + std::to_string(latest));
  }
  const int current = schema_version_of(db);
  if (current > latest) {
    throw StoreError("state database has schema version " + std::to_string(current) +
                     ", newer than the version " + std::to_string(latest) +
                     " this x2gojump supports; upgrade x2gojump or use another state file");
  }
  for (const Migration& migration : embedded_migrations()) {
    if (migration.version <= current || migration.version > up_to) continue;
    Transaction tx(db);
    // Another process may have migrated between our read and taking the write lock.
    if (schema_version_of(db) >= migration.version) continue;
    try {
      exec_sql(db, std::string(migration.sql));
    } catch (const StoreError& e) {
      throw StoreError("schema migration " + std::string(migration.name) + " failed: " + e.what());
    }
    // PRAGMA takes no bound parameters; the value is our own integer.
    exec_sql(db, "PRAGMA user_version = " + std::to_string(migration.version));
    tx.commit();
  }
}

}  // namespace x2gojump
