-- Raw tables of data contract v1 (schemas/contract.py). Values are typed as validated;
-- _load_id and _row_number trace every row back to its file and line.
create table raw.macro (
    country varchar not null, year integer not null, gdp double not null,
    deflator double not null, lcu_per_usd double not null,
    _load_id varchar not null, _row_number bigint not null
);
create table raw.programs (
    program_id varchar not null, agency varchar not null, country varchar not null,
    name varchar not null, pillar varchar not null, instrument varchar not null,
    currency varchar not null, start_year integer not null, end_year integer,
    market_failure varchar, targeting varchar,
    expected_short varchar, expected_medium varchar, expected_long varchar,
    _load_id varchar not null, _row_number bigint not null
);
create table raw.firms (
    firm_id varchar not null, country varchar not null, region varchar,
    isic4 varchar not null, founded_year integer,
    _load_id varchar not null, _row_number bigint not null
);
create table raw.program_budgets (
    program_id varchar not null, year integer not null, public_budget double not null,
    admin_cost double,
    _load_id varchar not null, _row_number bigint not null
);
create table raw.participations (
    firm_id varchar not null, program_id varchar not null, service varchar,
    start_date date not null, end_date date, public_cost double not null,
    firm_contribution double,
    _load_id varchar not null, _row_number bigint not null
);
create table raw.comparison_sample (
    firm_id varchar not null, program_id varchar not null, wave integer not null,
    source varchar not null, sampled_on date,
    _load_id varchar not null, _row_number bigint not null
);
create table raw.outcomes (
    firm_id varchar not null, year integer not null,
    employment double, sales double, wage_bill double, exports double,
    value_added double, rd_spend double, training_spend double, capital double,
    source varchar, wave integer,
    _load_id varchar not null, _row_number bigint not null
);
create table raw.targets (
    firm_id varchar not null, program_id varchar not null, metric varchar not null,
    target_value double not null, due_date date not null,
    _load_id varchar not null, _row_number bigint not null
);
create table raw.client_survey (
    firm_id varchar not null, program_id varchar not null, survey_date date not null,
    new_sales double, retained_sales double, jobs_created double, jobs_retained double,
    cost_savings double, investment double,
    _load_id varchar not null, _row_number bigint not null
);
