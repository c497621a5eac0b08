-- Servers come from the configuration (sync_servers); health and load from agents and probes.
CREATE TABLE servers (
  name        TEXT PRIMARY KEY NOT NULL,
  address     TEXT NOT NULL,
  port        INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
  weight      REAL NOT NULL CHECK (weight > 0),
  health      TEXT NOT NULL DEFAULT 'up' CHECK (health IN ('up', 'stale', 'down', 'draining')),
  load        REAL NOT NULL DEFAULT 0,
  last_report INTEGER
) STRICT;

-- The X2Go sessions each server's agent last reported; replaced wholesale per report.
CREATE TABLE sessions (
  server      TEXT NOT NULL REFERENCES servers (name) ON DELETE CASCADE,
  session_id  TEXT NOT NULL,
  username    TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('R', 'S')),
  display     INTEGER NOT NULL,
  created     INTEGER NOT NULL,
  last_change INTEGER NOT NULL,
  PRIMARY KEY (server, session_id)
) STRICT;

-- Routing looks sessions up by user on every login.
CREATE INDEX sessions_by_username ON sessions (username);

-- Sticky user -> server placements so parallel connections of one login land together.
CREATE TABLE placements (
  username   TEXT PRIMARY KEY NOT NULL,
  server     TEXT NOT NULL REFERENCES servers (name) ON DELETE CASCADE,
  expires_at INTEGER NOT NULL
) STRICT;
