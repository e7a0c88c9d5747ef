-- The balance check runs once per INSERT statement over the rows it inserted (a transition
-- table), instead of once per entry at COMMIT. The deferred row trigger summed a transaction's
-- entries again for each of its legs: a batch of a thousand yield payouts ran two thousand
-- queries at commit. Stricter than before: the legs of a transaction must arrive in one
-- statement, and those of every transaction in it must balance per currency (the Ledger
-- service writes all legs of a batch in one statement; a hand-written INSERT of one leg fails
-- at once instead of at COMMIT).
DROP TRIGGER wallets_entry_balanced ON wallets_entry;
DROP FUNCTION wallets_check_balanced();

CREATE FUNCTION wallets_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    off record;
BEGIN
    SELECT transaction_id, currency, sum(amount) AS total INTO off
      FROM wallets_entry_inserted GROUP BY transaction_id, currency HAVING sum(amount) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % does not balance: its % entries sum to %', off.transaction_id, off.currency, off.total
            USING ERRCODE = 'check_violation', CONSTRAINT = 'wallets_entry_balanced';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER wallets_entry_balanced AFTER INSERT ON wallets_entry
    REFERENCING NEW TABLE AS wallets_entry_inserted FOR EACH STATEMENT EXECUTE FUNCTION wallets_check_balanced();
