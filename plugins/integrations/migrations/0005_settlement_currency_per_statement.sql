-- A settlement's currency is checked once per INSERT statement, set-based, instead of by a
-- per-row foreign-key trigger: every payout of a batch ran one SPI query and took a FOR KEY SHARE
-- lock on the same currency row, shared by every batch paying at once (wallets migration 0003
-- has the figures). Currencies are never deleted nor renamed, which the trigger below keeps.
ALTER TABLE integrations_settlement DROP CONSTRAINT integrations_settlement_currency_fkey;

CREATE FUNCTION integrations_settlement_check_currency() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    missing record;
BEGIN
    SELECT s.currency INTO missing FROM (SELECT DISTINCT currency FROM integrations_settlement_inserted) s
     WHERE NOT EXISTS (SELECT FROM integrations_currency c WHERE c.code = s.currency) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'a settlement is in currency %, which does not exist', missing.currency
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'integrations_settlement_currency_fkey';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER integrations_settlement_currency AFTER INSERT ON integrations_settlement
    REFERENCING NEW TABLE AS integrations_settlement_inserted FOR EACH STATEMENT EXECUTE FUNCTION integrations_settlement_check_currency();

-- A settlement keeps its currency (per row: an UPDATE OF a column has no transition table).
CREATE FUNCTION integrations_settlement_currency_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.currency IS DISTINCT FROM OLD.currency THEN
        RAISE EXCEPTION 'a settlement keeps its currency'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'integrations_settlement_currency_fkey';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER integrations_settlement_currency_kept BEFORE UPDATE OF currency ON integrations_settlement
    FOR EACH ROW EXECUTE FUNCTION integrations_settlement_currency_kept();

CREATE FUNCTION integrations_currency_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN -- NEW exists only then (not for DELETE, nor for a TRUNCATE)
        IF NEW.code = OLD.code THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'currencies are kept under their code: settlements, wallets and positions name them'
        USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'integrations_settlement_currency_fkey';
END
$$;
CREATE TRIGGER integrations_currency_kept BEFORE DELETE OR UPDATE OF code ON integrations_currency
    FOR EACH ROW EXECUTE FUNCTION integrations_currency_kept();
CREATE TRIGGER integrations_currency_no_truncate BEFORE TRUNCATE ON integrations_currency
    FOR EACH STATEMENT EXECUTE FUNCTION integrations_currency_kept();
