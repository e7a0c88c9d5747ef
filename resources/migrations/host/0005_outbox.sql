-- The transactional outbox (sdk/include/yieldhost/Outbox.h): an event is a row written in the
-- transaction that makes the change, so it exists exactly when the change does. Every host
-- process relays new rows to its own event bus (db/OutboxRelay).
--
-- writer_xid is the writing transaction's id. Ids come from a sequence at INSERT, not at COMMIT,
-- so rows become visible out of id order; the relay orders by (writer_xid, id) and moves its
-- cursor only below pg_snapshot_xmin(pg_current_snapshot()) — the oldest transaction still
-- running — past which no row can still appear. Rows above that horizon are delivered as soon
-- as they are visible and remembered until the cursor passes them (no gap, no duplicate).
CREATE TABLE host_outbox (
    id         bigserial   PRIMARY KEY,
    topic      text        NOT NULL,
    user_id    text,
    data       jsonb       NOT NULL DEFAULT '{}',
    writer_xid xid8        NOT NULL DEFAULT pg_current_xact_id(),
    -- the INSERT's own time (not the transaction's start): relay lag is measured from it
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX host_outbox_order ON host_outbox (writer_xid, id);
CREATE INDEX host_outbox_age ON host_outbox (created_at);
