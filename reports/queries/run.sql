-- The run an edition is built from.
select run_id, flow, started_at, finished_at, status, parameters
from meta.runs
where run_id = $run_id
