-- The process that ran each run, so that a run left `running` by a process that was
-- killed (the kernel released its writer lock) can be closed as failed with the reason
-- by the next run that takes the lock (warehouse/runs.py: close_interrupted_runs).
alter table meta.runs add column pid integer;
