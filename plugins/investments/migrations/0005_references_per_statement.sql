-- A yield row's position is checked once per INSERT statement, set-based, instead of by a per-row
-- foreign-key trigger (one SPI query and a FOR KEY SHARE lock per payout; wallets migration 0003
-- has the figures). A position is never deleted nor given another id, which the trigger below
-- keeps: it is the other half of the foreign key.
ALTER TABLE investments_yield DROP CONSTRAINT investments_yield_position_id_fkey;

CREATE FUNCTION investments_yield_check_position() RETURNS trigger LANGUAGE plpgsql
    SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off SET search_path FROM CURRENT AS $$
DECLARE
    missing record;
BEGIN
    SELECT y.position_id INTO missing FROM investments_yield_inserted y
     WHERE NOT EXISTS (SELECT FROM investments_position p WHERE p.id = y.position_id) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'a yield row names position %, which does not exist', missing.position_id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'investments_yield_position_id_fkey';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER investments_yield_position AFTER INSERT ON investments_yield
    REFERENCING NEW TABLE AS investments_yield_inserted FOR EACH STATEMENT EXECUTE FUNCTION investments_yield_check_position();

-- A yield row keeps its position (nothing moves a payout to another position; a transition table
-- cannot be had for an UPDATE OF a column, so this one is per row, and only for that column).
CREATE FUNCTION investments_yield_position_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.position_id IS DISTINCT FROM OLD.position_id THEN
        RAISE EXCEPTION 'a yield row keeps its position'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'investments_yield_position_id_fkey';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER investments_yield_position_kept BEFORE UPDATE OF position_id ON investments_yield
    FOR EACH ROW EXECUTE FUNCTION investments_yield_position_kept();

CREATE FUNCTION investments_position_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN -- NEW exists only then (not for DELETE, nor for a TRUNCATE)
        IF NEW.id = OLD.id THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'positions are kept under their id (a redeemed one keeps status redeemed): their yield rows name them'
        USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'investments_yield_position_id_fkey';
END
$$;
CREATE TRIGGER investments_position_kept BEFORE DELETE OR UPDATE OF id ON investments_position
    FOR EACH ROW EXECUTE FUNCTION investments_position_kept();
CREATE TRIGGER investments_position_no_truncate BEFORE TRUNCATE ON investments_position
    FOR EACH STATEMENT EXECUTE FUNCTION investments_position_kept();
