-- Stored notifications, made from outbox events. `source` names the fact a notification is about
-- ("yield.paid:<tx hash>", "statement.ready:<statement id>", ...): every host process hears every
-- event, and an event may be delivered again, so the unique source is what makes one fact one
-- notification.
CREATE TABLE notifications_notification (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Insertion order: the list's keyset (created_at has the host clock's ties and precision).
    seq bigint GENERATED ALWAYS AS IDENTITY,
    user_id uuid NOT NULL REFERENCES users_user (id),
    kind text NOT NULL CHECK (kind ~ '^[a-z][a-z_]{0,62}$'),
    title text NOT NULL,
    body text NOT NULL,
    data jsonb NOT NULL DEFAULT '{}',
    read boolean NOT NULL DEFAULT false,
    source text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT host_now(),
    CONSTRAINT notifications_notification_once UNIQUE (source)
);
-- The list is newest first per user, paged by seq.
CREATE INDEX notifications_notification_user ON notifications_notification (user_id, seq DESC);
