-- Payouts submitted to the (mock) smart contract. Rows, so a crash between submit and confirm
-- loses nothing; the hash is derived from the payment, so a payment submitted twice is one row.
CREATE TABLE integrations_settlement (
    tx_hash text PRIMARY KEY CHECK (tx_hash ~ '^0x[0-9a-f]{64}$'),
    reference text NOT NULL UNIQUE CHECK (length(reference) BETWEEN 1 AND 200),
    user_id uuid NOT NULL,
    currency text NOT NULL REFERENCES integrations_currency (code),
    amount numeric NOT NULL CHECK (amount > 0),
    status text NOT NULL DEFAULT 'submitted' CHECK (status IN ('submitted', 'confirmed')),
    submitted_at timestamptz NOT NULL DEFAULT host_now(),
    confirmed_at timestamptz
);
-- integrations.confirm_settlements reads the oldest submitted ones.
CREATE INDEX integrations_settlement_pending ON integrations_settlement (submitted_at) WHERE status = 'submitted';
CREATE INDEX integrations_settlement_user ON integrations_settlement (user_id);
