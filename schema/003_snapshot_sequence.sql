-- The sequence number of the last agent snapshot applied per server, so a delayed or replayed
-- report cannot roll the sessions back. NULL until the first snapshot. Agents send an unsigned
-- 64-bit number; it is stored as the signed integer with the same bits (the store converts).
ALTER TABLE servers ADD COLUMN last_sequence INTEGER;
