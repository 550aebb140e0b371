-- Impact estimates, each traceable to the run, specification and data that produced it.
create table results.estimates (
    run_id           varchar not null,
    program_id       varchar not null,
    outcome          varchar not null,      -- log_sales | log_employment | ...
    estimator        varchar not null,      -- callaway_santanna_2021
    comparison_group varchar not null,      -- nevertreated | notyettreated
    aggregation      varchar not null,      -- simple | group | dynamic | calendar
    key              integer,               -- cohort, event time or year; null for simple
    estimate         double,
    std_error        double,
    ci_low           double,
    ci_high          double,
    n_treated        bigint,
    n_control        bigint,
    data_version     varchar not null,      -- hash of the loads the estimate rests on
    created_at       timestamp not null
);

create table results.att_gt (
    run_id           varchar not null,
    program_id       varchar not null,
    outcome          varchar not null,
    comparison_group varchar not null,
    cohort           integer not null,
    year             integer not null,
    event_time       integer not null,
    base_period      integer,
    att              double,
    std_error        double,
    n_treated        bigint,
    n_control        bigint
);
