-- The audit's suite results by batch, so a run validates again only the entities whose
-- loads changed (schemas.expectations.validate_warehouse's `store`; warehouse.quality).
-- `fingerprint`: the hash of what the batch's result depends on (its tables' loads, the
-- suites' settings, Great Expectations' and DuckDB's versions) and the batch kind;
-- `code_version`: the code that built the suite. One row per entity and batch kind: the
-- latest validated, which is what a next run can reuse.
create table meta.expectation_batches (
    entity varchar not null,
    batch varchar not null,
    fingerprint varchar not null,
    code_version varchar not null,
    stored json not null,          -- suite, suite result, load and row counts (StoredBatch)
    run_id varchar not null,       -- the run that validated it
    validated_at timestamp not null,
    primary key (entity, batch)
);
