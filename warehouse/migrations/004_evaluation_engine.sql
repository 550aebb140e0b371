-- Evaluation engine: subgroup and horizon estimates, pre-trend verdicts, ROI and cost per
-- job, and the international benchmarks the report compares programs with.
alter table results.estimates add column subgroup varchar default 'all';        -- all | size_class | sector | region
alter table results.estimates add column subgroup_value varchar default 'all';
alter table results.estimates add column label varchar;                         -- horizon: short | medium | long
alter table results.estimates add column specification json;
alter table results.estimates add column pretrend_pvalue double;
alter table results.estimates add column pretrend_passes boolean;

create table results.roi (
    run_id          varchar not null,
    program_id      varchar not null,
    metric          varchar not null,   -- value_added_per_dollar | sales_per_dollar | cost_per_job
    basis           varchar not null,   -- counterfactual (estimated) | self_reported (client survey)
    estimate        double,
    ci_low          double,
    ci_high         double,
    numerator       double,             -- incremental value added / sales (USD) or jobs
    public_cost_usd double,
    beneficiaries   bigint,
    displacement    double not null,
    deadweight      double not null,
    data_version    varchar not null,
    created_at      timestamp not null
);

create schema if not exists reference;

create table reference.benchmarks (
    program     varchar not null,
    country     varchar not null,
    metric      varchar not null,   -- return_per_dollar | cost_per_job | effect_pct
    outcome     varchar,
    value       double not null,
    unit        varchar not null,
    basis       varchar not null,   -- how the figure was obtained
    period      varchar,
    source      varchar not null
);

-- Figures as reported in the source report's Table 6 and its text (ITIF, on LAC MES).
insert into reference.benchmarks values
    ('MEP', 'USA', 'return_per_dollar', 'economic growth (new sales)', 30.0, 'USD per USD of federal investment', 'client self-reports (surveys)', '2012', 'NIST (2012), Manufacturing Extension Partnership: Making an Impact on U.S. Manufacturing'),
    ('MEP', 'USA', 'cost_per_job', 'jobs created or retained', 2067.0, 'USD of federal investment per job', 'client self-reports (surveys)', '2012', 'NIST (2012), Manufacturing Extension Partnership: Making an Impact on U.S. Manufacturing'),
    ('MAS', 'GBR', 'return_per_dollar', 'additional value added', 6.2, 'USD per USD of public investment', 'interviews, surveys, trend and indicator analysis', '2002-2009', 'DTZ Consulting (2011), review of the Manufacturing Advisory Service'),
    ('MAS', 'GBR', 'cost_per_job', 'jobs created or retained', 9100.0, 'USD of public investment per job', 'interviews, surveys, trend and indicator analysis', '2002-2009', 'DTZ Consulting (2011), review of the Manufacturing Advisory Service'),
    ('IRAP', 'CAN', 'return_per_dollar', 'economic activity', 12.0, 'USD per USD of public investment', 'program review', '2010', 'NRC Canada (2010), IRAP review'),
    ('IRAP', 'CAN', 'effect_pct', 'sales', 11.0, 'percent', 'surveys, regression and cost-benefit analysis', '2010', 'National Research Council Canada (2010)'),
    ('IRAP', 'CAN', 'effect_pct', 'employment', 14.0, 'percent', 'surveys, regression and cost-benefit analysis', '2010', 'National Research Council Canada (2010)'),
    ('IRAP', 'CAN', 'effect_pct', 'rd_spend', 13.0, 'percent', 'surveys, regression and cost-benefit analysis', '2010', 'National Research Council Canada (2010)'),
    ('IRAP', 'CAN', 'effect_pct', 'productivity', 12.0, 'percent', 'surveys, regression and cost-benefit analysis', '2010', 'National Research Council Canada (2010)');
