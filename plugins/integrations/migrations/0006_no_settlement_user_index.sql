-- No query reads settlements by user (a payment's status is asked by its tx hash, confirmation
-- goes by time); the index cost every settlement a random insert into it — a hundred thousand
-- per daily payout of a 100,000-position book.
DROP INDEX integrations_settlement_user;
