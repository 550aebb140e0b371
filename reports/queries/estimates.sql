-- Every impact estimate of the run behind the edition.
select
    program_id, outcome, estimator, comparison_group, aggregation, key, label,
    subgroup, subgroup_value, estimate, std_error, ci_low, ci_high, band_low, band_high,
    n_treated, n_control, pretrend_pvalue, pretrend_passes
from results.estimates
where run_id = $run_id
order by program_id, outcome, estimator, aggregation, subgroup, subgroup_value, key
