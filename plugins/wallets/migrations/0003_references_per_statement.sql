-- The entries' references (their transaction, their account in their currency) are checked once
-- per INSERT statement over the rows it inserted, set-based, instead of by PostgreSQL's per-row
-- foreign-key triggers: those ran one SPI query per entry, locking the referenced row FOR KEY
-- SHARE — a fifth of the database's CPU in a run of yield payouts (tests/bench/yield.sh). The
-- other half of a foreign key, that a referenced row cannot go away or change its key, is kept by
-- the triggers below: ledger transactions are append-only like their entries, and an account is
-- never deleted nor moved to another id or currency.
ALTER TABLE wallets_entry DROP CONSTRAINT wallets_entry_transaction_id_fkey,
                          DROP CONSTRAINT wallets_entry_account_id_currency_fkey;

-- Index lookups, whatever the planner guesses of the statement's row count: a hash join would
-- read the whole ledger once per statement. The tables are found on the search_path the
-- migration ran with, as a foreign key is bound to its table.
CREATE FUNCTION wallets_entry_check_references() RETURNS trigger LANGUAGE plpgsql
    SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off SET search_path FROM CURRENT AS $$
DECLARE
    missing record;
BEGIN
    -- Each transaction and each account once (a batch of yields: 2,000 entries, 1,000
    -- transactions, a hundred accounts).
    SELECT e.transaction_id INTO missing FROM (SELECT DISTINCT transaction_id FROM wallets_entry_inserted) e
     WHERE NOT EXISTS (SELECT FROM wallets_transaction t WHERE t.id = e.transaction_id) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'a ledger entry names transaction %, which does not exist', missing.transaction_id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'wallets_entry_transaction_id_fkey';
    END IF;
    SELECT e.account_id, e.currency INTO missing FROM (SELECT DISTINCT account_id, currency FROM wallets_entry_inserted) e
     WHERE NOT EXISTS (SELECT FROM wallets_account a WHERE a.id = e.account_id AND a.currency = e.currency) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'a ledger entry names account % in %, and there is no such account in that currency', missing.account_id, missing.currency
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'wallets_entry_account_id_currency_fkey';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER wallets_entry_references AFTER INSERT ON wallets_entry
    REFERENCING NEW TABLE AS wallets_entry_inserted FOR EACH STATEMENT EXECUTE FUNCTION wallets_entry_check_references();

CREATE FUNCTION wallets_transaction_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger transactions are append-only: post a correcting transaction instead'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'wallets_transaction_append_only';
END
$$;
CREATE TRIGGER wallets_transaction_append_only BEFORE UPDATE OR DELETE ON wallets_transaction
    FOR EACH ROW EXECUTE FUNCTION wallets_transaction_append_only();
CREATE TRIGGER wallets_transaction_no_truncate BEFORE TRUNCATE ON wallets_transaction
    FOR EACH STATEMENT EXECUTE FUNCTION wallets_transaction_append_only();
CREATE TRIGGER wallets_entry_no_truncate BEFORE TRUNCATE ON wallets_entry
    FOR EACH STATEMENT EXECUTE FUNCTION wallets_entry_append_only();

CREATE FUNCTION wallets_account_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN -- NEW exists only then (not for DELETE, nor for a TRUNCATE)
        IF NEW.id = OLD.id AND NEW.currency = OLD.currency THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'ledger accounts are kept, under their id and currency: their entries name them'
        USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'wallets_entry_account_id_currency_fkey';
END
$$;
CREATE TRIGGER wallets_account_kept BEFORE DELETE OR UPDATE OF id, currency ON wallets_account
    FOR EACH ROW EXECUTE FUNCTION wallets_account_kept();
CREATE TRIGGER wallets_account_no_truncate BEFORE TRUNCATE ON wallets_account
    FOR EACH STATEMENT EXECUTE FUNCTION wallets_account_kept();
