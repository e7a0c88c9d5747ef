-- A second migration so ordering and "already applied" paths are exercised.
CREATE TABLE testkit_note (
    id bigserial PRIMARY KEY,
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
