-- Claims against records (evaluation/claims.py): what clients say a program did for them
-- (client survey), beside what the outcomes panel recorded and what the evaluation
-- estimates the program did. Stored with the run's other results, in the same transaction;
-- a program whose inputs did not change has its rows copied from the run that made them.

-- per program and measure (sales | jobs); a program without survey answers has its rows
-- with status not_estimated and reason no_client_survey
create table results.claims (
    run_id               varchar not null,
    program_id           varchar not null,
    measure              varchar not null,   -- sales (constant USD) | jobs
    beneficiaries        bigint,             -- the program's beneficiaries (participations)
    respondents          bigint,             -- beneficiaries with at least one survey answer
    response_rate        double,             -- respondents / beneficiaries
    answers              bigint,             -- answers (firm x survey year) with the claim item
    -- the share of claims above the recorded change (survey year vs the year before entry)
    compared             bigint,             -- answers with a claim and a recorded change
    above_recorded       bigint,             -- of which the claim is positive and larger
    share_above          double,
    share_ci_low         double,             -- Wilson 95% interval
    share_ci_high        double,
    share_reason         varchar,            -- why the share is not computed
    share_reason_params  json,
    -- gross-to-net: claims / counterfactual effects (ATT(g,t) on the log outcome applied to
    -- the firm's level, Y_t (1 - e^-ATT)) over the same answers
    ratio_answers        bigint,
    claimed_total        double,
    counterfactual_total double,
    counterfactual_se    double,             -- delta method, cohorts' cells correlated
    gross_to_net         double,
    ratio_ci_low         double,
    ratio_ci_high        double,             -- infinity: unbounded (the effect may be nil)
    ratio_method         varchar,
    ratio_reason         varchar,
    ratio_reason_params  json,
    -- response bias: respondents vs non-respondents on the log outcome before entry
    bias_outcome         varchar,            -- log_sales | log_employment
    bias_respondents     bigint,
    bias_nonrespondents  bigint,
    mean_respondents     double,
    mean_nonrespondents  double,
    bias_difference      double,
    bias_std_difference  double,             -- difference / sqrt(mean of the two variances)
    bias_pvalue          double,             -- Welch's t-test
    bias_reason          varchar,
    bias_reason_params   json,
    status               varchar,            -- estimated | not_estimated
    reason               varchar,
    reason_params        json,
    note                 varchar
);

-- per answer: a surveyed firm (pseudonymized id) and its survey year. Firm-level: never in
-- a public edition.
create table results.claim_firms (
    run_id                       varchar not null,
    program_id                   varchar not null,
    firm_id                      varchar not null,
    cohort                       integer,    -- entry year
    survey_year                  integer,
    sales_claimed                double,     -- new + retained sales, constant USD
    sales_level                  double,     -- sales in the survey year
    sales_before                 double,     -- sales in the year before entry
    sales_recorded_change        double,
    sales_att                    double,     -- ATT(cohort, survey year) on log sales
    sales_counterfactual         double,     -- sales_level x (1 - e^-sales_att)
    sales_above_recorded         boolean,
    jobs_claimed                 double,     -- jobs created + retained
    jobs_level                   double,     -- employment in the survey year
    jobs_before                  double,
    jobs_recorded_change         double,
    jobs_att                     double,     -- ATT on log employment
    jobs_counterfactual          double,
    jobs_above_recorded          boolean
);
