-- An audit (scorecard, expectation results, Data Docs) depends only on the loaded data and
-- the code: a run on unchanged data reuses the latest such audit instead of recomputing it.
create table meta.audits (
    run_id        varchar not null,
    data_version  varchar not null,   -- warehouse.load.data_version when audited
    code_version  varchar not null,
    reused_from   varchar,            -- the run whose audit this run reused, if any
    audited_at    timestamp not null
);
