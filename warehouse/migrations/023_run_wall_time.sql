-- A run's duration as its user saw it: from the command's start (Python and Prefect
-- start-up included) to its end, recorded by the CLI (flows/cli.py) after the flow
-- returns. `duration_seconds` stays the flow's own part (started_at to finished_at), so
-- the difference is the overhead. Null for runs started otherwise (a schedule, a test).
alter table meta.runs add column wall_seconds double;
