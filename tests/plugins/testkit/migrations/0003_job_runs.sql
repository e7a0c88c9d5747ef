-- One row per execution of a testkit task, so tests can count runs per job (exactly once?).
CREATE TABLE testkit_job_run (
    id bigserial PRIMARY KEY,
    job_id bigint NOT NULL,
    task text NOT NULL,
    attempt integer NOT NULL,
    pid integer NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX testkit_job_run_job ON testkit_job_run (job_id);
