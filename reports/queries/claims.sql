-- Claims against records of the run (evaluation/claims.py), per program and measure:
-- beneficiaries, respondents and response rate, the share of claims above the recorded
-- change, the gross-to-net ratio (claims / counterfactual effects) and the response bias
-- on pre-entry outcomes, each with the reason it was not computed. A program without a
-- client survey has its rows with the reason no_client_survey.
select * exclude (run_id)
from results.claims
where run_id = $run_id
order by program_id, case measure when 'sales' then 0 when 'jobs' then 1 else 2 end
