-- Every impact estimate of the run behind the edition, with the status and reason of the
-- units that could not be estimated. A warehouse opened read-only may predate some of
-- these columns: only those present are selected (reports.inputs adds the others).
select columns(lambda c: c in (
    'program_id', 'outcome', 'estimator', 'comparison_group', 'aggregation', 'key', 'label',
    'subgroup', 'subgroup_value', 'estimate', 'std_error', 'ci_low', 'ci_high',
    'band_low', 'band_high', 'n_treated', 'n_control', 'pretrend_pvalue', 'pretrend_passes',
    'status', 'reason', 'reason_params', 'pretrend_reason', 'pretrend_reason_params', 'unit',
    'pvalue', 'qvalue', 'pvalue_rw'
))
from results.estimates
where run_id = $run_id
order by program_id, outcome, estimator, aggregation, subgroup, subgroup_value, key
