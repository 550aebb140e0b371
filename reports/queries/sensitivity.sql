-- Robustness of each program's effects to violations of parallel trends (HonestDiD) in the
-- run behind the edition: the original CI, the sets over the grid of bounds and each
-- method's breakdown value, or the reason a unit or method was not computed
-- (results.sensitivity, migration 022).
select program_id, outcome, unit, estimator, subgroup, subgroup_value, target, method,
    quantity, m, m_reference, lower, upper, open_at_endpoint, at_least, estimate, std_error,
    num_pre, num_post, first_event_time, last_event_time, status, reason, reason_params
from results.sensitivity
where run_id = $run_id
order by program_id, outcome, method, quantity desc, m
