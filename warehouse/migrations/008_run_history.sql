-- Run history an auditor can read: what each run used, produced and how long it took.
alter table meta.runs add column code_version varchar;
alter table meta.runs add column input_versions json;   -- entity -> content hashes loaded
alter table meta.runs add column row_counts json;       -- rows in / loaded / quarantined per file
alter table meta.runs add column duration_seconds double;
alter table meta.runs add column cached boolean;        -- estimates reused from an identical run
