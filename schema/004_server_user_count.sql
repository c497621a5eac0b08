-- Distinct users with a running or suspended session per server, kept by every write of the
-- server's sessions, so that max_users costs a login one small read instead of a scan of all
-- sessions.
ALTER TABLE servers ADD COLUMN users INTEGER NOT NULL DEFAULT 0;
UPDATE servers SET users = (SELECT COUNT(DISTINCT username) FROM sessions WHERE sessions.server = servers.name);
