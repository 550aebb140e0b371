-- The agency's decisions on its own rows (warehouse/corrections.py), re-applied on every
-- load of the file they name: keep (accept a row a plausibility rule or a duplicate check
-- quarantined), drop (leave a row out, by decision rather than by rule) and correct (a new
-- value for one cell). One row per decision per load it was applied to, with its author:
-- the auditor's changelog. `status`: applied | unmatched (the file no longer has the row
-- or the value the decision was made on; `detail` says what it found instead).
create table meta.decisions (
    decision_id  varchar not null,           -- stable hash of the decision's entry
    run_id       varchar,
    load_id      varchar,                    -- null when no load of the file matched
    entity       varchar not null,
    source_file  varchar not null,
    row_number   bigint,                     -- as a spreadsheet shows it: the header is row 1
    firm_id      varchar,                    -- pseudonymized, as the quarantine list shows it
    year         integer,
    action       varchar not null,           -- keep | drop | correct
    column_name  varchar,
    old_value    varchar,
    new_value    varchar,
    status       varchar not null,           -- applied | unmatched
    detail       varchar,
    decided_by   varchar not null,
    decided_on   date,
    reason       varchar not null,
    recorded_at  timestamp not null
);

-- Rows left out by decision, per load. They stay in meta.quarantine (rule
-- `dropped_by_decision`, the decision's reason and author), so meta.loads' identity
-- rows_in = rows_loaded + rows_quarantined still holds; rows_dropped is the part of
-- rows_quarantined that a decision, not a rule, left out: rows in = loaded + quarantined by
-- rule + dropped by decision.
alter table meta.loads add column rows_dropped bigint default 0;

-- Follow-up of outliers flagged (marts.mart_outlier_flags), from the corrections file's
-- `outliers:` section: who looked at which firm-year-outcome and what they concluded.
create table meta.outlier_reviews (
    firm_id      varchar not null,           -- pseudonymized
    year         integer not null,
    outcome      varchar not null,
    status       varchar not null,           -- open | checked | confirmed | corrected
    decided_by   varchar not null,
    decided_on   date,
    reason       varchar,
    run_id       varchar,
    recorded_at  timestamp not null
);

-- The digest of the decisions a load applied (null: none): the same file with other
-- decisions is loaded again (warehouse.load.already_loaded).
alter table meta.loads add column decisions_sha256 varchar;
