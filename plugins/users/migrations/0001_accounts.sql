-- Accounts: the custom user model every other plugin's tables reference (users_user.id).
CREATE TABLE users_user (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    password_hash text NOT NULL,
    first_name text NOT NULL DEFAULT '',
    last_name text NOT NULL DEFAULT '',
    base_currency text NOT NULL DEFAULT 'USD',
    is_staff boolean NOT NULL DEFAULT false,
    is_active boolean NOT NULL DEFAULT true,
    date_joined timestamptz NOT NULL DEFAULT now()
);
-- Emails are unique case-insensitively.
CREATE UNIQUE INDEX users_user_email_key ON users_user (lower(email));

-- Refresh tokens are stored only as SHA-256 hashes. Rotation links each token to its family; a
-- token used twice revokes the family (it was stolen or replayed).
CREATE TABLE users_refresh_token (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users_user (id) ON DELETE CASCADE,
    family_id uuid NOT NULL,
    token_hash text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    replaced_by uuid
);
CREATE INDEX users_refresh_token_family ON users_refresh_token (family_id);
CREATE INDEX users_refresh_token_expires ON users_refresh_token (expires_at);

-- Failed logins, per account (lower-cased email) and per client address, for throttling across
-- every host process.
CREATE TABLE users_login_failure (
    id bigserial PRIMARY KEY,
    scope text NOT NULL CHECK (scope IN ('account', 'address')),
    key text NOT NULL,
    failed_at timestamptz NOT NULL
);
CREATE INDEX users_login_failure_lookup ON users_login_failure (scope, key, failed_at);
