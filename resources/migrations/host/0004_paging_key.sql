-- Secrets every host process shares without configuration. paging_cursor signs list cursors
-- (sdk/include/yieldhost/Paging.h): 244 random bits from two v4 UUIDs (gen_random_uuid() uses
-- PostgreSQL's strong random source), so a cursor issued by one process verifies in another.
CREATE TABLE host_secret (
    name  text  PRIMARY KEY,
    value bytea NOT NULL
);
INSERT INTO host_secret (name, value)
VALUES ('paging_cursor', decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));
