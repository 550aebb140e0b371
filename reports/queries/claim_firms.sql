-- Each surveyed firm's claims beside its recorded change and the program's counterfactual
-- effect for its cohort and survey year (pseudonymized firm ids). Firm-level: the
-- contributions behind the published totals (dominance rule) in every edition, a table of
-- its own only in internal editions.
select * exclude (run_id)
from results.claim_firms
where run_id = $run_id
order by program_id, firm_id, survey_year
