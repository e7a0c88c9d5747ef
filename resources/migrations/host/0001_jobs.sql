-- The job queue: one table of jobs, the live workers, and the beat's schedules.
--
-- A job is 'pending' from enqueue until a worker claims it; one whose run_at is still in the
-- future is reported as 'scheduled' (no stager moves rows between the two). Retries go back to
-- 'pending' with a later run_at. Finished jobs stay until host.cleanup purges them.
CREATE TABLE host_job (
    id            bigserial PRIMARY KEY,
    task          text        NOT NULL,
    queue         text        NOT NULL,
    args          jsonb       NOT NULL DEFAULT '{}',
    state         text        NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'running', 'done', 'failed', 'cancelled')),
    priority      integer     NOT NULL DEFAULT 0,
    attempts      integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts  integer     NOT NULL DEFAULT 5 CHECK (max_attempts > 0),
    timeout_s     integer     NOT NULL DEFAULT 300 CHECK (timeout_s > 0),
    unique_key    text,
    run_at        timestamptz NOT NULL DEFAULT now(),
    created_at    timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    finished_at   timestamptz,
    last_error    text,
    worker        text
);

-- The claim: the oldest runnable job of a queue, highest priority (lowest number) first.
CREATE INDEX host_job_claim ON host_job (queue, priority, run_at, id) WHERE state = 'pending';
-- Rescue and the dashboard look at running jobs by worker.
CREATE INDEX host_job_running ON host_job (worker) WHERE state = 'running';
-- Listing by state and cleanup by age.
CREATE INDEX host_job_state ON host_job (state, finished_at);
-- A unique key refuses duplicates only while a job holding it is waiting or running.
CREATE UNIQUE INDEX host_job_unique ON host_job (unique_key)
    WHERE unique_key IS NOT NULL AND state IN ('pending', 'running');

CREATE TABLE host_worker (
    id             text        PRIMARY KEY,
    host           text        NOT NULL,
    pid            integer     NOT NULL,
    queues         text[]      NOT NULL,
    concurrency    integer     NOT NULL,
    started_at     timestamptz NOT NULL DEFAULT now(),
    last_heartbeat timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE host_schedule (
    task        text        PRIMARY KEY,
    cron        text        NOT NULL,
    args        jsonb       NOT NULL DEFAULT '{}',
    next_run_at timestamptz NOT NULL,
    last_run_at timestamptz,
    last_job_id bigint
);
