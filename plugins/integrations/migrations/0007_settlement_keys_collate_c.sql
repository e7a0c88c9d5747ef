-- Tx hashes and references are identifiers: compared for equality, never sorted for people. Under
-- the database's collation (C.UTF-8 on the embedded cluster, which PostgreSQL 15 does not treat
-- as "C") every comparison in their two unique indexes went through strcoll() on copied strings;
-- under "C" it is a memcmp(). A daily payout inserts one settlement per payment, each a descent
-- of both indexes (tests/bench/yield.sh: the insert's time fell by about a tenth). Equality, and so
-- uniqueness, is the same under both collations (both are deterministic).
ALTER TABLE integrations_settlement
    ALTER COLUMN tx_hash TYPE text COLLATE "C",
    ALTER COLUMN reference TYPE text COLLATE "C";
