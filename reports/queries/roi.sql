-- Return per public dollar and cost per job of the run, counterfactual and self-reported.
select program_id, metric, basis, estimate, ci_low, ci_high, numerator, public_cost_usd, beneficiaries
from results.roi
where run_id = $run_id
order by program_id, basis, metric
