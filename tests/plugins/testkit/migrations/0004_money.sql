-- A toy balance per user for the idempotency tests: each effective POST /test/money/move is one
-- movement row, so a test counts effects exactly.
CREATE TABLE testkit_account (
    user_id text PRIMARY KEY,
    balance numeric NOT NULL DEFAULT 0 CHECK (balance >= 0)
);
CREATE TABLE testkit_movement (
    id bigserial PRIMARY KEY,
    user_id text NOT NULL,
    amount numeric NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
