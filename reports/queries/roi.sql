-- Return per public dollar and cost per job of the run, counterfactual and self-reported,
-- with the status and reason of the figures that could not be estimated. Each
-- counterfactual figure is estimated on two scales ('log', 'level'), each with its own
-- pre-entry test; `shown` marks the one published and `scale_choice` says why
-- (reports.inputs keeps the shown rows for every edition, and the others for internal
-- editions to compare). Columns an older warehouse lacks are added by reports.inputs.
select columns(lambda c: c in (
    'program_id', 'metric', 'basis', 'scale', 'shown', 'scale_choice', 'estimate', 'ci_low',
    'ci_high', 'numerator', 'public_cost_usd', 'beneficiaries', 'status', 'reason',
    'reason_params', 'pretrend_pvalue', 'pretrend_passes', 'pretrend_reason',
    'pretrend_reason_params'
))
from results.roi
where run_id = $run_id
order by program_id, basis, metric
