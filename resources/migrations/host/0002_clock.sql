-- The host clock: one offset shared by every host process (serve, worker, beat on any machine).
--
-- host_now() is the time the whole system runs on: PostgreSQL's now() (the transaction's start)
-- plus the offset that staff may move forward in sandbox mode. The job queue and the beat compare
-- and store business times with it, so a process that has not yet heard of a jump still claims
-- and schedules by the moved clock. Liveness (worker heartbeats) stays on now(): it measures
-- whether a process is alive, and a jump must not make every worker look dead at once.
CREATE TABLE host_clock (
    singleton  boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    offset_ms  bigint      NOT NULL DEFAULT 0 CHECK (offset_ms >= 0),
    changed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO host_clock DEFAULT VALUES;

CREATE FUNCTION host_now() RETURNS timestamptz
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT now() + offset_ms * interval '1 millisecond' FROM host_clock $$;

-- Every change reaches the processes' LISTEN sessions at commit (they also re-read periodically,
-- which catches a notification missed while a session was reconnecting).
CREATE FUNCTION host_clock_changed() RETURNS trigger
    LANGUAGE plpgsql
    AS $$ BEGIN PERFORM pg_notify('yieldhost_clock', NEW.offset_ms::text); RETURN NEW; END $$;
CREATE TRIGGER host_clock_notify AFTER UPDATE ON host_clock
    FOR EACH ROW EXECUTE FUNCTION host_clock_changed();

-- Jobs enqueued without a run_at, and their creation time, follow the host clock.
ALTER TABLE host_job ALTER COLUMN run_at SET DEFAULT host_now();
ALTER TABLE host_job ALTER COLUMN created_at SET DEFAULT host_now();
