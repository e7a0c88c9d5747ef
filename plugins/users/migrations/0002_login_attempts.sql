-- Login attempts are reserved before the password is checked (pending until decided) and counted
-- per account, per address and per (account, address) pair, and registrations per address;
-- see LoginThrottle.h.
ALTER TABLE users_login_failure DROP CONSTRAINT users_login_failure_scope_check;
ALTER TABLE users_login_failure ADD CONSTRAINT users_login_failure_scope_check CHECK (scope IN ('account', 'address', 'pair', 'register'));
ALTER TABLE users_login_failure ADD COLUMN attempt uuid;
ALTER TABLE users_login_failure ADD COLUMN pending boolean NOT NULL DEFAULT false;
CREATE INDEX users_login_failure_attempt ON users_login_failure (attempt);

-- One canonical form of an email (NFKC, case-folded, computed by the plugin: canonicalEmail()),
-- stored and uniquely indexed, so the lookup, the uniqueness rule and the throttle agree on which
-- strings are the same account. Existing rows were validated ASCII-safe lower-case keys before.
ALTER TABLE users_user ADD COLUMN email_key text;
UPDATE users_user SET email_key = lower(email);
ALTER TABLE users_user ALTER COLUMN email_key SET NOT NULL;
CREATE UNIQUE INDEX users_user_email_key_canonical ON users_user (email_key);
DROP INDEX users_user_email_key;
