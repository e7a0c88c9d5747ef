-- Revocation that reaches access tokens (see RefreshTokens.h and UserAuthenticator.h).
--
-- A sign-in — the family of refresh tokens one login starts — becomes a row of its own. Access
-- tokens name it in their `sid` claim, and the Authenticator loads it in the same query as the
-- account, so ending a sign-in (logout, a replayed refresh token) is one row update that refuses
-- its access tokens at once instead of when they expire.
CREATE TABLE users_token_family (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users_user (id) ON DELETE CASCADE,
    -- The account's token_version when the sign-in began; a family older than the account's
    -- version no longer refreshes.
    token_version integer NOT NULL,
    created_at timestamptz NOT NULL,
    -- When its newest access token was issued (login or last refresh): the cleanup forgets a
    -- family only once no access token of it can still be valid.
    last_issued_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX users_token_family_user ON users_token_family (user_id);

-- "Sign out everywhere" and a password change raise it: every access token carries the version it
-- was issued under (`ver`), and one with an older version is refused.
ALTER TABLE users_user ADD COLUMN token_version integer NOT NULL DEFAULT 0;

-- The families of tokens issued before this migration; a family whose every token was revoked
-- is revoked.
INSERT INTO users_token_family (id, user_id, token_version, created_at, last_issued_at, revoked_at)
SELECT family_id, user_id, 0, min(created_at), max(created_at), CASE WHEN bool_and(revoked_at IS NOT NULL) THEN max(revoked_at) END
FROM users_refresh_token
GROUP BY family_id, user_id;

ALTER TABLE users_refresh_token
    ADD CONSTRAINT users_refresh_token_family_fkey FOREIGN KEY (family_id) REFERENCES users_token_family (id) ON DELETE CASCADE;
