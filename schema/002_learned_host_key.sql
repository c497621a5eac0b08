-- Trust-on-first-use host key for servers configured without a pinned key.
ALTER TABLE servers ADD COLUMN learned_host_key TEXT;
