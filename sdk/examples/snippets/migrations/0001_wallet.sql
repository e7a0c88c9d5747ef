-- The table the Database.h examples read and debit.
CREATE TABLE snippets_wallet (
    id text PRIMARY KEY,
    balance numeric(38, 18) NOT NULL CHECK (balance >= 0)
);
INSERT INTO snippets_wallet (id, balance) VALUES ('w1', 100.00);
