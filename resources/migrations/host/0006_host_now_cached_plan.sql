-- host_now() as PL/pgSQL, same result. As a SQL function that reads a table it cannot be inlined,
-- so PostgreSQL parsed and planned its body again in every statement that called it — every
-- INSERT whose created_at defaults to it, several per money transfer. PL/pgSQL keeps the plan for
-- the session (the parser's share of the server's CPU samples in tests/bench/ledger.sh halved).
CREATE OR REPLACE FUNCTION host_now() RETURNS timestamptz
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    AS $$ BEGIN RETURN now() + (SELECT offset_ms FROM host_clock) * interval '1 millisecond'; END $$;
