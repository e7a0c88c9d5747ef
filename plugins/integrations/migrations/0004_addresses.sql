-- Deposit addresses handed out for crypto wallets: one per (user, currency), unique on the chain.
CREATE TABLE integrations_address (
    user_id uuid NOT NULL,
    currency text NOT NULL REFERENCES integrations_currency (code),
    address text NOT NULL UNIQUE CHECK (address ~ '^0x[0-9a-f]{40}$'),
    created_at timestamptz NOT NULL DEFAULT host_now(),
    PRIMARY KEY (user_id, currency)
);
