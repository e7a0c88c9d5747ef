-- The payer claims "ORDER BY next_due_on, user_id, id": a user's positions due on one day fall
-- in one batch (one wallet lock, one wallet.updated and one portfolio.changed per owner instead
-- of one per position), and lanes paying at once seldom wait for each other's wallets.
DROP INDEX investments_position_due;
CREATE INDEX investments_position_due ON investments_position (next_due_on, user_id, id) WHERE next_due_on IS NOT NULL;
