-- Currencies are data: seeded here, added by staff (POST /api/v1/currencies), never changed or
-- removed (balances are kept at a currency's decimals, so those cannot move under them).
CREATE TABLE integrations_currency (
    code text PRIMARY KEY CHECK (code ~ '^[A-Z0-9]{3,10}$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    kind text NOT NULL CHECK (kind IN ('fiat', 'crypto')),
    decimals smallint NOT NULL CHECK (decimals BETWEEN 0 AND 18),
    coingecko_id text CHECK (coingecko_id ~ '^[a-z0-9-]{1,100}$'),
    created_at timestamptz NOT NULL DEFAULT host_now(),
    CHECK (kind = 'crypto' OR coingecko_id IS NULL)
);

INSERT INTO integrations_currency (code, name, kind, decimals, coingecko_id) VALUES
    ('USD', 'US Dollar', 'fiat', 2, NULL),
    ('EUR', 'Euro', 'fiat', 2, NULL),
    ('GBP', 'Pound Sterling', 'fiat', 2, NULL),
    ('BTC', 'Bitcoin', 'crypto', 8, 'bitcoin'),
    ('ETH', 'Ether', 'crypto', 18, 'ethereum'),
    ('USDT', 'Tether USD', 'crypto', 6, 'tether');
