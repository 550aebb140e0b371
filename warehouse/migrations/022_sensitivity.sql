-- Sensitivity of each program's effects to violations of parallel trends (HonestDiD,
-- Rambachan & Roth 2023; evaluation/sensitivity.py). Per program x outcome whole-sample
-- Callaway-Sant'Anna event study (universal base period, window first_event_time ..
-- last_event_time), for the target theta = the average of the post-entry coefficients:
--   method 'original'            the usual 95% CI under exact parallel trends (m null)
--   method 'relative_magnitudes' C-LF sets under Delta^RM(Mbar), m = Mbar (unitless)
--   method 'smoothness'          FLCIs under Delta^SD(M), m = M in the outcome's units per
--                                year squared; m_reference = the pre-entry bound the grid
--                                of M is a multiple of
-- quantity 'interval': the set at bound m; quantity 'breakdown' (one row per method): m is
-- the largest bound of the grid whose set excludes 0, lower/upper that set; at_least when
-- the set excludes 0 over the whole grid (the breakdown is then at least m).
-- A unit or a method that cannot be computed (too few leads, a singular covariance, an
-- effect not significant under exact parallel trends...) keeps its rows with null numbers,
-- a status and a reason (evaluation/reasons.py), as results.estimates does.
create table results.sensitivity (
    run_id            varchar not null,
    program_id        varchar not null,
    outcome           varchar not null,
    unit              varchar,               -- display unit of the outcome (as estimates)
    estimator         varchar not null,      -- callaway_santanna_2021
    comparison_group  varchar,
    subgroup          varchar not null default 'all',
    subgroup_value    varchar not null default 'all',
    target            varchar,               -- average_post
    method            varchar not null,      -- original | relative_magnitudes | smoothness
    quantity          varchar not null,      -- interval | breakdown
    m                 double,
    m_reference       double,
    lower             double,
    upper             double,
    open_at_endpoint  boolean,               -- the set reaches an end of its theta grid
    at_least          boolean,
    estimate          double,                -- theta-hat and its standard error
    std_error         double,
    num_pre           integer,               -- event-study coefficients before / after entry
    num_post          integer,
    first_event_time  integer,
    last_event_time   integer,
    status            varchar not null default 'estimated',
    reason            varchar,
    reason_params     json,
    note              varchar,
    specification     json,
    data_version      varchar not null,
    input_version     varchar,
    created_at        timestamp not null
);
