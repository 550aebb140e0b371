-- Bookkeeping an auditor reads: every load, every quarantined row, every run.
create schema if not exists raw;
create schema if not exists meta;
create schema if not exists staging;
create schema if not exists marts;
create schema if not exists results;

create table meta.runs (
    run_id       varchar primary key,
    flow         varchar not null,
    started_at   timestamp not null,
    finished_at  timestamp,
    status       varchar not null,          -- running | completed | failed
    parameters   json,
    message      varchar
);

create table meta.loads (
    load_id          varchar primary key,
    run_id           varchar,
    entity           varchar not null,
    source_file      varchar not null,
    content_sha256   varchar not null,
    rows_in          bigint not null,
    rows_loaded      bigint not null,
    rows_quarantined bigint not null,
    loaded_at        timestamp not null,
    -- nothing is lost: every input row is either loaded or quarantined
    check (rows_in = rows_loaded + rows_quarantined)
);

create table meta.quarantine (
    load_id      varchar not null,
    entity       varchar not null,
    source_file  varchar not null,
    row_number   bigint not null,           -- as a spreadsheet shows it: the header is row 1
    column_name  varchar,
    rule         varchar not null,
    value        varchar,
    reason       varchar not null
);
