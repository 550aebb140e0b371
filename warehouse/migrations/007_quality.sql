-- Data quality an auditor can check: a scorecard per entity, submission and period, and
-- the outcome of every Great Expectations expectation, both tied to the run that made them
-- (warehouse/quality.py; the SQL behind the scorecard is in warehouse/quality/*.sql).

create table meta.scorecard (
    run_id       varchar not null,
    entity       varchar not null,
    grain        varchar not null,     -- entity (current rows) | submission (one load) | period
    load_id      varchar,              -- the submission, when grain = 'submission'
    period_type  varchar,              -- year | wave, when grain = 'period'
    period       integer,
    dimension    varchar not null,     -- completeness | validity | uniqueness | timeliness |
                                       -- consistency | attrition | response_rate
    detail       varchar,              -- column, check, group or program; null = the whole entity
    numerator    double,
    denominator  double,
    value        double,               -- numerator / denominator (a share), or days for timeliness
    unit         varchar not null,     -- share | days
    computed_at  timestamp not null
);

create table meta.expectation_results (
    run_id              varchar not null,
    entity              varchar not null,
    suite               varchar not null,
    batch               varchar not null,   -- current (current rows) | latest_submission
    load_id             varchar,            -- the entity's latest load when validated
    expectation         varchar not null,   -- expectation type, e.g. expect_column_values_to_not_be_null
    column_name         varchar,
    dimension           varchar,            -- completeness | uniqueness | range | allowed_values |
                                            -- format | consistency | row_count | distribution_shift
    parameters          json,               -- the expectation's arguments (thresholds, bounds...)
    success             boolean,
    observed_value      varchar,            -- JSON text: a number, a list or an object
    unexpected_count    bigint,
    unexpected_percent  double,
    element_count       bigint,
    rows_validated      bigint,             -- rows in the frame Great Expectations saw
    rows_total          bigint,             -- rows the frame was drawn from (> rows_validated: sampled)
    exception           varchar,            -- set when the expectation could not be evaluated
    validated_at        timestamp not null
);
