-- Return per public dollar and cost per job of the run, counterfactual and self-reported,
-- with the status and reason of the figures that could not be estimated. Where a figure
-- was estimated on two scales, `shown` marks the one published (reports.inputs keeps it).
-- Columns an older warehouse lacks are added by reports.inputs.
select columns(lambda c: c in (
    'program_id', 'metric', 'basis', 'estimate', 'ci_low', 'ci_high', 'numerator',
    'public_cost_usd', 'beneficiaries', 'status', 'reason', 'reason_params', 'shown'
))
from results.roi
where run_id = $run_id
order by program_id, basis, metric
