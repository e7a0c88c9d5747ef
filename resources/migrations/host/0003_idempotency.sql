-- Idempotency keys of money-moving POSTs (sdk/include/yieldhost/Idempotency.h): one row per user
-- and key, claimed and answered inside the request's own transaction. The primary key is what
-- makes a concurrent repeat wait for the first request's commit. Purged by host.cleanup after
-- idempotency.retention_hours (at least 24) of real time.
CREATE TABLE host_idempotency_key (
    user_id      text        NOT NULL,
    key          text        NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    fingerprint  bytea       NOT NULL,
    status       integer,
    content_type text,
    body         bytea,
    headers      jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
CREATE INDEX host_idempotency_key_age ON host_idempotency_key (created_at);
