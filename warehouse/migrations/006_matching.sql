-- Matching + DID: covariate balance before and after matching, per program and run.
create table results.balance (
    run_id               varchar not null,
    program_id           varchar not null,
    covariate            varchar not null,
    mean_treated_before  double,
    mean_control_before  double,
    smd_before           double,     -- standardized mean difference (pooled SD, unmatched)
    var_ratio_before     double,
    mean_treated_after   double,
    mean_control_after   double,
    smd_after            double,
    var_ratio_after      double,
    n_treated            bigint,     -- beneficiaries with baseline covariates
    n_matched            bigint,
    n_dropped_support    bigint,
    n_dropped_caliper    bigint
);
