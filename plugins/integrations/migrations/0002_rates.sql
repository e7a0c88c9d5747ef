-- The latest value of each currency in US dollars (the pair <code>/USD), with when it was stored
-- (host clock) and which provider supplied it; cross rates go through USD. USD itself is 1 and
-- has no row.
CREATE TABLE integrations_rate (
    currency text PRIMARY KEY REFERENCES integrations_currency (code),
    usd_value numeric NOT NULL CHECK (usd_value > 0),
    as_of timestamptz NOT NULL,
    source text NOT NULL
);

-- Every stored value, for analytics and audits; purged by host.cleanup after the configured days.
CREATE TABLE integrations_rate_history (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    currency text NOT NULL REFERENCES integrations_currency (code),
    usd_value numeric NOT NULL CHECK (usd_value > 0),
    as_of timestamptz NOT NULL,
    source text NOT NULL
);
CREATE INDEX integrations_rate_history_currency_as_of ON integrations_rate_history (currency, as_of);
CREATE INDEX integrations_rate_history_as_of ON integrations_rate_history (as_of);
