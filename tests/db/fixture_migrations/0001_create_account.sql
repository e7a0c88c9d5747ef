-- demo account
CREATE TABLE demo_account (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE);
