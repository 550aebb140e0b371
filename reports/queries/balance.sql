-- Covariate balance before and after matching, where the run used matching; `dropped`
-- names why a covariate was left out of the propensity score (constant, collinear).
select columns(lambda c: c in (
    'program_id', 'covariate',
    'mean_treated_before', 'mean_control_before', 'smd_before',
    'mean_treated_after', 'mean_control_after', 'smd_after',
    'n_treated', 'n_matched', 'dropped'
))
from results.balance
where run_id = $run_id
order by program_id, covariate
