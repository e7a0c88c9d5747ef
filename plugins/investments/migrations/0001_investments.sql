-- Plans (staff-managed), positions, and the yield paid per period.
CREATE TABLE investments_plan (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    currency text NOT NULL REFERENCES integrations_currency (code),
    apy numeric NOT NULL CHECK (apy >= 0 AND apy <= 10),
    payout_interval text NOT NULL CHECK (payout_interval IN ('daily', 'weekly', 'monthly')),
    min_amount numeric NOT NULL CHECK (min_amount > 0),
    lock_days integer NOT NULL CHECK (lock_days BETWEEN 0 AND 3650),
    created_at timestamptz NOT NULL DEFAULT host_now()
);

-- A position keeps the terms it was opened with (apy, interval, decimals): a plan changed later
-- does not change what an open position earns.
CREATE TABLE investments_position (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users_user (id),
    plan_id uuid NOT NULL REFERENCES investments_plan (id),
    wallet_id uuid NOT NULL REFERENCES wallets_account (id),
    currency text NOT NULL REFERENCES integrations_currency (code),
    amount_invested numeric NOT NULL CHECK (amount_invested > 0),
    apy numeric NOT NULL,
    interval_days integer NOT NULL CHECK (interval_days IN (1, 7, 30)),
    decimals integer NOT NULL,
    yield_paid numeric NOT NULL DEFAULT 0,
    last_period integer NOT NULL DEFAULT 0,
    opened_at timestamptz NOT NULL,
    unlocks_at timestamptz NOT NULL,
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'redeemed')),
    redeemed_at timestamptz,
    -- The end date of the next unpaid period; NULL once nothing more can fall due.
    next_due_on date
);
CREATE INDEX investments_position_user ON investments_position (user_id, opened_at DESC, id DESC);
CREATE INDEX investments_position_plan ON investments_position (plan_id);
CREATE INDEX investments_position_due ON investments_position (next_due_on) WHERE next_due_on IS NOT NULL;

-- One row per paid period: the unique key is what makes a payout exactly-once.
CREATE TABLE investments_yield (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    position_id uuid NOT NULL REFERENCES investments_position (id),
    period_index integer NOT NULL CHECK (period_index >= 1),
    period_start date NOT NULL,
    period_end date NOT NULL,
    amount numeric NOT NULL CHECK (amount >= 0),
    currency text NOT NULL,
    tx_hash text,
    ledger_transaction uuid,
    created_at timestamptz NOT NULL DEFAULT host_now(),
    CONSTRAINT investments_yield_once UNIQUE (position_id, period_index)
);
CREATE INDEX investments_yield_created ON investments_yield (created_at);
