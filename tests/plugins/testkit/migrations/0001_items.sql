-- A small indexed table for the database benchmark and end-to-end tests.
CREATE TABLE testkit_item (
    id integer PRIMARY KEY,
    name text NOT NULL,
    amount numeric(38, 18) NOT NULL
);
INSERT INTO testkit_item (id, name, amount)
SELECT n, 'item ' || n, (n::numeric * 1000000007) / 1000000000000
FROM generate_series(1, 10000) AS n;
