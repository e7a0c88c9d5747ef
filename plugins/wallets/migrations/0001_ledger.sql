-- The double-entry ledger. Accounts are users' wallets (one per user and currency) and system
-- accounts (one per name and currency: deposits, withdrawals, yield_pool, investments, ...).
CREATE TABLE wallets_account (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid REFERENCES users_user (id),
    system_name text CHECK (system_name ~ '^[a-z][a-z0-9_]{0,62}$'),
    currency text NOT NULL REFERENCES integrations_currency (code),
    balance numeric NOT NULL DEFAULT 0,
    address text,
    created_at timestamptz NOT NULL DEFAULT host_now(),
    CHECK ((user_id IS NULL) <> (system_name IS NULL)),
    -- A user's wallet never goes below zero; the code checks first, this is the last word.
    CONSTRAINT wallets_account_wallet_not_negative CHECK (user_id IS NULL OR balance >= 0),
    -- Entries name (account, currency) together, so an entry cannot be in another currency.
    UNIQUE (id, currency)
);
CREATE UNIQUE INDEX wallets_account_user_currency_key ON wallets_account (user_id, currency) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX wallets_account_system_currency_key ON wallets_account (system_name, currency) WHERE system_name IS NOT NULL;

CREATE TABLE wallets_transaction (
    id uuid PRIMARY KEY,
    kind text NOT NULL CHECK (kind ~ '^[a-z][a-z_]{0,30}$'),
    reference text NOT NULL DEFAULT '' CHECK (length(reference) <= 200),
    metadata jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT host_now()
);

CREATE TABLE wallets_entry (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id uuid NOT NULL REFERENCES wallets_transaction (id),
    account_id uuid NOT NULL,
    currency text NOT NULL,
    kind text NOT NULL CHECK (kind ~ '^[a-z][a-z_]{0,30}$'),
    amount numeric NOT NULL CHECK (amount <> 0),
    balance_after numeric NOT NULL,
    created_at timestamptz NOT NULL DEFAULT host_now(),
    FOREIGN KEY (account_id, currency) REFERENCES wallets_account (id, currency)
);
CREATE INDEX wallets_entry_account ON wallets_entry (account_id, id);
CREATE INDEX wallets_entry_transaction ON wallets_entry (transaction_id);
CREATE INDEX wallets_entry_account_time ON wallets_entry (account_id, created_at);

-- Every transaction balances per currency, checked by the database at commit (a deferred
-- constraint trigger), whoever writes the rows: a hand-written INSERT of one leg is refused.
CREATE FUNCTION wallets_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    off record;
BEGIN
    SELECT currency, sum(amount) AS total INTO off
      FROM wallets_entry WHERE transaction_id = NEW.transaction_id
     GROUP BY currency HAVING sum(amount) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % does not balance: its % entries sum to %', NEW.transaction_id, off.currency, off.total
            USING ERRCODE = 'check_violation', CONSTRAINT = 'wallets_entry_balanced';
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER wallets_entry_balanced AFTER INSERT ON wallets_entry
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION wallets_check_balanced();

-- The ledger is append-only: a correction is a new transaction, never an edit.
CREATE FUNCTION wallets_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are append-only: post a correcting transaction instead'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'wallets_entry_append_only';
END
$$;
CREATE TRIGGER wallets_entry_append_only BEFORE UPDATE OR DELETE ON wallets_entry
    FOR EACH ROW EXECUTE FUNCTION wallets_entry_append_only();
