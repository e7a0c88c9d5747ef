ALTER TABLE demo_account ADD COLUMN balance numeric(38, 18) NOT NULL DEFAULT 0;
CREATE INDEX demo_account_balance ON demo_account (balance);
